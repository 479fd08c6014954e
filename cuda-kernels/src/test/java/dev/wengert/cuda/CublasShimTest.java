package dev.wengert.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The cuBLAS-12 forwarding library: its symbol list, and (where gcc exists) the library the build made. */
class CublasShimTest {
    private static final Path SYMBOLS = Path.of("src/main/shim/cublas12-symbols.txt");
    private static final String RESOURCE = "/dev/wengert/cuda/linux-x86_64/libcublas.so.12";

    private static List<String> symbols() throws IOException {
        return Files.readAllLines(SYMBOLS).stream().filter(l -> !l.isBlank() && !l.startsWith("#")).collect(Collectors.toList());
    }

    private static boolean onPath(String tool) {
        try {
            Process p = new ProcessBuilder(tool, "--version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    private static String run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), String.join(" ", cmd) + " timed out");
        assertEquals(0, p.exitValue(), String.join(" ", cmd) + " failed:\n" + out);
        return out;
    }

    @Test
    void symbolListIsNonEmptyAndCublasOnly() throws IOException {
        List<String> s = symbols();
        assertTrue(s.size() > 100, "expected hundreds of cuBLAS symbols, got " + s.size());
        assertTrue(s.contains("cublasCreate_v2") && s.contains("cublasSgemm_v2") && s.contains("cublasSetStream_v2"));
        for (String name : s) {
            assertTrue(name.matches("cublas\\w+"), "not a cuBLAS symbol: " + name);
        }
        assertEquals(s.stream().distinct().sorted().collect(Collectors.toList()), s, "sorted and unique");
    }

    @Test
    void buildProducedTheForwardingLibraryWhereGccExists() throws Exception {
        boolean linuxX64 = System.getProperty("os.name").equals("Linux") && System.getProperty("os.arch").equals("amd64");
        assumeTrue(linuxX64 && onPath("gcc") && onPath("nm"), "needs Linux x86-64 with gcc and nm");
        Path so;
        try (InputStream in = CublasShimTest.class.getResourceAsStream(RESOURCE)) {
            assertTrue(in != null, "the build (scripts/build-cublas-shim.sh) put " + RESOURCE + " on the class path");
            so = Files.createTempFile("shim", ".so");
            Files.write(so, in.readAllBytes());
        }
        try {
            String dyn = run("readelf", "-d", so.toString());
            assertTrue(dyn.contains("Library soname: [libcublas.so.12]"), dyn);
            List<String> exported = run("nm", "-D", "--defined-only", so.toString()).lines()
                    .map(l -> l.substring(l.lastIndexOf(' ') + 1))
                    .filter(n -> n.endsWith("@@libcublas.so.12"))
                    .map(n -> n.substring(0, n.indexOf('@')))
                    .sorted().collect(Collectors.toList());
            assertEquals(symbols(), exported, "every listed symbol exported under version libcublas.so.12");
        } finally {
            Files.deleteIfExists(so);
        }
    }
}
