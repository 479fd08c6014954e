package dev.wengert.models.cli;

import java.io.PrintStream;
import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * A console progress bar for one training epoch.
 *
 * <p>Interactive mode (a terminal) redraws a single line with {@code '\r'}, at most about ten
 * times a second:
 *
 * <pre>epoch 1/5 [=========&gt;                    ] 120/469  loss 0.3412  12,345 samples/s</pre>
 *
 * <p>Non-interactive mode (logs, CI) prints one plain line each time progress passes 25%, 50%,
 * 75% and 100%. {@link #finish(String)} ends the bar with a summary line in both modes.
 *
 * <p>Not thread-safe; call it from the training loop.
 */
public final class ProgressBar {

    /** Characters between the brackets. */
    public static final int BAR_WIDTH = 30;
    /** Minimum time between two interactive redraws (100 ms, i.e. at most 10 per second). */
    public static final long REDRAW_INTERVAL_NANOS = 100_000_000L;

    private static final int[] MILESTONES = {25, 50, 75, 100};

    private final PrintStream out;
    private final String label;
    private final long total;
    private final boolean interactive;
    private final LongSupplier nanoClock;

    private long done;
    private String suffix = "";
    private long lastDrawNanos;
    private boolean drawn;
    private int lastLineLength;
    private int nextMilestone;
    private boolean finished;

    /**
     * A bar using {@link System#nanoTime()}.
     *
     * @param out where to print
     * @param label text in front of the bar, e.g. {@code "epoch 1/5"}
     * @param total the number of steps (batches) in the epoch; 0 is allowed
     * @param interactive redraw one line ({@code true}) or print milestone lines ({@code false});
     *     see {@link #isInteractive()}
     */
    public ProgressBar(PrintStream out, String label, long total, boolean interactive) {
        this(out, label, total, interactive, System::nanoTime);
    }

    /** As {@link #ProgressBar(PrintStream, String, long, boolean)}, with a clock for tests. */
    public ProgressBar(PrintStream out, String label, long total, boolean interactive, LongSupplier nanoClock) {
        if (total < 0) {
            throw new IllegalArgumentException("total must be >= 0, found " + total);
        }
        this.out = Objects.requireNonNull(out, "out");
        this.label = Objects.requireNonNull(label, "label");
        this.total = total;
        this.interactive = interactive;
        this.nanoClock = Objects.requireNonNull(nanoClock, "nanoClock");
    }

    /**
     * Whether standard output looks like a terminal that understands {@code '\r'}: a console is
     * attached and {@code TERM} is not {@code dumb}.
     */
    public static boolean isInteractive() {
        return System.console() != null && !"dumb".equals(System.getenv("TERM"));
    }

    /**
     * Records progress. Interactive mode redraws if 100 ms have passed since the last redraw, or
     * on the first update, or when {@code done} reaches {@code total}.
     *
     * @param done steps completed so far (values above {@code total} are shown but the bar stays full)
     * @param suffix text after the counter, e.g. {@code "loss 0.3412  12,345 samples/s"}; may be null
     * @throws IllegalStateException after {@link #finish(String)}
     */
    public void update(long done, String suffix) {
        if (finished) {
            throw new IllegalStateException("progress bar \"" + label + "\" is already finished");
        }
        if (done < 0) {
            throw new IllegalArgumentException("done must be >= 0, found " + done);
        }
        this.done = done;
        this.suffix = suffix == null ? "" : suffix;
        if (interactive) {
            long now = nanoClock.getAsLong();
            if (!drawn || now - lastDrawNanos >= REDRAW_INTERVAL_NANOS || done >= total) {
                redraw(renderBar(this.suffix));
                lastDrawNanos = now;
            }
        } else {
            int percent = percent();
            boolean crossed = false;
            while (nextMilestone < MILESTONES.length && percent >= MILESTONES[nextMilestone]) {
                nextMilestone++;
                crossed = true;
            }
            if (crossed) {
                out.println(renderPlain(this.suffix));
                out.flush();
            }
        }
    }

    /**
     * Ends the bar: draws its last state with {@code summary} in place of the suffix and moves to
     * a new line. Calling it twice has no further effect.
     */
    public void finish(String summary) {
        if (finished) {
            return;
        }
        finished = true;
        String text = summary == null ? suffix : summary;
        if (interactive) {
            redraw(renderBar(text));
            out.println();
        } else {
            out.println(label + " done " + counter() + (text.isEmpty() ? "" : "  " + text));
        }
        out.flush();
    }

    /** The interactive line, e.g. {@code epoch 1/5 [====>     ] 120/469  loss 0.34}. */
    String renderBar(String text) {
        int filled = (int) Math.floor(fraction() * BAR_WIDTH);
        StringBuilder sb = new StringBuilder(label).append(" [");
        if (filled >= BAR_WIDTH) {
            sb.append("=".repeat(BAR_WIDTH));
        } else {
            sb.append("=".repeat(filled)).append('>').append(" ".repeat(BAR_WIDTH - filled - 1));
        }
        sb.append("] ").append(counter());
        if (!text.isEmpty()) {
            sb.append("  ").append(text);
        }
        return sb.toString();
    }

    private String renderPlain(String text) {
        return label + " " + String.format("%3d%%", percent()) + " " + counter() + (text.isEmpty() ? "" : "  " + text);
    }

    /** {@code done/total}, with {@code done} padded to the width of {@code total} so the line does not jitter. */
    private String counter() {
        String totalText = Long.toString(total);
        return String.format("%" + totalText.length() + "d/%s", done, totalText);
    }

    private double fraction() {
        return total == 0 ? 1.0 : Math.min(1.0, (double) done / total);
    }

    private int percent() {
        return (int) Math.floor(fraction() * 100);
    }

    /** Overwrites the current line, blanking leftovers of a longer previous line. */
    private void redraw(String line) {
        int blank = Math.max(0, lastLineLength - line.length());
        out.print("\r" + line + " ".repeat(blank));
        out.flush();
        lastLineLength = line.length();
        drawn = true;
    }
}
