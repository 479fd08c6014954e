package dev.wengert.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The committed kernels.fatbin was built from exactly the .cu sources in src/main/cuda (the same check
 * as scripts/kernels.sh, independently in Java), and the jar resource is that file.
 */
class KernelManifestTest {
    private static final Path SOURCES = Path.of("src/main/cuda");
    private static final Path MANIFEST = Path.of("src/main/resources/dev/wengert/cuda/kernels.manifest");

    private static Map<String, String> manifestEntries(String kind) throws IOException {
        Map<String, String> out = new TreeMap<>();
        for (String line : Files.readAllLines(MANIFEST)) {
            String[] f = line.split(" ");
            if (f[0].equals(kind)) {
                out.put(f[2], f[1]);
            }
        }
        return out;
    }

    @Test
    void manifestMatchesTheCudaSources() throws Exception {
        Map<String, String> actual = new TreeMap<>();
        List<Path> files;
        try (Stream<Path> s = Files.walk(SOURCES)) {
            files = s.filter(p -> p.toString().endsWith(".cu") || p.toString().endsWith(".cuh")).collect(Collectors.toList());
        }
        for (Path p : files) {
            actual.put(p.toString().replace('\\', '/'), KernelImage.sha256(Files.readAllBytes(p)));
        }
        assertTrue(actual.containsKey("src/main/cuda/kernels.cu"), "kernels.cu exists");
        assertEquals(manifestEntries("source"), actual,
                "kernel sources changed since kernels.fatbin was built: run cuda-kernels/scripts/kernels.sh regenerate");
    }

    @Test
    void packagedFatbinIsTheOneInTheManifest() throws Exception {
        byte[] fatbin;
        try (InputStream in = KernelManifestTest.class.getResourceAsStream("/dev/wengert/cuda/kernels.fatbin")) {
            assertNotNull(in, "kernels.fatbin is on the class path");
            fatbin = in.readAllBytes();
        }
        assertEquals(manifestEntries("fatbin").values().iterator().next(), KernelImage.sha256(fatbin));
        assertTrue(fatbin.length < 4 << 20, "the committed fatbin stays small: " + fatbin.length + " bytes");
    }

    @Test
    void theJarsFatbinAndSourcesPassTheLoadTimeCheck() {
        byte[] fatbin = KernelImage.load();
        assertTrue(fatbin.length > 1000);
    }

    @Test
    void aFatbinBuiltFromOtherSourcesIsRefusedSayingHowToRebuild() throws Exception {
        String manifest = Files.readString(MANIFEST);
        byte[] fatbin;
        try (InputStream in = KernelManifestTest.class.getResourceAsStream(KernelImage.FATBIN)) {
            fatbin = in.readAllBytes();
        }
        Map<String, byte[]> sources = new TreeMap<>();
        try (Stream<Path> s = Files.list(SOURCES)) {
            for (Path p : s.collect(Collectors.toList())) {
                sources.put(p.getFileName().toString(), Files.readAllBytes(p));
            }
        }
        assertEquals(null, KernelImage.mismatch(manifest, sources::get, fatbin));
        Map<String, byte[]> edited = new TreeMap<>(sources);
        edited.put("fused.cuh", (new String(sources.get("fused.cuh")) + "// edited\n").getBytes());
        String m = KernelImage.mismatch(manifest, edited::get, fatbin);
        assertTrue(m != null && m.contains("fused.cuh") && m.contains("built from"), m);
        Map<String, byte[]> missing = new TreeMap<>(sources);
        missing.remove("reduce.cuh");
        m = KernelImage.mismatch(manifest, missing::get, fatbin);
        assertTrue(m != null && m.contains("reduce.cuh") && m.contains("not packaged"), m);
        byte[] other = fatbin.clone();
        other[other.length / 2] ^= 1;
        m = KernelImage.mismatch(manifest, sources::get, other);
        assertTrue(m != null && m.contains("fatbin's sha256"), m);
        assertTrue(KernelImage.REBUILD.contains("kernels.sh regenerate"));
    }
}
