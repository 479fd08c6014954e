package dev.wengert.models.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reads {@link MetricsCsv}'s files back with a separate RFC 4180 parser (below), not the writer's code. */
class MetricsCsvTest {

    static final List<String> COLUMNS =
            List.of("epoch", "train_loss", "val_loss", "val_accuracy", "seconds", "samples_per_second");

    @TempDir
    Path dir;

    /** RFC 4180: records end at CRLF or LF outside quotes; "" inside quotes is one quote. */
    static List<List<String>> parse(String text) {
        List<List<String>> records = new ArrayList<>();
        List<String> record = new ArrayList<>();
        StringBuilder field = new StringBuilder();
        int i = 0;
        boolean inQuotes = false;
        boolean any = false;
        while (i < text.length()) {
            char c = text.charAt(i++);
            any = true;
            if (inQuotes) {
                if (c == '"' && i < text.length() && text.charAt(i) == '"') {
                    field.append('"');
                    i++;
                } else if (c == '"') {
                    inQuotes = false;
                } else {
                    field.append(c);
                }
            } else if (c == '"') {
                assertEquals(0, field.length(), "a quote in the middle of an unquoted field");
                inQuotes = true;
            } else if (c == ',') {
                record.add(field.toString());
                field.setLength(0);
            } else if (c == '\r' && i < text.length() && text.charAt(i) == '\n') {
                // CR of CRLF
            } else if (c == '\n') {
                record.add(field.toString());
                field.setLength(0);
                records.add(record);
                record = new ArrayList<>();
                any = false;
            } else {
                field.append(c);
            }
        }
        assertFalse(inQuotes, "unterminated quote");
        if (any) {
            record.add(field.toString());
            records.add(record);
        }
        return records;
    }

    static List<List<String>> read(Path file) throws IOException {
        String text = Files.readString(file, StandardCharsets.UTF_8);
        assertTrue(text.isEmpty() || text.endsWith("\n"), "every line ends in a newline");
        return parse(text);
    }

    @Test
    void headerOnceThenOneRowPerEpochWithValuesThatRoundTrip() throws IOException {
        Path file = dir.resolve("runs/mnist/metrics.csv"); // folders are created
        double[][] rows = {
            {1, 0.6931471805599453, 0.1 + 0.2, 1.0 / 3, 12.345, 49_152.0 / 12.345},
            {2, 1e-5, Double.MIN_VALUE, Double.MAX_VALUE, -0.0, 1e21},
            {3, Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, 0.0, 123456789.123456789},
        };
        try (MetricsCsv csv = MetricsCsv.open(file, COLUMNS)) {
            assertFalse(csv.resumed());
            assertEquals(COLUMNS, csv.columns());
            for (double[] r : rows) {
                csv.writeRow((long) r[0], r[1], r[2], r[3], r[4], r[5]);
            }
        }
        List<List<String>> records = read(file);
        assertEquals(rows.length + 1, records.size());
        assertEquals(COLUMNS, records.get(0));
        for (int i = 0; i < rows.length; i++) {
            List<String> r = records.get(i + 1);
            assertEquals(String.valueOf(i + 1), r.get(0), "an epoch is written as an integer");
            for (int c = 1; c < COLUMNS.size(); c++) {
                assertEquals(Double.doubleToRawLongBits(rows[i][c]), Double.doubleToRawLongBits(Double.parseDouble(r.get(c))),
                        "row " + i + " column " + COLUMNS.get(c) + ": " + r.get(c));
            }
        }
        assertEquals("NaN", records.get(3).get(1));
        assertEquals("Infinity", records.get(3).get(2));
    }

    @Test
    void otherValueTypes() throws IOException {
        Path file = dir.resolve("m.csv");
        try (MetricsCsv csv = MetricsCsv.open(file, List.of("a", "b", "c", "d", "e"))) {
            csv.writeRow(0.1f, Integer.MAX_VALUE, new BigDecimal("1.2345678901234567890123"), null, true);
        }
        List<String> r = read(file).get(1);
        assertEquals(List.of("0.1", "2147483647", "1.2345678901234567890123", "", "true"), r);
        assertEquals(0.1f, Float.parseFloat(r.get(0)));
    }

    @Test
    void quotesFieldsAsRfc4180Says() throws IOException {
        Path file = dir.resolve("q.csv");
        List<String> columns = List.of("name", "note, with comma", "say \"hi\"", "plain");
        String[] values = {"a,b", "line1\nline2", "\"quoted\"", "crlf\r\nend"};
        try (MetricsCsv csv = MetricsCsv.open(file, columns)) {
            csv.writeRow((Object[]) values);
            csv.writeRow("ünïcödé 损失", "  spaces  ", "", "x");
        }
        String text = Files.readString(file);
        assertTrue(text.startsWith("name,\"note, with comma\",\"say \"\"hi\"\"\",plain\n"), text);
        assertTrue(text.contains("\"a,b\",\"line1\nline2\",\"\"\"quoted\"\"\",\"crlf\r\nend\"\n"), text);
        List<List<String>> records = read(file);
        assertEquals(3, records.size());
        assertEquals(columns, records.get(0));
        assertEquals(List.of(values), records.get(1));
        assertEquals(List.of("ünïcödé 损失", "  spaces  ", "", "x"), records.get(2));
    }

    @Test
    void eachRowIsOnDiskBeforeClose() throws IOException {
        Path file = dir.resolve("live.csv");
        try (MetricsCsv csv = MetricsCsv.open(file, List.of("epoch", "loss"))) {
            assertEquals(List.of(List.of("epoch", "loss")), read(file));
            csv.writeRow(1, 0.5);
            assertEquals(List.of("1", "0.5"), read(file).get(1));
            csv.writeRow(2, 0.25);
            assertEquals(3, read(file).size());
        }
    }

    @Test
    void resumingWithTheSameColumnsAppends() throws IOException {
        Path file = dir.resolve("metrics.csv");
        try (MetricsCsv csv = MetricsCsv.open(file, COLUMNS)) {
            csv.writeRow(1, 0.9, 0.8, 0.5, 10.0, 100.0);
            csv.writeRow(2, 0.7, 0.6, 0.6, 10.0, 100.0);
        }
        try (MetricsCsv csv = MetricsCsv.open(file, COLUMNS)) {
            assertTrue(csv.resumed());
            csv.writeRow(3, 0.5, 0.4, 0.7, 10.0, 100.0);
        }
        List<List<String>> records = read(file);
        assertEquals(4, records.size(), "one header, three rows");
        assertEquals(COLUMNS, records.get(0));
        assertEquals(List.of("1", "2", "3"), records.subList(1, 4).stream().map(r -> r.get(0)).toList());
    }

    @Test
    void resumingEndsALineACrashCutOff() throws IOException {
        Path file = dir.resolve("metrics.csv");
        Files.writeString(file, "epoch,loss\n1,0.5\n2,0.2");
        try (MetricsCsv csv = MetricsCsv.open(file, List.of("epoch", "loss"))) {
            csv.writeRow(3, 0.1);
        }
        assertEquals("epoch,loss\n1,0.5\n2,0.2\n3,0.1\n", Files.readString(file));
    }

    @Test
    void resumingAcceptsAHeaderThatAnotherToolWrote() throws IOException {
        Path file = dir.resolve("metrics.csv");
        // a byte order mark, CRLF line ends, and quotes where none are needed
        Files.writeString(file, "\uFEFF\"epoch\",\"a, b\",loss\r\n1,2,3\r\n");
        try (MetricsCsv csv = MetricsCsv.open(file, List.of("epoch", "a, b", "loss"))) {
            assertTrue(csv.resumed());
            csv.writeRow(2, 3, 4);
        }
        assertTrue(Files.readString(file).endsWith("1,2,3\r\n2,3,4\n"));
    }

    @Test
    void anEmptyExistingFileGetsTheHeader() throws IOException {
        Path file = Files.createFile(dir.resolve("empty.csv"));
        try (MetricsCsv csv = MetricsCsv.open(file, List.of("epoch"))) {
            assertFalse(csv.resumed());
            csv.writeRow(1);
        }
        assertEquals("epoch\n1\n", Files.readString(file));
    }

    @Test
    void aDifferentHeaderIsAClearErrorAndTheFileIsLeftAlone() throws IOException {
        Path file = dir.resolve("metrics.csv");
        String before = "epoch,train_loss\n1,0.5\n";
        Files.writeString(file, before);
        IOException e = assertThrows(IOException.class, () -> MetricsCsv.open(file, COLUMNS));
        assertEquals("cannot append to the metrics file " + file + ": its header has the columns [epoch, train_loss], not "
                + COLUMNS + " as this run writes; give this run another file or move that one away", e.getMessage());
        assertEquals(before, Files.readString(file));
    }

    @Test
    void rowsByColumnName() throws IOException {
        Path file = dir.resolve("named.csv");
        try (MetricsCsv csv = MetricsCsv.open(file, COLUMNS)) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("seconds", 3.5);
            row.put("epoch", 1);
            row.put("train_loss", 0.25);
            csv.writeRow(row);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> csv.writeRow(Map.of("epoch", 2, "lr", 0.1)));
            assertTrue(e.getMessage().contains("no column lr"), e.getMessage());
        }
        assertEquals(List.of("1", "0.25", "", "", "3.5", ""), read(file).get(1));
        assertEquals(2, read(file).size(), "the refused row wrote nothing");
    }

    @Test
    void misuseIsRefused() throws IOException {
        assertThrows(IllegalArgumentException.class, () -> MetricsCsv.open(dir.resolve("a.csv"), List.of()));
        assertThrows(IllegalArgumentException.class, () -> MetricsCsv.open(dir.resolve("b.csv"), List.of("x", "x")));
        MetricsCsv csv = MetricsCsv.open(dir.resolve("c.csv"), List.of("x", "y"));
        IllegalArgumentException wrongCount = assertThrows(IllegalArgumentException.class, () -> csv.writeRow(1));
        assertTrue(wrongCount.getMessage().contains("needs 2 values [x, y], got 1"), wrongCount.getMessage());
        csv.close();
        csv.close();
        assertThrows(IllegalStateException.class, () -> csv.writeRow(1, 2));
        assertEquals("x,y\n", Files.readString(dir.resolve("c.csv")));
    }

    @Test
    void anUnwritablePlaceIsAClearError() throws IOException {
        Path notAFolder = Files.writeString(dir.resolve("file"), "x");
        IOException e = assertThrows(IOException.class, () -> MetricsCsv.open(notAFolder.resolve("metrics.csv"), COLUMNS));
        assertTrue(e.getMessage().startsWith("cannot create the folder of the metrics file " + notAFolder.resolve("metrics.csv") + ": "),
                e.getMessage());

        Path aFolder = Files.createDirectory(dir.resolve("metrics.csv"));
        IOException folder = assertThrows(IOException.class, () -> MetricsCsv.open(aFolder, COLUMNS));
        assertEquals("cannot open the metrics file " + aFolder + ": it is a folder", folder.getMessage());
    }
}
