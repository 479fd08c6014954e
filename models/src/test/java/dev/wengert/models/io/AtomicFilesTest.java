package dev.wengert.models.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFilesTest {

    @TempDir
    Path dir;

    static List<String> names(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void writesAndReplacesWithoutLeavingTempFiles() throws IOException {
        Path target = dir.resolve("out.bin");
        AtomicFiles.write(target, "first".getBytes(StandardCharsets.UTF_8));
        AtomicFiles.write(target, out -> out.write("second".getBytes(StandardCharsets.UTF_8)));
        assertEquals("second", Files.readString(target));
        assertEquals(List.of("out.bin"), names(dir));
    }

    @Test
    void failureMidWriteKeepsOldFileAndRemovesTemp() throws IOException {
        Path target = dir.resolve("model.safetensors");
        Files.writeString(target, "old content");
        IOException e = assertThrows(IOException.class, () -> AtomicFiles.write(target, out -> {
            out.write(new byte[100_000]); // more than the buffer, so bytes reach the temp file
            throw new IOException("disk full (simulated)");
        }));
        assertEquals("disk full (simulated)", e.getMessage());
        assertEquals("old content", Files.readString(target));
        assertEquals(List.of("model.safetensors"), names(dir));
    }

    @Test
    void runtimeFailureAlsoRemovesTemp() throws IOException {
        Path target = dir.resolve("new.bin");
        assertThrows(IllegalStateException.class, () -> AtomicFiles.write(target, out -> {
            out.write(1);
            throw new IllegalStateException("bug");
        }));
        assertEquals(List.of(), names(dir));
    }

    @Test
    void failedRenameRemovesTemp() throws IOException {
        Path target = dir.resolve("occupied");
        Files.createDirectory(target);
        Files.writeString(target.resolve("keep.txt"), "x");
        assertThrows(IOException.class, () -> AtomicFiles.write(target, new byte[] {1, 2, 3}));
        assertEquals(List.of("occupied"), names(dir));
        assertEquals("x", Files.readString(target.resolve("keep.txt")));
    }

    @Test
    void createsParentDirectoriesAndKeepsDefaultPermissions() throws IOException {
        Path target = dir.resolve("a/b/c.txt");
        AtomicFiles.write(target, new byte[] {42});
        assertArrayEquals(new byte[] {42}, Files.readAllBytes(target));
        if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
            Path reference = Files.createFile(dir.resolve("a/b/reference.txt"));
            assertEquals(Files.getPosixFilePermissions(reference), Files.getPosixFilePermissions(target),
                    "atomic writes must not leave files with temp-file (0600) permissions");
        }
        assertTrue(Files.isDirectory(dir.resolve("a/b")));
    }

    @Test
    void closingTheStreamInsideTheCallbackIsHarmless() throws IOException {
        Path target = dir.resolve("closed.txt");
        AtomicFiles.write(target, out -> {
            out.write('a');
            out.close();
        });
        assertEquals("a", Files.readString(target));
    }
}
