package dev.wengert.models.cli;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * A request to stop training after the current step, from SIGINT (Ctrl-C) or SIGTERM ({@code kill}, a
 * scheduler's time limit). The training loop polls {@link #requested()} after every step; what the last
 * finished epoch wrote stays, and the command exits with 128 + the signal's number: 130 for SIGINT, 143 for
 * SIGTERM. A second signal stops at once (with the same code), for a step that never ends.
 */
final class StopRequest {

    /** The signals this handles, with their exit codes. */
    enum Reason {
        SIGINT("INT", 130, "interrupted"),
        SIGTERM("TERM", 143, "terminated");

        final String signalName;
        final int exitCode;
        final String word;

        Reason(String signalName, int exitCode, String word) {
            this.signalName = signalName;
            this.exitCode = exitCode;
            this.word = word;
        }
    }

    private final AtomicReference<Reason> reason = new AtomicReference<>();
    private long stepsUntilAction = -1;
    private Runnable action;

    /** Asks the loop to stop; true for the first request, false when one was already made. */
    boolean request(Reason why) {
        return reason.compareAndSet(null, why);
    }

    boolean requested() {
        return reason.get() != null;
    }

    /** Why a stop was requested, or null. */
    Reason reason() {
        return reason.get();
    }

    /** For tests: requests a stop for {@code why} once {@link #onStep()} has been called {@code steps} times. */
    StopRequest afterSteps(long steps, Reason why) {
        return atStep(steps, () -> request(why));
    }

    /** For tests: runs {@code what} when {@link #onStep()} is called for the {@code step}-th time. */
    StopRequest atStep(long step, Runnable what) {
        this.stepsUntilAction = step;
        this.action = what;
        return this;
    }

    /** Called by the training loop after each step (counts down to {@link #atStep}'s action). */
    void onStep() {
        if (stepsUntilAction > 0 && --stepsUntilAction == 0) {
            action.run();
        }
    }

    /**
     * Routes SIGINT and SIGTERM to this request until the returned handle is closed (which restores the
     * previous handlers). Where the JVM does not let a signal be handled (-Xrs, another platform) that signal
     * keeps its default action.
     */
    Installed installSignalHandlers(PrintStream err) {
        List<Runnable> restore = new ArrayList<>();
        for (Reason r : Reason.values()) {
            try {
                Signal signal = new Signal(r.signalName);
                SignalHandler previous = Signal.handle(signal, s -> {
                    if (request(r)) {
                        err.println();
                        err.println("wengert: " + r + " received: stopping after the current step (send it again to stop at once)");
                    } else {
                        err.println("wengert: " + r + " received again: stopping now");
                        err.flush();
                        Runtime.getRuntime().halt(reason().exitCode);
                    }
                });
                restore.add(() -> Signal.handle(signal, previous));
            } catch (IllegalArgumentException | UnsupportedOperationException e) {
                // this signal cannot be handled here: its default action stays
            }
        }
        return () -> restore.forEach(Runnable::run);
    }

    /** Restores the signal handlers that were in place before. */
    interface Installed extends AutoCloseable {
        @Override
        void close();
    }
}
