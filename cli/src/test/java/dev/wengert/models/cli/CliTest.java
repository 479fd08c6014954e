package dev.wengert.models.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wengert.models.io.Json;
import dev.wengert.tensor.Backends;
import dev.wengert.tensor.Device;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CliTest {
    @TempDir
    Path dir;

    /** Exit code, stdout, stderr. */
    record Outcome(int code, String out, String err) {
    }

    static Outcome run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Outcome(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void defaultsForLogreg() throws UsageException {
        TrainOptions o = TrainOptions.parse(new String[0]);
        assertEquals("logreg", o.model());
        assertEquals("sgd", o.optimizer());
        assertEquals(0.5, o.lr());
        assertEquals(64, o.batchSize());
        assertEquals(10, o.epochs());
        assertEquals("auto", o.device());
        assertNull(o.data());
        assertTrue(o.output().toString().matches("runs/logreg-\\d{8}-\\d{6}"), o.output().toString());
    }

    @Test
    void mlpDefaultsAndExplicitValues() throws UsageException {
        TrainOptions d = TrainOptions.parse(new String[] {"--model", "mlp"});
        assertArrayEquals(new int[] {512, 256}, d.hidden());
        assertEquals(0.9, d.momentum());
        TrainOptions o = TrainOptions.parse(new String[] {"--model=mlp", "--hidden", "1024,1024", "--optimizer", "adam", "--lr", "0.002",
            "--epochs", "3", "--batch-size", "512", "--seed", "7", "--device", "CPU", "--output", "out", "--data", "d"});
        assertArrayEquals(new int[] {1024, 1024}, o.hidden());
        assertEquals("adam", o.optimizer());
        assertEquals(0.002, o.lr());
        assertEquals(0, o.momentum());
        assertEquals(512, o.batchSize());
        assertEquals(7, o.seed());
        assertEquals("cpu", o.device());
        assertEquals(Path.of("out"), o.output());
        assertEquals(Path.of("d"), o.data());
        assertEquals(0.001, TrainOptions.parse(new String[] {"--optimizer", "adam"}).lr());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "--model cnn               | --model must be one of logreg, mlp",
        "--epochs 0                | --epochs must be between 1",
        "--epochs ten              | --epochs must be an integer",
        "--lr -1                   | --lr must be between",
        "--lr 0                    | --lr must be > 0",
        "--batch-size              | option --batch-size needs a value",
        "--frobnicate 3            | unknown option --frobnicate",
        "--seed 1 --seed 2         | option --seed is given twice",
        "extra                     | unexpected argument 'extra'",
        "--device tpu              | --device must be auto, cpu, cuda or cuda:N",
        "--hidden 10               | --hidden applies to --model mlp only",
        "--model mlp --hidden 10,x | --hidden must be sizes separated by commas",
        "--optimizer adam --momentum 0.9 | --momentum applies to --optimizer sgd only",
        "--schedule linear         | --schedule must be one of none, step, cosine",
    })
    void badTrainOptionsGiveAMessageTheUsageAndExitCode2(String args, String message) {
        Outcome r = run(("train " + args.trim()).split("\\s+"));
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().startsWith("wengert train: " + message), r.err());
        assertTrue(r.err().contains("usage: wengert train"), r.err());
        assertEquals("", r.out());
    }

    @Test
    void commandsAndHelp() {
        assertEquals(2, run().code());
        Outcome unknown = run("fit");
        assertEquals(2, unknown.code());
        assertTrue(unknown.err().contains("unknown command 'fit'"));
        Outcome help = run("train", "--help");
        assertEquals(0, help.code());
        assertTrue(help.out().contains("--optimizer sgd|adam"));
        assertEquals(0, run("evaluate", "-h").code());
        assertTrue(run("evaluate", "-h").out().contains("--checkpoint FILE"));
        Outcome missing = run("evaluate");
        assertEquals(2, missing.code());
        assertTrue(missing.err().contains("--checkpoint FILE is required"));
        assertEquals(1, run("evaluate", "--checkpoint", dir.resolve("none").toString()).code());
    }

    @Test
    void autoPicksCpuAndSaysWhyWhenCudaIsUnavailable() {
        Assumptions.assumeFalse(Backends.isAvailable(Device.cuda(0), new StringBuilder()), "CUDA is available here");
        DeviceChoice c = DeviceChoice.choose("auto");
        assertEquals(Device.CPU, c.device());
        assertTrue(c.reason().startsWith("cpu (auto: CUDA unavailable: "), c.reason());
        assertThrows(IllegalStateException.class, () -> DeviceChoice.choose("cuda"));
        Outcome r = run("train", "--device", "cuda", "--output", dir.toString());
        assertEquals(1, r.code());
        assertTrue(r.err().contains("device cuda:0 was requested but cannot be used"), r.err());
    }

    @Test
    void trainWritesCheckpointMetricsAndPlotThenEvaluateAgrees() throws Exception {
        Path out = dir.resolve("run");
        Outcome t = run("train", "--epochs", "1", "--batch-size", "128", "--output", out.toString(), "--device", "auto");
        assertEquals(0, t.code(), t.err());
        assertTrue(t.out().contains("device: cpu (auto: CUDA unavailable"), t.out());
        assertTrue(t.out().contains("epoch 1/1 done"), t.out());
        for (String f : List.of("model.safetensors", "metrics.json", "training.png")) {
            assertTrue(Files.size(out.resolve(f)) > 0, f);
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> m = (Map<String, Object>) Json.parse(Files.readString(out.resolve("metrics.json")));
        double acc = ((Number) m.get("final_test_accuracy")).doubleValue();
        assertTrue(acc > 0.8, "1 epoch of logreg: " + acc);
        assertEquals("cpu", m.get("device"));
        assertEquals(1, ((List<?>) m.get("epochs")).size());
        assertEquals(1, ((List<?>) m.get("train_loss")).size());

        Outcome e = run("evaluate", "--checkpoint", out.resolve("model.safetensors").toString());
        assertEquals(0, e.code(), e.err());
        String expected = String.format(java.util.Locale.ROOT, "test accuracy %.2f%%", 100 * acc);
        assertTrue(e.out().contains(expected), e.out() + " should contain " + expected);
    }
}
