package dev.wengert.tensor.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;
import jcuda.jcublas.JCublas2;

/**
 * Makes JCublas usable before its first use. JCublas 12.x links against libcublas.so.12; where only
 * cuBLAS 13 is installed (CUDA-13-only machines, see GPU-FACTS.md) this loads the forwarding library
 * built by cuda-kernels (resource dev/wengert/cuda/linux-x86_64/libcublas.so.12: the same symbols,
 * each jumping into libcublas.so.13) with System.load, after which the dynamic linker satisfies
 * libJCublas2's dependency with it. Where a real libcublas.so.12 exists the shim is never loaded.
 * System property {@code wengert.cuda.cublasShim} = auto (default) | always | never overrides the choice.
 * The outcome is logged once at FINE level on logger {@code dev.wengert.tensor.cuda}.
 */
final class CublasLoader {
    static final String SHIM_RESOURCE = "/dev/wengert/cuda/linux-x86_64/libcublas.so.12";
    private static final Logger LOG = Logger.getLogger("dev.wengert.tensor.cuda");

    private static String description;
    private static String problem;

    private CublasLoader() {
    }

    /** Which cuBLAS JCublas uses, or null with {@code whyNot} filled. Runs its search once per process. */
    static synchronized String ensureLoaded(StringBuilder whyNot) {
        if (description == null && problem == null) {
            try {
                description = load();
                LOG.fine("wengert: using " + description);
            } catch (IllegalStateException | IOException | LinkageError e) {
                problem = e.getMessage() == null ? e.toString() : e.getMessage();
            }
        }
        if (problem != null) {
            whyNot.append(problem);
        }
        return description;
    }

    private static String load() throws IOException {
        String mode = System.getProperty("wengert.cuda.cublasShim", "auto").toLowerCase(Locale.ROOT);
        Path real12 = find("libcublas.so.12");
        Path cublas13 = find("libcublas.so.13");
        boolean shim = mode.equals("always") || (mode.equals("auto") && real12 == null && cublas13 != null);
        String what;
        if (shim) {
            if (cublas13 != null) {
                try { // loaded first, the shim's dlopen("libcublas.so.13") finds it by its soname
                    System.load(cublas13.toString());
                } catch (UnsatisfiedLinkError e) {
                    // the shim's own dlopen search may still succeed; it reports on stderr if not
                }
            }
            System.load(extractShim().toString());
            what = "cuBLAS 13 (" + (cublas13 == null ? "libcublas.so.13" : cublas13) + ") through the cuBLAS-12 forwarding library";
        } else if (real12 != null || mode.equals("never")) {
            what = "cuBLAS 12 (" + (real12 == null ? "libcublas.so.12 from the dynamic linker's search path" : real12) + ")";
        } else {
            throw new IllegalStateException("no cuBLAS found: neither libcublas.so.12 nor libcublas.so.13 is in LD_LIBRARY_PATH, "
                    + "the ldconfig cache or /usr/local/cuda*/lib64; install cuBLAS (CUDA toolkit) or add its lib64 to LD_LIBRARY_PATH");
        }
        try {
            JCublas2.setExceptionsEnabled(false); // loads libJCublas2 (and so libcublas.so.12)
        } catch (LinkageError e) {
            throw new IllegalStateException("JCublas could not be loaded with " + what + ": " + e.getMessage()
                    + (shim ? "" : "; if this machine has only CUDA 13, run with -Dwengert.cuda.cublasShim=always"), e);
        }
        return what;
    }

    private static Path extractShim() throws IOException {
        try (InputStream in = CublasLoader.class.getResourceAsStream(SHIM_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("this CUDA has only cuBLAS 13 and the wengert-cuda-kernels jar has no cuBLAS-12 "
                        + "forwarding library (" + SHIM_RESOURCE + "): build cuda-kernels on Linux x86-64 with gcc installed");
            }
            Path dir = Files.createTempDirectory("wengert-cublas");
            Path so = dir.resolve("libcublas.so.12");
            Files.copy(in, so, StandardCopyOption.REPLACE_EXISTING);
            so.toFile().deleteOnExit();
            dir.toFile().deleteOnExit();
            return so;
        }
    }

    /** The first readable {@code name} in LD_LIBRARY_PATH, the ldconfig cache, CUDA_HOME or /usr/local/cuda*. */
    static Path find(String name) {
        for (Path dir : searchPath()) {
            Path p = dir.resolve(name);
            if (Files.isReadable(p)) {
                return p;
            }
        }
        return fromLdconfig(name);
    }

    private static List<Path> searchPath() {
        List<Path> dirs = new ArrayList<>();
        String ld = System.getenv("LD_LIBRARY_PATH");
        if (ld != null) {
            for (String d : ld.split(":")) {
                if (!d.isBlank()) {
                    dirs.add(Path.of(d));
                }
            }
        }
        for (String env : new String[] {"CUDA_HOME", "CUDA_PATH"}) {
            String v = System.getenv(env);
            if (v != null && !v.isBlank()) {
                dirs.add(Path.of(v, "lib64"));
            }
        }
        dirs.add(Path.of("/usr/local/cuda/lib64"));
        dirs.add(Path.of("/usr/local/cuda/targets/x86_64-linux/lib"));
        try (DirectoryStream<Path> s = Files.newDirectoryStream(Path.of("/usr/local"), "cuda-*")) {
            for (Path p : s) {
                dirs.add(p.resolve("lib64"));
            }
        } catch (IOException | RuntimeException e) {
            // no /usr/local: nothing to add
        }
        dirs.add(Path.of("/usr/lib/x86_64-linux-gnu"));
        dirs.add(Path.of("/usr/lib64"));
        return dirs;
    }

    private static Path fromLdconfig(String name) {
        for (String exe : new String[] {"/sbin/ldconfig", "/usr/sbin/ldconfig", "ldconfig"}) {
            try {
                Process p = new ProcessBuilder(exe, "-p").redirectErrorStream(true).start();
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                if (!p.waitFor(10, TimeUnit.SECONDS)) {
                    p.destroy();
                    continue;
                }
                for (String line : out.split("\n")) {
                    String t = line.trim();
                    int arrow = t.indexOf("=> ");
                    if (t.startsWith(name + " ") && arrow > 0 && t.contains("x86-64")) {
                        return Path.of(t.substring(arrow + 3).trim());
                    }
                }
                return null;
            } catch (IOException e) {
                // try the next location of ldconfig
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
        }
        return null;
    }
}
