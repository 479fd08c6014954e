package dev.wengert.tensor.cuda;

import dev.wengert.cuda.KernelImage;
import dev.wengert.tensor.BinaryOp;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.ReduceOp;
import dev.wengert.tensor.UnaryOp;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The integer codes the kernels switch on: the anonymous enums at the top of elementwise.cuh
 * ({@code U_*}, {@code B_*}) and reduce.cuh ({@code R_*}), read by name from the kernel sources packaged
 * with the fatbin (wengert-cuda-kernels, {@link KernelImage#SOURCES}; {@link KernelImage#load()} checks
 * that the fatbin was built from them). {@code UnaryOp.EXP} runs case {@code U_EXP}, whatever the order of
 * either enum, so the Java and CUDA enums cannot drift: an op without its constant fails here, naming the
 * file to extend (and CudaHostLogicTest fails at build time).
 */
final class OpCodes {
    private static final Map<UnaryOp, Integer> UNARY = codes(UnaryOp.class, "elementwise.cuh", "U_");
    private static final Map<BinaryOp, Integer> BINARY = codes(BinaryOp.class, "elementwise.cuh", "B_");
    private static final Map<ReduceOp, Integer> REDUCE = codes(ReduceOp.class, "reduce.cuh", "R_");

    private OpCodes() {
    }

    static int of(UnaryOp op) {
        return code(UNARY, op, "elementwise.cuh", "U_");
    }

    static int of(BinaryOp op) {
        return code(BINARY, op, "elementwise.cuh", "B_");
    }

    static int of(ReduceOp op) {
        return code(REDUCE, op, "reduce.cuh", "R_");
    }

    private static <E extends Enum<E>> int code(Map<E, Integer> codes, E op, String file, String prefix) {
        Integer c = codes.get(op);
        if (c == null) {
            throw new IllegalStateException(op.getClass().getSimpleName() + "." + op.name() + " has no CUDA kernel: "
                    + file + " lacks " + prefix + op.name() + "; add it to the enum there and its case to the kernel, then "
                    + "run 'cuda-kernels/scripts/kernels.sh regenerate'");
        }
        return c;
    }

    /** The values of the Java enum's constants, by name, in the C enum of {@code file} whose members start with {@code prefix}. */
    private static <E extends Enum<E>> Map<E, Integer> codes(Class<E> type, String file, String prefix) {
        Map<String, Integer> c = cEnum(source(file), prefix);
        Map<E, Integer> out = new EnumMap<>(type);
        for (E op : type.getEnumConstants()) {
            Integer v = c.get(op.name());
            if (v != null) {
                out.put(op, v);
            }
        }
        return out;
    }

    /** A packaged kernel source, or "" when the wengert-cuda-kernels jar is absent (then no kernel can run). */
    static String source(String file) {
        try (InputStream in = KernelImage.class.getResourceAsStream(KernelImage.SOURCES + file)) {
            return in == null ? "" : new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("reading the kernel source " + file, e);
        }
    }

    /**
     * The members of the anonymous C enum {@code enum { PREFIX_A, PREFIX_B = 5, ... }} in {@code src}, by name
     * without the prefix, with their values (C's rule: one more than the previous unless given).
     */
    static Map<String, Integer> cEnum(String src, String prefix) {
        Matcher m = Pattern.compile("enum\\s*\\{\\s*(" + Pattern.quote(prefix) + "[^}]*)\\}").matcher(src);
        Map<String, Integer> values = new LinkedHashMap<>();
        if (!m.find()) {
            return values;
        }
        int next = 0;
        for (String item : m.group(1).split(",")) {
            String t = item.trim();
            if (t.isEmpty()) {
                continue;
            }
            String[] kv = t.split("=");
            if (kv.length == 2) {
                next = Integer.parseInt(kv[1].trim());
            }
            values.put(kv[0].trim().substring(prefix.length()), next++);
        }
        return values;
    }

    /** Kernel name suffix of an element type: unary_f32, unary_f64, unary_i64. */
    static String suffix(DType dtype) {
        return switch (dtype) {
            case FLOAT32 -> "f32";
            case FLOAT64 -> "f64";
            case INT64 -> "i64";
        };
    }

    /** Suffix of the bit-moving kernels (copies, transposes) for an element size. */
    static String bits(DType dtype) {
        return dtype.bytes() == 4 ? "b32" : "b64";
    }

    /** The condType argument of where_*: 0 float32, 1 float64, 2 int64. */
    static int typeCode(DType dtype) {
        return switch (dtype) {
            case FLOAT32 -> 0;
            case FLOAT64 -> 1;
            case INT64 -> 2;
        };
    }
}
