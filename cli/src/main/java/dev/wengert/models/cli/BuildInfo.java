package dev.wengert.models.cli;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import picocli.CommandLine;

/**
 * Wengert's version and the git commit it was built from, from {@code build.properties}, which the build
 * writes (cli/pom.xml). The commit is {@code git describe --always --dirty}: null where the build had no git
 * or no repository.
 *
 * @param version the project version, e.g. 0.1.0-SNAPSHOT ("unknown" when the resource is missing)
 * @param commit e.g. {@code bcae363a1b2c} or {@code bcae363a1b2c-dirty}; null when unknown
 */
record BuildInfo(String version, String commit) {

    static final BuildInfo CURRENT = load();

    private static BuildInfo load() {
        Properties p = new Properties();
        try (InputStream in = BuildInfo.class.getResourceAsStream("build.properties")) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException e) {
            // an unreadable resource leaves both unknown
        }
        return new BuildInfo(known(p.getProperty("version"), "unknown"), known(p.getProperty("commit"), null));
    }

    private static String known(String value, String fallback) {
        return value == null || value.isBlank() || value.contains("${") ? fallback : value.trim();
    }

    /** "0.1.0-SNAPSHOT (commit bcae363a1b2c)", or the version alone. */
    String describe() {
        return version + (commit == null ? "" : " (commit " + commit + ")");
    }

    /** For {@code wengert --version}. */
    static final class Provider implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {
                "wengert " + CURRENT.describe(),
                "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + "), "
                        + System.getProperty("os.name") + " " + System.getProperty("os.arch"),
            };
        }
    }
}
