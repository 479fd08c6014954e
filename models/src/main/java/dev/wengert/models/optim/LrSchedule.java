package dev.wengert.models.optim;

/** Learning rate as a function of the epoch (0-based); apply with {@code optimizer.setLr(schedule.lr(epoch))}. */
@FunctionalInterface
public interface LrSchedule {

    double lr(int epoch);

    /** Always {@code base}. */
    static LrSchedule constant(double base) {
        return epoch -> base;
    }

    /** base * gamma^(epoch / stepSize) (integer division), as PyTorch's StepLR. */
    static LrSchedule step(double base, int stepSize, double gamma) {
        if (stepSize <= 0) {
            throw new IllegalArgumentException("step schedule: stepSize must be > 0, got " + stepSize);
        }
        return epoch -> base * Math.pow(gamma, epoch / stepSize);
    }

    /** Cosine annealing from base (epoch 0) towards min at epoch {@code epochs}, as PyTorch's CosineAnnealingLR. */
    static LrSchedule cosine(double base, int epochs, double min) {
        if (epochs <= 0) {
            throw new IllegalArgumentException("cosine schedule: epochs must be > 0, got " + epochs);
        }
        return epoch -> min + (base - min) * (1 + Math.cos(Math.PI * Math.min(epoch, epochs) / epochs)) / 2;
    }
}
