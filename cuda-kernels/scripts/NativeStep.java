import java.io.File;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Runs one of the build's bash scripts, or, where bash is not on PATH, skips it with one line that says
 * what is lost. The pom files (cuda-kernels, bench) run their scripts through this file, with the java
 * that runs Maven, so that a machine without bash still builds; each script then skips its own work,
 * again in one line, where its compiler (nvcc, gcc, g++) is missing.
 *
 * <pre>
 *   java NativeStep.java [--strict-if-nvcc] "WHAT IS SKIPPED" SCRIPT [ARGS...]
 * </pre>
 *
 * Exits with the script's status. --strict-if-nvcc (for kernels.sh check): where nvcc is on PATH (or
 * $NVCC names it) but bash is not, fail instead of skipping, since the committed fatbin must be compared
 * with a fresh compile wherever nvcc exists; WENGERT_SKIP_NVCC=1 skips that comparison, as in kernels.sh.
 */
public class NativeStep {
    public static void main(String[] args) throws Exception {
        int i = 0;
        boolean strictIfNvcc = false;
        if (args.length > 0 && args[0].equals("--strict-if-nvcc")) {
            strictIfNvcc = true;
            i++;
        }
        if (args.length - i < 2) {
            System.err.println("usage: java NativeStep.java [--strict-if-nvcc] \"WHAT IS SKIPPED\" SCRIPT [ARGS...]");
            System.exit(2);
        }
        String what = args[i++];
        String script = args[i++];
        String name = new File(script).getName();
        String bash = onPath("bash");
        if (bash == null) {
            String skipNvcc = System.getenv("WENGERT_SKIP_NVCC");
            String nvcc = System.getenv("NVCC") != null && !System.getenv("NVCC").isEmpty() ? System.getenv("NVCC") : "nvcc";
            String nvccFound = new File(nvcc).isAbsolute() ? (new File(nvcc).canExecute() ? nvcc : null) : onPath(nvcc);
            if (strictIfNvcc && (skipNvcc == null || skipNvcc.isEmpty()) && nvccFound != null) {
                System.err.println("ERROR: nvcc is on PATH (" + nvccFound + ") but bash is not, so " + name
                        + " cannot compare the committed kernels.fatbin with a fresh compile. Put bash on PATH,"
                        + " or set WENGERT_SKIP_NVCC=1 to skip that comparison.");
                System.exit(1);
            }
            System.out.println("NativeStep: bash not found on PATH: skipped " + name + ": " + what);
            return;
        }
        List<String> command = new ArrayList<>();
        command.add(bash);
        command.add(script);
        for (; i < args.length; i++) {
            command.add(args[i]);
        }
        Process p = new ProcessBuilder(command).inheritIO().start();
        System.exit(p.waitFor());
    }

    /** The first executable file NAME on PATH (with an extension from PATHEXT on Windows), or null. */
    static String onPath(String name) {
        String path = System.getenv("PATH");
        if (path == null) {
            return null;
        }
        List<String> extensions = new ArrayList<>(List.of(""));
        if (System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("windows")) {
            String pathext = System.getenv("PATHEXT");
            extensions.addAll(List.of((pathext == null ? ".EXE;.BAT;.CMD" : pathext).split(";")));
        }
        for (String dir : path.split(File.pathSeparator)) {
            if (dir.isEmpty()) {
                continue;
            }
            for (String ext : extensions) {
                File f = new File(dir, name + ext);
                if (f.isFile() && f.canExecute()) {
                    return f.getPath();
                }
            }
        }
        return null;
    }
}
