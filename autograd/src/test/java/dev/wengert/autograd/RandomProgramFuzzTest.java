package dev.wengert.autograd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.wengert.tensor.Scope;
import dev.wengert.tensor.ScopePerTest;
import dev.wengert.tensor.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The random-program fuzzer: gradient tests of single ops miss what compositions hit. Each program of
 * {@link RandomPrograms} (a seeded random DAG of primitives drawn from the rule table) is checked in
 * float64:
 * <ol>
 * <li>reverse mode (and forward mode, per element) against central finite differences of its scalar loss
 *     ({@link GradCheck#check});</li>
 * <li>forward against reverse on its vector output F: {@code <J v, u> = <v, J^T u>} for random u, v;</li>
 * <li>the Hessian of the loss: HVP forward over reverse against reverse over reverse, and symmetry
 *     ({@code <u, H v> = <v, H u>}, and H = H^T entrywise when the inputs have at most
 *     {@value #FULL_HESSIAN} elements).</li>
 * </ol>
 * Every build runs {@value #DEFAULT_PROGRAMS} programs with fixed seeds on both CPU paths: the Java
 * kernels (surefire's default execution) and ND4J (execution fuzz-nd4j-path, threshold 1; the threshold is
 * read once per JVM). Long mode: {@code -Dwengert.fuzz.programs=100000}; replay one program:
 * {@code -Dwengert.fuzz.seed=S} (the seed a failure prints).
 */
@ExtendWith(ScopePerTest.class)
class RandomProgramFuzzTest {
    static final int DEFAULT_PROGRAMS = 300;
    static final long BASE_SEED = 20261201L;
    static final double STEP = 1e-6;
    /** Finite differences against reverse (and forward) mode, relative error. */
    static final double FD_TOLERANCE = 1e-5;
    /** Identities exact up to rounding (forward vs reverse, the two HVPs, symmetry), relative error. */
    static final double EXACT_TOLERANCE = 1e-9;
    static final int FULL_HESSIAN = 16;
    /** Failures printed in full; the rest are counted. */
    static final int REPORTED = 5;

    /** The seed of program {@code i} of the fixed sequence (SplitMix64 of the index). */
    static long seedOf(int i) {
        long z = BASE_SEED + 0x9E3779B97F4A7C15L * (i + 1);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    @Test
    void everyBuiltinPrimitiveHasARecipe() {
        List<String> missing = new ArrayList<>();
        for (Prim<?> p : Rules.builtins()) {
            if (!RandomPrograms.RECIPES.containsKey(p)) {
                missing.add(p.name());
            }
        }
        assertTrue(missing.isEmpty(), "primitives without a recipe in RandomPrograms.RECIPES: " + missing);
        assertTrue(Rules.builtins().size() >= 31, "the rule table lists its built-ins: " + Rules.builtins());
    }

    @Test
    void aProgramIsAPureFunctionOfItsSeed() {
        long seed = seedOf(7);
        assertEquals(RandomPrograms.generate(seed).toString(), RandomPrograms.generate(seed).toString());
    }

    @Test
    void randomPrograms() {
        String replay = System.getProperty("wengert.fuzz.seed");
        int n = replay != null ? 1 : Integer.getInteger("wengert.fuzz.programs", DEFAULT_PROGRAMS);
        int threshold = nd4jThreshold();
        String property = System.getProperty("wengert.cpu.nd4jThreshold");
        if (property != null) {
            assertEquals(Integer.parseInt(property.trim()), threshold, "the CPU backend must have read wengert.cpu.nd4jThreshold");
        }
        String path = threshold <= 1 ? "CPU, ND4J path (threshold " + threshold + ")" : "CPU, Java kernels (ND4J threshold " + threshold + ")";
        Map<String, Integer> uses = new LinkedHashMap<>();
        for (Prim<?> p : Rules.builtins()) {
            uses.put(p.name(), 0);
        }
        for (String c : RandomPrograms.COMPOSITES.keySet()) {
            uses.put(c, 0);
        }
        List<String> failures = new ArrayList<>();
        int failed = 0;
        long ops = 0;
        long start = System.nanoTime();
        for (int i = 0; i < n; i++) {
            long seed = replay != null ? Long.parseLong(replay.trim()) : seedOf(i);
            String problem;
            RandomPrograms.Program program = null;
            try (Scope s = Scope.open()) {
                program = RandomPrograms.generate(seed);
                for (String op : program.ops()) {
                    uses.merge(op, 1, Integer::sum);
                }
                ops += program.steps.size();
                if (replay != null) {
                    System.out.print(program);
                }
                problem = check(program);
            } catch (RuntimeException | AssertionError e) {
                problem = "generating the program threw " + e;
            }
            if (problem != null) {
                failed++;
                if (failures.size() < REPORTED) {
                    failures.add("program " + i + ", seed " + seed + " (replay: -Dwengert.fuzz.seed=" + seed + "), "
                            + path + ", failed:\n  " + problem + "\n" + (program == null ? "(not generated)\n" : program));
                }
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf(Locale.ROOT, "random-program fuzzer (%s): %d programs (%d ops) in %.1f s, %.1f programs/s, %d failed%n"
                + "  uses per operation: %s%n", path, n, ops, seconds, n / seconds, failed, uses);
        if (failed > 0) {
            fail(failed + " of " + n + " random programs failed (" + path + "); the first " + failures.size() + ":\n"
                    + String.join("\n", failures));
        }
        if (replay == null && n >= DEFAULT_PROGRAMS) {
            TreeSet<String> unused = new TreeSet<>();
            uses.forEach((p, c) -> {
                if (c == 0) {
                    unused.add(p);
                }
            });
            assertTrue(unused.isEmpty(), "operations no program applied (a recipe that never fits?): " + unused);
        }
    }

    /** The CPU backend's ND4J threshold as it read it (once per JVM): elementwise work this large goes to ND4J. */
    static int nd4jThreshold() {
        try {
            java.lang.reflect.Field f = Class.forName("dev.wengert.tensor.cpu.Nd4jKernels").getDeclaredField("LARGE");
            f.setAccessible(true);
            return f.getInt(null);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("Nd4jKernels.LARGE moved; update RandomProgramFuzzTest.nd4jThreshold", e);
        }
    }

    /** The checks of {@link #check}, in order; each returns null when it passes, else what failed and by how much. */
    static final List<String> CHECKS = List.of("finite differences", "forward vs reverse", "HVP forward-over-reverse vs reverse-over-reverse",
            "Hessian symmetry");

    /** Runs every check on a program: null when all pass, else one line per failed check. */
    static String check(RandomPrograms.Program p) {
        List<String> problems = new ArrayList<>();
        for (int c = 0; c < CHECKS.size(); c++) {
            String problem;
            try (Scope s = Scope.open()) {
                problem = check(p, c);
            } catch (RuntimeException | AssertionError e) {
                problem = CHECKS.get(c) + ": threw " + e + (e.getStackTrace().length > 0 ? " at " + e.getStackTrace()[0] : "");
            }
            if (problem != null) {
                problems.add(problem);
            }
        }
        return problems.isEmpty() ? null : String.join("\n  ", problems);
    }

    private static String check(RandomPrograms.Program p, int which) {
        Random rnd = new Random(p.seed ^ 0x5DEECE66DL);
        if (which == 0) {      // reverse (and forward) mode against central differences, per input element
            GradCheck.Result fd = GradCheck.check(p::loss, STEP, p.inputs);
            return fd.passes(FD_TOLERANCE) ? null : CHECKS.get(0) + ": " + fd + " (tolerance " + FD_TOLERANCE + ")";
        }
        Tensor[] v = new Tensor[p.inputs.length];
        Tensor[] u = new Tensor[p.sinks.length];
        Tensor[] w = new Tensor[p.inputs.length];
        for (int i = 0; i < v.length; i++) {
            v[i] = RandomPrograms.randomLike(rnd, p.inputs[i].shape(), 0, 1, true);
            w[i] = RandomPrograms.randomLike(rnd, p.inputs[i].shape(), 0, 1, true);
        }
        for (int k = 0; k < u.length; k++) {
            u[k] = RandomPrograms.randomLike(rnd, p.shapes[p.sinks[k]], 0, 1, true);
        }
        if (which == 1) {
            return forwardAgainstReverse(p, v, u);
        }
        Tensor[] hv = hvpForwardOverReverse(p, v);
        if (which == 2) {
            Tensor[] hvRev = hvpReverseOverReverse(p, v);
            for (int i = 0; i < hv.length; i++) {
                double[] a = hv[i].toDoubleArray();
                double[] b = hvRev[i].toDoubleArray();
                for (int e = 0; e < a.length; e++) {
                    String c = compare(CHECKS.get(2) + ", input " + i + " element " + e,
                            new double[] {a[e], Math.abs(a[e])}, new double[] {b[e], Math.abs(b[e])});
                    if (c != null) {
                        return c;
                    }
                }
            }
            return null;
        }
        Tensor[] hw = hvpForwardOverReverse(p, w);
        String sym = compare(CHECKS.get(3) + ": <w, H v> vs <v, H w>", dot(w, hv), dot(v, hw));
        return sym != null ? sym : fullHessianIsSymmetric(p);
    }

    /** {@code <J v, u> = <v, J^T u>} on the program's vector output (its sinks): one JVP pass, one VJP sweep. */
    private static String forwardAgainstReverse(RandomPrograms.Program p, Tensor[] v, Tensor[] u) {
        double[] jv;
        try (Grad.Mode off = Grad.noGrad()) {
            Var[] in = new Var[v.length];
            for (int i = 0; i < in.length; i++) {
                in[i] = Forward.withTangent(Var.constant(p.inputs[i]), v[i]);
            }
            Var[] out = p.outputs(in);
            Var[] tangents = new Var[out.length];
            for (int k = 0; k < out.length; k++) {
                tangents[k] = out[k].tangent() != null ? out[k].tangent() : Rules.zerosLike(out[k]);
            }
            jv = dot(values(tangents), u);
        }
        Var[] params = params(p);
        Var[] jtu = Backward.adjoints(RandomPrograms.dot(p.outputs(params), u), null, false, params);
        double[] vjtu = dot(v, values(jtu));
        return compare(CHECKS.get(1) + ": <J v, u> vs <v, J^T u>", jv, vjtu);
    }

    /** H e_j for every input element j (when there are few) and |H_ij - H_ji| within tolerance. */
    private static String fullHessianIsSymmetric(RandomPrograms.Program p) {
        int total = 0;
        for (Tensor t : p.inputs) {
            total += t.numel();
        }
        if (total > FULL_HESSIAN) {
            return null;
        }
        double[][] h = new double[total][];
        for (int j = 0; j < total; j++) {
            Tensor[] e = new Tensor[p.inputs.length];
            int at = 0;
            for (int i = 0; i < e.length; i++) {
                double[] d = new double[p.inputs[i].numel()];
                if (j >= at && j < at + d.length) {
                    d[j - at] = 1;
                }
                at += d.length;
                e[i] = Tensor.of(d, p.inputs[i].shape()).reshape(p.inputs[i].shape());
            }
            h[j] = flatten(hvpForwardOverReverse(p, e));
        }
        for (int i = 0; i < total; i++) {
            for (int j = 0; j < i; j++) {
                String c = compare(CHECKS.get(3) + ": H[" + i + "][" + j + "] vs H[" + j + "][" + i + "]",
                        new double[] {h[j][i], Math.abs(h[j][i])}, new double[] {h[i][j], Math.abs(h[i][j])});
                if (c != null) {
                    return c;
                }
            }
        }
        return null;
    }

    /** H v by forward over reverse: the inputs carry tangents v through a recorded reverse sweep. */
    static Tensor[] hvpForwardOverReverse(RandomPrograms.Program p, Tensor[] v) {
        Var[] params = params(p);
        for (int i = 0; i < params.length; i++) {
            Forward.withTangent(params[i], v[i]);
        }
        Var[] g = Backward.adjoints(p.loss(params), null, true, params);
        Tensor[] hv = new Tensor[g.length];
        for (int i = 0; i < g.length; i++) {
            hv[i] = g[i].tangent() != null ? g[i].tangent().value() : Rules.zerosLike(params[i]).value();
        }
        return hv;
    }

    /** H v by reverse over reverse: the gradient of <grad L, v>. */
    static Tensor[] hvpReverseOverReverse(RandomPrograms.Program p, Tensor[] v) {
        Var[] params = params(p);
        Var[] g = Backward.adjoints(p.loss(params), null, true, params);
        Var gv;
        try (Grad.Mode on = Grad.enableGrad()) {
            gv = RandomPrograms.dot(g, v);
        }
        return values(Backward.adjoints(gv, null, false, params));
    }

    private static Var[] params(RandomPrograms.Program p) {
        Var[] params = new Var[p.inputs.length];
        for (int i = 0; i < params.length; i++) {
            params[i] = Var.param(p.inputs[i]);
        }
        return params;
    }

    private static Tensor[] values(Var[] vs) {
        Tensor[] t = new Tensor[vs.length];
        for (int i = 0; i < vs.length; i++) {
            t[i] = vs[i].value();
        }
        return t;
    }

    private static double[] flatten(Tensor[] ts) {
        List<Double> all = new ArrayList<>();
        for (Tensor t : ts) {
            for (double x : t.toDoubleArray()) {
                all.add(x);
            }
        }
        return all.stream().mapToDouble(Double::doubleValue).toArray();
    }

    /** {sum of a_k * b_k, sum of |a_k * b_k|} over all elements: the value and its rounding scale. */
    private static double[] dot(Tensor[] a, Tensor[] b) {
        double s = 0;
        double scale = 0;
        for (int k = 0; k < a.length; k++) {
            double[] x = a[k].toDoubleArray();
            double[] y = b[k].toDoubleArray();
            for (int e = 0; e < x.length; e++) {
                s += x[e] * y[e];
                scale += Math.abs(x[e] * y[e]);
            }
        }
        return new double[] {s, scale};
    }

    /**
     * Compares two values that are equal up to rounding, each given with its scale (the sum of the
     * magnitudes it was computed from): null when they agree to EXACT_TOLERANCE relative to the larger
     * scale (at least 1), else the message.
     */
    private static String compare(String what, double[] a, double[] b) {
        double scale = Math.max(1, Math.max(a[1], b[1]));
        double err = Math.abs(a[0] - b[0]) / scale;
        if (err <= EXACT_TOLERANCE && !Double.isNaN(a[0]) && !Double.isNaN(b[0])) {
            return null;
        }
        return String.format(Locale.ROOT, "%s: %.12g vs %.12g, relative error %.3g (tolerance %.0e)",
                what, a[0], b[0], err, EXACT_TOLERANCE);
    }
}
