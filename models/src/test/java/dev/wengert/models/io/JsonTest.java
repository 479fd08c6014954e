package dev.wengert.models.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {

    @Test
    void parsesEveryValueType() {
        Object parsed = Json.parse(" {\"s\":\"x\", \"i\": -42, \"d\": 1.5e2, \"t\": true, \"f\": false,"
                + " \"n\": null, \"a\": [1, [], {}], \"o\": {\"k\": 0.25}} ");
        Map<?, ?> map = assertInstanceOf(LinkedHashMap.class, parsed);
        assertEquals(List.of("s", "i", "d", "t", "f", "n", "a", "o"), new ArrayList<>(map.keySet()));
        assertEquals("x", map.get("s"));
        assertEquals(-42L, map.get("i"));
        assertEquals(150.0, map.get("d"));
        assertEquals(Boolean.TRUE, map.get("t"));
        assertEquals(Boolean.FALSE, map.get("f"));
        assertNull(map.get("n"));
        assertTrue(map.containsKey("n"));
        assertEquals(List.of(1L, List.of(), Map.of()), map.get("a"));
        assertEquals(Map.of("k", 0.25), map.get("o"));
    }

    @Test
    void numbersAreLongWhenIntegralAndFittingElseDouble() {
        assertEquals(9223372036854775807L, Json.parse("9223372036854775807"));
        assertEquals(9.223372036854775808E18, Json.parse("9223372036854775808"));
        assertEquals(-0.0, Json.parse("-0.0"));
        assertEquals(0L, Json.parse("0"));
        assertEquals(1e-7, Json.parse("1E-7"));
        assertEquals(12.0, Json.parse("1.2e+1"));
    }

    @Test
    void stringEscapesIncludingUnicode() {
        assertEquals("a\"b\\c/d\b\f\n\r\t\u00e9\ud83d\ude00",
                Json.parse("\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u00E9\\ud83d\\ude00\""));
        assertEquals("caf\u00e9 \ud83d\ude00", Json.parse("\"caf\u00e9 \ud83d\ude00\""));
    }

    @Test
    void writerEscapesAndRoundTrips() {
        String nasty = "quote\" backslash\\ newline\n tab\t nul\u0000 bell\u0007 \u00e9 \ud83d\ude00";
        String json = Json.write(nasty);
        assertEquals("\"quote\\\" backslash\\\\ newline\\n tab\\t nul\\u0000 bell\\u0007 \u00e9 \ud83d\ude00\"", json);
        assertEquals(nasty, Json.parse(json));
    }

    @Test
    void compactOutputIsExact() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("dtype", "F32");
        m.put("shape", new long[] {2, 3});
        m.put("offsets", List.of(0L, 24L));
        m.put("lr", 0.5);
        m.put("f", 0.1f);
        m.put("ok", true);
        m.put("none", null);
        m.put("empty", Map.of());
        assertEquals("{\"dtype\":\"F32\",\"shape\":[2,3],\"offsets\":[0,24],\"lr\":0.5,\"f\":0.1,"
                + "\"ok\":true,\"none\":null,\"empty\":{}}", Json.write(m));
    }

    @Test
    void prettyOutputIsExactAndKeepsArraysOnOneLine() {
        Map<String, Object> epoch = new LinkedHashMap<>();
        epoch.put("epoch", 1);
        epoch.put("loss", 0.25);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model", "mlp");
        m.put("train_loss", new double[] {0.5, 0.25});
        m.put("epochs", List.of(epoch));
        m.put("tags", List.of());
        m.put("empty", Map.of());
        String expected = """
                {
                  "model": "mlp",
                  "train_loss": [0.5, 0.25],
                  "epochs": [{
                    "epoch": 1,
                    "loss": 0.25
                  }],
                  "tags": [],
                  "empty": {}
                }""";
        String pretty = Json.write(m, true);
        assertEquals(expected, pretty);
        assertEquals(Json.parse(Json.write(m)), Json.parse(pretty));
    }

    @Test
    void nonFiniteNumbersBecomeNull() {
        assertEquals("[null,null,null,1.0]", Json.write(new double[] {Double.NaN, Double.POSITIVE_INFINITY,
                Double.NEGATIVE_INFINITY, 1.0}));
        assertEquals("null", Json.write(Float.NaN));
    }

    @Test
    void writerRefusesWhatJsonCannotHold() {
        Map<Object, Object> m = new LinkedHashMap<>();
        m.put(1, "x");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Json.write(m));
        assertTrue(e.getMessage().contains("keys must be strings"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Json.write(new Object()));
        List<Object> cycle = new ArrayList<>();
        cycle.add(cycle);
        assertThrows(IllegalArgumentException.class, () -> Json.write(cycle));
    }

    private static void assertParseError(String text, int offset, String... parts) {
        Json.ParseException e = assertThrows(Json.ParseException.class, () -> Json.parse(text));
        assertEquals(offset, e.offset(), e.getMessage());
        assertTrue(e.getMessage().contains("offset " + offset), e.getMessage());
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), () -> "\"" + e.getMessage() + "\" lacks \"" + p + "\"");
        }
    }

    @Test
    void parseErrorsGiveOffsetAndExpectation() {
        assertParseError("", 0, "expected a value", "found end of input");
        assertParseError("   ", 0, "expected a value", "found end of input");
        assertParseError("{\"a\" 1}", 5, "was expecting a colon", "'1'");
        assertParseError("[1,]", 3, "expected a valid value");
        assertParseError("[1 2]", 3, "was expecting comma to separate Array entries");
        assertParseError("{\"a\":1,}", 7, "was expecting double-quote to start field name");
        assertParseError("{\"a\":1 \"b\":2}", 7, "was expecting comma to separate Object entries");
        assertParseError("\"abc", 4, "end-of-input", "closing quote");
        assertParseError("\"a\nb\"", 2, "CTRL-CHAR, code 10", "has to be escaped");
        assertParseError("\"\\x\"", 2, "Unrecognized character escape 'x'");
        assertParseError("\"\\u12G4\"", 5, "hex-digit");
        assertParseError("tru", 0, "Unrecognized token 'tru'");
        assertParseError("01", 1, "Leading zeroes not allowed");
        assertParseError("-", 1, "end-of-input: No digit following sign");
        assertParseError("1.", 1, "Decimal point not followed by a digit");
        assertParseError("1e", 2, "digit for number exponent");
        assertParseError("{} x", 3, "expected end of input after the value, found 'x'");
        assertParseError("[1] ]", 4, "expected end of input after the value, found ']'");
        assertParseError("{\"k\":1,\"k\":2}", 10, "Duplicate field 'k'");
        assertParseError("NaN", 3, "Non-standard token 'NaN'");
        assertParseError("// x\n1", 0, "non-standard) comment");
        assertParseError("['a']", 1, "Unexpected character");
    }

    @Test
    void untrustedInputHasBoundedNestingAndNumberLength() {
        assertParseError("[".repeat(600), 513, "nesting depth (513) exceeds the maximum allowed (512");
        Json.ParseException objects = assertThrows(Json.ParseException.class,
                () -> Json.parse("{\"a\":".repeat(513) + "1" + "}".repeat(513)));
        assertTrue(objects.getMessage().contains("nesting depth (513)"), objects.getMessage());
        Json.ParseException digits = assertThrows(Json.ParseException.class, () -> Json.parse("1".repeat(1001)));
        assertTrue(digits.getMessage().contains("Number value length (1001) exceeds the maximum allowed (1000"),
                digits.getMessage());
        Object deepest = Json.parse("[".repeat(512) + "]".repeat(512));
        for (int i = 0; i < 511; i++) {
            deepest = ((List<?>) deepest).get(0);
        }
        assertEquals(List.of(), deepest);
    }

    @Test
    void deepButReasonableNestingParses() {
        Object v = Json.parse("[".repeat(100) + "]".repeat(100));
        for (int i = 0; i < 99; i++) {
            v = ((List<?>) v).get(0);
        }
        assertEquals(List.of(), v);
        assertEquals("[[1,2],[3]]", Json.write(new long[][] {{1, 2}, {3}}));
        assertEquals(Arrays.asList(1L, null), Json.parse("[1,null]"));
    }
}
