package dev.wengert.models.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wengert.models.io.Json;
import dev.wengert.models.zoo.Checkpoint;
import dev.wengert.tensor.Device;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * End to end through the {@code ./wengert} launcher, as a user runs it (the failsafe plugin runs this after
 * package, when cli/target/classpath.txt and the jars exist): an occupied output folder, SIGINT / SIGTERM in
 * the middle of a run, and {@code --resume} finishing the run SIGINT stopped. The launcher execs java, so the process's pid is the JVM's.
 */
class WengertScriptIT {
    static final Path ROOT = Path.of("").toAbsolutePath().getParent();
    static final Path SCRIPT = ROOT.resolve("wengert");

    @TempDir
    Path dir;

    /** The launcher builds when sources are newer than its class path file; inside this build that must not happen. */
    @org.junit.jupiter.api.BeforeAll
    static void theLauncherFindsAFreshBuild() throws IOException {
        Path cp = ROOT.resolve("cli/target/classpath.txt");
        assertTrue(Files.isRegularFile(cp), cp + " is missing: run ./mvnw -pl cli -am package (or verify) first");
        java.nio.file.attribute.FileTime built = Files.getLastModifiedTime(cp);
        for (String module : List.of("cuda-kernels", "tensor", "tensor-cpu", "tensor-cuda", "autograd", "models", "distributed", "cli")) {
            Path main = ROOT.resolve(module).resolve("src/main");
            if (!Files.isDirectory(main)) {
                continue;
            }
            try (var files = Files.walk(main)) {
                List<Path> newer = files.filter(Files::isRegularFile).filter(f -> {
                    try {
                        return Files.getLastModifiedTime(f).compareTo(built) > 0;
                    } catch (IOException e) {
                        return false;
                    }
                }).limit(3).toList();
                assertEquals(List.of(), newer, "sources newer than " + cp + ": ./wengert would rebuild; package again first");
            }
        }
    }

    private record Result(int code, String out, String err) {
    }

    /**
     * True when this JVM was started with SIGINT ignored (a background job of a non-interactive shell, nohup):
     * every child inherits that, and neither bash nor the JVM can take it back, so ./wengert would never see
     * the SIGINT this test sends. Read from /proc/self/status (SigIgn, bit 1 = signal 2).
     */
    private static boolean sigintIgnored() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("SigIgn:")) {
                    return (Long.parseUnsignedLong(line.substring(7).trim(), 16) & 2L) != 0;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return false;
        }
        return false;
    }

    private ProcessBuilder launcher(List<String> args, Path out, Path err) {
        Assumptions.assumeTrue(onPath("bash"), "./wengert is a bash script and bash is not on PATH (the in-process CLI tests"
                + " cover the same behaviour without it)");
        List<String> command = new ArrayList<>();
        if (sigintIgnored()) {
            // perl (essential on Debian) resets SIGINT to its default and execs the launcher, as a terminal's shell would
            Assumptions.assumeTrue(onPath("perl"), "SIGINT is ignored in this process tree (started in the background or"
                    + " under nohup) and there is no perl to restore it for ./wengert");
            command.addAll(List.of("perl", "-e", "$SIG{INT} = 'DEFAULT'; exec { $ARGV[0] } @ARGV or die \"exec $ARGV[0]: $!\\n\";"));
        }
        command.add(SCRIPT.toString());
        command.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile())
                .redirectOutput(out.toFile()).redirectError(err.toFile());
        pb.environment().put("WENGERT_MVN_OPTS", "-o");
        return pb;
    }

    private static boolean onPath(String tool) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            if (!d.isEmpty() && Files.isExecutable(Path.of(d, tool))) {
                return true;
            }
        }
        return false;
    }

    private Result run(String... args) throws Exception {
        Path out = dir.resolve("stdout.txt");
        Path err = dir.resolve("stderr.txt");
        Process p = launcher(List.of(args), out, err).start();
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), "./wengert " + String.join(" ", args) + " did not end");
        return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES)
    void versionAndAnOccupiedFolder() throws Exception {
        assertTrue(Files.isExecutable(SCRIPT), SCRIPT.toString());
        Result version = run("--version");
        assertEquals(0, version.code(), version.err());
        assertTrue(version.out().startsWith("wengert " + BuildInfo.CURRENT.version()), version.out());

        Path taken = Files.createDirectories(dir.resolve("taken"));
        Files.writeString(taken.resolve("model.safetensors"), "an earlier run");
        Result r = run("train", "--epochs", "1", "--output", taken.toString());
        assertEquals(2, r.code(), r.out() + r.err());
        assertTrue(r.err().contains("wengert train: --output " + taken + " is not empty (it holds model.safetensors);"
                + " choose another --output, or add --force to write into it anyway"), r.err());
        assertEquals("an earlier run", Files.readString(taken.resolve("model.safetensors")), "nothing was touched");
        assertEquals("", r.out());
    }

    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES)
    void sigintKeepsTheFinishedEpochsAndExits130() throws Exception {
        stopInTheMiddle("INT", 130, "interrupted by SIGINT after ");
    }

    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES)
    void sigtermKeepsTheFinishedEpochsAndExits143() throws Exception {
        stopInTheMiddle("TERM", 143, "terminated by SIGTERM after ");
    }

    @SuppressWarnings("unchecked")
    private void stopInTheMiddle(String signal, int expectedCode, String message) throws Exception {
        Path run = dir.resolve("run-" + signal);
        Path out = dir.resolve(signal + ".out");
        Path err = dir.resolve(signal + ".err");
        Process p = launcher(List.of("train", "--epochs", "1000", "--output", run.toString()), out, err).start();
        try {
            Path csv = run.resolve("metrics.csv");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
            while (!(Files.exists(csv) && Files.readAllLines(csv).size() >= 2)) {
                assertTrue(p.isAlive(), "training ended early: " + Files.readString(out) + Files.readString(err));
                assertTrue(System.nanoTime() < deadline, "no epoch finished in time: " + Files.readString(out) + Files.readString(err));
                Thread.sleep(100);
            }
            if (signal.equals("TERM")) {
                p.destroy(); // SIGTERM
            } else {
                Process kill = new ProcessBuilder("kill", "-INT", Long.toString(p.pid())).inheritIO().start();
                assertEquals(0, kill.waitFor());
            }
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the run did not stop: " + Files.readString(out));
        } finally {
            p.destroyForcibly();
        }
        String stdout = Files.readString(out);
        String stderr = Files.readString(err);
        assertEquals(expectedCode, p.exitValue(), stdout + stderr);
        assertTrue(stderr.contains("wengert: SIG" + signal + " received: stopping after the current step"), stderr);
        int at = stdout.indexOf(message);
        assertTrue(at >= 0, stdout);
        String line = stdout.substring(at, stdout.indexOf('\n', at));
        assertTrue(line.matches(java.util.regex.Pattern.quote(message) + "\\d+ epochs?; wrote " + java.util.regex.Pattern.quote(
                run.resolve("model.safetensors").toString()) + ", last.safetensors, best.safetensors, metrics.json, metrics.csv,"
                + " training.png, tensorboard/"), line);
        assertTrue(stdout.contains("continue with: wengert train --resume " + run), stdout);

        Map<String, Object> m = (Map<String, Object>) Json.parse(Files.readString(run.resolve("metrics.json")));
        assertEquals("interrupted", m.get("status"));
        assertEquals("SIG" + signal, m.get("stop_signal"));
        long epochs = (Long) m.get("epochs_completed");
        assertTrue(epochs >= 1, "epochs " + epochs);
        assertTrue(line.contains(" after " + Text.count(epochs, "epoch") + ";"), line);
        assertEquals(epochs, ((List<?>) m.get("epochs")).size());
        assertEquals(epochs + 1, Files.readAllLines(run.resolve("metrics.csv")).size());
        Checkpoint.Loaded loaded = Checkpoint.load(run.resolve("model.safetensors"), Device.CPU);
        loaded.model().close();
        assertEquals(Long.toString(epochs), loaded.metadata().get("epochs_completed"), "the checkpoint is the last finished epoch's");
        try (var files = Files.list(run)) {
            assertEquals(List.of(), files.map(f -> f.getFileName().toString()).filter(n -> n.endsWith(".tmp")).toList(),
                    "no temporary files left");
        }
        if (!signal.equals("INT")) {
            return;
        }

        // ./wengert train --resume continues where the signal stopped it and finishes
        long total = epochs + 2;
        Result resumed = run("train", "--resume", run.toString(), "--epochs", Long.toString(total));
        assertEquals(0, resumed.code(), resumed.out() + resumed.err());
        assertTrue(resumed.out().contains("resuming after epoch " + epochs + " of " + total), resumed.out());
        assertTrue(resumed.out().contains("epoch " + total + "/" + total + " done"), resumed.out());
        assertTrue(resumed.out().contains("final test accuracy "), resumed.out());
        Map<String, Object> after = (Map<String, Object>) Json.parse(Files.readString(run.resolve("metrics.json")));
        assertEquals("finished", after.get("status"));
        assertEquals(total, after.get("epochs_completed"));
        assertEquals(total, after.get("epochs_planned"));
        List<Map<String, Object>> all = (List<Map<String, Object>>) after.get("epochs");
        assertEquals(total, all.size());
        for (int i = 0; i < all.size(); i++) {
            assertEquals((long) i + 1, all.get(i).get("epoch"), "every epoch once, in order");
        }
        assertEquals(m.get("epochs").toString(), all.subList(0, (int) epochs).toString(), "the interrupted run's epochs stay as they were");
        List<Map<String, Object>> resumes = (List<Map<String, Object>>) after.get("resumes");
        assertEquals(1, resumes.size());
        assertEquals(epochs, resumes.get(0).get("after_epoch"));
        assertTrue(((Number) after.get("final_test_accuracy")).doubleValue() > 0.85, String.valueOf(after.get("final_test_accuracy")));
        assertEquals(total + 1, Files.readAllLines(run.resolve("metrics.csv")).size());
        Checkpoint.Loaded last = Checkpoint.load(run.resolve("last.safetensors"), Device.CPU);
        last.model().close();
        assertEquals(Long.toString(total), last.metadata().get("epochs_finished"));
    }

    static String read(Path p) throws IOException {
        return Files.exists(p) ? Files.readString(p) : "";
    }
}
