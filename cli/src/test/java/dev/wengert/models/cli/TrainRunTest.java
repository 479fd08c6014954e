package dev.wengert.models.cli;

import static dev.wengert.models.cli.CliTest.json;
import static dev.wengert.models.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wengert.models.cli.CliTest.Outcome;
import dev.wengert.models.io.SafeTensors;
import dev.wengert.models.train.TrainingCheckpoint;
import dev.wengert.models.zoo.Checkpoint;
import dev.wengert.tensor.Device;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Training runs in this JVM: what a run folder holds after each epoch, at the end, when stopped and when it fails. */
class TrainRunTest {
    /** 7,200 of the 8,000 bundled training images (800 held out for validation) in batches of 128. */
    static final int STEPS_PER_EPOCH = 57;

    @TempDir
    Path dir;

    private static List<String> csvLines(Path run) throws IOException {
        return Files.readAllLines(run.resolve("metrics.csv"));
    }

    private static long eventFiles(Path run) throws IOException {
        try (Stream<Path> s = Files.list(run.resolve("tensorboard"))) {
            return s.filter(p -> p.getFileName().toString().startsWith("events.out.tfevents.")).count();
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void trainRecordsTheWholeRunAndEvaluateAgrees() throws Exception {
        Path out = dir.resolve("run");
        String[] args = {"train", "--epochs", "2", "--batch-size", "128", "--output", out.toString(), "--device", "auto"};
        Outcome t = run(args);
        assertEquals(0, t.code(), t.err());
        assertTrue(t.out().contains("device: cpu"), t.out());
        assertTrue(t.out().contains("data: bundled MNIST subset (8,000 training images, 2,000 test images)"), t.out());
        assertTrue(t.out().contains("validation: 800 training images held out (--val-fraction 0.1), training on 7,200 images"), t.out());
        assertTrue(t.out().contains("output: " + out), t.out());
        assertTrue(t.out().contains(", 2 epochs, seed 42"), t.out());
        assertTrue(t.out().contains("epoch 2/2 done"), t.out());
        assertTrue(t.out().contains("after 2 epochs in"), t.out());
        assertTrue(t.out().contains("wrote " + out.resolve("model.safetensors") + ", last.safetensors, best.safetensors, metrics.json,"
                + " metrics.csv, training.png, tensorboard/"), t.out());
        assertTrue(t.out().contains("val accuracy "), t.out());
        assertFalse(t.out().contains("1 epochs"), t.out());
        for (String f : List.of("model.safetensors", "last.safetensors", "best.safetensors", "metrics.json", "metrics.csv", "training.png")) {
            assertTrue(Files.size(out.resolve(f)) > 0, f);
        }
        assertEquals(1, eventFiles(out));

        Map<String, Object> m = json(out.resolve("metrics.json"));
        assertEquals("finished", m.get("status"));
        assertEquals(BuildInfo.CURRENT.version(), m.get("wengert_version"));
        assertTrue(m.containsKey("git_commit"));
        assertEquals(Main.commandLine(args), m.get("command_line"));
        Map<String, Object> data = (Map<String, Object>) m.get("data");
        assertEquals("bundled", data.get("source"));
        assertNull(data.get("path"));
        assertTrue(((String) data.get("sha256")).matches("[0-9a-f]{64}"), String.valueOf(data.get("sha256")));
        assertEquals(List.of("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "test-images-idx3-ubyte.gz",
                "test-labels-idx1-ubyte.gz"), List.copyOf(((Map<String, Object>) data.get("sha256_files")).keySet()));
        assertEquals(8000L, data.get("train_samples"));
        assertEquals(7200L, data.get("trained_on"));
        assertEquals(800L, data.get("validated_on"));
        assertEquals("cpu", m.get("device"));
        assertEquals(42L, m.get("seed"));
        Instant started = Instant.parse((String) m.get("started"));
        Instant ended = Instant.parse((String) m.get("ended"));
        assertFalse(ended.isBefore(started));
        assertEquals(2L, m.get("epochs_planned"));
        assertEquals(2L, m.get("epochs_completed"));
        List<Map<String, Object>> epochs = (List<Map<String, Object>>) m.get("epochs");
        assertEquals(2, epochs.size());
        for (Map<String, Object> e : epochs) {
            for (String k : List.of("train_loss", "val_loss", "val_accuracy", "wall_seconds", "samples_per_second", "train_seconds")) {
                assertTrue(((Number) e.get(k)).doubleValue() > 0, k + " " + e);
            }
        }
        double acc = ((Number) m.get("final_test_accuracy")).doubleValue();
        assertTrue(acc > 0.85, "2 epochs of logreg: " + acc);
        assertTrue(((Number) m.get("final_test_loss")).doubleValue() > 0);
        assertTrue(t.out().contains("final test accuracy " + Text.percent(acc) + " (test loss "), t.out());
        long best = (Long) m.get("best_epoch");
        double bestAcc = ((Number) m.get("best_val_accuracy")).doubleValue();
        assertEquals(((Number) epochs.get((int) best - 1).get("val_accuracy")).doubleValue(), bestAcc);
        for (Map<String, Object> e : epochs) {
            assertTrue(((Number) e.get("val_accuracy")).doubleValue() <= bestAcc, e.toString());
        }
        assertTrue(t.out().contains("best validation accuracy " + Text.percent(bestAcc) + " at epoch " + best + ": "
                + out.resolve("best.safetensors")), t.out());
        assertEquals(Map.of("metrics_csv", "metrics.csv", "tensorboard", "tensorboard/" + onlyEventFile(out),
                "checkpoint", "model.safetensors", "last", "last.safetensors", "best", "best.safetensors", "plot", "training.png"),
                m.get("files"));
        List<String> csv = csvLines(out);
        assertEquals(String.join(",", TrainCommand.CSV_COLUMNS), csv.get(0));
        assertEquals(3, csv.size(), csv.toString());
        assertTrue(csv.get(2).startsWith("2,"), csv.get(2));
        Checkpoint.Loaded loaded = Checkpoint.load(out.resolve("model.safetensors"), Device.CPU);
        loaded.model().close();
        assertEquals("2", loaded.metadata().get("epochs_completed"));
        TrainingCheckpoint.Loaded last = TrainingCheckpoint.read(out.resolve("last.safetensors"));
        assertEquals(2, last.progress().epochsFinished());
        assertEquals(best, last.progress().bestEpoch());
        assertEquals("0.1", last.metadata().get("option.val_fraction"));
        SafeTensors.Contents model = SafeTensors.read(out.resolve("model.safetensors"));
        model.tensors().forEach((name, tensor) -> assertEquals(tensor, last.contents().tensor(name), name));

        // evaluate reads the model alone and the training checkpoints alike; the final model is model.safetensors and last
        Outcome fromLast = run("evaluate", "--checkpoint", out.resolve("last.safetensors").toString(), "--json",
                dir.resolve("last.json").toString());
        assertEquals(0, fromLast.code(), fromLast.err());
        assertTrue(fromLast.out().contains("test accuracy " + Text.percent(acc)), fromLast.out());
        Outcome fromBest = run("evaluate", "--checkpoint", out.resolve("best.safetensors").toString(), "--json",
                dir.resolve("best.json").toString());
        assertEquals(0, fromBest.code(), fromBest.err());

        Outcome e = run("evaluate", "--checkpoint", out.resolve("model.safetensors").toString());
        assertEquals(0, e.code(), e.err());
        String expected = "test accuracy " + Text.percent(acc) + " (" + String.format(java.util.Locale.ROOT, "%,d", Math.round(acc * 2000))
                + "/2,000 images)";
        assertTrue(e.out().contains(expected), e.out() + " should contain " + expected);
        assertTrue(e.out().contains("confusion matrix (rows: true class, columns: predicted class):"), e.out());
        assertTrue(e.out().contains("wrote " + out.resolve("evaluation.json")), e.out());
        Map<String, Object> ev = json(out.resolve("evaluation.json"));
        assertEquals(acc, ((Number) ev.get("accuracy")).doubleValue(), 1e-12);
        assertTrue(((Number) ev.get("loss")).doubleValue() > 0);
        List<List<Long>> confusion = (List<List<Long>>) ev.get("confusion_matrix");
        long total = 0;
        long diagonal = 0;
        for (int r = 0; r < 10; r++) {
            assertEquals(10, confusion.get(r).size());
            for (int c = 0; c < 10; c++) {
                total += confusion.get(r).get(c);
            }
            diagonal += confusion.get(r).get(r);
            Map<String, Object> pc = ((List<Map<String, Object>>) ev.get("per_class")).get(r);
            assertEquals((long) r, pc.get("class"));
            assertEquals(confusion.get(r).get(r), pc.get("correct"));
        }
        assertEquals(2000, total);
        assertEquals(ev.get("correct"), diagonal);

        Path elsewhere = dir.resolve("eval/out.json");
        Outcome j = run("evaluate", "--checkpoint", out.resolve("model.safetensors").toString(), "--json", elsewhere.toString(),
                "--batch-size", "333", "--device", "cpu");
        assertEquals(0, j.code(), j.err());
        assertEquals(ev.get("confusion_matrix"), json(elsewhere).get("confusion_matrix"));
    }

    private static String onlyEventFile(Path run) throws IOException {
        try (Stream<Path> s = Files.list(run.resolve("tensorboard"))) {
            return s.findFirst().orElseThrow().getFileName().toString();
        }
    }

    @Test
    void evaluateReadsOnlyTheTestFiles() throws Exception {
        Path out = dir.resolve("run");
        assertEquals(0, run("train", "--epochs", "1", "--output", out.toString()).code());
        Path data = dir.resolve("test-only");
        Files.createDirectories(data);
        for (String f : List.of("test-images-idx3-ubyte.gz", "test-labels-idx1-ubyte.gz")) {
            try (var in = dev.wengert.models.data.MnistData.class.getResourceAsStream(
                    dev.wengert.models.data.MnistData.EMBEDDED_RESOURCE_DIR + f)) {
                Files.copy(in, data.resolve(f));
            }
        }
        Outcome e = run("evaluate", "--checkpoint", out.resolve("model.safetensors").toString(), "--data", data.toString());
        assertEquals(0, e.code(), e.err());
        assertTrue(e.out().contains("/2,000 images)"), e.out());
        assertTrue(e.out().contains("on " + data.toAbsolutePath()), e.out());
        Outcome missing = run("train", "--epochs", "1", "--data", data.toString(), "--output", dir.resolve("r2").toString());
        assertEquals(1, missing.code());
        assertTrue(missing.err().contains("train images not found"), missing.err());
    }

    @Test
    @SuppressWarnings("unchecked")
    void aStopRequestKeepsTheLastFinishedEpoch() throws Exception {
        for (StopRequest.Reason why : StopRequest.Reason.values()) {
            Path out = dir.resolve("stopped-" + why);
            Outcome r = CliTest.run(new StopRequest().afterSteps(STEPS_PER_EPOCH + 3, why),
                    "train", "--epochs", "5", "--batch-size", "128", "--output", out.toString());
            assertEquals(why == StopRequest.Reason.SIGINT ? 130 : 143, r.code(), r.err());
            String word = why == StopRequest.Reason.SIGINT ? "interrupted" : "terminated";
            assertTrue(r.out().contains(word + " by " + why + " after 1 epoch; wrote " + out.resolve("model.safetensors")
                    + ", last.safetensors, best.safetensors, metrics.json, metrics.csv, training.png, tensorboard/\n"
                    + "continue with: wengert train --resume " + out + "\n"), r.out());
            assertFalse(r.out().contains("final test accuracy"), "no test evaluation for an unfinished run: " + r.out());
            Map<String, Object> m = json(out.resolve("metrics.json"));
            assertEquals("interrupted", m.get("status"));
            assertEquals(why.name(), m.get("stop_signal"));
            assertEquals(1L, m.get("epochs_completed"));
            assertEquals(5L, m.get("epochs_planned"));
            assertEquals(1, ((List<?>) m.get("epochs")).size());
            assertTrue(m.get("ended") instanceof String);
            assertEquals(2, csvLines(out).size());
            Checkpoint.Loaded loaded = Checkpoint.load(out.resolve("model.safetensors"), Device.CPU);
            loaded.model().close();
            assertEquals("1", loaded.metadata().get("epochs_completed"));
            assertEquals(String.valueOf(((Map<String, Object>) ((List<?>) m.get("epochs")).get(0)).get("val_accuracy")),
                    loaded.metadata().get("val_accuracy"));
            assertNull(m.get("final_test_accuracy"));
            assertEquals(1, TrainingCheckpoint.read(out.resolve("last.safetensors")).progress().epochsFinished());
        }
        Path early = dir.resolve("early");
        Outcome r = CliTest.run(new StopRequest().afterSteps(2, StopRequest.Reason.SIGINT),
                "train", "--epochs", "3", "--batch-size", "128", "--output", early.toString());
        assertEquals(130, r.code(), r.err());
        assertTrue(r.out().contains("interrupted by SIGINT after 0 epochs; wrote " + early.resolve("metrics.json") + "\n"), r.out());
        assertFalse(Files.exists(early.resolve("model.safetensors")));
        assertFalse(Files.exists(early.resolve("last.safetensors")));
        assertFalse(r.out().contains("continue with"), r.out());
        assertEquals("interrupted", json(early.resolve("metrics.json")).get("status"));
    }

    @Test
    void aStopRequestBeforeTrainingWritesNothing() {
        StopRequest stop = new StopRequest();
        stop.request(StopRequest.Reason.SIGTERM);
        Path out = dir.resolve("never");
        Outcome r = CliTest.run(stop, "train", "--output", out.toString());
        assertEquals(143, r.code(), r.err());
        assertTrue(r.out().contains("terminated by SIGTERM before training started; nothing was written"), r.out());
        assertFalse(Files.exists(out));
    }

    @Test
    void aFailureMidRunIsRecordedAndKeepsTheFinishedEpochs() throws Exception {
        Path out = dir.resolve("failing");
        Path checkpoint = out.resolve("model.safetensors");
        StopRequest sabotage = new StopRequest().atStep(STEPS_PER_EPOCH + 3, () -> {
            try {
                // the next checkpoint cannot replace a folder that holds something
                Files.delete(checkpoint);
                Files.createDirectories(checkpoint.resolve("in-the-way"));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        Outcome r = CliTest.run(sabotage, "train", "--epochs", "3", "--batch-size", "128", "--output", out.toString());
        assertEquals(1, r.code(), r.out());
        assertTrue(r.err().startsWith("wengert train: kept 1 finished epoch in " + out), r.err());
        assertTrue(r.err().contains("wengert train: error: "), r.err());
        assertTrue(r.err().contains("model.safetensors"), r.err());
        Map<String, Object> m = json(out.resolve("metrics.json"));
        assertEquals("failed", m.get("status"));
        assertTrue(String.valueOf(m.get("error")).contains("model.safetensors"), String.valueOf(m.get("error")));
        assertEquals(1L, m.get("epochs_completed"));
        assertEquals(1, TrainingCheckpoint.read(out.resolve("last.safetensors")).progress().epochsFinished(),
                "the checkpoints hold the epochs metrics.json names");
    }

    @Test
    void anOccupiedOutputFolderIsRefusedUnlessForced() throws Exception {
        Path out = dir.resolve("taken");
        Files.createDirectories(out.resolve("tensorboard"));
        Files.writeString(out.resolve("notes.txt"), "mine");
        Files.writeString(out.resolve("metrics.csv"), "epoch,old\n1,2\n");
        Files.writeString(out.resolve("tensorboard/events.out.tfevents.1.old"), "x");
        Outcome refused = run("train", "--epochs", "1", "--output", out.toString());
        assertEquals(2, refused.code(), refused.err());
        assertTrue(refused.err().startsWith("wengert train: --output " + out + " is not empty (it holds metrics.csv, notes.txt, tensorboard/);"
                + " choose another --output, or add --force to write into it anyway"), refused.err());
        assertEquals("", refused.out(), "refused before choosing a device or loading data");

        Outcome forced = run("train", "--epochs", "1", "--output", out.toString(), "--force");
        assertEquals(0, forced.code(), forced.err());
        assertTrue(forced.out().contains("(--force: replaced metrics.csv, tensorboard/events.out.tfevents.1.old)"), forced.out());
        assertEquals("mine", Files.readString(out.resolve("notes.txt")), "other files are left alone");
        assertEquals(2, csvLines(out).size(), "a new metrics.csv, not appended to the old one");
        assertEquals(1, eventFiles(out));

        Path file = Files.writeString(dir.resolve("a-file"), "x");
        Outcome isFile = run("train", "--output", file.toString());
        assertEquals(2, isFile.code());
        assertTrue(isFile.err().startsWith("wengert train: --output " + file + " is a file, not a folder"), isFile.err());
        Outcome under = run("train", "--output", file.resolve("sub").toString());
        assertEquals(2, under.code());
        assertTrue(under.err().startsWith("wengert train: --output " + file.resolve("sub") + ": " + file + " is a file"), under.err());
    }

    @Test
    void anOutputFolderThatCannotBeCreatedSaysWhy() {
        Outcome r = run("train", "--epochs", "1", "--output", "/proc/self/wengert-cannot-be-here");
        assertEquals(1, r.code(), r.out());
        assertTrue(r.err().startsWith("wengert train: error: cannot create --output /proc/self/wengert-cannot-be-here: "), r.err());
        assertFalse(r.err().strip().endsWith("wengert-cannot-be-here"), "a reason after the path: " + r.err());
    }

    @Test
    void defaultRunFoldersAreNewAndUniqueEvenWithinOneMillisecond() throws IOException {
        Clock frozen = Clock.fixed(Instant.parse("2026-12-01T15:20:00.123Z"), ZoneOffset.UTC);
        Path runs = dir.resolve("runs");
        Path a = RunFolder.createUnique(runs, "mlp", frozen);
        Path b = RunFolder.createUnique(runs, "mlp", frozen);
        Path c = RunFolder.createUnique(runs, "mlp", frozen);
        assertEquals(runs.resolve("mlp-20261201-152000-123"), a);
        assertEquals(runs.resolve("mlp-20261201-152000-123-2"), b);
        assertEquals(runs.resolve("mlp-20261201-152000-123-3"), c);
        assertTrue(Files.isDirectory(a) && Files.isDirectory(b) && Files.isDirectory(c));
        try (Stream<Path> s = Files.list(a)) {
            assertEquals(0, s.count(), "the write check leaves nothing behind");
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void aHugeButFiniteLossStillWritesStrictJsonAndAPlot() throws Exception {
        Path out = dir.resolve("huge");
        Outcome r = run("train", "--epochs", "2", "--lr", "1000000", "--output", out.toString());
        assertEquals(0, r.code(), r.err());
        Map<String, Object> m = json(out.resolve("metrics.json"));
        for (Object loss : (List<Object>) m.get("train_loss")) {
            assertTrue(loss == null || loss instanceof Double, String.valueOf(loss));
        }
        assertTrue(Files.size(out.resolve("training.png")) > 0);
        assertTrue(SafeTensors.read(out.resolve("model.safetensors")).tensors().size() == 2);
    }

    @Test
    void aPlotThatCannotBeWrittenWarnsOnceAndTheRunGoesOn() throws Exception {
        Path out = dir.resolve("noplot");
        Files.createDirectories(out);
        Outcome r = CliTest.run(new StopRequest().atStep(1, () -> {
            try {
                Files.createDirectories(out.resolve("training.png/in-the-way"));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }), "train", "--epochs", "2", "--output", out.toString());
        assertEquals(0, r.code(), r.err());
        int first = r.out().indexOf("warning: no training plot (");
        assertTrue(first >= 0, r.out());
        assertEquals(-1, r.out().indexOf("warning: no training plot", first + 1), "warned once: " + r.out());
        assertTrue(r.out().contains("the checkpoint and metrics files are complete"), r.out());
        assertTrue(r.out().contains("wrote " + out.resolve("model.safetensors") + ", last.safetensors, best.safetensors, metrics.json,"
                + " metrics.csv, tensorboard/"), r.out());
        assertFalse(json(out.resolve("metrics.json")).toString().contains("training.png"));
    }

    /** The tensors of a checkpoint (parameters and optimizer state), by name. */
    static Map<String, SafeTensors.Entry> tensors(Path file) throws IOException {
        return SafeTensors.read(file).tensors();
    }

    /** Each tensor of {@code actual} has the bytes of {@code expected}'s (the float bits, not just close values). */
    static void assertSameTensors(Path expected, Path actual) throws IOException {
        Map<String, SafeTensors.Entry> e = tensors(expected);
        Map<String, SafeTensors.Entry> a = tensors(actual);
        assertEquals(e.keySet(), a.keySet());
        assertTrue(e.keySet().stream().anyMatch(n -> n.startsWith("optimizer.")), "the optimizer state is compared too: " + e.keySet());
        e.forEach((name, t) -> assertTrue(java.util.Arrays.equals(t.littleEndianData(), a.get(name).littleEndianData()),
                name + " differs between " + expected + " and " + actual));
    }

    /** The epochs' figures in metrics.json without the times, which differ between runs. */
    @SuppressWarnings("unchecked")
    static List<List<Object>> figures(Path run) throws IOException {
        List<List<Object>> out = new java.util.ArrayList<>();
        for (Map<String, Object> e : (List<Map<String, Object>>) json(run.resolve("metrics.json")).get("epochs")) {
            out.add(java.util.Arrays.asList(e.get("epoch"), e.get("train_loss"), e.get("val_loss"), e.get("val_accuracy"), e.get("lr")));
        }
        return out;
    }

    /** CSV rows without the time columns. */
    static List<String> csvFigures(Path run) throws IOException {
        return csvLines(run).stream().map(l -> String.join(",", java.util.Arrays.asList(l.split(",", -1)).subList(0, 5))).toList();
    }

    @Test
    @SuppressWarnings("unchecked")
    void twoEpochsThenResumedToFourEqualFourInOneGoBitForBit() throws Exception {
        String[] options = {"--model", "mlp", "--hidden", "32", "--optimizer", "adam", "--batch-size", "128", "--device", "cpu"};
        Path straight = dir.resolve("straight");
        Outcome s = run(concat(new String[] {"train", "--epochs", "4", "--output", straight.toString()}, options));
        assertEquals(0, s.code(), s.err());

        Path resumed = dir.resolve("resumed");
        String[] first = concat(new String[] {"train", "--epochs", "2", "--output", resumed.toString()}, options);
        Outcome a = run(first);
        assertEquals(0, a.code(), a.err());
        String[] second = {"train", "--resume", resumed.toString(), "--epochs", "4"};
        Outcome b = run(second);
        assertEquals(0, b.code(), b.err());
        assertTrue(b.out().contains("resuming after epoch 2 of 4 from " + resumed.resolve("last.safetensors")), b.out());
        assertTrue(b.out().contains("output: " + resumed), b.out());
        assertFalse(b.out().contains("epoch 1/4"), "epochs 1 and 2 are not trained again: " + b.out());
        assertTrue(b.out().contains("epoch 3/4 done") && b.out().contains("epoch 4/4 done"), b.out());
        assertTrue(b.out().contains("after 4 epochs in"), b.out());

        assertSameTensors(straight.resolve("last.safetensors"), resumed.resolve("last.safetensors"));
        assertSameTensors(straight.resolve("best.safetensors"), resumed.resolve("best.safetensors"));
        assertEquals(tensors(straight.resolve("model.safetensors")), tensors(resumed.resolve("model.safetensors")));
        assertEquals(figures(straight), figures(resumed));
        assertEquals(csvFigures(straight), csvFigures(resumed), "metrics.csv: the first run's rows, then the resumed run's");

        Map<String, Object> m = json(resumed.resolve("metrics.json"));
        Map<String, Object> ms = json(straight.resolve("metrics.json"));
        assertEquals("finished", m.get("status"));
        assertEquals(4L, m.get("epochs_planned"));
        assertEquals(4L, m.get("epochs_completed"));
        assertEquals(ms.get("final_test_accuracy"), m.get("final_test_accuracy"));
        assertEquals(ms.get("best_epoch"), m.get("best_epoch"));
        assertEquals(Main.commandLine(first), m.get("command_line"), "the run as first started");
        assertEquals(4L, ((Map<String, Object>) m.get("options")).get("epochs"));
        List<Map<String, Object>> resumes = (List<Map<String, Object>>) m.get("resumes");
        assertEquals(1, resumes.size());
        assertEquals(Main.commandLine(second), resumes.get(0).get("command_line"));
        assertEquals(2L, resumes.get(0).get("after_epoch"));
        assertEquals(4L, resumes.get(0).get("epochs_planned"));
        assertEquals("finished", resumes.get(0).get("status"));
        assertTrue(((String) resumes.get(0).get("tensorboard")).startsWith("tensorboard/events.out.tfevents."), resumes.toString());
        assertEquals(2, eventFiles(resumed), "one TensorBoard event file per session, in the same folder");
        assertTrue(Instant.parse((String) m.get("started")).isBefore(Instant.parse((String) resumes.get(0).get("started"))));
    }

    @Test
    void aCosineRunStoppedInItsThirdEpochResumesWithItsOwnOptionsBitForBit() throws Exception {
        String[] options = {"--model", "mlp", "--hidden", "16", "--schedule", "cosine", "--batch-size", "128", "--epochs", "4",
            "--val-fraction", "0.2", "--seed", "7", "--weight-decay", "0.001"};
        Path straight = dir.resolve("straight");
        assertEquals(0, run(concat(new String[] {"train", "--output", straight.toString()}, options)).code());

        Path stopped = dir.resolve("stopped");
        int steps = 6400 / 128;
        Outcome a = CliTest.run(new StopRequest().afterSteps(2L * steps + 5, StopRequest.Reason.SIGTERM),
                concat(new String[] {"train", "--output", stopped.toString()}, options));
        assertEquals(143, a.code(), a.err());
        assertTrue(a.out().contains("terminated by SIGTERM after 2 epochs; wrote "), a.out());
        assertTrue(a.out().contains("continue with: wengert train --resume " + stopped), a.out());

        Outcome stretched = run("train", "--resume", stopped.toString(), "--epochs", "8");
        assertEquals(2, stretched.code(), stretched.err());
        assertTrue(stretched.err().startsWith("wengert train: cannot resume: the run's cosine learning-rate schedule spans 4 epochs;"
                + " --epochs 8 would change it, and so the epochs already trained: leave --epochs out (or give 4)"), stretched.err());

        Outcome b = run("train", "--resume", stopped.toString(), "--device", "cpu");
        assertEquals(0, b.code(), b.err());
        assertTrue(b.out().contains("cosine schedule over 4 epochs"), b.out());
        assertSameTensors(straight.resolve("last.safetensors"), stopped.resolve("last.safetensors"));
        assertEquals(figures(straight), figures(stopped));
        assertEquals(csvFigures(straight), csvFigures(stopped));
        Map<String, Object> m = json(stopped.resolve("metrics.json"));
        assertEquals("finished", m.get("status"));
        assertNull(m.get("stop_signal"));
        assertEquals(json(straight.resolve("metrics.json")).get("final_test_accuracy"), m.get("final_test_accuracy"));

        Outcome again = run("train", "--resume", stopped.toString());
        assertEquals(2, again.code(), again.err());
        assertTrue(again.err().startsWith("wengert train: cannot resume: the run has finished its planned total of 4 epochs; its cosine schedule"
                + " ended with them, so it cannot go on: start a new run"), again.err());
    }

    @Test
    void aResumeThatContradictsTheRunIsRefusedWithTheReasonsAndTouchesNothing() throws Exception {
        Path out = dir.resolve("run");
        assertEquals(0, run("train", "--epochs", "1", "--output", out.toString()).code());
        byte[] last = Files.readAllBytes(out.resolve("last.safetensors"));
        String metrics = Files.readString(out.resolve("metrics.json"));

        Outcome options = run("train", "--resume", out.toString(), "--epochs", "3", "--lr", "0.1", "--batch-size", "32",
                "--val-fraction", "0.2");
        assertEquals(2, options.code(), options.err());
        assertTrue(options.err().startsWith("wengert train: cannot resume: the run in " + out + " was trained with other settings than"
                + " this command line gives: --lr 0.1 (the run's: 0.5), --batch-size 32 (the run's: 64), --val-fraction 0.2 (the run's:"
                + " 0.1); leave those options out to continue with the run's own"), options.err());
        Outcome model = run("train", "--resume", out.toString(), "--epochs", "3", "--model", "mlp");
        assertEquals(2, model.code());
        assertTrue(model.err().contains("--model mlp (the run's: logreg);"), model.err());
        Outcome same = run("train", "--resume", out.toString(), "--epochs", "1", "--lr", "0.5", "--seed", "42");
        assertEquals(2, same.code());
        assertTrue(same.err().startsWith("wengert train: cannot resume: --epochs is the run's total and the run has finished 1 epoch"
                + " already: give more than 1 to train on"), same.err());
        Outcome done = run("train", "--resume", out.toString());
        assertEquals(2, done.code());
        assertTrue(done.err().startsWith("wengert train: cannot resume: the run has finished its planned total of 1 epoch; give --epochs with a"
                + " larger total (e.g. --epochs 2) to train on"), done.err());
        Outcome withOutput = run("train", "--resume", out.toString(), "--output", dir.resolve("elsewhere").toString());
        assertEquals(2, withOutput.code());
        assertTrue(withOutput.err().startsWith("wengert train: --resume continues the run in its own folder; leave out --output"),
                withOutput.err());

        Path otherData = dir.resolve("other-data");
        Files.createDirectories(otherData);
        for (String[] f : new String[][] {{"test-images-idx3-ubyte.gz", "train-images-idx3-ubyte.gz"},
            {"test-labels-idx1-ubyte.gz", "train-labels-idx1-ubyte.gz"}, {"test-images-idx3-ubyte.gz", "test-images-idx3-ubyte.gz"},
            {"test-labels-idx1-ubyte.gz", "test-labels-idx1-ubyte.gz"}}) {
            try (var in = dev.wengert.models.data.MnistData.class.getResourceAsStream(
                    dev.wengert.models.data.MnistData.EMBEDDED_RESOURCE_DIR + f[0])) {
                Files.copy(in, otherData.resolve(f[1]));
            }
        }
        Outcome data = run("train", "--resume", out.toString(), "--epochs", "2", "--data", otherData.toString());
        assertEquals(2, data.code(), data.err());
        assertTrue(data.err().startsWith("wengert train: cannot resume from " + out.resolve("last.safetensors") + ": the run trained on"
                + " 7200 samples and validated on 800; the data now gives 1800 and 200"), data.err());

        Path empty = Files.createDirectories(dir.resolve("empty"));
        Outcome notARun = run("train", "--resume", empty.toString());
        assertEquals(2, notARun.code());
        assertTrue(notARun.err().startsWith("wengert train: --resume " + empty + " holds no last.safetensors to continue from (it is not"
                + " a run folder of 'wengert train')"), notARun.err());
        Outcome missing = run("train", "--resume", dir.resolve("nowhere").toString());
        assertEquals(2, missing.code());
        assertTrue(missing.err().startsWith("wengert train: --resume " + dir.resolve("nowhere") + " does not exist"), missing.err());
        Path modelOnly = Files.createDirectories(dir.resolve("model-only"));
        Files.copy(out.resolve("model.safetensors"), modelOnly.resolve("last.safetensors"));
        Outcome notTraining = run("train", "--resume", modelOnly.toString(), "--epochs", "2");
        assertEquals(2, notTraining.code());
        assertTrue(notTraining.err().contains("is not a training checkpoint"), notTraining.err());

        assertTrue(java.util.Arrays.equals(last, Files.readAllBytes(out.resolve("last.safetensors"))), "last.safetensors untouched");
        assertEquals(metrics, Files.readString(out.resolve("metrics.json")), "metrics.json untouched");
        assertEquals(2, csvLines(out).size());
        assertEquals(1, eventFiles(out));
    }

    @Test
    @SuppressWarnings("unchecked")
    void aLossThatStopsBeingFiniteEndsTheRunAsDivergedWithTheEpochStepAndAHint() throws Exception {
        Path out = dir.resolve("diverged");
        Outcome r = run("train", "--model", "mlp", "--hidden", "32,32", "--lr", "100000", "--epochs", "2", "--output", out.toString());
        assertEquals(1, r.code(), r.out() + r.err());
        assertTrue(r.err().matches("(?s)wengert train: training diverged: the loss became (NaN|-?Infinity) at epoch 1, step \\d+ of 113"
                + " \\(learning rate 100000\\); .*Try a smaller learning rate, e.g. --lr 10000 \\(a tenth of 100000\\)\n"
                + "wengert train: kept 0 finished epochs in " + java.util.regex.Pattern.quote(out.toString()) + "\n"), r.err());
        assertFalse(r.err().contains("at dev.wengert"), "no stack trace: " + r.err());
        Map<String, Object> m = json(out.resolve("metrics.json"));
        assertEquals("diverged", m.get("status"));
        assertTrue(((String) m.get("error")).startsWith("training diverged: "), String.valueOf(m.get("error")));
        Map<String, Object> d = (Map<String, Object>) m.get("diverged");
        assertEquals(1L, d.get("epoch"));
        assertTrue((Long) d.get("step") >= 1 && (Long) d.get("step") <= 113, d.toString());
        assertTrue(r.err().contains("at epoch 1, step " + d.get("step") + " of 113"), r.err());
        assertEquals(113L, d.get("steps"));
        assertEquals(100000.0, d.get("lr"));
        assertTrue(((String) d.get("hint")).contains("--lr 10000"), d.toString());
        assertEquals(0L, m.get("epochs_completed"));
        assertNull(m.get("final_test_accuracy"));
        assertFalse(Files.exists(out.resolve("last.safetensors")), "no epoch finished, so no checkpoint");
        assertFalse(Files.exists(out.resolve("model.safetensors")));

        // the epochs before a divergence stay resumable: one epoch at a rate that holds, then a resume that diverges
        Path later = dir.resolve("later");
        Outcome first = run("train", "--model", "mlp", "--hidden", "32,32", "--lr", "0.05", "--epochs", "1", "--output", later.toString());
        assertEquals(0, first.code(), first.err());
        byte[] last = Files.readAllBytes(later.resolve("last.safetensors"));
        Outcome refused = run("train", "--resume", later.toString(), "--epochs", "2", "--lr", "100000");
        assertEquals(2, refused.code(), "another learning rate is another run: " + refused.err());
        assertTrue(java.util.Arrays.equals(last, Files.readAllBytes(later.resolve("last.safetensors"))));
    }

    @Test
    @SuppressWarnings("unchecked")
    void withoutValidationThereIsNoBestAndNoValidationColumns() throws Exception {
        Path out = dir.resolve("noval");
        Outcome r = run("train", "--epochs", "2", "--val-fraction", "0", "--output", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("validation: none (--val-fraction 0): no best.safetensors; training on 8,000 images"), r.out());
        assertFalse(r.out().contains("val accuracy"), r.out());
        assertFalse(r.out().contains("best validation accuracy"), r.out());
        assertTrue(r.out().contains("wrote " + out.resolve("model.safetensors") + ", last.safetensors, metrics.json, metrics.csv,"
                + " training.png, tensorboard/"), r.out());
        assertFalse(Files.exists(out.resolve("best.safetensors")));
        Map<String, Object> m = json(out.resolve("metrics.json"));
        assertNull(m.get("best_epoch"));
        assertTrue(((Number) m.get("final_test_accuracy")).doubleValue() > 0.85);
        for (Map<String, Object> e : (List<Map<String, Object>>) m.get("epochs")) {
            assertNull(e.get("val_accuracy"));
            assertNull(e.get("val_loss"));
        }
        assertTrue(csvLines(out).get(1).matches("1,[^,]+,,,0\\.5,.*"), csvLines(out).get(1));
        assertEquals(0L, ((Map<String, Object>) m.get("data")).get("validated_on"));

        Outcome more = run("train", "--resume", out.toString(), "--epochs", "3");
        assertEquals(0, more.code(), more.err());
        assertFalse(Files.exists(out.resolve("best.safetensors")));
        assertEquals(4, csvLines(out).size());
    }

    @Test
    @SuppressWarnings("unchecked")
    void aResumeAfterACrashBetweenTheCheckpointAndTheMetricsKeepsThemInStep() throws Exception {
        Path out = dir.resolve("crashed");
        assertEquals(0, run("train", "--epochs", "2", "--output", out.toString()).code());
        // as if the run had died after writing epoch 2's checkpoint and before its metrics: epoch 2 is in neither file
        Map<String, Object> m = json(out.resolve("metrics.json"));
        List<Object> epochs = (List<Object>) m.get("epochs");
        Map<String, Object> second = (Map<String, Object>) epochs.remove(1);
        m.put("status", "running");
        Files.writeString(out.resolve("metrics.json"), dev.wengert.models.io.Json.write(m, true));
        List<String> csv = csvLines(out);
        Files.writeString(out.resolve("metrics.csv"), csv.get(0) + "\n" + csv.get(1) + "\n" + csv.get(2).substring(0, 9));

        Outcome r = run("train", "--resume", out.toString(), "--epochs", "3");
        assertEquals(0, r.code(), r.err());
        Map<String, Object> after = json(out.resolve("metrics.json"));
        List<Map<String, Object>> kept = (List<Map<String, Object>>) after.get("epochs");
        assertEquals(3, kept.size());
        assertEquals(second.get("val_accuracy"), kept.get(1).get("val_accuracy"), "epoch 2's figures from the checkpoint");
        assertEquals(second.get("train_loss"), kept.get(1).get("train_loss"));
        assertNull(kept.get(1).get("wall_seconds"), "the checkpoint has no times");
        List<String> rows = csvLines(out);
        assertEquals(4, rows.size(), rows.toString());
        assertEquals(List.of("1", "2", "3"), rows.subList(1, 4).stream().map(l -> l.substring(0, l.indexOf(','))).toList());
    }

    private static String[] concat(String[] a, String[] b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
