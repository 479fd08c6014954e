package dev.wengert.models.cli;

import dev.wengert.models.io.AtomicFiles;
import dev.wengert.models.io.Json;
import dev.wengert.models.train.Trainer;
import dev.wengert.models.train.TrainingCheckpoint;
import dev.wengert.models.train.TrainingDivergedException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
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
 * the seed and every option, start and end time, per-epoch figures (training loss, validation loss and
 * accuracy), the best epoch, the test loss and accuracy measured once at the end, and the status:
 * {@code running}, {@code finished}, {@code interrupted} (with the signal), {@code diverged} (with the epoch and
 * step of the first non-finite loss) or {@code failed} (with the error). A resumed run keeps what the file
 * said about its earlier epochs and adds an entry to {@code resumes}.
 */
final class RunRecord {

    /** The run's status in metrics.json. */
    enum Status {
        RUNNING, FINISHED, INTERRUPTED, DIVERGED, FAILED;

        String word() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    private final Path file;
    private final Map<String, Object> fixed;
    private final int epochsPlanned;
    private final int stepsPerEpoch;
    private final Instant started;
    private final long sessionStartNanos;
    private final Instant sessionStarted;
    private final double earlierSeconds;
    private final List<Trainer.EpochResult> results = new ArrayList<>();
    private final List<Double> wallSeconds = new ArrayList<>();
    private final Map<String, Object> files = new LinkedHashMap<>();
    private final List<Object> resumes = new ArrayList<>();
    private Map<String, Object> thisResume;
    private Status status = Status.RUNNING;
    private String stopSignal;
    private String error;
    private Map<String, Object> diverged;
    private Instant ended;
    private int bestEpoch;
    private double bestValAccuracy = Double.NaN;
    private Trainer.Evaluation test;

    /**
     * A new run.
     *
     * @param fixed what does not change during the run (model, device, data, options, ...), in the order
     *     metrics.json lists it after the version, status and command line
     */
    RunRecord(Path file, Map<String, Object> fixed, int epochsPlanned, int stepsPerEpoch, Instant started, long startNanos) {
        this(file, fixed, epochsPlanned, stepsPerEpoch, started, started, startNanos, 0);
    }

    private RunRecord(Path file, Map<String, Object> fixed, int epochsPlanned, int stepsPerEpoch, Instant started,
                      Instant sessionStarted, long sessionStartNanos, double earlierSeconds) {
        this.file = file;
        this.fixed = fixed;
        this.epochsPlanned = epochsPlanned;
        this.stepsPerEpoch = stepsPerEpoch;
        this.started = started;
        this.sessionStarted = sessionStarted;
        this.sessionStartNanos = sessionStartNanos;
        this.earlierSeconds = earlierSeconds;
    }

    /**
     * A run resumed from {@code last}: what its metrics.json says about the run as first started (command line,
     * model, data, options, start time, files) is kept, with the new total of epochs, and so are its epochs up to
     * the checkpoint's (the checkpoint's own figures stand in for its epoch if the file lacks it); this session
     * goes into {@code resumes} with its command line, device and start. Without a readable metrics.json it starts
     * from {@code fixed} and the checkpoint's last epoch, and {@code problem} says why.
     *
     * @param fixed this session's description, as a new run would record it
     * @param session this session's entry in {@code resumes}
     */
    static RunRecord resumed(Path file, Map<String, Object> fixed, int epochsPlanned, int stepsPerEpoch, Instant now,
                             long nowNanos, TrainingCheckpoint.Progress progress, Map<String, Object> session,
                             StringBuilder problem) {
        Map<String, Object> before = null;
        if (Files.isRegularFile(file)) {
            try {
                if (Json.parse(Files.readString(file, StandardCharsets.UTF_8)) instanceof Map<?, ?> m) {
                    @SuppressWarnings("unchecked")
                    Map<String, Object> read = (Map<String, Object>) m;
                    before = read;
                } else {
                    problem.append(file + " is not a JSON object");
                }
            } catch (IOException | IllegalArgumentException e) {
                problem.append("cannot read " + file + ": " + (e instanceof IOException io ? Main.ioMessage(io) : e.getMessage()));
            }
        } else {
            problem.append(file + " is missing");
        }
        Map<String, Object> kept = new LinkedHashMap<>();
        Instant started = now;
        double earlier = 0;
        if (before != null) {
            for (Map.Entry<String, Object> e : fixed.entrySet()) {
                kept.put(e.getKey(), before.containsKey(e.getKey()) ? before.get(e.getKey()) : e.getValue());
            }
            if (kept.get("options") instanceof Map<?, ?> options) {
                Map<Object, Object> updated = new LinkedHashMap<>(options);
                updated.put("epochs", epochsPlanned);
                kept.put("options", updated);
            }
            try {
                started = Instant.parse(String.valueOf(before.get("started")));
            } catch (RuntimeException e) {
                started = now;
            }
            if (before.get("total_seconds") instanceof Number n) {
                earlier = n.doubleValue();
            }
        } else {
            kept.putAll(fixed);
        }
        RunRecord r = new RunRecord(file, kept, epochsPlanned, stepsPerEpoch, started, now, nowNanos, earlier);
        if (before != null) {
            if (before.get("epochs") instanceof List<?> epochs) {
                for (Object o : epochs) {
                    if (o instanceof Map<?, ?> e && e.get("epoch") instanceof Number n && n.intValue() <= progress.epochsFinished()
                            && n.intValue() == r.results.size() + 1) {
                        r.results.add(new Trainer.EpochResult(n.intValue(), number(e.get("train_loss")), number(e.get("val_loss")),
                                number(e.get("val_accuracy")), number(e.get("train_seconds")), number(e.get("eval_seconds")),
                                number(e.get("samples_per_second")), number(e.get("lr"))));
                        r.wallSeconds.add(number(e.get("wall_seconds")));
                    }
                }
            }
            if (before.get("files") instanceof Map<?, ?> f) {
                f.forEach((k, v) -> r.files.put(String.valueOf(k), v));
            }
            if (before.get("resumes") instanceof List<?> list) {
                r.resumes.addAll(list);
            }
        }
        Trainer.EpochResult last = progress.last();
        if (last != null && last.epoch() == progress.epochsFinished() && r.results.size() == last.epoch() - 1) {
            // the run stopped after writing the checkpoint and before metrics.json: the checkpoint's figures stand in
            r.results.add(new Trainer.EpochResult(last.epoch(), last.trainLoss(), last.valLoss(), last.valAccuracy(), Double.NaN,
                    Double.NaN, Double.NaN, last.lr()));
            r.wallSeconds.add(Double.NaN);
        }
        r.bestEpoch = progress.bestEpoch();
        r.bestValAccuracy = progress.bestValAccuracy();
        r.thisResume = new LinkedHashMap<>(session);
        r.resumes.add(r.thisResume);
        return r;
    }

    private static double number(Object o) {
        return o instanceof Number n ? n.doubleValue() : Double.NaN;
    }

    void addEpoch(Trainer.EpochResult r, double wall) {
        results.add(r);
        wallSeconds.add(wall);
    }

    List<Trainer.EpochResult> results() {
        return List.copyOf(results);
    }

    /** Whether this record continues an earlier session (train --resume). */
    boolean isResumed() {
        return thisResume != null;
    }

    /**
     * Names a file of the run (relative to the run folder) under {@code key} in metrics.json's "files"; in a
     * resumed run, a name the run already has stays and this session's goes into its entry in "resumes".
     */
    void file(String key, String relative) {
        if (thisResume != null && files.containsKey(key) && !relative.equals(files.get(key))) {
            thisResume.put(key, relative);
        } else {
            files.put(key, relative);
        }
    }

    /** The best epoch so far by validation accuracy (0 for none). */
    void best(int epoch, double valAccuracy) {
        bestEpoch = epoch;
        bestValAccuracy = valAccuracy;
    }

    /** The test set's figures, measured once after the last epoch. */
    void test(Trainer.Evaluation evaluation) {
        test = evaluation;
    }

    void finish(Status s, String signal, String problem) {
        status = s;
        stopSignal = signal;
        error = problem;
        ended = Instant.now();
        if (thisResume != null) {
            thisResume.put("ended", ended.toString());
            thisResume.put("status", s.word());
        }
    }

    /** Ends the run as diverged, naming the epoch and step of the first non-finite loss. */
    void diverged(TrainingDivergedException d) {
        finish(Status.DIVERGED, null, d.getMessage());
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("epoch", d.epoch());
        m.put("step", d.step());
        m.put("steps", d.steps());
        m.put("loss", Double.isFinite(d.loss()) ? (Object) d.loss() : Double.toString(d.loss()));
        m.put("lr", d.lr());
        m.put("hint", d.hint());
        diverged = m;
    }

    /** Seconds since this session started. */
    double totalSeconds() {
        return (System.nanoTime() - sessionStartNanos) / 1e9;
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
        if (diverged != null) {
            m.put("diverged", diverged);
        }
        m.put("wengert_version", build.version());
        m.put("git_commit", build.commit());
        m.putAll(fixed);
        m.put("started", started.toString());
        m.put("ended", ended == null ? null : ended.toString());
        m.put("epochs_planned", epochsPlanned);
        m.put("epochs_completed", results.size());
        m.put("best_epoch", bestEpoch == 0 ? null : bestEpoch);
        m.put("best_val_accuracy", bestEpoch == 0 ? null : bestValAccuracy);
        m.put("final_test_accuracy", test == null ? null : test.accuracy());
        m.put("final_test_loss", test == null ? null : test.loss());
        List<Object> epochs = new ArrayList<>();
        double trainSeconds = 0;
        int timed = 0;
        for (int i = 0; i < results.size(); i++) {
            Trainer.EpochResult r = results.get(i);
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("epoch", r.epoch());
            e.put("train_loss", r.trainLoss());
            e.put("val_loss", r.valLoss());
            e.put("val_accuracy", r.valAccuracy());
            e.put("lr", r.lr());
            e.put("train_seconds", r.trainSeconds());
            e.put("eval_seconds", r.evalSeconds());
            e.put("wall_seconds", wallSeconds.get(i));
            e.put("samples_per_second", r.samplesPerSecond());
            epochs.add(e);
            if (Double.isFinite(r.trainSeconds())) {
                trainSeconds += r.trainSeconds();
                timed++;
            }
        }
        m.put("epochs", epochs);
        m.put("train_loss", results.stream().mapToDouble(Trainer.EpochResult::trainLoss).toArray());
        m.put("val_loss", results.stream().mapToDouble(Trainer.EpochResult::valLoss).toArray());
        m.put("val_accuracy", results.stream().mapToDouble(Trainer.EpochResult::valAccuracy).toArray());
        m.put("train_seconds", trainSeconds);
        m.put("ms_per_step", timed == 0 ? null : 1000 * trainSeconds / (stepsPerEpoch * (double) timed));
        double session = ended == null ? totalSeconds() : (ended.toEpochMilli() - sessionStarted.toEpochMilli()) / 1e3;
        m.put("total_seconds", earlierSeconds + session);
        m.put("files", new LinkedHashMap<>(files));
        if (!resumes.isEmpty()) {
            m.put("resumes", new ArrayList<>(resumes));
        }
        return m;
    }
}
