package dev.wengert.autograd.docs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.wengert.autograd.Prim;
import dev.wengert.autograd.Rules;
import dev.wengert.autograd.Torch;
import dev.wengert.autograd.Var;
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * docs/operations.md, the table of supported operations, is generated from the {@link Torch} metadata next to each
 * descriptor: on every built-in primitive ({@link Prim}'s constants) and on every public {@link Var} method that
 * composes primitives. This test renders the table and fails when the file differs (or when a primitive or a
 * public {@code Var} operation has no metadata), naming the command that regenerates it:
 * {@value #REGENERATE}.
 */
class OperationsDocTest {
    static final String PROPERTY = "wengert.regenerate.docs";
    static final String REGENERATE = "./mvnw -B -o -pl autograd -am -Dwengert.docs.skip=true -Dsurefire.failIfNoSpecifiedTests=false "
            + "-Dtest=OperationsDocTest -D" + PROPERTY + "=true test";

    /** Public Var methods that are not operations: construction, properties, the gradient API. */
    static final Set<String> NOT_OPERATIONS = Set.of("param", "constant", "custom", "named", "name", "value", "shape", "dtype",
            "requiresGrad", "isLeaf", "node", "grad", "gradTensor", "tangent", "retainGrad", "item", "detach", "backward", "zeroGrad",
            "toString", "equals", "hashCode");

    /** One line of the table. */
    record Row(Torch.Group group, String name, String methods, String kind, Torch meta) {
    }

    @Test
    void operationsTableIsUpToDate() throws IOException {
        String text = render();
        Path file = StepByStepDocTest.root().resolve("docs/operations.md");
        if (Boolean.getBoolean(PROPERTY)) {
            Files.writeString(file, text, StandardCharsets.UTF_8);
            return;
        }
        String current = Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
        if (!current.equals(text)) {
            String[] want = text.split("\n", -1);
            String[] have = current.split("\n", -1);
            int line = 0;
            while (line < Math.min(want.length, have.length) && want[line].equals(have[line])) {
                line++;
            }
            fail("docs/operations.md is out of date with the @Torch metadata of Prim and Var (first difference at line " + (line + 1)
                    + ":\n  file:      " + (line < have.length ? have[line] : "<end>") + "\n  generated: " + (line < want.length ? want[line] : "<end>")
                    + "\n); regenerate it with\n  " + REGENERATE);
        }
    }

    /** Every built-in primitive is a documented constant of Prim, so the table has a line for it. */
    @Test
    void everyPrimitiveAndEveryVarOperationIsDocumented() {
        List<String> problems = new ArrayList<>();
        rows(problems);
        assertTrue(problems.isEmpty(), "operations without (or with conflicting) @Torch metadata:\n  " + String.join("\n  ", problems));
        assertEquals(Rules.builtins().size(), primitiveFields().size(), "every built-in primitive is a constant of Prim");
    }

    /** The constants of {@link Prim}, by primitive, in definition order. */
    static Map<Prim<?>, Field> primitiveFields() {
        Map<Prim<?>, Field> out = new LinkedHashMap<>();
        for (Field f : Prim.class.getDeclaredFields()) {
            if (Modifier.isPublic(f.getModifiers()) && Modifier.isStatic(f.getModifiers()) && f.getType() == Prim.class) {
                try {
                    out.put((Prim<?>) f.get(null), f);
                } catch (IllegalAccessException e) {
                    throw new IllegalStateException(e);
                }
            }
        }
        return out;
    }

    /** The table's rows: one per primitive and one per documented composite Var method name; problems collected. */
    static List<Row> rows(List<String> problems) {
        Map<String, List<Method>> methods = new TreeMap<>();
        for (Method m : Var.class.getDeclaredMethods()) {
            if (Modifier.isPublic(m.getModifiers()) && !m.isSynthetic() && !m.isBridge() && !NOT_OPERATIONS.contains(m.getName())) {
                methods.computeIfAbsent(m.getName(), k -> new ArrayList<>()).add(m);
            }
        }
        List<Row> rows = new ArrayList<>();
        Map<String, Prim<?>> byMethod = new LinkedHashMap<>();
        for (Map.Entry<Prim<?>, Field> e : primitiveFields().entrySet()) {
            Prim<?> p = e.getKey();
            Torch t = e.getValue().getAnnotation(Torch.class);
            if (t == null) {
                problems.add("primitive " + p.name() + " (Prim." + e.getValue().getName() + "): no @Torch");
                continue;
            }
            String method = t.method().isEmpty() ? p.name() : t.method();
            if (!method.equals("-")) {
                byMethod.put(method, p);
                if (!methods.containsKey(method)) {
                    problems.add("primitive " + p.name() + ": Var has no method " + method + " (say @Torch(method = ...), or \"-\")");
                }
            }
            rows.add(new Row(t.group(), p.name(), signatures(methods.get(method)), "primitive `" + p.name() + "`", t));
        }
        for (Map.Entry<String, List<Method>> e : methods.entrySet()) {
            List<Torch> found = new ArrayList<>();
            for (Method m : e.getValue()) {
                if (m.getAnnotation(Torch.class) != null) {
                    found.add(m.getAnnotation(Torch.class));
                }
            }
            Prim<?> prim = byMethod.get(e.getKey());
            if (prim != null && !found.isEmpty()) {
                problems.add("Var." + e.getKey() + ": documented twice, by @Torch on the method and on primitive " + prim.name());
            } else if (prim == null && found.size() != 1) {
                problems.add("Var." + e.getKey() + ": " + (found.isEmpty() ? "no @Torch (a public operation composed of primitives needs one, "
                        + "on one overload; or list it in OperationsDocTest.NOT_OPERATIONS)" : "@Torch on " + found.size() + " overloads (put it on one)"));
            } else if (prim == null) {
                boolean tensor = e.getValue().stream().allMatch(m -> m.getReturnType() == dev.wengert.tensor.Tensor.class);
                rows.add(new Row(found.get(0).group(), e.getKey(), signatures(e.getValue()), tensor ? "`Tensor` result (no gradient)" : "composite",
                        found.get(0)));
            }
        }
        rows.sort(Comparator.comparing(Row::group).thenComparing(Row::name, String.CASE_INSENSITIVE_ORDER));
        return rows;
    }

    /** The overloads as {@code name(int, boolean)}, static ones as {@code Var.name(...)}, shortest first. */
    static String signatures(List<Method> overloads) {
        if (overloads == null) {
            return "—";
        }
        List<String> out = new ArrayList<>();
        for (Method m : overloads) {
            StringBuilder sb = new StringBuilder(Modifier.isStatic(m.getModifiers()) ? "Var." : "").append(m.getName()).append('(');
            Class<?>[] types = m.getParameterTypes();
            for (int i = 0; i < types.length; i++) {
                String t = types[i].getSimpleName();
                if (i == types.length - 1 && m.isVarArgs()) {
                    t = t.replace("[]", "...");
                }
                sb.append(i == 0 ? "" : ", ").append(t);
            }
            out.add(sb.append(')').toString());
        }
        out.sort(Comparator.comparing(String::length).thenComparing(Comparator.naturalOrder()));
        StringBuilder sb = new StringBuilder();
        for (String s : out) {
            sb.append(sb.length() == 0 ? "" : "<br>").append('`').append(s).append('`');
        }
        return sb.toString();
    }

    static String render() {
        List<String> problems = new ArrayList<>();
        List<Row> rows = rows(problems);
        if (!problems.isEmpty()) {
            fail("operations without (or with conflicting) @Torch metadata:\n  " + String.join("\n  ", problems));
        }
        Map<Torch.Group, List<Row>> groups = new EnumMap<>(Torch.Group.class);
        for (Row r : rows) {
            groups.computeIfAbsent(r.group(), k -> new ArrayList<>()).add(r);
        }
        long prims = rows.stream().filter(r -> r.kind().startsWith("primitive")).count();
        StringBuilder sb = new StringBuilder();
        sb.append("# Supported operations\n\n");
        sb.append("<!-- Generated by OperationsDocTest from the @Torch metadata of Prim's constants and Var's methods; do not edit. -->\n\n");
        sb.append("Every differentiable operation of `Var` (").append(prims).append(" primitives and ").append(rows.size() - prims)
                .append(" compositions of them) with its PyTorch equivalent, its gradient conventions and how it differs from PyTorch. ")
                .append("A *primitive* is one descriptor (`Prim`, docs/design.md) with its own reverse- and forward-mode rules; a ")
                .append("*composite* is a `Var` method built from primitives, so its gradients (of every order) are theirs. Every rule is ")
                .append("written with `Var` operations, so every operation is differentiable again; GradientTableTest checks each one ")
                .append("against finite differences (both modes, CPU and CUDA) and SecondOrderTest its second derivatives.\n\n");
        sb.append("This file is generated from the `@Torch` line next to each primitive (in `Prim`) and each composite method (in `Var`): ")
                .append("adding an operation means adding that line and regenerating the file with\n\n```\n").append(REGENERATE)
                .append("\n```\n\nOperationsDocTest fails when the file is out of date, or when a primitive or a public `Var` operation has no ")
                .append("`@Torch`.\n\n");
        sb.append("## Differences from PyTorch throughout\n\n");
        for (String d : LIBRARY_WIDE) {
            sb.append("- ").append(d).append('\n');
        }
        for (Map.Entry<Torch.Group, List<Row>> g : groups.entrySet()) {
            sb.append("\n## ").append(g.getKey().title()).append("\n\n");
            sb.append("| `Var` method | Kind | PyTorch | Gradient | Differences |\n|---|---|---|---|---|\n");
            for (Row r : g.getValue()) {
                sb.append("| ").append(r.methods()).append(" | ").append(r.kind()).append(" | ").append(cell(r.meta().value()))
                        .append(" | ").append(cell(r.meta().grad())).append(" | ").append(cell(r.meta().differs())).append(" |\n");
            }
        }
        return sb.toString();
    }

    /** The differences that hold for every operation (the rows list their own). */
    static final List<String> LIBRARY_WIDE = List.of(
            "**No type promotion.** Operands must share their dtype: float32 with float64, or a float with int64, is an "
                    + "`IllegalArgumentException` naming both operands and the `cast` to add. PyTorch promotes to the wider type. "
                    + "This is deliberate: a silent promotion doubles memory and time (float32 to float64) or hides a bug.",
            "**The axis first.** Operations along an axis take it as their first argument, as `slice(axis, start, end)`: "
                    + "`split(axis, size)`, `chunk(axis, chunks)`, `topk(axis, k, largest)`, `cumsum(axis)`; reductions take "
                    + "`(keepDims, axes...)`, where no axes means all of them.",
            "**Copies, not views.** Results are new tensors; only `reshape` (and so `squeeze`, `unsqueeze`) of a tensor shares "
                    + "memory. PyTorch returns strided views for `permute`, `transpose`, `narrow`, `expand` and slicing. There are no "
                    + "in-place operations on variables.",
            "**Indices and masks are tensors.** Index arguments are int64 `Tensor`s (not differentiable); masks and conditions "
                    + "are tensors of any dtype, non-zero meaning true (PyTorch: bool). Operations that return indices (`argmax`, "
                    + "`argsort`, and `sort`/`topk` next to their values) return `Tensor`s.",
            "**Kinks follow PyTorch.** relu'(0) = abs'(0) = 0, ties of max and maximum share the gradient equally, the gradient of "
                    + "a norm or standard deviation at 0 is 0; masks in rules are constants, so second derivatives are 0 almost "
                    + "everywhere (docs/design.md, \"Masks are constants\" and \"Numerical conventions\").");

    /** A table cell: pipes escaped, empty as a dash. */
    static String cell(String s) {
        return s.isEmpty() ? "" : s.replace("|", "\\|");
    }
}
