package dev.wengert.models.train;

import dev.wengert.models.io.AtomicFiles;
import dev.wengert.models.nn.Module;
import dev.wengert.models.optim.Optimizer;
import dev.wengert.models.zoo.ModelSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The checkpoints of one run in its folder: {@value #LAST} after every finished epoch and {@value #BEST}
 * for the epoch with the highest validation accuracy so far (ties keep the earlier; without validation,
 * no best). Both are {@link TrainingCheckpoint}s written atomically, so an interrupted or crashed run
 * leaves what its last finished epoch produced, and either can be resumed from or evaluated. Call
 * {@link #epochFinished} from {@link Trainer.Listener#epochEnd}; a fit that is stopped or diverges never
 * reports its unfinished epoch, so it is never written.
 */
public final class RunCheckpoints {
    /** The file name of the latest finished epoch's checkpoint. */
    public static final String LAST = "last.safetensors";
    /** The file name of the best epoch's checkpoint. */
    public static final String BEST = "best.safetensors";

    private final Path dir;
    private final Module model;
    private final Optimizer optimizer;
    private final ModelSpec spec;
    private final TrainingCheckpoint.DataSpec data;
    private final Map<String, String> extra;
    private int bestEpoch;
    private double bestValAccuracy = Double.NaN;

    /**
     * The checkpoints of a new run in {@code dir} (created when the first is written).
     *
     * @param spec the model's description, or null when the zoo does not describe it
     * @param extra metadata to write into every checkpoint (the run's options, ...); may be null
     */
    public RunCheckpoints(Path dir, Module model, Optimizer optimizer, ModelSpec spec, TrainingCheckpoint.DataSpec data,
                          Map<String, String> extra) {
        this.dir = dir;
        this.model = model;
        this.optimizer = optimizer;
        this.spec = spec;
        this.data = data;
        this.extra = extra == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(extra));
    }

    /**
     * Continues the best-epoch tracking of a resumed run from its {@value #LAST} checkpoint (the best so
     * far is the one it records). When that epoch was itself the best, copies it to {@value #BEST} again, in
     * case the run stopped between writing the one and the other. Returns this.
     */
    public RunCheckpoints resumedFrom(TrainingCheckpoint.Loaded last) throws IOException {
        TrainingCheckpoint.Progress p = last.progress();
        bestEpoch = p.bestEpoch();
        bestValAccuracy = p.bestValAccuracy();
        Path from = last.file().toAbsolutePath().normalize();
        if (bestEpoch > 0 && bestEpoch == p.epochsFinished() && !from.equals(best().toAbsolutePath().normalize())) {
            copy(from, best());
        }
        return this;
    }

    /**
     * Records a finished epoch: writes {@value #LAST} (atomically) with the model and optimizer as they are
     * now, and, when its validation accuracy beats the best so far, copies it to {@value #BEST} (atomically).
     * Returns true when it is the new best. Call it for consecutive epochs ({@code result.epoch()} epochs
     * finished); reads the tensors back from the device, modifies nothing but the files.
     */
    public boolean epochFinished(Trainer.EpochResult result) throws IOException {
        double acc = result.valAccuracy();
        boolean improved = !Double.isNaN(acc) && (bestEpoch == 0 || acc > bestValAccuracy);
        if (improved) {
            bestEpoch = result.epoch();
            bestValAccuracy = acc;
        }
        TrainingCheckpoint.save(last(), model, optimizer, spec, data,
                new TrainingCheckpoint.Progress(result.epoch(), result, bestEpoch, bestValAccuracy), extra);
        if (improved) {
            copy(last(), best());
        }
        return improved;
    }

    private static void copy(Path from, Path to) throws IOException {
        AtomicFiles.write(to, out -> Files.copy(from, out));
    }

    public Path last() {
        return dir.resolve(LAST);
    }

    public Path best() {
        return dir.resolve(BEST);
    }

    /** 1-based epoch of {@value #BEST}, 0 while there is none. */
    public int bestEpoch() {
        return bestEpoch;
    }

    /** Validation accuracy of the best epoch (NaN while there is none). */
    public double bestValAccuracy() {
        return bestValAccuracy;
    }
}
