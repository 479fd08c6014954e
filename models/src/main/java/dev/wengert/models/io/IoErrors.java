package dev.wengert.models.io;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.FileSystemLoopException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.util.Locale;

/**
 * Words for I/O failures, for error messages people read. NIO's exceptions often carry only the path
 * ({@code java.nio.file.AccessDeniedException: /runs/x}); this says why: "permission denied", "no such file
 * or directory", "not a directory", "no space left on device", "read-only file system", ...
 */
public final class IoErrors {
    private IoErrors() {}

    /** Why an I/O operation failed, in lower-case words without the path. */
    public static String reason(IOException e) {
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof NoSuchFileException) {
            return "no such file or directory";
        }
        if (e instanceof NotDirectoryException) {
            return "not a directory";
        }
        if (e instanceof DirectoryNotEmptyException) {
            return "the folder is not empty";
        }
        if (e instanceof FileSystemLoopException) {
            return "too many levels of symbolic links";
        }
        if (e instanceof FileAlreadyExistsException f) {
            return f.getReason() != null ? lower(f.getReason())
                    : "a file named " + f.getFile() + " already exists (and is not a folder)";
        }
        if (e instanceof FileSystemException f && f.getReason() != null) {
            return lower(f.getReason());
        }
        String message = e.getMessage();
        if (message == null || message.isBlank()) {
            return e.getClass().getSimpleName();
        }
        // FileOutputStream and channels report errno text alone or after the path: "No space left on device"
        for (String known : new String[] {"No space left on device", "Disk quota exceeded", "Read-only file system",
            "Permission denied", "Is a directory", "Not a directory", "Input/output error", "File too large"}) {
            if (message.contains(known)) {
                return lower(known);
            }
        }
        return message;
    }

    /** {@code what + ": " + reason(e)}, e.g. "cannot create /runs/x: permission denied". */
    public static String describe(String what, IOException e) {
        return what + ": " + reason(e);
    }

    private static String lower(String s) {
        return s.isEmpty() ? s : s.substring(0, 1).toLowerCase(Locale.ROOT) + s.substring(1);
    }
}
