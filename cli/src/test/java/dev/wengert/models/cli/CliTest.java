package dev.wengert.models.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wengert.models.io.Json;
import dev.wengert.models.nn.Sequential;
import dev.wengert.models.zoo.Checkpoint;
import dev.wengert.models.zoo.ModelSpec;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.Scope;
import dev.wengert.tensor.Backends;
import dev.wengert.tensor.Device;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The command line in this JVM: options, help, usage errors and their exit codes. Training runs are in {@link TrainRunTest}. */
class CliTest {
    @TempDir
    Path dir;

    /** Exit code, stdout, stderr. */
    record Outcome(int code, String out, String err) {
    }

    static Outcome run(String... args) {
        return run(new StopRequest(), args);
    }

    static Outcome run(StopRequest stop, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
        PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8);
        int code = Main.run(args, new Main.Context(o, e, stop, false, Main.commandLine(args)));
        return new Outcome(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> json(Path file) throws java.io.IOException {
        return (Map<String, Object>) Json.parse(Files.readString(file));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "--model cnn                     | invalid value for option '--model': expected one of [logreg, mlp, lenet5, convnet]",
        "--batch-norm                    | --batch-norm applies to --model convnet only",
        "--model lenet5 --dropout 0.5    | --dropout applies to --model convnet only",
        "--model convnet --dropout 1     | --dropout must be at least 0 and below 1, got 1",
        "--model convnet --dropout -0.1  | --dropout must be at least 0 and below 1, got -0.1",
        "--model convnet --hidden 8      | --hidden applies to --model mlp only",
        "--shift 9                       | --shift must be between 0 and 8, got 9",
        "--shift -1                      | --shift must be between 0 and 8, got -1",
        "--epochs 0                      | --epochs must be between 1 and 100000, got 0",
        "--epochs ten                    | invalid value for option '--epochs': 'ten' is not an int",
        "--epochs 99999999999            | invalid value for option '--epochs'",
        "--batch-size 0                  | --batch-size must be between 1 and 1048576, got 0",
        "--lr -1                         | --lr must be between 0 and 1000000, got -1",
        "--lr 0                          | --lr must be > 0",
        "--lr NaN                        | --lr must be between 0 and 1000000, got NaN",
        "--lr Infinity                   | --lr must be between 0 and 1000000, got Infinity",
        "--momentum 1                    | --momentum must be between 0 and 0.9999, got 1",
        "--weight-decay -0.1             | --weight-decay must be between 0 and 1000, got -0.1",
        "--batch-size                    | missing required parameter for option '--batch-size' (N)",
        "--frobnicate 3                  | unknown options: '--frobnicate', '3'",
        "--frobnicate                    | unknown option: '--frobnicate'",
        "--seed 1 --seed 2               | option '--seed' (N) should be specified only once",
        "--seed x                        | invalid value for option '--seed': 'x' is not a long",
        "extra                           | unmatched argument at index 1: 'extra'",
        "--device tpu                    | --device must be auto, cpu, cuda or cuda:N, got 'tpu'",
        "--device cuda:x                 | --device must be auto, cpu, cuda or cuda:N, got 'cuda:x'",
        "--hidden 10                     | --hidden applies to --model mlp only",
        "--model mlp --hidden 10,x       | --hidden must be sizes separated by commas, e.g. 512,256; got '10,x'",
        "--model mlp --hidden 0          | --hidden sizes must be between 1 and 65536, got 0",
        "--optimizer adam --momentum 0.9 | --momentum applies to --optimizer sgd only",
        "--optimizer rmsprop             | invalid value for option '--optimizer': expected one of [sgd, adam]",
        "--schedule linear               | invalid value for option '--schedule': expected one of [none, step, cosine]",
        "--force                         | --force applies to --output only",
        "--val-fraction 1                | --val-fraction must be between 0 and 0.9 (0 for no validation), got 1",
        "--val-fraction -0.1             | --val-fraction must be between 0 and 0.9 (0 for no validation), got -0.1",
        "--val-fraction NaN              | --val-fraction must be between 0 and 0.9 (0 for no validation), got NaN",
        "--resume r --output o           | --resume continues the run in its own folder; leave out --output",
        "--resume r --force              | --force applies to --output only",
    })
    void badTrainOptionsAreRefusedWithAMessageTheSynopsisAndExitCode2(String args, String message) {
        Outcome r = run(("train " + args.trim()).split("\\s+"));
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().startsWith("wengert train: " + message), r.err());
        assertTrue(r.err().contains("usage: wengert train [-hV]"), r.err());
        assertTrue(r.err().contains("Run 'wengert train --help' for every option."), r.err());
        assertEquals("", r.out());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "evaluate                                  | missing required option: '--checkpoint=FILE'",
        "evaluate --checkpoint c --batch-size 0    | --batch-size must be between 1 and 1048576, got 0",
        "evaluate --checkpoint c --device gpu      | --device must be auto, cpu, cuda or cuda:N, got 'gpu'",
        "evaluate --checkpoint                     | missing required parameter for option '--checkpoint' (FILE)",
        "predict --checkpoint c                    | missing required parameter: 'IMAGE'",
        "predict --checkpoint c --device x a.png   | --device must be auto, cpu, cuda or cuda:N, got 'x'",
    })
    void badEvaluateAndPredictOptionsAreRefusedWithExitCode2(String args, String message) {
        Outcome r = run(args.trim().split("\\s+"));
        assertEquals(2, r.code(), r.err());
        String command = args.trim().split("\\s+")[0];
        assertTrue(r.err().startsWith("wengert " + command + ": " + message), r.err());
    }

    @Test
    void typosGetSuggestions() {
        Outcome option = run("train", "--epoch", "3");
        assertEquals(2, option.code());
        assertTrue(option.err().contains("unknown options: '--epoch', '3'"), option.err());
        assertTrue(option.err().contains("--epochs"), "suggests --epochs: " + option.err());
        Outcome command = run("trian");
        assertEquals(2, command.code());
        assertTrue(command.err().startsWith("wengert: unknown command 'trian'"), command.err());
        assertTrue(command.err().contains("train"), "suggests train: " + command.err());
        Outcome unknown = run("fit");
        assertEquals(2, unknown.code());
        assertTrue(unknown.err().contains("unknown command 'fit'"), unknown.err());
    }

    @ParameterizedTest
    @ValueSource(strings = {"train --help", "train --epochs ten --help", "train --frobnicate --help", "train -h --seed 1 --seed 2",
        "train --model mlp --hidden x -h", "train --help extra", "evaluate --help", "evaluate -h --batch-size 0", "predict --help"})
    void helpWinsOverOtherErrors(String args) {
        Outcome r = run(args.split(" "));
        assertEquals(0, r.code(), r.err());
        assertEquals("", r.err());
        String command = args.split(" ")[0];
        assertTrue(r.out().contains("\nUsage: wengert " + command), r.out());
    }

    @Test
    void noCommandIsAUsageErrorAndTopLevelHelpListsTheCommands() {
        Outcome none = run();
        assertEquals(2, none.code());
        assertTrue(none.err().contains("missing COMMAND"), none.err());
        for (String help : new String[] {"--help", "-h", "help"}) {
            Outcome r = run(help);
            assertEquals(0, r.code(), help);
            for (String c : List.of("train", "evaluate", "predict", "generate-completion", "Exit codes")) {
                assertTrue(r.out().contains(c), help + " lists " + c + ": " + r.out());
            }
        }
        Outcome helpTrain = run("help", "train");
        assertEquals(0, helpTrain.code());
        assertTrue(helpTrain.out().startsWith("Train logistic regression, an MLP or a CNN (LeNet-5, a convnet) on MNIST.\nUsage: wengert train"), helpTrain.out());
    }

    @Test
    void versionNamesWengertItsVersionAndTheCommitWhenKnown() {
        Outcome r = run("--version");
        assertEquals(0, r.code());
        assertTrue(r.out().startsWith("wengert " + BuildInfo.CURRENT.version()), r.out());
        assertFalse(BuildInfo.CURRENT.version().equals("unknown"), "the build writes build.properties");
        assertFalse(BuildInfo.CURRENT.version().contains("${"), BuildInfo.CURRENT.version());
        if (BuildInfo.CURRENT.commit() != null) {
            assertTrue(r.out().contains("(commit " + BuildInfo.CURRENT.commit() + ")"), r.out());
            assertTrue(BuildInfo.CURRENT.commit().matches("[0-9a-f]{7,40}(-dirty)?"), BuildInfo.CURRENT.commit());
        }
        assertTrue(r.out().contains("Java " + System.getProperty("java.version")), r.out());
        assertEquals(r.out(), run("train", "--version").out());
    }

    @Test
    void trainHelpShowsEachDefaultOnceAndTheDeviceNames() {
        String help = run("train", "--help").out().replaceAll("\\s+", " ");
        assertTrue(help.contains("passes over the training set; with --resume the run's total (default: 12 for convnet, 10 otherwise)"), help);
        assertTrue(help.contains("samples per step (default: 64)"), help);
        assertTrue(help.contains("(default: 0.5 for logreg, 0.05 for mlp with sgd; 0.001 with adam)"), help);
        assertTrue(help.contains("optimizer (default: adam for lenet5 and convnet, sgd otherwise)"), help);
        assertTrue(help.contains("(default: 2 for convnet, 0 otherwise)"), help);
        assertTrue(help.contains("cuda:N"), help);
        assertFalse(help.contains("10 for logreg"), "one default for --epochs, not one per model: " + help);
        assertFalse(help.contains("epochs)"), help);
        Matcher defaults = Pattern.compile("\\(default: ").matcher(help);
        int n = 0;
        while (defaults.find()) {
            n++;
        }
        assertEquals(18, n, "each option names its default once: " + help);
        assertTrue(help.contains("0 for no validation and no best (default: 0.1)"), help);
        assertTrue(help.contains("--resume=DIR continue the run in folder DIR where its last epoch ended"), help);
        assertTrue(help.contains("last.safetensors the run so far"), help);
    }

    @Test
    void deviceOptionReadsTheSameInEveryCommand() {
        for (String command : List.of("train", "evaluate", "predict")) {
            String help = run(command, "--help").out().replaceAll("\\s+", " ");
            assertTrue(help.contains("--device=DEVICE " + DeviceChoice.HELP + " "), command + ": " + help);
        }
    }

    @Test
    void completionScriptCoversTheCommandsAndOptions() {
        Outcome r = run("generate-completion");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("complete -F"), r.out().substring(0, Math.min(300, r.out().length())));
        for (String word : List.of("train", "evaluate", "predict", "--epochs", "--checkpoint", "logreg", "cuda:0")) {
            assertTrue(r.out().contains(word), word);
        }
    }

    @Test
    void wordsCountRight() {
        assertEquals("1 epoch", Text.count(1, "epoch"));
        assertEquals("0 epochs", Text.count(0, "epoch"));
        assertEquals("2,000 test images", Text.count(2000, "test image"));
        assertEquals("3 more entries", Text.count(3, "more entry"));
        assertEquals("1 more entry", Text.count(1, "more entry"));
        assertEquals("89.80%", Text.percent(0.898));
    }

    @Test
    void autoPicksCpuAndSaysWhyBrieflyWhenCudaIsUnavailable() {
        Assumptions.assumeFalse(Backends.isAvailable(Device.cuda(0), new StringBuilder()), "CUDA is available here");
        DeviceChoice c = DeviceChoice.choose("auto");
        assertEquals(Device.CPU, c.device());
        assertTrue(c.reason().startsWith("cpu (auto: CUDA unavailable: "), c.reason());
        assertFalse(c.reason().contains("/tmp/"), "no temporary library paths: " + c.reason());
        assertFalse(c.reason().contains("is not usable"), c.reason());
        assertFalse(c.reason().contains("Error:"), c.reason());
        assertThrows(IllegalStateException.class, () -> DeviceChoice.choose("cuda"));
        Outcome r = run("train", "--device", "cuda", "--output", dir.resolve("run").toString());
        assertEquals(1, r.code());
        assertTrue(r.err().startsWith("wengert train: error: device cuda:0 was requested but cannot be used: "), r.err());
        assertTrue(r.err().strip().endsWith("use --device cpu or --device auto"), r.err());
        assertFalse(r.err().contains("/tmp/"), r.err());
        assertFalse(Files.exists(dir.resolve("run")), "nothing is created for a run that cannot start");
    }

    @Test
    void deviceReasonsAreShortened() {
        String raw = "device cuda:0 is not usable: the NVIDIA driver library could not be loaded (UnsatisfiedLinkError:"
                + " /tmp/libJCudaDriver-12.6.0-linux-x86_64.so: libcuda.so.1: cannot open shared object file: No such file or"
                + " directory): this machine has no NVIDIA driver, or libcuda.so.1 is not on the library path; use Device.CPU instead";
        assertEquals("no NVIDIA driver (libcuda.so.1 is not on the library path)", DeviceChoice.brief(raw, Device.cuda(0)));
        assertEquals("cuInit failed with CUDA_ERROR_NO_DEVICE: no CUDA-capable GPU is visible", DeviceChoice.brief(
                "device cuda:1 is not usable: cuInit failed with CUDA_ERROR_NO_DEVICE: no CUDA-capable GPU is visible; use Device.CPU"
                        + " instead", Device.cuda(1)));
    }

    @Test
    void missingCheckpointFailsWithExitCode1() {
        Outcome r = run("evaluate", "--checkpoint", dir.resolve("none.safetensors").toString());
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().contains("checkpoint not found: "), r.err());
        Outcome d = run("evaluate", "--checkpoint", dir.toString());
        assertEquals(1, d.code());
        assertTrue(d.err().contains("is not a file"), d.err());
    }

    @Test
    void aCheckpointForOtherImagesIsExplainedInUserTerms() throws Exception {
        Path file = dir.resolve("small.safetensors");
        ModelSpec spec = ModelSpec.logreg(196, 10);
        try (Scope s = Scope.open(); Sequential model = spec.build(1, DType.FLOAT32, Device.CPU)) {
            Checkpoint.save(file, model, spec, Map.of());
        }
        Outcome r = run("evaluate", "--checkpoint", file.toString(), "--device", "cpu");
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().contains("the checkpoint expects 196 input features (14x14 images); the test images of ")
                && r.err().contains(" have 784 (28x28)"), r.err());
    }

    @Test
    void settingsFillInTheDefaultsFromOnePlace() {
        TrainCommand t = parse("train");
        TrainCommand.Settings s = t.settings();
        assertEquals("logreg", s.model());
        assertEquals(Defaults.LR_LOGREG, s.lr());
        assertEquals(Defaults.EPOCHS, s.epochs());
        assertEquals(Defaults.BATCH_SIZE, s.batchSize());
        assertEquals(0, s.momentum());
        assertEquals("auto", s.device());
        assertNull(s.output());
        assertNull(s.data());
        assertNull(s.resume());
        assertEquals(Defaults.VAL_FRACTION, s.valFraction());
        assertEquals(Defaults.EPOCHS, s.scheduleEpochs());
        TrainCommand.Settings mlp = parse("train", "--model", "MLP", "--device", "CPU").settings();
        assertEquals(Defaults.LR_MLP, mlp.lr());
        assertEquals(Defaults.MOMENTUM_MLP, mlp.momentum());
        assertEquals(List.of(512, 256), java.util.Arrays.stream(mlp.hidden()).boxed().toList());
        assertEquals("cpu", mlp.device());
        TrainCommand.Settings adam = parse("train", "--model=mlp", "--optimizer", "adam", "--hidden", "32").settings();
        assertEquals(Defaults.LR_ADAM, adam.lr());
        assertEquals(0, adam.momentum());
        TrainCommand.Settings explicit = parse("train", "--lr", "0.2", "--seed", "7", "--output", "o", "--data", "d",
                "--schedule", "cosine").settings();
        assertEquals(0.2, explicit.lr());
        assertEquals(7, explicit.seed());
        assertEquals(Path.of("o"), explicit.output());
        assertEquals(Path.of("d"), explicit.data());
        assertEquals("cosine", explicit.schedule());
    }

    private static TrainCommand parse(String... args) {
        picocli.CommandLine cl = Main.commandLine(new Main.Context(System.out, System.err, new StopRequest(), false, List.of()));
        picocli.CommandLine.ParseResult pr = cl.parseArgs(args);
        TrainCommand t = pr.subcommand().commandSpec().commandLine().getCommand();
        assertNotNull(t);
        return t;
    }
}
