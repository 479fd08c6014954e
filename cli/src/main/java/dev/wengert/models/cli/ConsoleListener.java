package dev.wengert.models.cli;

import dev.wengert.models.train.Trainer;
import java.io.PrintStream;
import java.util.Locale;

/** A progress bar per epoch and one summary line at its end. */
final class ConsoleListener implements Trainer.Listener {
    private final PrintStream out;
    private final int epochs;
    private ProgressBar bar;

    ConsoleListener(PrintStream out, int epochs) {
        this.out = out;
        this.epochs = epochs;
    }

    @Override
    public void epochStart(int epoch, int steps) {
        bar = new ProgressBar(out, "epoch " + epoch + "/" + epochs, steps, ProgressBar.isInteractive());
    }

    @Override
    public void step(int epoch, int step, int steps, double loss, long samples, long elapsedNanos) {
        bar.update(step, String.format(Locale.ROOT, "loss %.4f  %,.0f samples/s", loss, samples / (elapsedNanos / 1e9)));
    }

    @Override
    public void epochEnd(Trainer.EpochResult r) {
        bar.finish(String.format(Locale.ROOT, "train loss %.4f  test accuracy %s  %.1f s (%,.0f samples/s, eval %.2f s)",
                r.trainLoss(), Text.percent(r.testAccuracy()), r.trainSeconds(), r.samplesPerSecond(), r.evalSeconds()));
    }

    /** Ends a bar cut short by a stop request, so the next message starts on a line of its own. */
    void abandon() {
        if (bar != null && ProgressBar.isInteractive()) {
            out.println();
        }
    }
}
