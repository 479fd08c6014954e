package dev.wengert.models.cli;

import dev.wengert.models.train.Trainer;
import java.io.PrintStream;
import java.util.Locale;

/** A progress bar per epoch and one summary line at its end. */
final class ConsoleListener {
    private final PrintStream out;
    private final int epochs;
    private ProgressBar bar;

    /** @param epochs the run's total, for "epoch 3/10" */
    ConsoleListener(PrintStream out, int epochs) {
        this.out = out;
        this.epochs = epochs;
    }

    void epochStart(int epoch, int steps) {
        bar = new ProgressBar(out, "epoch " + epoch + "/" + epochs, steps, ProgressBar.isInteractive());
    }

    void step(int step, double loss, long samples, long elapsedNanos) {
        bar.update(step, String.format(Locale.ROOT, "loss %.4f  %,.0f samples/s", loss, samples / (elapsedNanos / 1e9)));
    }

    /**
     * The epoch's line: training loss, validation loss and accuracy (left out without validation; "best" when it is
     * the best epoch so far), time.
     */
    void epochEnd(Trainer.EpochResult r, boolean best) {
        String val = Double.isNaN(r.valAccuracy()) ? ""
                : String.format(Locale.ROOT, "  val loss %.4f  val accuracy %s%s", r.valLoss(), Text.percent(r.valAccuracy()),
                        best ? " (best)" : "");
        bar.finish(String.format(Locale.ROOT, "train loss %.4f%s  %.1f s (%,.0f samples/s, eval %.2f s)",
                r.trainLoss(), val, r.trainSeconds(), r.samplesPerSecond(), r.evalSeconds()));
    }

    /** A line of its own in the middle of an epoch (the bar goes on below it). */
    void notice(String message) {
        abandon();
        out.println(message);
    }

    /** Ends a bar cut short by a stop request, so the next message starts on a line of its own. */
    void abandon() {
        if (bar != null && ProgressBar.isInteractive()) {
            out.println();
        }
    }
}
