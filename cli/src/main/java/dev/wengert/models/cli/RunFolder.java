package dev.wengert.models.cli;

import dev.wengert.models.io.IoErrors;
import dev.wengert.models.train.RunCheckpoints;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * The folder a training run writes into, settled before training starts so that no run is lost at its end:
 * it exists, is a folder, and a file can be created, written and deleted in it. Without {@code --output}
 * every run gets a new folder {@code runs/<model>-<yyyyMMdd-HHmmss-SSS>} (a {@code -2}, {@code -3}, ...
 * suffix when another run took the name in the same millisecond; the folder is created atomically, so two
 * runs never share one). An existing folder that holds anything is refused unless {@code --force}.
 */
final class RunFolder {

    /** The files a run writes; {@code --force} removes earlier ones so that a new run does not mix with them. */
    static final List<String> RUN_FILES = List.of(TrainCommand.CHECKPOINT, RunCheckpoints.LAST, RunCheckpoints.BEST, TrainCommand.METRICS_JSON,
            TrainCommand.METRICS_CSV, TrainCommand.PLOT, EvaluateCommand.EVALUATION_JSON);

    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss-SSS");
    private static final int MAX_SUFFIX = 10_000;

    /** A problem with the folder the user named: the command line must change (exit code 2). */
    static final class Refused extends Exception {
        Refused(String message) {
            super(message);
        }
    }

    private RunFolder() {
    }

    /** A new, empty folder under {@code parent} named {@code <prefix>-<timestamp>}, created atomically. */
    static Path createUnique(Path parent, String prefix, Clock clock) throws IOException {
        String base = prefix + "-" + LocalDateTime.now(clock).format(STAMP);
        try {
            Files.createDirectories(parent);
        } catch (IOException e) {
            throw new IOException(IoErrors.describe("cannot create the runs folder " + parent, e), e);
        }
        for (int i = 1; i <= MAX_SUFFIX; i++) {
            Path candidate = parent.resolve(i == 1 ? base : base + "-" + i);
            try {
                Files.createDirectory(candidate);
                checkWritable(candidate);
                return candidate;
            } catch (FileAlreadyExistsException taken) {
                // another run took this name: try the next suffix
            } catch (IOException e) {
                throw new IOException(IoErrors.describe("cannot create the run folder " + candidate, e), e);
            }
        }
        throw new IOException("cannot create a run folder in " + parent + ": " + MAX_SUFFIX + " names starting with " + base + " are taken");
    }

    /**
     * Makes {@code dir} ready for a run: creates it (and its parents) if missing, refuses a file, refuses a
     * folder that holds anything unless {@code force} (then removes the files an earlier run wrote there:
     * {@link #RUN_FILES} and {@code tensorboard/}'s event files), and checks that a file can be written in it.
     *
     * @return the names of the earlier run's files that were removed (only with force)
     * @throws Refused when the folder is a file or not empty (without force)
     * @throws IOException when it cannot be created or written, saying why
     */
    static List<String> prepare(Path dir, boolean force) throws Refused, IOException {
        check(dir, force);
        List<String> removed = new ArrayList<>();
        if (Files.isDirectory(dir)) {
            if (force) {
                removed.addAll(removeEarlierRun(dir));
            }
        } else {
            try {
                Files.createDirectories(dir);
            } catch (IOException e) {
                throw new IOException(IoErrors.describe("cannot create --output " + dir, e), e);
            }
        }
        try {
            checkWritable(dir);
        } catch (IOException e) {
            throw new IOException(IoErrors.describe("cannot write into --output " + dir, e), e);
        }
        return removed;
    }

    /**
     * Refuses, without creating or changing anything, a {@code dir} that is a file (or lies under one) or a
     * folder that holds anything (unless {@code force}).
     */
    static void check(Path dir, boolean force) throws Refused, IOException {
        Path blocker = fileInTheWay(dir);
        if (blocker != null) {
            throw new Refused("--output " + dir + (blocker.equals(dir) ? " is a file, not a folder"
                    : ": " + blocker + " is a file, not a folder") + "; choose another --output");
        }
        if (Files.isDirectory(dir) && !force) {
            List<String> present = entries(dir);
            if (!present.isEmpty()) {
                throw new Refused("--output " + dir + " is not empty (it holds " + summary(present)
                        + "); choose another --output, or add --force to write into it anyway");
            }
        }
    }

    /** The first of {@code dir} and its ancestors that exists and is not a folder, or null. */
    private static Path fileInTheWay(Path dir) {
        for (Path p = dir.toAbsolutePath().normalize(); p != null; p = p.getParent()) {
            if (Files.exists(p)) {
                return Files.isDirectory(p) ? null : (p.equals(dir.toAbsolutePath().normalize()) ? dir : p);
            }
        }
        return null;
    }

    /** Creates, writes, syncs and deletes a small file in {@code dir}: a full disk or a read-only mount shows here. */
    static void checkWritable(Path dir) throws IOException {
        Path probe = dir.resolve(".wengert-write-check-" + UUID.randomUUID() + ".tmp");
        try (OutputStream out = Files.newOutputStream(probe, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                StandardOpenOption.SYNC)) {
            out.write(new byte[4096]);
        } finally {
            Files.deleteIfExists(probe);
        }
    }

    private static List<String> entries(Path dir) throws IOException {
        List<String> names = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
            for (Path p : s) {
                names.add(p.getFileName() + (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS) ? "/" : ""));
            }
        } catch (IOException e) {
            throw new IOException(IoErrors.describe("cannot list --output " + dir, e), e);
        }
        names.sort(null);
        return names;
    }

    private static String summary(List<String> names) {
        int shown = Math.min(3, names.size());
        String list = String.join(", ", names.subList(0, shown));
        return names.size() > shown ? list + " and " + Text.count(names.size() - shown, "more entry") : list;
    }

    private static List<String> removeEarlierRun(Path dir) throws IOException {
        List<String> removed = new ArrayList<>();
        try {
            for (String name : RUN_FILES) {
                if (Files.deleteIfExists(dir.resolve(name))) {
                    removed.add(name);
                }
            }
            Path tb = dir.resolve(TrainCommand.TENSORBOARD_DIR);
            if (Files.isDirectory(tb)) {
                try (Stream<Path> s = Files.list(tb)) {
                    for (Path p : s.filter(p -> p.getFileName().toString().contains("tfevents")).toList()) {
                        Files.delete(p);
                        removed.add(TrainCommand.TENSORBOARD_DIR + "/" + p.getFileName());
                    }
                }
            }
        } catch (IOException e) {
            throw new IOException(IoErrors.describe("cannot replace the earlier run's files in " + dir, e), e);
        }
        return removed;
    }
}
