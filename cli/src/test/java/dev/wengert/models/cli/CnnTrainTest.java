package dev.wengert.models.cli;

import static dev.wengert.models.cli.CliTest.json;
import static dev.wengert.models.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wengert.models.cli.CliTest.Outcome;
import dev.wengert.models.data.IdxFile;
import dev.wengert.models.data.MnistData;
import dev.wengert.models.io.SafeTensors;
import dev.wengert.models.zoo.Checkpoint;
import dev.wengert.models.zoo.ModelSpec;
import dev.wengert.tensor.Device;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code wengert train --model lenet5|convnet}: the models' own defaults, and runs that train, evaluate and resume
 * bit for bit, on a small slice of the bundled digits (1,280 training and 400 test images) so that a run takes
 * seconds.
 */
class CnnTrainTest {
    /** 1,280 training images, 128 of them held out (--val-fraction 0.1): 1,152 in batches of 64. */
    static final int STEPS_PER_EPOCH = 18;

    @TempDir
    static Path data;

    @TempDir
    Path dir;

    @BeforeAll
    static void writeSmallData() throws Exception {
        MnistData m = MnistData.embedded();
        write(m.train(), 1280, "train");
        write(m.test(), 400, "test");
    }

    private static void write(MnistData.Split s, int n, String name) throws Exception {
        int size = s.rows() * s.cols();
        IdxFile.write(data.resolve(name + "-images-idx3-ubyte"), new int[] {n, s.rows(), s.cols()},
                Arrays.copyOf(s.pixels(), n * size), false);
        IdxFile.write(data.resolve(name + "-labels-idx1-ubyte"), new int[] {n}, Arrays.copyOf(s.labels(), n), false);
    }

    private static TrainCommand.Settings settings(String... args) {
        picocli.CommandLine cl = Main.commandLine(new Main.Context(System.out, System.err, new StopRequest(), false, List.of()));
        TrainCommand t = cl.parseArgs(args).subcommand().commandSpec().commandLine().getCommand();
        assertNotNull(t);
        return t.settings();
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @Test
    void eachConvolutionalModelHasItsOwnDefaults() {
        TrainCommand.Settings convnet = settings("train", "--model", "convnet");
        assertEquals("adam", convnet.optimizer());
        assertEquals(Defaults.LR_ADAM, convnet.lr());
        assertEquals(Defaults.EPOCHS_CONVNET, convnet.epochs());
        assertEquals(Defaults.EPOCHS_CONVNET, convnet.scheduleEpochs());
        assertEquals("cosine", convnet.schedule());
        assertTrue(convnet.batchNorm());
        assertEquals(Defaults.DROPOUT_CONVNET, convnet.dropout());
        assertEquals(2, convnet.shift());
        assertEquals(64, convnet.batchSize());
        assertEquals(ModelSpec.convnet(784, 10, true, 0.25), TrainCommand.modelSpec(convnet, 784));

        TrainCommand.Settings lenet = settings("train", "--model", "lenet5");
        assertEquals("adam", lenet.optimizer());
        assertEquals(10, lenet.epochs());
        assertEquals("none", lenet.schedule());
        assertFalse(lenet.batchNorm());
        assertEquals(0, lenet.dropout());
        assertEquals(0, lenet.shift());
        assertEquals(ModelSpec.lenet5(784, 10), TrainCommand.modelSpec(lenet, 784));

        TrainCommand.Settings recipe = settings("train", "--model", "convnet", "--no-batch-norm", "--dropout", "0", "--shift", "0",
                "--schedule", "none", "--epochs", "10", "--val-fraction", "0");
        assertEquals(ModelSpec.convnet(784, 10, false, 0), TrainCommand.modelSpec(recipe, 784));
        assertEquals(0, recipe.shift());
        TrainCommand.Settings mlp = settings("train", "--model", "mlp");
        assertEquals("sgd", mlp.optimizer(), "the other models keep their defaults");
        assertEquals(Defaults.EPOCHS, mlp.epochs());
        assertEquals(0, mlp.shift());
        assertEquals(3, settings("train", "--model", "mlp", "--shift", "3").shift(), "shifts apply to any model of images");
    }

    @Test
    void lenet5TrainsEvaluatesAndResumesBitForBit() throws Exception {
        String[] options = {"--model", "lenet5", "--data", data.toString(), "--device", "cpu", "--shift", "1"};
        Path straight = dir.resolve("straight");
        Outcome s = run(concat(new String[] {"train", "--epochs", "2", "--output", straight.toString()}, options));
        assertEquals(0, s.code(), s.err());
        assertTrue(s.out().contains("model: lenet5 1x28x28-6@5x5-pool2-16@5x5-pool2-400-120-84-10 (61,706 parameters), adam lr 0.001,"
                + " batch 64, 2 epochs, seed 42, random shifts of up to 1 pixel"), s.out());
        Map<String, Object> m = json(straight.resolve("metrics.json"));
        assertEquals("lenet5", m.get("model"));
        @SuppressWarnings("unchecked")
        Map<String, Object> opts = (Map<String, Object>) m.get("options");
        assertEquals(1L, opts.get("shift"));
        double acc = ((Number) m.get("final_test_accuracy")).doubleValue();
        assertTrue(acc > 0.6, "2 epochs of 18 steps: " + acc);

        Path resumed = dir.resolve("resumed");
        assertEquals(0, run(concat(new String[] {"train", "--epochs", "1", "--output", resumed.toString()}, options)).code());
        Outcome b = run("train", "--resume", resumed.toString(), "--epochs", "2");
        assertEquals(0, b.code(), b.err());
        assertTrue(b.out().contains("random shifts of up to 1 pixel"), "the run's own --shift: " + b.out());
        TrainRunTest.assertSameTensors(straight.resolve("last.safetensors"), resumed.resolve("last.safetensors"));
        assertEquals(TrainRunTest.figures(straight), TrainRunTest.figures(resumed));

        Outcome e = run("evaluate", "--checkpoint", straight.resolve("model.safetensors").toString(), "--data", data.toString());
        assertEquals(0, e.code(), e.err());
        assertTrue(e.out().contains(Text.percent(acc)), "evaluate agrees with train: " + e.out());

        Outcome other = run("train", "--resume", resumed.toString(), "--epochs", "3", "--shift", "2");
        assertEquals(2, other.code(), other.err());
        assertTrue(other.err().contains("--shift 2 (the run's: 1)"), other.err());
    }

    @Test
    void aConvnetWithItsDefaultsStoppedInItsSecondEpochResumesBitForBit() throws Exception {
        String[] options = {"train", "--model", "convnet", "--epochs", "2", "--data", data.toString(), "--device", "cpu"};
        Path straight = dir.resolve("straight");
        Outcome s = run(concat(options, "--output", straight.toString()));
        assertEquals(0, s.code(), s.err());
        assertTrue(s.out().contains("batch norm, dropout 0.25"), s.out());
        assertTrue(s.out().contains("cosine schedule over 2 epochs") && s.out().contains("random shifts of up to 2 pixels"), s.out());

        Path stopped = dir.resolve("stopped");
        Outcome a = CliTest.run(new StopRequest().afterSteps(STEPS_PER_EPOCH + 4, StopRequest.Reason.SIGTERM),
                concat(options, "--output", stopped.toString()));
        assertEquals(143, a.code(), a.err());
        Outcome b = run("train", "--resume", stopped.toString());
        assertEquals(0, b.code(), b.err());
        TrainRunTest.assertSameTensors(straight.resolve("last.safetensors"), stopped.resolve("last.safetensors"));
        assertEquals(TrainRunTest.figures(straight), TrainRunTest.figures(stopped));
        assertEquals(json(straight.resolve("metrics.json")).get("final_test_accuracy"), json(stopped.resolve("metrics.json")).get("final_test_accuracy"));

        // the checkpoint holds the batch-norm buffers under PyTorch's state_dict names and loads back as the same model
        Map<String, SafeTensors.Entry> t = SafeTensors.read(straight.resolve("model.safetensors")).tensors();
        for (String name : List.of("2.running_mean", "2.running_var", "2.num_batches_tracked", "6.running_var", "11.running_mean")) {
            assertTrue(t.containsKey(name), name + " in " + t.keySet());
        }
        Checkpoint.Loaded loaded = Checkpoint.load(straight.resolve("model.safetensors"), Device.CPU);
        try (var model = loaded.model()) {
            assertEquals(ModelSpec.convnet(784, 10, true, 0.25), loaded.spec());
        }
        Outcome e = run("evaluate", "--checkpoint", straight.resolve("model.safetensors").toString(), "--data", data.toString());
        assertEquals(0, e.code(), e.err());
        double acc = ((Number) json(straight.resolve("metrics.json")).get("final_test_accuracy")).doubleValue();
        assertTrue(e.out().contains(Text.percent(acc)), "evaluate (eval mode, running statistics) agrees with train: " + e.out());
    }
}
