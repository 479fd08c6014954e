package dev.wengert.models.io;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Instant;
import java.util.Objects;
import java.util.zip.CRC32C;

/**
 * Writes training scalars (loss, accuracy, throughput, ...) as a TensorBoard event file, so that
 * {@code tensorboard --logdir <folder>} (or any reader of TensorFlow event files) plots them live.
 *
 * <p>The file is {@code events.out.tfevents.<unix seconds>.<hostname>} in the given folder, the name
 * TensorBoard looks for (a {@code .1}, {@code .2}, ... suffix is added if a writer in the same second
 * already took that name; an existing file is never overwritten). It is a sequence of TFRecords, each
 * {@code uint64 length, uint32 masked CRC32C of the length, data, uint32 masked CRC32C of the data}
 * (all little-endian; mask {@code ((crc >>> 15) | (crc << 17)) + 0xa282ead8}), whose data is one
 * {@code tensorflow.Event} protobuf message. The first record is {@code Event{wall_time,
 * file_version: "brain.Event:2"}}; each {@link #addScalar} writes {@code Event{wall_time, step,
 * summary: Summary{value: [Value{tag, simple_value}]}}}, the form TensorBoard's scalar plugin reads.
 * Field numbers are those of TensorFlow's {@code tensorflow/core/util/event.proto} (Event: wall_time
 * 1 double, step 2 int64, file_version 3 string, summary 5) and
 * {@code tensorflow/core/framework/summary.proto} (Summary: value 1; Summary.Value: tag 1,
 * simple_value 2 float). The messages are encoded here by hand, in protobuf's canonical form (fields
 * in number order, proto3 defaults left out), so the library needs no protobuf runtime.
 *
 * <p>Records are buffered; {@link #flush()} (call it after each epoch's scalars) writes them out and
 * syncs the file to disk, so a crash later loses nothing that was flushed. {@link #close()} flushes.
 * Failures are reported as {@link IOException}s naming the file and the reason; after a failed write
 * the writer refuses further records, since the file may end in a partial one. Thread-safe.
 */
public final class TensorBoardWriter implements AutoCloseable {

    /** The {@code file_version} of the first event, as TensorFlow and TensorBoard write it. */
    public static final String FILE_VERSION = "brain.Event:2";

    /** The file name's prefix; TensorBoard reads files whose name contains {@code tfevents}. */
    public static final String FILE_PREFIX = "events.out.tfevents.";

    private static final int MASK_DELTA = 0xa282ead8;
    private static final int AUTO_WRITE_BYTES = 1 << 16;
    private static final int MAX_NAME_ATTEMPTS = 1000;

    // protobuf wire types
    private static final int VARINT = 0;
    private static final int FIXED64 = 1;
    private static final int LENGTH_DELIMITED = 2;
    private static final int FIXED32 = 5;

    private final Path file;
    private final Clock clock;
    private final FileChannel channel;
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream();
    private IOException failure;
    private boolean closed;

    /**
     * Creates a new event file in {@code logDir} (created if missing), with wall times from the
     * system clock, and writes the {@code file_version} event to it.
     *
     * @throws IOException if the folder or the file cannot be created, naming it and why
     */
    public TensorBoardWriter(Path logDir) throws IOException {
        this(logDir, Clock.systemUTC());
    }

    /**
     * As {@link #TensorBoardWriter(Path)}, with wall times (and the file name's seconds) from
     * {@code clock}.
     */
    public TensorBoardWriter(Path logDir, Clock clock) throws IOException {
        Objects.requireNonNull(logDir, "logDir");
        this.clock = Objects.requireNonNull(clock, "clock");
        try {
            Files.createDirectories(logDir);
        } catch (IOException e) {
            throw new IOException("cannot create the TensorBoard log folder " + logDir + ": " + IoErrors.reason(e), e);
        }
        Instant now = clock.instant();
        String base = FILE_PREFIX + now.getEpochSecond() + "." + hostname();
        Path created = null;
        FileChannel opened = null;
        for (int attempt = 0; opened == null; attempt++) {
            created = logDir.resolve(attempt == 0 ? base : base + "." + attempt);
            try {
                opened = FileChannel.open(created, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            } catch (FileAlreadyExistsException e) {
                if (attempt >= MAX_NAME_ATTEMPTS) {
                    throw new IOException("cannot create a TensorBoard event file in " + logDir
                            + ": " + base + " and " + MAX_NAME_ATTEMPTS + " suffixed names already exist", e);
                }
            } catch (IOException e) {
                throw new IOException("cannot create the TensorBoard event file " + created + ": " + IoErrors.reason(e), e);
            }
        }
        this.file = created;
        this.channel = opened;
        ByteArrayOutputStream event = new ByteArrayOutputStream();
        writeDouble(event, 1, wallTime(now));
        writeBytes(event, 3, FILE_VERSION.getBytes(StandardCharsets.UTF_8));
        try {
            append(event.toByteArray());
            flush();
        } catch (IOException e) {
            closeQuietly();
            throw e;
        }
    }

    /** The event file being written. */
    public Path file() {
        return file;
    }

    /**
     * Records {@code value} for {@code tag} at {@code step} (TensorBoard's x axis), stamped with the
     * current wall time. The value is stored as a 32-bit float ({@code simple_value}), as TensorBoard
     * expects: it is rounded to float, NaN and infinities are kept, and finite values beyond float's
     * range become infinities. Buffered until {@link #flush()}.
     *
     * @param tag the series name, e.g. {@code "train/loss"} (slashes group series in TensorBoard); not empty
     * @throws IOException if writing buffered records out fails (naming the file and why), or an
     *         earlier write failed
     * @throws IllegalStateException if the writer is closed
     */
    public synchronized void addScalar(String tag, long step, double value) throws IOException {
        Objects.requireNonNull(tag, "tag");
        if (tag.isEmpty()) {
            throw new IllegalArgumentException("the tag of a TensorBoard scalar must not be empty");
        }
        checkOpen();
        ByteArrayOutputStream summaryValue = new ByteArrayOutputStream();
        writeBytes(summaryValue, 1, tag.getBytes(StandardCharsets.UTF_8));
        // simple_value is a oneof member, so it is written even when it is 0
        writeTag(summaryValue, 2, FIXED32);
        writeFixed32(summaryValue, Float.floatToRawIntBits((float) value));
        ByteArrayOutputStream summary = new ByteArrayOutputStream();
        writeBytes(summary, 1, summaryValue.toByteArray());
        ByteArrayOutputStream event = new ByteArrayOutputStream();
        writeDouble(event, 1, wallTime(clock.instant()));
        if (step != 0) {
            writeTag(event, 2, VARINT);
            writeVarint(event, step);
        }
        writeBytes(event, 5, summary.toByteArray());
        append(event.toByteArray());
    }

    /**
     * Writes all buffered records to the file and syncs it to disk, so that readers (TensorBoard) see
     * them and a crash cannot lose them. Call after each epoch's scalars.
     *
     * @throws IOException naming the file and why, if writing or syncing fails
     */
    public synchronized void flush() throws IOException {
        checkOpen();
        writePending();
        try {
            channel.force(false);
        } catch (IOException e) {
            throw fail("cannot sync", e);
        }
    }

    /** Flushes (as {@link #flush()}) and closes the file. Closing again does nothing. */
    @Override
    public synchronized void close() throws IOException {
        if (closed) {
            return;
        }
        try {
            if (failure == null) {
                flush();
            }
        } finally {
            closed = true;
            try {
                channel.close();
            } catch (IOException e) {
                throw new IOException("cannot close the TensorBoard event file " + file + ": " + IoErrors.reason(e), e);
            }
        }
    }

    private void checkOpen() throws IOException {
        if (closed) {
            throw new IllegalStateException("the TensorBoard event file " + file + " is closed");
        }
        if (failure != null) {
            throw new IOException("the TensorBoard event file " + file
                    + " may end in a partial record after an earlier failure: " + failure.getMessage(), failure);
        }
    }

    /** Frames {@code data} as a TFRecord into the pending buffer; writes the buffer out once it is large. */
    private void append(byte[] data) throws IOException {
        byte[] length = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(data.length).array();
        pending.writeBytes(length);
        writeFixed32(pending, maskedCrc32c(length));
        pending.writeBytes(data);
        writeFixed32(pending, maskedCrc32c(data));
        if (pending.size() >= AUTO_WRITE_BYTES) {
            writePending();
        }
    }

    private void writePending() throws IOException {
        if (pending.size() == 0) {
            return;
        }
        ByteBuffer buffer = ByteBuffer.wrap(pending.toByteArray());
        pending.reset();
        try {
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
        } catch (IOException e) {
            throw fail("cannot write to", e);
        }
    }

    private IOException fail(String what, IOException e) {
        failure = new IOException(what + " the TensorBoard event file " + file + ": " + IoErrors.reason(e), e);
        return failure;
    }

    private void closeQuietly() {
        closed = true;
        try {
            channel.close();
        } catch (IOException ignored) {
            // the original failure is the one to report
        }
    }

    /** TFRecord's checksum: CRC32C, rotated right by 15 bits, plus a constant. */
    static int maskedCrc32c(byte[] bytes) {
        CRC32C crc = new CRC32C();
        crc.update(bytes);
        int c = (int) crc.getValue();
        return ((c >>> 15) | (c << 17)) + MASK_DELTA;
    }

    private static double wallTime(Instant t) {
        return t.getEpochSecond() + t.getNano() / 1e9;
    }

    private static void writeTag(ByteArrayOutputStream out, int field, int wireType) {
        writeVarint(out, ((long) field << 3) | wireType);
    }

    /** A varint; negative values take 10 bytes (their 64-bit two's complement), as protobuf's int64. */
    private static void writeVarint(ByteArrayOutputStream out, long v) {
        while ((v & ~0x7FL) != 0) {
            out.write((int) ((v & 0x7F) | 0x80));
            v >>>= 7;
        }
        out.write((int) v);
    }

    private static void writeFixed32(ByteArrayOutputStream out, int v) {
        out.write(v);
        out.write(v >>> 8);
        out.write(v >>> 16);
        out.write(v >>> 24);
    }

    private static void writeDouble(ByteArrayOutputStream out, int field, double v) {
        long bits = Double.doubleToRawLongBits(v);
        if (bits == 0) {
            return; // proto3 leaves +0.0 out
        }
        writeTag(out, field, FIXED64);
        writeFixed32(out, (int) bits);
        writeFixed32(out, (int) (bits >>> 32));
    }

    private static void writeBytes(ByteArrayOutputStream out, int field, byte[] bytes) {
        writeTag(out, field, LENGTH_DELIMITED);
        writeVarint(out, bytes.length);
        out.writeBytes(bytes);
    }

    /** This machine's name for the file name, with anything but letters, digits, '.', '-' and '_' replaced. */
    private static String hostname() {
        String name = null;
        try {
            name = InetAddress.getLocalHost().getHostName();
        } catch (IOException | SecurityException e) {
            name = System.getenv("HOSTNAME");
        }
        if (name == null || name.isBlank()) {
            name = "localhost";
        }
        return name.replaceAll("[^A-Za-z0-9._-]", "_");
    }
}
