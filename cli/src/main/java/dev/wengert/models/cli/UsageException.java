package dev.wengert.models.cli;

/** A bad command line: the message says what is wrong; the command prints it with its usage and exits with 2. */
public final class UsageException extends Exception {
    public UsageException(String message) {
        super(message);
    }
}
