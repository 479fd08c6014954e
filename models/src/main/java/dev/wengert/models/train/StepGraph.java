package dev.wengert.models.train;

import dev.wengert.models.data.BatchLoader;
import dev.wengert.models.nn.Module;
import dev.wengert.models.optim.Optimizer;
import dev.wengert.tensor.CapturedWork;
import dev.wengert.tensor.GraphCaptureException;
import dev.wengert.tensor.Scope;
import dev.wengert.tensor.Tensor;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * {@link Trainer#fit}'s training steps as one captured CUDA graph ({@link Trainer#cudaGraphs}): after
 * {@link #WARM_UP_STEPS} eager steps (they create what a step creates once: gradient buffers, optimizer
 * state, the loss watch), the next full batch's step (forward, loss, backward, optimizer, loss watch) is
 * captured with {@link dev.wengert.tensor.Backend#capture} on fixed input tensors, and every later full
 * batch is copied into those inputs (two small device copies) and replays it: one launch and no host
 * work per step. Replays of the same kernels on the same addresses with the same arguments give the
 * eager steps' results bit for bit; what changes between steps lives in device memory (parameters and
 * optimizer state updated in place, the learning rate and Adam's step count in the optimizer's device
 * scalars, the loss watch's sums, and the random state of a model that draws on the device,
 * {@link Module#drawsOnDevice()}: a {@link dev.wengert.models.nn.Dropout} created for its CUDA device reads
 * its mask number from a device counter that each draw advances, so every replay draws the next mask, the
 * one the eager step would have drawn, and {@link Module#randomState()} stays exact for checkpoints).
 *
 * <p>Eager instead, with a {@link Trainer.Listener#notice} saying why (once): a backend that cannot
 * capture (the CPU), a model that draws random numbers from a counter on the host (a Dropout created
 * without its device: its seeds would be frozen into the graph), or a capture that fails ({@link GraphCaptureException}: a read or synchronisation inside
 * the step). A batch of another size (the short last one) runs eagerly without a notice. Modifies the
 * optimizer's host step count: it counts each replay (the capture's own host-side step is not one).
 */
final class StepGraph implements AutoCloseable {
    /** Eager steps of a fit before its capture. */
    static final int WARM_UP_STEPS = 2;

    private final Module model;
    private final Optimizer optimizer;
    private final Function<BatchLoader.Batch, Tensor> trainStep;
    private final Consumer<String> notice;
    private int eagerSteps;
    private String off;
    private CapturedWork graph;
    private Tensor features;
    private Tensor labels;

    /**
     * @param trainStep forward, loss, backward and update of one batch, returning the loss tensor
     * @param notice where to say that graphs are on, or why they are off
     */
    StepGraph(Module model, Optimizer optimizer, Function<BatchLoader.Batch, Tensor> trainStep, Consumer<String> notice) {
        this.model = model;
        this.optimizer = optimizer;
        this.trainStep = trainStep;
        this.notice = notice;
    }

    /**
     * Runs the step of {@code batch} as a replay (capturing it first when there is no graph yet) and
     * returns true, or returns false for the caller to run it eagerly (and then call {@link #ranEagerly}).
     * {@code watch} gets the step's loss with weight 1.
     */
    boolean step(BatchLoader.Batch batch, int batchSize, Trainer.LossWatch watch) {
        if (off != null || eagerSteps < WARM_UP_STEPS || batch.size() != batchSize || watch == null) {
            return false;
        }
        if (graph == null) {
            return capture(batch, watch);
        }
        features.assign(batch.features());
        labels.assign(batch.labels());
        graph.replay();
        optimizer.overrideStepCount(optimizer.steps() + 1);
        return true;
    }

    /** Counts an eager step (the warm-up needs {@link #WARM_UP_STEPS}). */
    void ranEagerly() {
        eagerSteps++;
    }

    private boolean capture(BatchLoader.Batch batch, Trainer.LossWatch watch) {
        if (!model.drawsOnDevice()) {
            return turnOff("the model draws random numbers on the host (" + String.join(", ", model.randomState().keySet())
                    + "): a graph would replay the same dropout masks every step (create Dropout with its device,"
                    + " new Dropout(p, seed, device), to draw them on the device)");
        }
        features = batch.features().copy().keepForever();
        labels = batch.labels().copy().keepForever();
        BatchLoader.Batch fixed = new BatchLoader.Batch(features, labels);
        long steps = optimizer.steps();
        Optional<CapturedWork> captured;
        try {
            captured = features.backend().capture(() -> {
                try (Scope step = Scope.open()) {
                    watch.add(trainStep.apply(fixed), 1);
                }
            });
        } catch (GraphCaptureException e) {
            return turnOff(e.getMessage());
        } finally {
            optimizer.overrideStepCount(steps); // the capture's host-side step ran nothing; replays count
        }
        if (captured.isEmpty()) {
            return turnOff("the " + features.device() + " backend cannot capture graphs");
        }
        graph = captured.get();
        notice.accept("CUDA graphs: the training step is " + graph.describe() + ", replayed for every full batch");
        graph.replay();
        optimizer.overrideStepCount(steps + 1);
        return true;
    }

    private boolean turnOff(String why) {
        off = why;
        closeInputs();
        notice.accept("CUDA graphs: off, the steps run eagerly: " + why);
        return false;
    }

    private void closeInputs() {
        if (features != null) {
            features.close();
            labels.close();
            features = null;
            labels = null;
        }
    }

    /** Frees the graph, its memory pool and the fixed inputs (after the device finished with them). */
    @Override
    public void close() {
        if (graph != null) {
            graph.close();
            graph = null;
        }
        closeInputs();
    }
}
