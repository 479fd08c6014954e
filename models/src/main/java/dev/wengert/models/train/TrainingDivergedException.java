package dev.wengert.models.train;

import java.math.BigDecimal;
import java.util.List;
import java.util.Locale;

/**
 * Thrown by {@link Trainer#fit} when the training loss stopped being finite (NaN or infinite): the run
 * diverged, and its parameters are no longer usable; the checkpoint of the last finished epoch (see
 * {@link RunCheckpoints}) is. Names the first non-finite step (1-based epoch and step), its loss, the
 * learning rate, and a hint; {@link #finished()} holds the epochs this fit finished before.
 */
public final class TrainingDivergedException extends RuntimeException {
    private final int epoch;
    private final int step;
    private final int steps;
    private final double loss;
    private final double lr;
    private final transient List<Trainer.EpochResult> finished;

    /**
     * @param epoch 1-based epoch of the first non-finite loss
     * @param step 1-based step within that epoch
     * @param steps steps of that epoch
     * @param loss that step's loss: NaN or infinite, or a finite value when the epoch's running loss sum
     *     left the floating-point range first
     * @param lr the learning rate of that epoch
     * @param finished the epochs finished before (by this fit)
     */
    public TrainingDivergedException(int epoch, int step, int steps, double loss, double lr, List<Trainer.EpochResult> finished) {
        super(message(epoch, step, steps, loss, lr));
        this.epoch = epoch;
        this.step = step;
        this.steps = steps;
        this.loss = loss;
        this.lr = lr;
        this.finished = List.copyOf(finished);
    }

    private static String message(int epoch, int step, int steps, double loss, double lr) {
        String what = Double.isFinite(loss)
                ? "the epoch's loss sum overflowed (step loss " + loss + ")"
                : "the loss became " + loss;
        return String.format(Locale.ROOT, "training diverged: %s at epoch %d, step %d of %d (learning rate %s); "
                + "the parameters are no longer usable, the last finished epoch's checkpoint is. %s", what, epoch, step, steps,
                plain(lr), Character.toUpperCase(hint(lr).charAt(0)) + hint(lr).substring(1));
    }

    /** What to try instead, e.g. "try a smaller learning rate, e.g. --lr 5 (a tenth of 50)". */
    public String hint() {
        return hint(lr);
    }

    private static String hint(double lr) {
        if (!(lr > 0) || Double.isInfinite(lr)) {
            return "the learning rate is " + lr + ": check the data and the model for non-finite values";
        }
        return "try a smaller learning rate, e.g. --lr " + plain(lr / 10) + " (a tenth of " + plain(lr) + ")";
    }

    /** 50.0 as "50", 0.05 as "0.05" (no exponent, no trailing zeros). */
    private static String plain(double v) {
        if (!Double.isFinite(v)) {
            return Double.toString(v);
        }
        return BigDecimal.valueOf(v).stripTrailingZeros().toPlainString();
    }

    /** 1-based epoch of the first non-finite loss. */
    public int epoch() {
        return epoch;
    }

    /** 1-based step within {@link #epoch()}. */
    public int step() {
        return step;
    }

    /** Steps in that epoch. */
    public int steps() {
        return steps;
    }

    /** The loss of that step (NaN or infinite, or finite when the epoch's loss sum overflowed first). */
    public double loss() {
        return loss;
    }

    /** The learning rate of that epoch. */
    public double lr() {
        return lr;
    }

    /** The epochs this fit finished before the divergence (their checkpoints are good). */
    public List<Trainer.EpochResult> finished() {
        return finished == null ? List.of() : finished;
    }
}
