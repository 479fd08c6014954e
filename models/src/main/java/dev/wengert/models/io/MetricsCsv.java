package dev.wengert.models.io;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.Reader;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Writes per-epoch metrics as a CSV file that spreadsheets, pandas, R and plotting scripts read:
 * one header line with the caller's column names (for example {@code epoch, train_loss, val_loss,
 * val_accuracy, seconds, samples_per_second}), then one row per {@link #writeRow} call.
 *
 * <p>Format: UTF-8, comma-separated, lines ending in {@code \n}; a field is quoted as RFC 4180 says
 * (wrapped in double quotes, inner quotes doubled) when it holds a comma, a double quote, a CR or an
 * LF. Doubles and floats are written with {@link Double#toString(double)} / {@link Float#toString(float)}
 * (e.g. {@code 0.1}, {@code 1.0E-5}, {@code NaN}, {@code Infinity}), which parse back to the same
 * value; other numbers with their {@code toString()} ({@link BigDecimal#toString()} included); null
 * as an empty field.
 *
 * <p>Each row is written and synced to disk at once, so a crash loses no finished epoch. When a
 * run resumes, {@link #open} appends to an existing file if its header has exactly the same
 * columns, and refuses (naming both column lists) if it has different ones, rather than mixing two
 * layouts in one file. Failures are {@link IOException}s naming the file and the reason. Thread-safe.
 */
public final class MetricsCsv implements AutoCloseable {

    private final Path file;
    private final List<String> columns;
    private final FileChannel channel;
    private final boolean resumed;
    private boolean closed;

    private MetricsCsv(Path file, List<String> columns, FileChannel channel, boolean resumed) {
        this.file = file;
        this.columns = columns;
        this.channel = channel;
        this.resumed = resumed;
    }

    /**
     * Opens {@code file} for metrics with these columns: a missing or empty file gets the header
     * line; an existing file whose header has the same columns is appended to (a last line cut off
     * by a crash is ended first, so the next row starts on a line of its own). Missing parent
     * folders are created.
     *
     * @param columns the column names, in order; not empty, no duplicates
     * @throws IOException if the file's header has other columns, or the file cannot be read or
     *         written; the message names the file and why
     */
    public static MetricsCsv open(Path file, List<String> columns) throws IOException {
        Objects.requireNonNull(file, "file");
        List<String> cols = List.copyOf(columns);
        if (cols.isEmpty()) {
            throw new IllegalArgumentException("a metrics CSV needs at least one column");
        }
        Set<String> seen = new HashSet<>();
        for (String c : cols) {
            if (!seen.add(c)) {
                throw new IllegalArgumentException("column " + c + " appears twice in " + cols);
            }
        }
        Path parent = file.toAbsolutePath().getParent();
        try {
            if (parent != null) {
                Files.createDirectories(parent);
            }
        } catch (IOException e) {
            throw new IOException("cannot create the folder of the metrics file " + file + ": " + IoErrors.reason(e), e);
        }
        if (Files.isDirectory(file)) {
            throw new IOException("cannot open the metrics file " + file + ": it is a folder");
        }
        boolean resume;
        List<String> existing = null;
        boolean endLine = false;
        try {
            resume = Files.exists(file) && Files.size(file) > 0;
            if (resume) {
                existing = readHeader(file);
                endLine = !endsWithNewline(file);
            }
        } catch (IOException e) {
            throw new IOException("cannot read the metrics file " + file + ": " + IoErrors.reason(e), e);
        }
        if (resume && !existing.equals(cols)) {
            throw new IOException("cannot append to the metrics file " + file + ": its header has the columns "
                    + existing + ", not " + cols + " as this run writes; give this run another file or move that one away");
        }
        FileChannel channel;
        try {
            channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new IOException("cannot open the metrics file " + file + " for writing: " + IoErrors.reason(e), e);
        }
        MetricsCsv csv = new MetricsCsv(file, cols, channel, resume);
        try {
            if (!resume) {
                csv.writeLine(line(cols));
            } else if (endLine) {
                csv.writeLine("");
            }
        } catch (IOException e) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // report the write failure
            }
            throw e;
        }
        return csv;
    }

    /** The file being written. */
    public Path file() {
        return file;
    }

    /** The column names, in order. */
    public List<String> columns() {
        return columns;
    }

    /** Whether {@link #open} appended to an existing file (a resumed run) rather than starting one. */
    public boolean resumed() {
        return resumed;
    }

    /**
     * Writes one row, values in column order, and syncs it to disk.
     *
     * @throws IllegalArgumentException if there are not exactly as many values as columns
     * @throws IOException naming the file and why, if writing fails
     */
    public synchronized void writeRow(Object... values) throws IOException {
        if (values.length != columns.size()) {
            throw new IllegalArgumentException("a row of " + file + " needs " + columns.size() + " values " + columns
                    + ", got " + values.length);
        }
        checkOpen();
        List<String> fields = new ArrayList<>(values.length);
        for (Object v : values) {
            fields.add(format(v));
        }
        writeLine(line(fields));
    }

    /**
     * Writes one row given by column name, and syncs it to disk. Columns missing from
     * {@code values} are left empty (e.g. {@code val_loss} in a run without validation data).
     *
     * @throws IllegalArgumentException if {@code values} names a column the file does not have
     * @throws IOException naming the file and why, if writing fails
     */
    public synchronized void writeRow(Map<String, ?> values) throws IOException {
        for (String name : values.keySet()) {
            if (!columns.contains(name)) {
                throw new IllegalArgumentException(file + " has no column " + name + "; its columns are " + columns);
            }
        }
        Object[] row = new Object[columns.size()];
        for (int i = 0; i < row.length; i++) {
            row[i] = values.get(columns.get(i));
        }
        writeRow(row);
    }

    /** Closes the file; every row is already on disk. Closing again does nothing. */
    @Override
    public synchronized void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        try {
            channel.close();
        } catch (IOException e) {
            throw new IOException("cannot close the metrics file " + file + ": " + IoErrors.reason(e), e);
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("the metrics file " + file + " is closed");
        }
    }

    private void writeLine(String line) throws IOException {
        ByteBuffer bytes = ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.UTF_8));
        try {
            while (bytes.hasRemaining()) {
                channel.write(bytes);
            }
            channel.force(false);
        } catch (IOException e) {
            throw new IOException("cannot write to the metrics file " + file + ": " + IoErrors.reason(e), e);
        }
    }

    /** One value as a CSV field, unquoted. */
    static String format(Object v) {
        if (v == null) {
            return "";
        }
        if (v instanceof Double d) {
            return Double.toString(d);
        }
        if (v instanceof Float f) {
            return Float.toString(f);
        }
        return v.toString();
    }

    /** The fields joined by commas, each quoted where RFC 4180 requires. */
    static String line(List<String> fields) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < fields.size(); i++) {
            if (i > 0) {
                sb.append(',');
            }
            String f = fields.get(i);
            if (f.indexOf(',') >= 0 || f.indexOf('"') >= 0 || f.indexOf('\r') >= 0 || f.indexOf('\n') >= 0) {
                sb.append('"').append(f.replace("\"", "\"\"")).append('"');
            } else {
                sb.append(f);
            }
        }
        return sb.toString();
    }

    /** The first record of the file, parsed as RFC 4180 (quoted fields may hold commas and line breaks). */
    private static List<String> readHeader(Path file) throws IOException {
        try (Reader in = new BufferedReader(Files.newBufferedReader(file, StandardCharsets.UTF_8))) {
            List<String> fields = new ArrayList<>();
            StringBuilder field = new StringBuilder();
            boolean quoted = false;
            int c = in.read();
            if (c == '\uFEFF') {
                c = in.read(); // a byte order mark, as some spreadsheet programs write
            }
            for (; c != -1; c = in.read()) {
                if (quoted) {
                    if (c == '"') {
                        in.mark(1);
                        if (in.read() == '"') {
                            field.append('"');
                        } else {
                            in.reset();
                            quoted = false;
                        }
                    } else {
                        field.append((char) c);
                    }
                } else if (c == '"') {
                    quoted = true;
                } else if (c == ',') {
                    fields.add(field.toString());
                    field.setLength(0);
                } else if (c == '\n') {
                    break;
                } else if (c != '\r') {
                    field.append((char) c);
                }
            }
            fields.add(field.toString());
            return fields;
        }
    }

    private static boolean endsWithNewline(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer last = ByteBuffer.allocate(1);
            ch.read(last, ch.size() - 1);
            return last.get(0) == '\n';
        }
    }
}
