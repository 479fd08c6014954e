package dev.wengert.tensor.cuda;

import dev.wengert.tensor.spi.Strides;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wengert.tensor.BinaryOp;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.ReduceOp;
import dev.wengert.tensor.Shape;
import dev.wengert.tensor.UnaryOp;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import jcuda.jcublas.cublasOperation;
import org.junit.jupiter.api.Test;

/**
 * The pure-Java half of the CUDA backend, checked without a GPU: the row-major-to-cuBLAS GEMM mapping
 * against a plain column-major GEMM emulation, the merged broadcast geometry against direct strides (with
 * the kernels' index arithmetic emulated), and the Java constants against the kernel sources they mirror
 * (op codes, struct sizes, entry-point names and parameter lists).
 */
class CudaHostLogicTest {
    private static final Path CUDA = Path.of("../cuda-kernels/src/main/cuda");

    // ------------------------------------------------------------------ upload staging ring

    /** A staging buffer of the fake ring: its id and whether its last copy is still in flight. */
    private static final class FakeBuffer {
        final int id;
        boolean busy;

        FakeBuffer(int id) {
            this.id = id;
        }
    }

    @Test
    void theStagingRingReusesIdleBuffersInOrderAndBlocksOnlyWhenEveryBufferIsInFlight() {
        List<FakeBuffer> created = new ArrayList<>();
        List<Integer> awaited = new ArrayList<>();
        StagingRing<FakeBuffer> ring = new StagingRing<>(3, () -> {
            FakeBuffer b = new FakeBuffer(created.size());
            created.add(b);
            return b;
        }, b -> !b.busy, b -> {
            awaited.add(b.id);
            b.busy = false;
        });
        // three copies in flight: three buffers, created on first use, no wait
        for (int i = 0; i < 3; i++) {
            FakeBuffer b = ring.acquire();
            assertEquals(i, b.id);
            b.busy = true;
        }
        assertEquals(3, ring.size());
        // the oldest copy finished: its buffer is reused without blocking
        created.get(0).busy = false;
        FakeBuffer again = ring.acquire();
        assertEquals(0, again.id);
        again.busy = true;
        assertEquals(0, ring.waits());
        assertTrue(awaited.isEmpty());
        // every buffer in flight: the ring is exhausted, so acquire blocks on the oldest (buffer 1) and counts it
        FakeBuffer blocked = ring.acquire();
        assertEquals(1, blocked.id);
        assertEquals(List.of(1), awaited);
        assertEquals(1, ring.waits());
        assertEquals(3, created.size(), "bounded: never more buffers than the ring holds");
        // release waits for each buffer's copy before freeing it; the ring starts over afterwards
        created.get(2).busy = true;
        List<Integer> freed = new ArrayList<>();
        ring.release(b -> {
            assertFalse(b.busy, "freed only after its copy finished");
            freed.add(b.id);
        });
        assertEquals(List.of(0, 1, 2), freed);
        assertEquals(0, ring.size());
        assertEquals(3, ring.acquire().id, "a new buffer after release");
    }

    // ------------------------------------------------------------------ cuBLAS mapping

    /** cuBLAS {S,D}gemmStridedBatched semantics, column-major, with its argument checks. */
    static void cublasGemm(int opA, int opB, int m, int n, int k, double[] a, int lda, long strideA, double[] b, int ldb,
                           long strideB, double beta, double[] c, int ldc, long strideC, int batch) {
        boolean ta = opA == cublasOperation.CUBLAS_OP_T;
        boolean tb = opB == cublasOperation.CUBLAS_OP_T;
        assertTrue(lda >= Math.max(1, ta ? k : m), "lda " + lda + " too small (CUBLAS_STATUS_INVALID_VALUE)");
        assertTrue(ldb >= Math.max(1, tb ? n : k), "ldb " + ldb + " too small (CUBLAS_STATUS_INVALID_VALUE)");
        assertTrue(ldc >= Math.max(1, m), "ldc " + ldc + " too small (CUBLAS_STATUS_INVALID_VALUE)");
        for (int q = 0; q < batch; q++) {
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    for (int p = 0; p < k; p++) {
                        double av = ta ? a[(int) (q * strideA + p + (long) i * lda)] : a[(int) (q * strideA + i + (long) p * lda)];
                        double bv = tb ? b[(int) (q * strideB + j + (long) p * ldb)] : b[(int) (q * strideB + p + (long) j * ldb)];
                        s += av * bv;
                    }
                    int ci = (int) (q * strideC + i + (long) j * ldc);
                    c[ci] = s + beta * c[ci];
                }
            }
        }
    }

    /** out[q] (+)= op(a[q]) op(b[q]) row-major, the Backend.matmul contract, with plain loops. */
    static double[] rowMajorReference(double[] a, boolean ta, long aStride, double[] b, boolean tb, long bStride,
                                      double[] c0, boolean accumulate, int batch, int m, int n, int k) {
        double[] out = accumulate ? c0.clone() : new double[batch * m * n];
        for (int q = 0; q < batch; q++) {
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    for (int p = 0; p < k; p++) {
                        double av = ta ? a[(int) (q * aStride) + p * m + i] : a[(int) (q * aStride) + i * k + p];
                        double bv = tb ? b[(int) (q * bStride) + j * k + p] : b[(int) (q * bStride) + p * n + j];
                        s += av * bv;
                    }
                    out[q * m * n + i * n + j] += s;
                }
            }
        }
        return out;
    }

    /** What Blas.gemm does with the mapping: cuBLAS's A is our b, its B is our a. */
    static double[] viaMapping(Blas.Gemm g, double[] a, double[] b, double[] c0, boolean accumulate, int batch) {
        double[] c = accumulate ? c0.clone() : new double[c0.length];
        cublasGemm(g.opA(), g.opB(), g.m(), g.n(), g.k(), b, g.lda(), g.strideA(), a, g.ldb(), g.strideB(),
                accumulate ? 1 : 0, c, g.ldc(), g.strideC(), batch);
        return c;
    }

    static double[] random(Random r, int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = r.nextInt(19) - 9; // small integers: every sum is exact
        }
        return v;
    }

    @Test
    void rowMajorGemmMappingMatchesAColumnMajorEmulation() {
        Random r = new Random(42);
        int cases = 0;
        for (int trial = 0; trial < 400; trial++) {
            int m = 1 + r.nextInt(6);
            int n = 1 + r.nextInt(6);
            int k = 1 + r.nextInt(6);
            boolean ta = r.nextBoolean();
            boolean tb = r.nextBoolean();
            boolean accumulate = r.nextBoolean();
            int batch = r.nextBoolean() ? 1 : 1 + r.nextInt(4);
            int shared = batch == 1 ? 0 : r.nextInt(3); // 0 none, 1 a is 2-D, 2 b is 2-D (as CudaBackend.matmul)
            long aStride = batch == 1 || shared == 1 ? 0 : (long) m * k;
            long bStride = batch == 1 || shared == 2 ? 0 : (long) k * n;
            double[] a = random(r, (int) Math.max(aStride * batch, (long) m * k));
            double[] b = random(r, (int) Math.max(bStride * batch, (long) k * n));
            double[] c0 = random(r, batch * m * n);
            Blas.Gemm g = Blas.rowMajor(ta, aStride, tb, bStride, m, n, k);
            double[] expected = rowMajorReference(a, ta, aStride, b, tb, bStride, c0, accumulate, batch, m, n, k);
            String what = "m=" + m + " n=" + n + " k=" + k + " ta=" + ta + " tb=" + tb + " batch=" + batch + " shared=" + shared
                    + " accumulate=" + accumulate + " " + g;
            assertArrayEquals(expected, viaMapping(g, a, b, c0, accumulate, batch), what);
            cases++;
        }
        assertEquals(400, cases);
    }

    @Test
    void theGemmEmulationCatchesAWrongMapping() {
        // the emulation must be able to fail: the textbook mistake (operands not swapped) gives b a, not a b
        Random r = new Random(7);
        int n = 4;
        double[] a = random(r, n * n);
        double[] b = random(r, n * n);
        double[] c0 = new double[n * n];
        double[] expected = rowMajorReference(a, false, 0, b, false, 0, c0, false, 1, n, n, n);
        assertArrayEquals(expected, viaMapping(Blas.rowMajor(false, 0, false, 0, n, n, n), a, b, c0, false, 1));
        double[] c = new double[n * n];
        cublasGemm(cublasOperation.CUBLAS_OP_N, cublasOperation.CUBLAS_OP_N, n, n, n, a, n, 0, b, n, 0, 0, c, n, 0, 1);
        assertFalse(java.util.Arrays.equals(expected, c), "cuBLAS called with (a, b) unswapped must not pass for a @ b");
        // and a wrong leading dimension is caught by the emulation's argument checks
        Blas.Gemm g = Blas.rowMajor(false, 0, false, 0, 3, 5, 4);
        Blas.Gemm swapped = new Blas.Gemm(g.opA(), g.opB(), g.m(), g.n(), g.k(), g.ldb(), g.lda(), g.ldc(), 0, 0, 15);
        org.junit.jupiter.api.Assertions.assertThrows(org.opentest4j.AssertionFailedError.class,
                () -> viaMapping(swapped, random(r, 12), random(r, 20), new double[15], false, 1));
    }

    @Test
    void gemmMappingKeepsFlagsAndSwapsOperands() {
        Blas.Gemm g = Blas.rowMajor(true, 12, false, 0, 3, 5, 4);
        assertEquals(cublasOperation.CUBLAS_OP_N, g.opA(), "cuBLAS's A is our b, not transposed");
        assertEquals(cublasOperation.CUBLAS_OP_T, g.opB(), "cuBLAS's B is our a, transposed");
        assertEquals(5, g.m());
        assertEquals(3, g.n());
        assertEquals(4, g.k());
        assertEquals(5, g.lda(), "b is [k, n] row-major");
        assertEquals(3, g.ldb(), "a^T stored as [k, m] row-major");
        assertEquals(5, g.ldc());
        assertEquals(0, g.strideA(), "the shared 2-D b");
        assertEquals(12, g.strideB());
        assertEquals(15, g.strideC());
    }

    // ------------------------------------------------------------------ geometry

    /** geo_offsets in common.cuh, over Geo.packed(): the kernels' index arithmetic. */
    static long[] kernelOffsets(int[] packed, int ops, long i) {
        long[] off = new long[ops];
        int rank = packed[0];
        for (int d = Geo.MAX_DIMS - 1; d >= 0; d--) {
            if (d < rank) {
                long s = packed[1 + d];
                long q = i / s;
                long rem = i - q * s;
                i = q;
                for (int k = 0; k < ops; k++) {
                    off[k] += rem * packed[1 + Geo.MAX_DIMS + k * Geo.MAX_DIMS + d];
                }
            }
        }
        return off;
    }

    /** Offsets of flat index i of shape for each operand's (unmerged) strides. */
    static long[] directOffsets(int[] shape, int[][] strides, long i) {
        long[] off = new long[strides.length];
        for (int d = shape.length - 1; d >= 0; d--) {
            long rem = i % shape[d];
            i /= shape[d];
            for (int k = 0; k < strides.length; k++) {
                off[k] += rem * strides[k][d];
            }
        }
        return off;
    }

    @Test
    void mergedGeometryAddressesExactlyLikeTheUnmergedStrides() {
        Random r = new Random(3);
        int merges = 0;
        for (int trial = 0; trial < 2000; trial++) {
            int rank = r.nextInt(7);
            int[] out = new int[rank];
            for (int d = 0; d < rank; d++) {
                out[d] = r.nextInt(4) == 0 ? 1 : 1 + r.nextInt(4);
            }
            int ops = 1 + r.nextInt(3);
            int[][] strides = new int[ops + 1][];
            for (int k = 0; k < ops; k++) { // broadcast operands: a suffix of out with some dimensions 1
                int[] s = new int[r.nextInt(rank + 1)];
                for (int d = 0; d < s.length; d++) {
                    s[d] = r.nextInt(3) == 0 ? 1 : out[rank - s.length + d];
                }
                strides[k] = Strides.broadcastStrides(s, out);
            }
            strides[ops] = Strides.strides(out); // the contiguous output, as CudaBackend passes it
            Geo g = Geo.merged("t", out, strides);
            merges += rank - g.shape.length;
            int[] packed = g.packed();
            assertEquals(41, packed.length);
            int n = Shape.numel(out);
            assertEquals(n, Shape.numel(g.shape), "merging keeps the element count");
            for (int i = 0; i < n; i++) {
                assertArrayEquals(directOffsets(out, strides, i), kernelOffsets(packed, ops + 1, i),
                        "index " + i + " of " + Shape.str(out) + " " + g);
            }
        }
        assertTrue(merges > 1000, "the random shapes exercise merging: " + merges);
    }

    @Test
    void transposedAndSlicedCopiesKeepTheirGeometry() {
        // permute [2,3,4] by (2,0,1): nothing merges, source strides follow the permutation
        int[] xs = {2, 3, 4};
        int[] xst = Strides.strides(xs);
        int[] perm = {2, 0, 1};
        int[] os = {4, 2, 3};
        int[] ps = {xst[perm[0]], xst[perm[1]], xst[perm[2]]};
        Geo g = Geo.merged("permute", os, ps, Strides.strides(os));
        assertArrayEquals(new int[] {4, 6}, g.shape, "the last two output dimensions are contiguous in both");
        assertArrayEquals(new int[] {1, 4}, g.strides[0]);
        assertArrayEquals(new int[] {6, 1}, g.strides[1]);
        // slice columns 1..3 of [5, 4]: rows stay separate
        Geo s = Geo.merged("slice", new int[] {5, 2}, new int[] {4, 1}, new int[] {2, 1});
        assertArrayEquals(new int[] {5, 2}, s.shape);
        // rank 0 after dropping ones: every offset is 0
        Geo one = Geo.merged("t", new int[] {1, 1}, new int[] {0, 0}, new int[] {1, 1});
        assertEquals(0, one.shape.length);
        assertArrayEquals(new long[] {0, 0}, kernelOffsets(one.packed(), 2, 0));
        assertArrayEquals(new long[] {2, 3, 4}, CudaBackend.outerLenInner(new int[] {2, 3, 4}, 1));
        assertArrayEquals(new long[] {1, 2, 12}, CudaBackend.outerLenInner(new int[] {2, 3, 4}, 0));
        assertArrayEquals(new long[] {6, 4, 1}, CudaBackend.outerLenInner(new int[] {2, 3, 4}, 2));
    }

    // ------------------------------------------------------------------ Java constants vs kernel sources

    static String source(String file) throws IOException {
        Path p = CUDA.resolve(file);
        assertTrue(Files.isReadable(p), "kernel source " + p.toAbsolutePath());
        return Files.readString(p);
    }

    /** OpCodes' reader of an anonymous C enum, failing where the sources lack it. */
    static Map<String, Integer> cEnum(String src, String prefix) {
        Map<String, Integer> values = OpCodes.cEnum(src, prefix);
        assertTrue(!values.isEmpty(), "enum " + prefix + "* in the kernel sources");
        return values;
    }

    /**
     * Every Java op has the .cuh constant of its name (U_EXP for UnaryOp.EXP), and OpCodes, which reads the
     * sources packaged with the fatbin, gives its value: the two enums cannot drift, and an op added on one
     * side only fails here.
     */
    @Test
    void opCodesMatchTheKernelEnums() throws IOException {
        String ew = source("elementwise.cuh");
        assertEquals(ew, OpCodes.source("elementwise.cuh"), "OpCodes reads the packaged copy of src/main/cuda");
        Map<String, Integer> u = cEnum(ew, "U_");
        assertEquals(UnaryOp.values().length, u.size(), "unary ops " + u);
        for (UnaryOp op : UnaryOp.values()) {
            assertNotNull(u.get(op.name()), "elementwise.cuh has no U_" + op.name() + " for UnaryOp." + op.name());
            assertEquals(u.get(op.name()), OpCodes.of(op), "U_" + op.name());
        }
        Map<String, Integer> b = cEnum(ew, "B_");
        assertEquals(BinaryOp.values().length, b.size(), "binary ops " + b);
        for (BinaryOp op : BinaryOp.values()) {
            assertNotNull(b.get(op.name()), "elementwise.cuh has no B_" + op.name() + " for BinaryOp." + op.name());
            assertEquals(b.get(op.name()), OpCodes.of(op), "B_" + op.name());
        }
        Map<String, Integer> red = cEnum(source("reduce.cuh"), "R_");
        assertEquals(ReduceOp.values().length, red.size(), "reductions " + red);
        for (ReduceOp op : ReduceOp.values()) {
            assertEquals(red.get(op.name()), OpCodes.of(op), "R_" + op.name());
        }
        assertEquals(Map.of("A", 0, "B", 7, "C", 8), OpCodes.cEnum("enum { Q_A, Q_B = 7, Q_C };", "Q_"));
        Map<String, Integer> act = cEnum(source("fused.cuh"), "ACT_");
        for (dev.wengert.tensor.Activation a : dev.wengert.tensor.Activation.values()) {
            assertEquals(act.get(a.name()), a.ordinal(), "ACT_" + a.name() + " is passed as the ordinal");
        }
        // where_*'s condType: case 0 float, case 1 double, otherwise int64
        assertTrue(ew.contains("case 0: return ((const float*)p)[i]") && ew.contains("case 1: return ((const double*)p)[i]"));
        assertEquals(0, OpCodes.typeCode(DType.FLOAT32));
        assertEquals(1, OpCodes.typeCode(DType.FLOAT64));
        assertEquals(2, OpCodes.typeCode(DType.INT64));
    }

    @Test
    void structLayoutsAndErrorCodesMatchCommonCuh() throws IOException {
        String common = source("common.cuh");
        assertTrue(common.contains("#define MAX_DIMS " + Geo.MAX_DIMS), "MAX_DIMS");
        assertTrue(common.contains("#define BLOCK " + Kernels.BLOCK), "BLOCK (block_reduce assumes blockDim.x == BLOCK)");
        assertTrue(Pattern.compile("struct Geo \\{\\s*int rank;\\s*int shape\\[MAX_DIMS\\];\\s*int st\\[4\\]\\[MAX_DIMS\\];\\s*\\};")
                .matcher(common).find(), "struct Geo is rank, shape[8], st[4][8]: 41 ints");
        assertTrue(Pattern.compile("struct Err \\{\\s*int code;\\s*int pad;\\s*i64 a, b, c;\\s*\\};").matcher(common).find(),
                "struct Err is 32 bytes: code (low half of the first long), a, b, c");
        Map<String, Integer> err = cEnum(common, "ERR_");
        String java = Files.readString(Path.of("src/main/java/dev/wengert/tensor/cuda/DeviceErrors.java"));
        Map<String, String> words = Map.of("GATHER", "\"gather", "SCATTER", "\"scatterAdd", "ONEHOT", "\"oneHot",
                "INT_DIV", "\"div", "INT_POW", "\"pow", "LABEL", "\"softmaxCrossEntropy");
        assertEquals(0, err.get("NONE"));
        for (Map.Entry<String, String> e : words.entrySet()) {
            Integer code = err.get(e.getKey());
            assertNotNull(code, "ERR_" + e.getKey());
            assertTrue(Pattern.compile("case " + code + " -> new \\w+\\(" + Pattern.quote(e.getValue())).matcher(java).find(),
                    "DeviceErrors maps code " + code + " to " + e.getValue());
        }
    }

    // ------------------------------------------------------------------ entry points: names and parameter lists

    /** Expands the function-like macros of the sources (enough for the entry-point macros) and lists the entries. */
    static Map<String, String> entryPoints() throws IOException {
        StringBuilder all = new StringBuilder();
        for (String f : new String[] {"common.cuh", "elementwise.cuh", "reduce.cuh", "movement.cuh", "fused.cuh"}) {
            all.append(source(f).replace("\\\n", " ")).append('\n');
        }
        String text = all.toString();
        Map<String, String[]> macroParams = new HashMap<>();
        Map<String, String> macroBody = new HashMap<>();
        Matcher def = Pattern.compile("(?m)^#define (\\w+)\\(([^)]*)\\)(.*)$").matcher(text);
        while (def.find()) {
            macroParams.put(def.group(1), def.group(2).split("\\s*,\\s*"));
            macroBody.put(def.group(1), def.group(3));
        }
        StringBuilder expanded = new StringBuilder(text.replaceAll("(?m)^#define .*$", ""));
        Matcher use = Pattern.compile("(?m)^(\\w+)\\(([^)]*)\\)\\s*$").matcher(text);
        while (use.find()) {
            String[] params = macroParams.get(use.group(1));
            if (params == null) {
                continue;
            }
            String[] args = use.group(2).split("\\s*,\\s*");
            String body = macroBody.get(use.group(1));
            for (int i = 0; i < params.length; i++) {
                body = body.replaceAll("\\b" + params[i].trim() + "\\b", args[i].trim());
            }
            expanded.append(body.replaceAll("\\s*##\\s*", "")).append('\n');
        }
        Map<String, String> entries = new LinkedHashMap<>();
        Matcher e = Pattern.compile("extern \"C\" __global__ void (\\w+)\\(([^)]*)\\)").matcher(expanded);
        while (e.find()) {
            List<String> kinds = new ArrayList<>();
            for (String p : e.group(2).split(",")) {
                String t = p.trim().replaceAll("\\s+\\w+$", "").replace("const ", "").trim();
                kinds.add(t.endsWith("*") ? "ptr" : switch (t) {
                    case "int" -> "i32";
                    case "i64", "u64" -> "i64";
                    case "double" -> "f64";
                    case "float" -> "f32";
                    case "Geo" -> "geo";
                    default -> t;
                });
            }
            entries.put(e.group(1), String.join(" ", kinds));
        }
        return entries;
    }

    /**
     * The argument lists the Java side builds (CudaBackend, Reductions, CudaFused), one Args call per token:
     * ptr, i32, i64, f64, geo, and T for {@code Args.scalar} of the kernel's element type.
     */
    static final Map<String, String> JAVA_ARGS = Map.ofEntries(
            Map.entry("fill", "ptr T i64"),
            Map.entry("random", "ptr i32 f64 f64 i64 i64"),
            Map.entry("unary", "i32 ptr ptr i64"),
            Map.entry("unary_param", "i32 ptr ptr i64 f64 f64"),
            Map.entry("binary_same", "i32 ptr ptr ptr i64 ptr"),
            Map.entry("binary_ascalar", "i32 ptr ptr ptr i64 ptr"),
            Map.entry("binary_bscalar", "i32 ptr ptr ptr i64 ptr"),
            Map.entry("binary_bcast", "i32 ptr ptr ptr i64 geo ptr"),
            Map.entry("where", "ptr i32 ptr ptr ptr i64 geo"),
            Map.entry("cast", "ptr ptr i64"),
            Map.entry("reduce_rows", "i32 ptr ptr i64 i64 i64"),
            Map.entry("reduce_oli", "i32 ptr ptr i64 i64 i64 i64"),
            Map.entry("argmax", "ptr ptr i64 i64 i64"),
            Map.entry("log_softmax_rows", "ptr ptr i64 i64"),
            Map.entry("log_softmax_oli", "ptr ptr i64 i64 i64"),
            Map.entry("copy_strided", "ptr i64 ptr i64 i64 geo"),
            Map.entry("transpose", "ptr ptr i32 i32 i32"),
            Map.entry("gather", "ptr ptr ptr i64 geo i32 i32 i64 ptr"),
            Map.entry("scatter_add", "ptr ptr ptr i64 geo i32 i32 i64 ptr"),
            Map.entry("one_hot", "ptr ptr i64 i32 ptr"),
            Map.entry("bias_act", "ptr ptr ptr i64 i64 i32"),
            Map.entry("softmax_xent_fwd", "ptr ptr ptr i64 i32 ptr"),
            Map.entry("softmax_xent_bwd", "ptr ptr ptr i32 f64 ptr i64 i32 ptr"),
            Map.entry("sgd_momentum", "ptr ptr ptr f64 f64 f64 i32 i64"),
            Map.entry("adam", "ptr ptr ptr ptr f64 f64 f64 f64 f64 f64 f64 i32 i64"));

    @Test
    void everyKernelTheJavaSideLaunchesExistsWithTheArgumentsItPasses() throws IOException {
        Map<String, String> entries = entryPoints();
        assertTrue(entries.size() >= 60, "parsed the entry points: " + entries.keySet());
        Map<String, String> wanted = new LinkedHashMap<>();
        for (DType dt : DType.values()) {
            String s = OpCodes.suffix(dt);
            String scalar = dt == DType.FLOAT32 ? "f32" : dt == DType.FLOAT64 ? "f64" : "i64";
            for (String base : new String[] {"fill", "unary", "binary_same", "binary_ascalar", "binary_bscalar", "binary_bcast",
                "where", "reduce_rows", "reduce_oli", "argmax", "gather", "scatter_add", "one_hot"}) {
                wanted.put(base + "_" + s, JAVA_ARGS.get(base).replace("T", scalar));
            }
            if (dt.isFloating()) {
                for (String base : new String[] {"random", "unary_param", "log_softmax_rows", "log_softmax_oli", "bias_act", "softmax_xent_fwd",
                    "softmax_xent_bwd", "sgd_momentum", "adam"}) {
                    wanted.put(base + "_" + s, JAVA_ARGS.get(base));
                }
            }
            for (DType to : DType.values()) {
                if (to != dt) {
                    wanted.put("cast_" + s + "_" + OpCodes.suffix(to), JAVA_ARGS.get("cast"));
                }
            }
            wanted.put("copy_strided_" + OpCodes.bits(dt), JAVA_ARGS.get("copy_strided"));
            wanted.put("transpose_" + OpCodes.bits(dt), JAVA_ARGS.get("transpose"));
        }
        for (Map.Entry<String, String> w : wanted.entrySet()) {
            assertTrue(entries.containsKey(w.getKey()), "kernel " + w.getKey() + " is launched but not defined");
            assertEquals(w.getValue(), entries.get(w.getKey()), "parameters of " + w.getKey());
        }
    }

    /** kernels.fatbin is built by nvcc 13, which a CUDA 12 driver cannot load: such a driver is refused, saying why. */
    @Test
    void driversOlderThanTheFatbinsCudaAreRefused() {
        assertEquals(null, CudaDetection.driverTooOld(13000));
        assertEquals(null, CudaDetection.driverTooOld(13010));
        String why = CudaDetection.driverTooOld(12080);
        assertTrue(why != null && why.contains("CUDA 12.8") && why.contains("CUDA 13.0 or newer") && why.contains("R580"), why);
    }
}
