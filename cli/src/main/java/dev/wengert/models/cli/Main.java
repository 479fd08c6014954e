package dev.wengert.models.cli;

import dev.wengert.models.io.IoErrors;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The {@code wengert} command: {@code train}, {@code evaluate}, {@code predict} and
 * {@code generate-completion}. Exit codes: 0 done, 1 failed, 2 bad command line, 130 interrupted by SIGINT,
 * 143 stopped by SIGTERM.
 */
@Command(name = "wengert", mixinStandardHelpOptions = true, versionProvider = BuildInfo.Provider.class,
        description = "Train, evaluate and use classifiers on MNIST with Wengert's automatic differentiation.",
        subcommands = {TrainCommand.class, EvaluateCommand.class, PredictCommand.class,
            AutoComplete.GenerateCompletion.class, CommandLine.HelpCommand.class},
        synopsisSubcommandLabel = "COMMAND",
        footer = {"", "Run 'wengert COMMAND --help' for the options of a command.",
            "Exit codes: 0 done, 1 failed, 2 bad command line, 130 interrupted (SIGINT), 143 terminated (SIGTERM)."})
public final class Main implements Callable<Integer> {

    /** Exit codes. */
    static final int OK = 0;
    static final int FAILED = 1;
    static final int USAGE = 2;

    @Spec
    CommandSpec spec;

    /** What a run needs from outside the command line: the console, the stop request and the command line as typed. */
    record Context(PrintStream out, PrintStream err, StopRequest stop, boolean osSignals, List<String> commandLine) {
    }

    private final Context context;

    Main(Context context) {
        this.context = context;
    }

    Context context() {
        return context;
    }

    public static void main(String[] args) {
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        PrintStream err = new PrintStream(System.err, true, StandardCharsets.UTF_8);
        System.exit(run(args, new Context(out, err, new StopRequest(), true, commandLine(args))));
    }

    /** Runs the command line in this JVM without touching signal handlers; returns the exit code. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        return run(args, new Context(out, err, new StopRequest(), false, commandLine(args)));
    }

    static List<String> commandLine(String[] args) {
        List<String> words = new ArrayList<>();
        words.add("wengert");
        words.addAll(Arrays.asList(args));
        return words;
    }

    static int run(String[] args, Context context) {
        CommandLine cl = commandLine(context);
        return cl.execute(args);
    }

    /** The configured command line (also for tests that read its help). */
    static CommandLine commandLine(Context context) {
        CommandLine.IFactory factory = new CommandLine.IFactory() {
            @Override
            public <K> K create(Class<K> cls) throws Exception {
                if (cls == Main.class) {
                    return cls.cast(new Main(context));
                }
                return CommandLine.defaultFactory().create(cls);
            }
        };
        CommandLine cl = new CommandLine(Main.class, factory);
        cl.setOut(new PrintWriter(context.out(), true));
        cl.setErr(new PrintWriter(context.err(), true));
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setUsageHelpAutoWidth(true);
        cl.setUsageHelpLongOptionsMaxWidth(28);
        cl.getSubcommands().get("generate-completion").getCommandSpec().usageMessage().hidden(false)
                .header("Print a bash/zsh completion script.")
                .description("Tab completion in this shell: source <(wengert generate-completion)");
        cl.getSubcommands().get("help").getCommandSpec().usageMessage().header("Show the help of a command.");
        cl.setParameterExceptionHandler((ex, args) -> usageError(ex, args, context));
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> failure(ex, commandLine, context));
        return cl;
    }

    @Override
    public Integer call() {
        context.err().println("wengert: missing COMMAND");
        context.err().println("usage: " + spec.commandLine().getHelp().synopsis(0).strip());
        context.err().println("Commands: train, evaluate, predict, generate-completion. Run 'wengert --help' for more.");
        return USAGE;
    }

    /**
     * A bad command line: one line saying what is wrong (with suggestions for a typo), the synopsis and where
     * to find the rest; exit code 2. Asking for help wins: with -h or --help anywhere, the help of the command
     * is printed and the exit code is 0, whatever else is wrong.
     */
    static int usageError(ParameterException ex, String[] args, Context context) {
        CommandLine cl = ex.getCommandLine();
        if (asksForHelp(args)) {
            cl.usage(context.out());
            return OK;
        }
        PrintStream err = context.err();
        String name = cl.getCommandSpec().qualifiedName();
        String message = ex.getMessage();
        if (ex instanceof CommandLine.UnmatchedArgumentException u && cl.getCommandSpec().parent() == null
                && !u.getUnmatched().isEmpty() && !u.getUnmatched().get(0).startsWith("-")) {
            message = "unknown command '" + u.getUnmatched().get(0) + "'";
        }
        err.println(name + ": " + lowerFirst(message));
        CommandLine.UnmatchedArgumentException.printSuggestions(ex, err);
        err.println("usage: " + cl.getHelp().synopsis(0).strip());
        err.println("Run '" + name + " --help' for every option.");
        return USAGE;
    }

    private static boolean asksForHelp(String[] args) {
        for (String a : args) {
            if (a.equals("--")) {
                return false;
            }
            if (a.equals("-h") || a.equals("--help")) {
                return true;
            }
        }
        return false;
    }

    private static String lowerFirst(String s) {
        if (s == null || s.isEmpty()) {
            return "invalid command line";
        }
        // picocli's messages start with a capital ("Unknown option"); ours continue "wengert train: ..."
        return s.length() > 1 && Character.isUpperCase(s.charAt(0)) && Character.isLowerCase(s.charAt(1))
                ? Character.toLowerCase(s.charAt(0)) + s.substring(1) : s;
    }

    /** An I/O failure in words: NIO's exceptions name only the path, so the reason is added. */
    static String ioMessage(IOException e) {
        if (e instanceof java.nio.file.FileSystemException f) {
            // a failed move names the temporary file first and the target second: the target is what the user knows
            String path = f.getOtherFile() != null ? f.getOtherFile() : f.getFile();
            return (path == null ? "" : path + ": ") + IoErrors.reason(f);
        }
        return e.getMessage() == null ? IoErrors.reason(e) : e.getMessage();
    }

    /** A failure while running: one line with the reason (I/O errors in words), exit code 1. */
    static int failure(Exception ex, CommandLine cl, Context context) {
        String name = cl.getCommandSpec().qualifiedName();
        String message;
        if (ex instanceof IOException io) {
            message = ioMessage(io);
        } else {
            message = ex.getMessage() == null ? ex.toString() : ex.getMessage();
        }
        context.err().println(name + ": error: " + message);
        if (!(ex instanceof IOException || ex.getClass() == IllegalArgumentException.class
                || ex.getClass() == IllegalStateException.class || ex instanceof java.util.NoSuchElementException)) {
            ex.printStackTrace(context.err());
        }
        return FAILED;
    }
}
