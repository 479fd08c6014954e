package dev.wengert.models.io;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IoErrorsTest {
    @TempDir
    Path dir;

    @Test
    void namesTheReasonNotThePath() {
        assertEquals("permission denied", IoErrors.reason(new AccessDeniedException("/x")));
        assertEquals("no such file or directory", IoErrors.reason(new NoSuchFileException("/x")));
        assertEquals("not a directory", IoErrors.reason(new NotDirectoryException("/x")));
        assertEquals("no space left on device", IoErrors.reason(new FileSystemException("/x", null, "No space left on device")));
        assertEquals("read-only file system", IoErrors.reason(new FileSystemException("/x", null, "Read-only file system")));
        assertEquals("no space left on device", IoErrors.reason(new IOException("No space left on device")));
        assertEquals("disk quota exceeded", IoErrors.reason(new IOException("/x (Disk quota exceeded)")));
        assertEquals("a file named /x already exists (and is not a folder)", IoErrors.reason(new FileAlreadyExistsException("/x")));
        assertEquals("something odd", IoErrors.reason(new IOException("something odd")));
        assertEquals("IOException", IoErrors.reason(new IOException()));
        assertEquals("cannot write /x: permission denied", IoErrors.describe("cannot write /x", new AccessDeniedException("/x")));
    }

    @Test
    void realFailuresFromTheFileSystem() throws IOException {
        Path file = Files.writeString(dir.resolve("f"), "x");
        IOException under = assertThrowsIo(() -> Files.createDirectories(file.resolve("sub")));
        // Linux says ENOTDIR or EEXIST depending on the call; either way the words name the problem
        String reason = IoErrors.reason(under);
        org.junit.jupiter.api.Assertions.assertTrue(reason.contains("not a directory") || reason.contains("already exists"), reason);
    }

    private interface IoAction {
        void run() throws IOException;
    }

    private static IOException assertThrowsIo(IoAction a) {
        try {
            a.run();
        } catch (IOException e) {
            return e;
        }
        throw new AssertionError("expected an IOException");
    }
}
