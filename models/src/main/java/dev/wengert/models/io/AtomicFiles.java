package dev.wengert.models.io;

import java.io.BufferedOutputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Writes files so that readers never see a half-written file: the content goes to a temporary
 * file in the target's directory, is flushed to disk, and is then renamed over the target in one
 * atomic step. If anything fails, the temporary file is deleted and the old target (if any) is
 * left untouched.
 */
public final class AtomicFiles {

    /** Produces the content of a file. */
    @FunctionalInterface
    public interface Content {
        /**
         * Writes the whole content to {@code out}. The stream is buffered; closing it is allowed
         * but not required (it only flushes).
         */
        void writeTo(OutputStream out) throws IOException;
    }

    private static final int BUFFER_SIZE = 1 << 16;
    private static final int MAX_NAME_ATTEMPTS = 100;

    private AtomicFiles() {}

    /** Atomically replaces {@code target} with {@code bytes}. */
    public static void write(Path target, byte[] bytes) throws IOException {
        write(target, out -> out.write(bytes));
    }

    /**
     * Atomically replaces {@code target} with what {@code content} writes. Missing parent
     * directories are created. The temporary file is named {@code .<name>.<random>.tmp} and is
     * created with the default permissions (unlike {@link Files#createTempFile}, which would give
     * the final file mode 0600).
     *
     * @throws IOException if writing, syncing or renaming fails; the temporary file is removed
     */
    public static void write(Path target, Content content) throws IOException {
        Path absolute = target.toAbsolutePath();
        Path dir = absolute.getParent();
        if (dir == null) {
            throw new IOException("cannot write " + target + ": it has no parent directory");
        }
        Files.createDirectories(dir);
        Path tmp = createTempSibling(dir, absolute.getFileName().toString());
        boolean moved = false;
        try {
            try (FileOutputStream file = new FileOutputStream(tmp.toFile());
                    BufferedOutputStream buffered = new BufferedOutputStream(file, BUFFER_SIZE)) {
                content.writeTo(new NonClosingOutputStream(buffered));
                buffered.flush();
                file.getFD().sync();
            }
            try {
                Files.move(tmp, absolute, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, absolute, StandardCopyOption.REPLACE_EXISTING);
            }
            moved = true;
        } finally {
            if (!moved) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException cleanup) {
                    // Keep the original failure; a stray temp file is the lesser problem.
                }
            }
        }
    }

    private static Path createTempSibling(Path dir, String name) throws IOException {
        for (int attempt = 0; ; attempt++) {
            String suffix = Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 1);
            Path tmp = dir.resolve("." + name + "." + suffix + ".tmp");
            try {
                return Files.createFile(tmp);
            } catch (FileAlreadyExistsException e) {
                if (attempt >= MAX_NAME_ATTEMPTS) {
                    throw new IOException("could not create a temporary file for " + name + " in " + dir, e);
                }
            }
        }
    }

    /** Passes writes through; {@code close()} only flushes so the caller controls the file. */
    private static final class NonClosingOutputStream extends OutputStream {
        private final OutputStream delegate;

        NonClosingOutputStream(OutputStream delegate) {
            this.delegate = delegate;
        }

        @Override
        public void write(int b) throws IOException {
            delegate.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            delegate.write(b, off, len);
        }

        @Override
        public void flush() throws IOException {
            delegate.flush();
        }

        @Override
        public void close() throws IOException {
            delegate.flush();
        }
    }
}
