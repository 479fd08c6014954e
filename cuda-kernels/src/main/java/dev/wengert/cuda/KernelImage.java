package dev.wengert.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.function.Function;

/**
 * The packaged kernels.fatbin, checked at load time against what it claims to be built from: the
 * manifest records the sha256 of every kernel source and of the fatbin, and the sources are packaged
 * beside it (resources under {@value #SOURCES}). A GPU runs the fatbin while the CUDA simulator compiles
 * the sources, so a fatbin built from other sources must never run: it is refused, saying how to rebuild.
 */
public final class KernelImage {
    public static final String FATBIN = "/dev/wengert/cuda/kernels.fatbin";
    public static final String MANIFEST = "/dev/wengert/cuda/kernels.manifest";
    public static final String SOURCES = "/dev/wengert/cuda/src/";
    static final String REBUILD = "rebuild it with 'cuda-kernels/scripts/kernels.sh regenerate' (needs nvcc) and rebuild the"
            + " wengert-cuda-kernels jar";

    private KernelImage() {
    }

    /**
     * The fatbin's bytes, after checking it and every packaged source against the manifest.
     *
     * @throws IllegalStateException naming the file that differs and how to rebuild
     */
    public static byte[] load() {
        byte[] fatbin = resource(FATBIN);
        String manifest = new String(resource(MANIFEST), StandardCharsets.UTF_8);
        String problem = mismatch(manifest, name -> resource(SOURCES + name), fatbin);
        if (problem != null) {
            throw new IllegalStateException(FATBIN + " does not match the kernel sources packaged with it: " + problem + "; " + REBUILD);
        }
        return fatbin;
    }

    /**
     * Null when {@code fatbin} and every source named by {@code manifest} ("source SHA256 src/main/cuda/NAME",
     * "fatbin SHA256 PATH" lines) have the recorded hashes; else what differs. {@code source} reads a
     * source by its file name and returns null when it is missing.
     */
    static String mismatch(String manifest, Function<String, byte[]> source, byte[] fatbin) {
        int sources = 0;
        boolean fatbinChecked = false;
        for (String line : manifest.split("\n")) {
            String[] f = line.trim().split(" ");
            if (f.length != 3 || !(f[0].equals("source") || f[0].equals("fatbin"))) {
                continue;
            }
            if (f[0].equals("fatbin")) {
                String have = sha256(fatbin);
                if (!have.equals(f[1])) {
                    return "the fatbin's sha256 is " + have + " but the manifest records " + f[1];
                }
                fatbinChecked = true;
                continue;
            }
            String name = f[2].substring(f[2].lastIndexOf('/') + 1);
            byte[] text = source.apply(name);
            if (text == null) {
                return "the source " + name + " named by the manifest is not packaged";
            }
            String have = sha256(text);
            if (!have.equals(f[1])) {
                return "the packaged " + name + " has sha256 " + have + " but the fatbin was built from " + f[1];
            }
            sources++;
        }
        if (sources == 0 || !fatbinChecked) {
            return "the manifest names " + sources + " sources and " + (fatbinChecked ? "the" : "no") + " fatbin";
        }
        return null;
    }

    static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this Java runtime", e);
        }
    }

    private static byte[] resource(String path) {
        try (InputStream in = KernelImage.class.getResourceAsStream(path)) {
            if (in == null) {
                if (path.startsWith(SOURCES)) {
                    return null;
                }
                throw new IllegalStateException(path + " is not on the class path: add the wengert-cuda-kernels jar");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new IllegalStateException("reading " + path + ": " + e, e);
        }
    }
}
