package dev.wengert.models.io;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A minimal JSON (RFC 8259) writer and parser, enough for safetensors headers and metrics files.
 *
 * <p>Parsed values are: objects as {@link LinkedHashMap}{@code <String,Object>} (key order kept),
 * arrays as {@link List}{@code <Object>}, integers that fit a long as {@link Long}, other numbers
 * as {@link Double}, strings, booleans, and {@code null}.
 *
 * <p>The writer accepts those, plus any {@link Map} with string keys, any {@link Collection},
 * primitive and object arrays, and any {@link Number}. JSON cannot represent NaN or infinity;
 * like JavaScript's {@code JSON.stringify}, the writer emits {@code null} for them.
 */
public final class Json {

    /** Malformed JSON text; {@link #offset()} is the character offset where parsing stopped. */
    public static final class ParseException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;
        private final int offset;

        ParseException(String message, int offset) {
            super(message);
            this.offset = offset;
        }

        /** Character offset into the parsed text where the problem was found. */
        public int offset() {
            return offset;
        }
    }

    private static final int MAX_DEPTH = 512;
    private static final String INDENT = "  ";

    private Json() {}

    /** Compact JSON, no whitespace: {@code {"a":[1,2]}}. */
    public static String write(Object value) {
        return write(value, false);
    }

    /**
     * JSON text for {@code value}. With {@code pretty}, objects and arrays of objects/arrays are
     * spread over lines with two-space indents; arrays holding only scalars stay on one line
     * ({@code "loss": [0.5, 0.3]}), which keeps per-epoch metric lists readable.
     *
     * @throws IllegalArgumentException for map keys that are not strings or values of other types
     */
    public static String write(Object value, boolean pretty) {
        StringBuilder sb = new StringBuilder();
        new Writer(sb, pretty).value(value, 0);
        return sb.toString();
    }

    /**
     * Parses one JSON value; only whitespace may follow it.
     *
     * @throws ParseException with the offset and what was expected there
     */
    public static Object parse(String text) {
        Parser parser = new Parser(text);
        parser.skipWhitespace();
        Object value = parser.value(0);
        parser.skipWhitespace();
        if (parser.pos < text.length()) {
            throw parser.error("expected end of input");
        }
        return value;
    }

    // ---------------------------------------------------------------- writer

    private static final class Writer {
        private final StringBuilder sb;
        private final boolean pretty;

        Writer(StringBuilder sb, boolean pretty) {
            this.sb = sb;
            this.pretty = pretty;
        }

        void value(Object v, int depth) {
            if (depth > MAX_DEPTH) {
                throw new IllegalArgumentException("JSON value nested deeper than " + MAX_DEPTH + " levels (a cycle?)");
            }
            if (v == null) {
                sb.append("null");
            } else if (v instanceof String s) {
                string(s);
            } else if (v instanceof Boolean b) {
                sb.append(b.booleanValue());
            } else if (v instanceof Number n) {
                number(n);
            } else if (v instanceof Map<?, ?> m) {
                object(m, depth);
            } else if (v instanceof Collection<?> c) {
                array(new ArrayList<>(c), depth);
            } else if (v.getClass().isArray()) {
                array(arrayToList(v), depth);
            } else if (v instanceof Character c) {
                string(c.toString());
            } else {
                throw new IllegalArgumentException("cannot write a " + v.getClass().getName() + " as JSON");
            }
        }

        private void number(Number n) {
            if (n instanceof Double || n instanceof Float) {
                double d = n.doubleValue();
                if (!Double.isFinite(d)) {
                    sb.append("null");
                } else if (n instanceof Float f) {
                    sb.append(Float.toString(f));
                } else {
                    sb.append(Double.toString(d));
                }
            } else if (n instanceof BigDecimal bd) {
                sb.append(bd.toString());
            } else if (n instanceof Long || n instanceof Integer || n instanceof Short
                    || n instanceof Byte || n instanceof BigInteger) {
                sb.append(n.toString());
            } else {
                double d = n.doubleValue();
                sb.append(Double.isFinite(d) ? Double.toString(d) : "null");
            }
        }

        private void object(Map<?, ?> map, int depth) {
            if (map.isEmpty()) {
                sb.append("{}");
                return;
            }
            sb.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : map.entrySet()) {
                if (!(e.getKey() instanceof String key)) {
                    throw new IllegalArgumentException("JSON object keys must be strings, found "
                            + (e.getKey() == null ? "null" : e.getKey().getClass().getName()));
                }
                if (!first) {
                    sb.append(',');
                }
                first = false;
                newline(depth + 1);
                string(key);
                sb.append(pretty ? ": " : ":");
                value(e.getValue(), depth + 1);
            }
            newline(depth);
            sb.append('}');
        }

        private void array(List<?> list, int depth) {
            if (list.isEmpty()) {
                sb.append("[]");
                return;
            }
            boolean multiline = pretty && list.stream().anyMatch(Writer::isContainer);
            sb.append('[');
            for (int i = 0; i < list.size(); i++) {
                if (i > 0) {
                    sb.append(pretty && !multiline ? ", " : ",");
                }
                if (multiline) {
                    newline(depth + 1);
                }
                value(list.get(i), depth + 1);
            }
            if (multiline) {
                newline(depth);
            }
            sb.append(']');
        }

        private static boolean isContainer(Object v) {
            return v instanceof Map || v instanceof Collection || (v != null && v.getClass().isArray());
        }

        private void newline(int depth) {
            if (pretty) {
                sb.append('\n');
                sb.append(INDENT.repeat(depth));
            }
        }

        private void string(String s) {
            sb.append('"');
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                switch (c) {
                    case '"' -> sb.append("\\\"");
                    case '\\' -> sb.append("\\\\");
                    case '\n' -> sb.append("\\n");
                    case '\r' -> sb.append("\\r");
                    case '\t' -> sb.append("\\t");
                    case '\b' -> sb.append("\\b");
                    case '\f' -> sb.append("\\f");
                    default -> {
                        if (c < 0x20) {
                            sb.append(String.format("\\u%04x", (int) c));
                        } else {
                            sb.append(c);
                        }
                    }
                }
            }
            sb.append('"');
        }

        private static List<Object> arrayToList(Object array) {
            int n = java.lang.reflect.Array.getLength(array);
            List<Object> list = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                list.add(java.lang.reflect.Array.get(array, i));
            }
            return list;
        }
    }

    // ---------------------------------------------------------------- parser

    private static final class Parser {
        private final String text;
        private int pos;

        Parser(String text) {
            this.text = text;
        }

        ParseException error(String expected) {
            String found = pos >= text.length() ? "end of input" : describe(text.charAt(pos));
            return new ParseException("invalid JSON at offset " + pos + ": expected " + expected + ", found " + found, pos);
        }

        private static String describe(char c) {
            if (c < 0x20 || c == 0x7f) {
                return String.format("control character U+%04X", (int) c);
            }
            return "'" + c + "'";
        }

        void skipWhitespace() {
            while (pos < text.length()) {
                char c = text.charAt(pos);
                if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                    return;
                }
                pos++;
            }
        }

        Object value(int depth) {
            if (depth > MAX_DEPTH) {
                throw error("nesting of at most " + MAX_DEPTH + " levels");
            }
            if (pos >= text.length()) {
                throw error("a value");
            }
            char c = text.charAt(pos);
            switch (c) {
                case '{':
                    return object(depth);
                case '[':
                    return array(depth);
                case '"':
                    return string();
                case 't':
                    return literal("true", Boolean.TRUE);
                case 'f':
                    return literal("false", Boolean.FALSE);
                case 'n':
                    return literal("null", null);
                default:
                    if (c == '-' || (c >= '0' && c <= '9')) {
                        return number();
                    }
                    throw error("a value (object, array, string, number, true, false or null)");
            }
        }

        private Object literal(String word, Object result) {
            if (!text.startsWith(word, pos)) {
                throw error("'" + word + "'");
            }
            pos += word.length();
            return result;
        }

        private Map<String, Object> object(int depth) {
            pos++; // '{'
            Map<String, Object> map = new LinkedHashMap<>();
            skipWhitespace();
            if (peek() == '}') {
                pos++;
                return map;
            }
            while (true) {
                skipWhitespace();
                if (peek() != '"') {
                    throw error("a string key");
                }
                int keyOffset = pos;
                String key = string();
                if (map.containsKey(key)) {
                    throw new ParseException("invalid JSON at offset " + keyOffset + ": duplicate key \""
                            + key + "\"", keyOffset);
                }
                skipWhitespace();
                expect(':');
                skipWhitespace();
                map.put(key, value(depth + 1));
                skipWhitespace();
                char c = peek();
                if (c == ',') {
                    pos++;
                } else if (c == '}') {
                    pos++;
                    return map;
                } else {
                    throw error("',' or '}'");
                }
            }
        }

        private List<Object> array(int depth) {
            pos++; // '['
            List<Object> list = new ArrayList<>();
            skipWhitespace();
            if (peek() == ']') {
                pos++;
                return list;
            }
            while (true) {
                skipWhitespace();
                list.add(value(depth + 1));
                skipWhitespace();
                char c = peek();
                if (c == ',') {
                    pos++;
                } else if (c == ']') {
                    pos++;
                    return list;
                } else {
                    throw error("',' or ']'");
                }
            }
        }

        private String string() {
            pos++; // opening quote
            StringBuilder sb = new StringBuilder();
            while (true) {
                if (pos >= text.length()) {
                    throw error("'\"' to close the string");
                }
                char c = text.charAt(pos);
                if (c == '"') {
                    pos++;
                    return sb.toString();
                }
                if (c < 0x20) {
                    throw error("a string character (control characters must be escaped)");
                }
                if (c != '\\') {
                    sb.append(c);
                    pos++;
                    continue;
                }
                pos++;
                if (pos >= text.length()) {
                    throw error("an escape character after '\\'");
                }
                char e = text.charAt(pos);
                switch (e) {
                    case '"', '\\', '/' -> sb.append(e);
                    case 'b' -> sb.append('\b');
                    case 'f' -> sb.append('\f');
                    case 'n' -> sb.append('\n');
                    case 'r' -> sb.append('\r');
                    case 't' -> sb.append('\t');
                    case 'u' -> {
                        int code = 0;
                        for (int i = 1; i <= 4; i++) {
                            int digit = pos + i < text.length() ? Character.digit(text.charAt(pos + i), 16) : -1;
                            if (digit < 0) {
                                pos += i;
                                throw error("4 hex digits after \\u");
                            }
                            code = code * 16 + digit;
                        }
                        sb.append((char) code);
                        pos += 4;
                    }
                    default -> throw error("one of \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX");
                }
                pos++;
            }
        }

        private Object number() {
            int start = pos;
            boolean integral = true;
            if (peek() == '-') {
                pos++;
            }
            if (peek() == '0') {
                pos++;
            } else if (isDigit(peek())) {
                digits();
            } else {
                throw error("a digit");
            }
            if (peek() == '.') {
                integral = false;
                pos++;
                if (!isDigit(peek())) {
                    throw error("a digit after the decimal point");
                }
                digits();
            }
            if (peek() == 'e' || peek() == 'E') {
                integral = false;
                pos++;
                if (peek() == '+' || peek() == '-') {
                    pos++;
                }
                if (!isDigit(peek())) {
                    throw error("a digit in the exponent");
                }
                digits();
            }
            String literal = text.substring(start, pos);
            if (integral) {
                try {
                    return Long.parseLong(literal);
                } catch (NumberFormatException tooBig) {
                    return Double.parseDouble(literal);
                }
            }
            return Double.parseDouble(literal);
        }

        private void digits() {
            while (isDigit(peek())) {
                pos++;
            }
        }

        private static boolean isDigit(char c) {
            return c >= '0' && c <= '9';
        }

        /** The current character, or 0 at the end (0 never matches anything we look for). */
        private char peek() {
            return pos < text.length() ? text.charAt(pos) : 0;
        }

        private void expect(char c) {
            if (peek() != c) {
                throw error("'" + c + "'");
            }
            pos++;
        }
    }
}
