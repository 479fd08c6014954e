package dev.wengert.models.cli;

import static dev.wengert.models.cli.CliTest.json;
import static dev.wengert.models.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wengert.models.cli.CliTest.Outcome;
import dev.wengert.models.io.SafeTensors;
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
    /** 8,000 bundled training images in batches of 128. */
    static final int STEPS_PER_EPOCH = 63;

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
        assertTrue(t.out().contains("output: " + out), t.out());
        assertTrue(t.out().contains(", 2 epochs, seed 42"), t.out());
        assertTrue(t.out().contains("epoch 2/2 done"), t.out());
        assertTrue(t.out().contains("after 2 epochs in"), t.out());
        assertTrue(t.out().contains("wrote " + out.resolve("model.safetensors") + ", metrics.json, metrics.csv, training.png, tensorboard/"),
                t.out());
        assertFalse(t.out().contains("1 epochs"), t.out());
        for (String f : List.of("model.safetensors", "metrics.json", "metrics.csv", "training.png")) {
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
            for (String k : List.of("train_loss", "test_accuracy", "wall_seconds", "samples_per_second", "train_seconds")) {
                assertTrue(((Number) e.get(k)).doubleValue() > 0, k + " " + e);
            }
        }
        double acc = ((Number) m.get("final_test_accuracy")).doubleValue();
        assertTrue(acc > 0.85, "2 epochs of logreg: " + acc);
        assertEquals(Map.of("metrics_csv", "metrics.csv", "tensorboard", "tensorboard/" + onlyEventFile(out),
                "checkpoint", "model.safetensors", "plot", "training.png"), m.get("files"));
        List<String> csv = csvLines(out);
        assertEquals(String.join(",", TrainCommand.CSV_COLUMNS), csv.get(0));
        assertEquals(3, csv.size(), csv.toString());
        assertTrue(csv.get(2).startsWith("2,"), csv.get(2));
        Checkpoint.Loaded loaded = Checkpoint.load(out.resolve("model.safetensors"), Device.CPU);
        loaded.model().close();
        assertEquals("2", loaded.metadata().get("epochs_completed"));

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
                    + ", metrics.json, metrics.csv, training.png, tensorboard/"), r.out());
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
            assertEquals(String.valueOf(((Map<String, Object>) ((List<?>) m.get("epochs")).get(0)).get("test_accuracy")),
                    loaded.metadata().get("test_accuracy"));
        }
        Path early = dir.resolve("early");
        Outcome r = CliTest.run(new StopRequest().afterSteps(2, StopRequest.Reason.SIGINT),
                "train", "--epochs", "3", "--batch-size", "128", "--output", early.toString());
        assertEquals(130, r.code(), r.err());
        assertTrue(r.out().contains("interrupted by SIGINT after 0 epochs; wrote " + early.resolve("metrics.json") + "\n"), r.out());
        assertFalse(Files.exists(early.resolve("model.safetensors")));
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
    void aDivergedRunStillWritesStrictJsonAndAPlot() throws Exception {
        Path out = dir.resolve("diverged");
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
        assertTrue(r.out().contains("wrote " + out.resolve("model.safetensors") + ", metrics.json, metrics.csv, tensorboard/"), r.out());
        assertFalse(json(out.resolve("metrics.json")).toString().contains("training.png"));
    }
}
