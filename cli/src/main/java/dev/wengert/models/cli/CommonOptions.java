package dev.wengert.models.cli;

import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** Options that several commands share, with the same names, words and defaults everywhere. */
final class CommonOptions {
    private CommonOptions() {
    }

    /** --device, as train, evaluate and predict take it. */
    static final class DeviceOption {
        @Spec(Spec.Target.MIXEE)
        CommandSpec mixee;

        @Option(names = "--device", paramLabel = "DEVICE", defaultValue = Defaults.DEVICE, description = DeviceChoice.HELP,
                completionCandidates = DeviceNames.class)
        String device;

        /** The value in lower case; a bad name is a usage error. */
        String checked() {
            try {
                return DeviceChoice.checkName(device);
            } catch (IllegalArgumentException e) {
                throw new ParameterException(mixee.commandLine(), e.getMessage());
            }
        }
    }

    /** --data, as train and evaluate take it. */
    static final class DataOption {
        @Option(names = "--data", paramLabel = "DIR", description = "folder with the four MNIST IDX files, raw or .gz"
                + " (default: the bundled subset of 8,000 train and 2,000 test digits)")
        Path data;
    }

    /** --batch-size for commands that only run the model forward. */
    static final class EvalBatchOption {
        @Spec(Spec.Target.MIXEE)
        CommandSpec mixee;

        @Option(names = "--batch-size", paramLabel = "N", defaultValue = "" + Defaults.EVAL_BATCH_SIZE,
                description = "samples per forward pass (default: ${DEFAULT-VALUE})")
        int batchSize;

        int checked() {
            return Checks.intIn(mixee, "--batch-size", batchSize, 1, Defaults.MAX_BATCH_SIZE);
        }
    }

    /** Shell completion candidates for --device. */
    static final class DeviceNames implements Iterable<String> {
        @Override
        public Iterator<String> iterator() {
            return List.of("auto", "cpu", "cuda", "cuda:0", "cuda:1").iterator();
        }
    }

    /** Range checks that end in a usage error (exit code 2) with the same words for every option. */
    static final class Checks {
        private Checks() {
        }

        static int intIn(CommandSpec spec, String option, int value, int min, int max) {
            if (value < min || value > max) {
                throw new ParameterException(spec.commandLine(), option + " must be between " + min + " and " + max + ", got " + value);
            }
            return value;
        }

        static double numberIn(CommandSpec spec, String option, double value, double min, double max) {
            if (!(value >= min && value <= max)) {
                throw new ParameterException(spec.commandLine(), option + " must be between " + plain(min) + " and "
                        + plain(max) + ", got " + plain(value));
            }
            return value;
        }

        /** 1000000 rather than 1000000.0 or 1.0E6. */
        static String plain(double x) {
            if (x == Math.rint(x) && Math.abs(x) < 1e15) {
                return Long.toString((long) x);
            }
            return Double.toString(x);
        }
    }
}
