package dev.wengert.models.cli;

import dev.wengert.models.io.AtomicFiles;
import dev.wengert.models.io.Json;
import dev.wengert.models.train.Trainer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * metrics.json: everything needed to know what a run was and how far it got, rewritten atomically at its
 * start, after every epoch and at its end, so that the file on disk always describes the run as it is: the
 * Wengert version and git commit, the command line, the data (and the SHA-256 of its four files), the device,
 * the seed and every option, start and end time, per-epoch figures, and the status: {@code running},
 * {@code finished}, {@code interrupted} (with the signal) or {@code failed} (with the error).
 */
final class RunRecord {

    /** The run's status in metrics.json. */
    enum Status {
        RUNNING, FINISHED, INTERRUPTED, FAILED;

        String word() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    private final Path file;
    private final Map<String, Object> fixed;
    private final int epochsPlanned;
    private final int stepsPerEpoch;
    private final Instant started;
    private final long startNanos;
    private final List<Trainer.EpochResult> results = new ArrayList<>();
    private final List<Double> wallSeconds = new ArrayList<>();
    private final Map<String, Object> files = new LinkedHashMap<>();
    private Status status = Status.RUNNING;
    private String stopSignal;
    private String error;
    private Instant ended;

    /**
     * @param fixed what does not change during the run (model, device, data, options, ...), in the order
     *     metrics.json lists it after the version, status and command line
     */
    RunRecord(Path file, Map<String, Object> fixed, int epochsPlanned, int stepsPerEpoch, Instant started, long startNanos) {
        this.file = file;
        this.fixed = fixed;
        this.epochsPlanned = epochsPlanned;
        this.stepsPerEpoch = stepsPerEpoch;
        this.started = started;
        this.startNanos = startNanos;
    }

    void addEpoch(Trainer.EpochResult r, double wall) {
        results.add(r);
        wallSeconds.add(wall);
    }

    List<Trainer.EpochResult> results() {
        return List.copyOf(results);
    }

    /** Names a file of the run (relative to the run folder) under {@code key} in metrics.json's "files". */
    void file(String key, String relative) {
        files.put(key, relative);
    }

    void finish(Status s, String signal, String problem) {
        status = s;
        stopSignal = signal;
        error = problem;
        ended = Instant.now();
    }

    double totalSeconds() {
        return (System.nanoTime() - startNanos) / 1e9;
    }

    /** Writes metrics.json atomically. */
    void write() throws IOException {
        AtomicFiles.write(file, Json.write(toMap(), true).getBytes(StandardCharsets.UTF_8));
    }

    Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        BuildInfo build = BuildInfo.CURRENT;
        m.put("status", status.word());
        if (stopSignal != null) {
            m.put("stop_signal", stopSignal);
        }
        if (error != null) {
            m.put("error", error);
        }
        m.put("wengert_version", build.version());
        m.put("git_commit", build.commit());
        m.putAll(fixed);
        m.put("started", started.toString());
        m.put("ended", ended == null ? null : ended.toString());
        m.put("epochs_planned", epochsPlanned);
        m.put("epochs_completed", results.size());
        List<Object> epochs = new ArrayList<>();
        double trainSeconds = 0;
        for (int i = 0; i < results.size(); i++) {
            Trainer.EpochResult r = results.get(i);
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("epoch", r.epoch());
            e.put("train_loss", r.trainLoss());
            e.put("test_accuracy", r.testAccuracy());
            e.put("lr", r.lr());
            e.put("train_seconds", r.trainSeconds());
            e.put("eval_seconds", r.evalSeconds());
            e.put("wall_seconds", wallSeconds.get(i));
            e.put("samples_per_second", r.samplesPerSecond());
            epochs.add(e);
            trainSeconds += r.trainSeconds();
        }
        m.put("epochs", epochs);
        m.put("train_loss", results.stream().mapToDouble(Trainer.EpochResult::trainLoss).toArray());
        m.put("test_accuracy", results.stream().mapToDouble(Trainer.EpochResult::testAccuracy).toArray());
        m.put("final_test_accuracy", results.isEmpty() ? null : results.get(results.size() - 1).testAccuracy());
        m.put("train_seconds", trainSeconds);
        m.put("ms_per_step", results.isEmpty() ? null : 1000 * trainSeconds / (stepsPerEpoch * (double) results.size()));
        m.put("total_seconds", ended == null ? totalSeconds() : (ended.toEpochMilli() - started.toEpochMilli()) / 1e3);
        m.put("files", new LinkedHashMap<>(files));
        return m;
    }
}
