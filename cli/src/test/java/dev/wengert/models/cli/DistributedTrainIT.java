package dev.wengert.models.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./wengert train --nproc 2} end to end: two processes under mpirun write one run folder (rank 0), whose
 * checkpoint one process resumes; the epochs equal those of one process training the same run throughout (to
 * float32 rounding: the batches' gradient sums are added in another order). Without mpirun, --nproc says how to
 * install Open MPI. Skipped, saying why, where mpirun or bash is missing; every launch has a deadline.
 */
class DistributedTrainIT {
    static final Path ROOT = Path.of("").toAbsolutePath().getParent();
    static final Path SCRIPT = ROOT.resolve("wengert");
    static final List<String> RUN = List.of("--model", "mlp", "--hidden", "32", "--batch-size", "250", "--seed", "3");

    @TempDir
    Path dir;

    private record Result(int code, String out, String err) {
    }

    private Result run(Map<String, String> env, List<String> args) throws IOException, InterruptedException {
        Assumptions.assumeTrue(onPath("bash"), "./wengert is a bash script and bash is not on PATH");
        List<String> command = new ArrayList<>();
        command.add(SCRIPT.toString());
        command.addAll(args);
        Path out = dir.resolve("stdout.txt");
        Path err = dir.resolve("stderr.txt");
        ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile()).redirectOutput(out.toFile()).redirectError(err.toFile());
        pb.environment().put("WENGERT_MVN_OPTS", "-o");
        pb.environment().putAll(env);
        Process p = pb.start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            throw new AssertionError("./wengert " + String.join(" ", args) + " did not end within 120 s:\n" + Files.readString(out)
                    + Files.readString(err));
        }
        return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    private static boolean onPath(String tool) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            if (!d.isEmpty() && Files.isExecutable(Path.of(d, tool))) {
                return true;
            }
        }
        return false;
    }

    private static List<String> args(String... more) {
        List<String> a = new ArrayList<>(List.of("train"));
        a.addAll(RUN);
        a.addAll(List.of(more));
        return a;
    }

    @Test
    void twoProcessesThenOneEqualOneProcessThroughout() throws Exception {
        Assumptions.assumeTrue(onPath("mpirun"), "mpirun is not on the PATH: --nproc needs Open MPI (apt-get install openmpi-bin)");
        Path two = dir.resolve("two");
        Result r = run(Map.of(), args("--epochs", "1", "--nproc", "2", "--output", two.toString()));
        assertEquals(0, r.code(), () -> r.out() + r.err());
        assertTrue(r.out().contains("distributed: 2 processes"), r.out());
        assertEquals(1, count(r.out(), "final test accuracy"), () -> "only rank 0 reports:\n" + r.out());
        assertTrue(Files.isRegularFile(two.resolve("last.safetensors")), r.out());
        Result resumed = run(Map.of(), List.of("train", "--resume", two.toString(), "--epochs", "2"));
        assertEquals(0, resumed.code(), () -> resumed.out() + resumed.err());
        Path one = dir.resolve("one");
        Result single = run(Map.of(), args("--epochs", "2", "--output", one.toString()));
        assertEquals(0, single.code(), () -> single.out() + single.err());
        List<String> a = Files.readAllLines(two.resolve("metrics.csv"));
        List<String> b = Files.readAllLines(one.resolve("metrics.csv"));
        assertEquals(3, a.size(), () -> String.join("\n", a));
        assertEquals(3, b.size(), () -> String.join("\n", b));
        for (int row = 1; row <= 2; row++) {
            String[] x = a.get(row).split(",");
            String[] y = b.get(row).split(",");
            for (int col = 1; col <= 3; col++) {      // train_loss, val_loss, val_accuracy
                double dx = Double.parseDouble(x[col]);
                double dy = Double.parseDouble(y[col]);
                assertEquals(dy, dx, 1e-4, "epoch " + row + " column " + col + ": 2 processes then 1: " + a.get(row) + "; 1 process: " + b.get(row));
            }
        }
    }

    private static int count(String text, String what) {
        int n = 0;
        for (int i = text.indexOf(what); i >= 0; i = text.indexOf(what, i + 1)) {
            n++;
        }
        return n;
    }

    @Test
    void withoutMpirunNprocSaysHowToInstallIt() throws Exception {
        // a PATH with the launcher's tools but no mpirun
        Path bin = Files.createDirectories(dir.resolve("bin"));
        for (String tool : List.of("bash", "dirname", "readlink", "find", "cat")) {
            Path found = null;
            for (String d : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
                if (!d.isEmpty() && Files.isExecutable(Path.of(d, tool))) {
                    found = Path.of(d, tool);
                    break;
                }
            }
            Assumptions.assumeTrue(found != null, tool + " is not on the PATH");
            Files.createSymbolicLink(bin.resolve(tool), found);
        }
        String java = ProcessHandle.current().info().command().orElseThrow();
        Result r = run(Map.of("PATH", bin.toString(), "JAVA", java), args("--epochs", "1", "--nproc", "2", "--output", dir.resolve("x").toString()));
        assertEquals(2, r.code(), () -> r.out() + r.err());
        assertTrue(r.err().contains("--nproc needs Open MPI's mpirun, which is not on the PATH: install Open MPI (Debian/Ubuntu: apt-get install openmpi-bin)"),
                r.err());
        assertTrue(Files.notExists(dir.resolve("x")), "nothing is written");
    }
}
