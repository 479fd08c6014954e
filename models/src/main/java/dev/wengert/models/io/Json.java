package dev.wengert.models.io;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.jr.ob.JSON;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Array;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * JSON (RFC 8259) for safetensors headers and metrics files, on
 * <a href="https://github.com/FasterXML/jackson-jr">jackson-jr</a> (and jackson-core's streaming parser).
 *
 * <p>Parsed values are: objects as {@link LinkedHashMap}{@code <String,Object>} (key order kept),
 * arrays as {@link List}{@code <Object>}, integers that fit a long as {@link Long}, other numbers
 * as {@link Double}, strings, booleans, and {@code null}.
 *
 * <p>The parser reads untrusted text (a downloaded checkpoint's header) with bounded resources: at most
 * {@link #MAX_DEPTH} levels of nesting, strings and names of at most {@link #MAX_STRING_CHARS} characters,
 * numbers of at most 1,000 digits; duplicate keys, trailing content and anything that is not strict JSON
 * (comments, single quotes, NaN) are refused. Every failure is a {@link ParseException} that gives the
 * character offset and what was wrong there.
 *
 * <p>The writer accepts those types, plus any {@link Map} with string keys, any {@link Collection},
 * primitive and object arrays, and any {@link Number}. JSON cannot represent NaN or infinity;
 * like JavaScript's {@code JSON.stringify}, the writer emits {@code null} for them.
 */
public final class Json {

    /** Malformed JSON text; {@link #offset()} is the character offset where parsing stopped. */
    public static final class ParseException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;
        private final int offset;

        ParseException(String message, int offset, Throwable cause) {
            super(message, cause);
            this.offset = offset;
        }

        /** Character offset into the parsed text where the problem was found. */
        public int offset() {
            return offset;
        }
    }

    /** Deepest nesting of arrays and objects accepted (and written). */
    public static final int MAX_DEPTH = 512;
    /** Longest string or object key accepted, in characters. */
    public static final int MAX_STRING_CHARS = 10_000_000;

    private static final JsonFactory FACTORY = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder()
                    .maxNestingDepth(MAX_DEPTH)
                    .maxStringLength(MAX_STRING_CHARS)
                    .maxNameLength(MAX_STRING_CHARS)
                    .maxNumberLength(1000)
                    .build())
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION)
            .build();

    private static final JSON COMPACT = JSON.builder(FACTORY)
            .enable(JSON.Feature.FAIL_ON_DUPLICATE_MAP_KEYS, JSON.Feature.WRITE_NULL_PROPERTIES,
                    JSON.Feature.PRESERVE_FIELD_ORDERING)
            .disable(JSON.Feature.USE_BIG_DECIMAL_FOR_FLOATS, JSON.Feature.READ_ONLY, JSON.Feature.HANDLE_JAVA_BEANS)
            .build();

    /**
     * Objects one entry a line ({@code "key": value}, two-space indents); arrays on one line ({@code [0.5, 0.3]}),
     * which keeps per-epoch metric lists readable.
     */
    private static final JSON PRETTY = COMPACT.with(new DefaultPrettyPrinter(Separators.createDefaultInstance()
                    .withObjectFieldValueSpacing(Separators.Spacing.AFTER)
                    .withObjectEmptySeparator("")
                    .withArrayValueSpacing(Separators.Spacing.AFTER)
                    .withArrayEmptySeparator(""))
            .withObjectIndenter(new DefaultIndenter("  ", "\n"))
            .withArrayIndenter(new DefaultPrettyPrinter.NopIndenter()))
            .with(JSON.Feature.PRETTY_PRINT_OUTPUT);

    private Json() {}

    /** Compact JSON, no whitespace: {@code {"a":[1,2]}}. */
    public static String write(Object value) {
        return write(value, false);
    }

    /**
     * JSON text for {@code value}. With {@code pretty}, each object entry is on a line of its own with
     * two-space indents and arrays stay on one line ({@code "loss": [0.5, 0.3]}).
     *
     * @throws IllegalArgumentException for map keys that are not strings, values of other types, or nesting
     *     deeper than {@link #MAX_DEPTH} (a cycle)
     */
    public static String write(Object value, boolean pretty) {
        Object plain = plain(value, 0, new IdentityHashMap<>());
        try {
            return (pretty ? PRETTY : COMPACT).asString(plain);
        } catch (IOException e) {
            throw new UncheckedIOException("writing JSON to a string failed", e);
        }
    }

    /**
     * Parses one JSON value; only whitespace may follow it.
     *
     * @throws ParseException with the offset and what was wrong there
     */
    public static Object parse(String text) {
        JsonParser p = null;
        try {
            p = FACTORY.createParser(text);
            if (p.nextToken() == null) {
                throw new ParseException("invalid JSON at offset 0: expected a value, found end of input", 0, null);
            }
            Object value = normalize(COMPACT.anyFrom(p));
            int end = offset(p.currentLocation());
            JsonToken trailing;
            try {
                trailing = p.nextToken();
            } catch (JsonProcessingException e) {
                trailing = JsonToken.NOT_AVAILABLE;
            }
            if (trailing != null) {
                int at = trailing == JsonToken.NOT_AVAILABLE ? firstNonBlank(text, end) : offset(p.currentTokenLocation());
                throw new ParseException("invalid JSON at offset " + at + ": expected end of input after the value, found "
                        + describe(text, at), at, null);
            }
            return value;
        } catch (JsonProcessingException e) {
            int at = offset(e.getLocation() != null ? e.getLocation() : p == null ? null : p.currentLocation());
            String what = e.getOriginalMessage() == null ? e.toString() : e.getOriginalMessage();
            throw new ParseException("invalid JSON at offset " + at + ": "
                    + oneLine(what).replaceFirst("end-of-input(?=[A-Za-z])", "end-of-input: "), at, e);
        } catch (IOException e) {
            throw new ParseException("invalid JSON: " + e.getMessage(), 0, e); // a String source never fails to read
        } finally {
            if (p != null) {
                try {
                    p.close();
                } catch (IOException ignored) {
                    // nothing to release for a String source
                }
            }
        }
    }

    private static int firstNonBlank(String text, int from) {
        int i = Math.max(0, Math.min(from, text.length()));
        while (i < text.length() && Character.isWhitespace(text.charAt(i))) {
            i++;
        }
        return i;
    }

    private static String describe(String text, int at) {
        if (at >= text.length()) {
            return "end of input";
        }
        char c = text.charAt(at);
        return c < 0x20 || c == 0x7f ? String.format("control character U+%04X", (int) c) : "'" + c + "'";
    }

    private static int offset(JsonLocation location) {
        if (location == null) {
            return 0;
        }
        long chars = location.getCharOffset();
        return (int) Math.max(0, Math.min(Integer.MAX_VALUE, chars));
    }

    /** Jackson's messages end with the (redacted) source on a new line; the offset says where instead. */
    private static String oneLine(String message) {
        int nl = message.indexOf('\n');
        return (nl < 0 ? message : message.substring(0, nl)).strip();
    }

    /** Integers as Long (Double when beyond a long), other numbers as Double; containers copied recursively. */
    private static Object normalize(Object v) {
        if (v instanceof Map<?, ?> m) {
            Map<String, Object> out = new LinkedHashMap<>(Math.max(4, m.size() * 2));
            m.forEach((k, x) -> out.put((String) k, normalize(x)));
            return out;
        }
        if (v instanceof List<?> l) {
            List<Object> out = new ArrayList<>(l.size());
            for (Object x : l) {
                out.add(normalize(x));
            }
            return out;
        }
        if (v instanceof Integer || v instanceof Short || v instanceof Byte) {
            return ((Number) v).longValue();
        }
        if (v instanceof BigInteger b) {
            return b.bitLength() < 64 ? (Object) b.longValue() : (Object) b.doubleValue();
        }
        if (v instanceof BigDecimal || v instanceof Float) {
            return ((Number) v).doubleValue();
        }
        return v;
    }

    /**
     * What jackson-jr writes as is: maps with string keys, lists, strings, booleans, finite numbers and nulls.
     * Arrays become lists; non-finite floating-point numbers become null.
     */
    private static Object plain(Object v, int depth, IdentityHashMap<Object, Boolean> open) {
        if (v == null || v instanceof String || v instanceof Boolean) {
            return v;
        }
        if (v instanceof Character c) {
            return c.toString();
        }
        if (v instanceof Number n) {
            if (v instanceof Double || v instanceof Float) {
                return Double.isFinite(n.doubleValue()) ? n : null;
            }
            if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte
                    || v instanceof BigInteger || v instanceof BigDecimal) {
                return n;
            }
            double d = n.doubleValue();
            return Double.isFinite(d) ? d : null;
        }
        if (depth >= MAX_DEPTH) {
            throw new IllegalArgumentException("JSON value nested deeper than " + MAX_DEPTH + " levels (a cycle?)");
        }
        if (open.put(v, Boolean.TRUE) != null) {
            throw new IllegalArgumentException("cannot write a cyclic structure as JSON");
        }
        try {
            if (v instanceof Map<?, ?> m) {
                Map<String, Object> out = new LinkedHashMap<>(Math.max(4, m.size() * 2));
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    if (!(e.getKey() instanceof String key)) {
                        throw new IllegalArgumentException("JSON object keys must be strings, found "
                                + (e.getKey() == null ? "null" : e.getKey().getClass().getName()));
                    }
                    out.put(key, plain(e.getValue(), depth + 1, open));
                }
                return out;
            }
            if (v instanceof Collection<?> c) {
                List<Object> out = new ArrayList<>(c.size());
                for (Object x : c) {
                    out.add(plain(x, depth + 1, open));
                }
                return out;
            }
            if (v.getClass().isArray()) {
                int n = Array.getLength(v);
                List<Object> out = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    out.add(plain(Array.get(v, i), depth + 1, open));
                }
                return out;
            }
        } finally {
            open.remove(v);
        }
        throw new IllegalArgumentException("cannot write a " + v.getClass().getName() + " as JSON");
    }
}
