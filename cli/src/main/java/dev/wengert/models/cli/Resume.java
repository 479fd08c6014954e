package dev.wengert.models.cli;

import dev.wengert.models.io.AtomicFiles;
import dev.wengert.models.train.RunCheckpoints;
import dev.wengert.models.train.TrainingCheckpoint;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What {@code train --resume DIR} continues: the run folder, its {@value RunCheckpoints#LAST} and the options the
 * run was started with, which every checkpoint of a run carries in its metadata ({@link #metadata}), so that the
 * model, the data split, the optimizer and the learning-rate schedule are rebuilt exactly as the run built them.
 */
final class Resume {
    /** The metadata keys of the run's options start with this. */
    static final String PREFIX = "option.";

    /** The options a resume must keep as they were; --epochs, --device and --data may be given anew. */
    static final List<String> KEPT = List.of("model", "hidden", "batch_norm", "dropout", "shift", "optimizer", "lr", "momentum",
            "weight_decay", "schedule", "batch_size", "seed", "val_fraction");

    /** What the options that runs of older versions lack were then (those versions had no such feature). */
    private static final Map<String, String> ABSENT = Map.of("batch_norm", "false", "dropout", "0.0", "shift", "0");

    final Path dir;
    final TrainingCheckpoint.Loaded last;
    final Map<String, String> options;

    private Resume(Path dir, TrainingCheckpoint.Loaded last, Map<String, String> options) {
        this.dir = dir;
        this.last = last;
        this.options = options;
    }

    /** The options of a run as its checkpoints store them (every value as text). */
    static Map<String, String> metadata(TrainCommand.Settings o) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(PREFIX + "model", o.model());
        m.put(PREFIX + "hidden", hidden(o.hidden()));
        m.put(PREFIX + "batch_norm", Boolean.toString(o.batchNorm()));
        m.put(PREFIX + "dropout", Double.toString(o.dropout()));
        m.put(PREFIX + "shift", Integer.toString(o.shift()));
        m.put(PREFIX + "optimizer", o.optimizer());
        m.put(PREFIX + "lr", Double.toString(o.lr()));
        m.put(PREFIX + "momentum", Double.toString(o.momentum()));
        m.put(PREFIX + "weight_decay", Double.toString(o.weightDecay()));
        m.put(PREFIX + "schedule", o.schedule());
        m.put(PREFIX + "schedule_epochs", Integer.toString(o.scheduleEpochs()));
        m.put(PREFIX + "batch_size", Integer.toString(o.batchSize()));
        m.put(PREFIX + "seed", Long.toString(o.seed()));
        m.put(PREFIX + "val_fraction", Double.toString(o.valFraction()));
        m.put(PREFIX + "epochs", Integer.toString(o.epochs()));
        m.put(PREFIX + "data", o.data() == null ? "" : o.data().toAbsolutePath().normalize().toString());
        m.put("wengert_version", BuildInfo.CURRENT.version());
        return m;
    }

    static String hidden(int[] sizes) {
        List<String> parts = new ArrayList<>();
        for (int h : sizes) {
            parts.add(Integer.toString(h));
        }
        return String.join(",", parts);
    }

    /**
     * Opens the run folder {@code dir}: a folder that holds {@value RunCheckpoints#LAST} written by
     * {@code wengert train}.
     *
     * @throws RunFolder.Refused when it is not such a folder (the command line must change)
     * @throws IOException when the checkpoint cannot be read
     */
    static Resume open(Path dir) throws RunFolder.Refused, IOException {
        if (!Files.exists(dir)) {
            throw new RunFolder.Refused("--resume " + dir + " does not exist");
        }
        if (!Files.isDirectory(dir)) {
            throw new RunFolder.Refused("--resume " + dir + " is a file; give the run's folder");
        }
        Path file = dir.resolve(RunCheckpoints.LAST);
        if (!Files.isRegularFile(file)) {
            boolean run = Files.exists(dir.resolve(TrainCommand.METRICS_JSON));
            throw new RunFolder.Refused("--resume " + dir + " holds no " + RunCheckpoints.LAST + " to continue from ("
                    + (run ? "the run finished no epoch; start it again with --output " + dir + " --force"
                    : "it is not a run folder of 'wengert train'") + ")");
        }
        TrainingCheckpoint.Loaded last;
        try {
            last = TrainingCheckpoint.read(file);
        } catch (IllegalArgumentException e) {
            throw new RunFolder.Refused("cannot resume from " + e.getMessage());
        }
        Map<String, String> options = new LinkedHashMap<>();
        last.metadata().forEach((k, v) -> {
            if (k.startsWith(PREFIX)) {
                options.put(k.substring(PREFIX.length()), v);
            }
        });
        for (String key : List.of("model", "hidden", "optimizer", "lr", "momentum", "weight_decay", "schedule", "schedule_epochs",
                "batch_size", "seed", "val_fraction", "epochs", "data")) {     // batch_norm, dropout, shift: newer, absent means none
            if (!options.containsKey(key)) {
                throw new RunFolder.Refused("cannot resume from " + file + ": it was not written by 'wengert train' (its metadata lacks "
                        + "the run's option '" + key + "')");
            }
        }
        return new Resume(dir, last, options);
    }

    /** Epochs the run has finished: the 0-based epoch it continues with. */
    int finished() {
        return last.progress().epochsFinished();
    }

    int scheduleEpochs() {
        return Integer.parseInt(options.get("schedule_epochs"));
    }

    /**
     * Why {@code now} cannot continue this run: one reason per option given on the command line that contradicts the
     * run's (the others were taken from the run), and a total of epochs the run cannot train to. Empty when it can.
     */
    List<String> contradictions(TrainCommand.Settings now, boolean epochsGiven) {
        Map<String, String> mine = metadata(now);
        List<String> why = new ArrayList<>();
        for (String key : KEPT) {
            String was = options.getOrDefault(key, ABSENT.get(key));
            String is = mine.get(PREFIX + key);
            if ((key.equals("hidden") || key.equals("batch_norm") || key.equals("dropout")) && !why.isEmpty()
                    && why.get(0).startsWith("--model ")) {
                continue;       // another model has other layers anyway
            }
            if (!same(key, was, is)) {
                why.add("--" + key.replace('_', '-') + " " + shown(key, is) + " (the run's: " + shown(key, was) + ")");
            }
        }
        if (!why.isEmpty()) {
            return List.of("the run in " + dir + " was trained with other settings than this command line gives: "
                    + String.join(", ", why) + "; leave those options out to continue with the run's own");
        }
        int done = finished();
        String schedule = options.get("schedule");
        if (!schedule.equals("none") && now.epochs() != scheduleEpochs()) {
            why.add("the run's " + schedule + " learning-rate schedule spans " + Text.count(scheduleEpochs(), "epoch")
                    + "; --epochs " + now.epochs() + " would change it, and so the epochs already trained: leave --epochs out"
                    + " (or give " + scheduleEpochs() + ")");
        } else if (now.epochs() <= done) {
            why.add(epochsGiven
                    ? "--epochs is the run's total and the run has finished " + Text.count(done, "epoch") + " already: give more than "
                        + done + " to train on"
                    : "the run has finished its planned total of " + Text.count(done, "epoch") + (schedule.equals("none")
                        ? "; give --epochs with a larger total (e.g. --epochs " + (2 * done) + ") to train on"
                        : "; its " + schedule + " schedule ended with them, so it cannot go on: start a new run"));
        }
        return why;
    }

    private static boolean same(String key, String was, String is) {
        if (key.equals("lr") || key.equals("momentum") || key.equals("weight_decay") || key.equals("val_fraction")
                || key.equals("dropout")) {
            try {
                return Double.parseDouble(was) == Double.parseDouble(is);
            } catch (NumberFormatException e) {
                return false;
            }
        }
        return was.equals(is);
    }

    private static String shown(String key, String value) {
        if (key.equals("hidden") && value.isEmpty()) {
            return "none";
        }
        try {
            if (key.equals("lr") || key.equals("momentum") || key.equals("weight_decay") || key.equals("val_fraction")
                    || key.equals("dropout")) {
                return CommonOptions.Checks.plain(Double.parseDouble(value));
            }
        } catch (NumberFormatException e) {
            // shown as stored
        }
        return value;
    }

    /**
     * Makes metrics.csv agree with the checkpoint before rows are appended: drops rows of epochs the checkpoint does
     * not hold (written after it by a run that then crashed) and returns the last epoch it has a row for (0 for none,
     * or when the file does not exist).
     *
     * @throws RunFolder.Refused when its header is not {@code columns} (another Wengert version wrote it)
     */
    static int trimCsv(Path csv, List<String> columns, int finished) throws IOException, RunFolder.Refused {
        if (!Files.isRegularFile(csv) || Files.size(csv) == 0) {
            return 0;
        }
        List<String> lines = Files.readAllLines(csv, StandardCharsets.UTF_8);
        String header = String.join(",", columns);
        if (!lines.get(0).replace("\uFEFF", "").equals(header)) {
            throw new RunFolder.Refused("cannot resume " + csv.getParent() + ": its " + csv.getFileName() + " has the columns "
                    + lines.get(0) + ", not " + header + " as this version writes; move it away to resume");
        }
        List<String> kept = new ArrayList<>(List.of(lines.get(0)));
        int lastEpoch = 0;
        boolean dropped = false;
        for (String line : lines.subList(1, lines.size())) {
            if (line.isEmpty()) {
                continue;
            }
            if (line.split(",", -1).length != columns.size()) {
                dropped = true;      // a row cut off by a crash
                continue;
            }
            int epoch;
            try {
                epoch = Integer.parseInt(line.substring(0, Math.max(0, line.indexOf(','))));
            } catch (NumberFormatException e) {
                dropped = true;      // a row cut off by a crash
                continue;
            }
            if (epoch > finished) {
                dropped = true;
                continue;
            }
            kept.add(line);
            lastEpoch = Math.max(lastEpoch, epoch);
        }
        if (dropped) {
            AtomicFiles.write(csv, (String.join("\n", kept) + "\n").getBytes(StandardCharsets.UTF_8));
        }
        return lastEpoch;
    }
}
