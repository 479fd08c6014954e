package dev.wengert.models.cli;

import dev.wengert.models.plot.TrainingPlot;
import dev.wengert.models.train.Trainer;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;

/**
 * Redraws training.png after each epoch. It names no java.awt class itself, so that it loads where java.desktop is
 * missing (a jlink'd runtime). Plotting is optional: where it cannot work (a Java runtime without
 * java.desktop, no fonts, a broken headless toolkit) it warns once, says that the run's other files are
 * complete, and never tries again in this run.
 */
final class PlotWriter {
    private final Path file;
    private final String title;
    private final PrintStream out;
    private boolean disabled;
    private boolean written;
    private List<String> lastNotes = List.of();

    PlotWriter(Path file, String title, PrintStream out) {
        this.file = file;
        this.title = title;
        this.out = out;
    }

    /**
     * Draws the curves so far (training loss; validation accuracy, or an empty panel saying there is none);
     * false (after one warning) when plotting does not work here.
     */
    boolean draw(List<Trainer.EpochResult> results, boolean validation) {
        if (disabled) {
            return false;
        }
        String problem;
        try {
            List<String> notes = TrainingPlot.write(file, title,
                    results.stream().mapToDouble(Trainer.EpochResult::trainLoss).toArray(),
                    validation ? results.stream().mapToDouble(Trainer.EpochResult::valAccuracy).toArray() : new double[0],
                    validation ? "validation accuracy" : "no validation (--val-fraction 0)");
            if (!notes.isEmpty() && !notes.equals(lastNotes)) {
                out.println("plot: " + String.join("; ", notes));
            }
            lastNotes = notes;
            written = true;
            return true;
        } catch (LinkageError e) {
            problem = "this Java runtime lacks what plotting needs (java.desktop): " + e.getClass().getSimpleName()
                    + ": " + e.getMessage();
        } catch (InternalError e) {
            problem = "no graphics or fonts in this Java runtime: " + e.getMessage();
        } catch (Error e) {
            // java.awt.AWTError (no toolkit, no fonts) is named, not caught by type: this class must load without java.desktop
            if (!e.getClass().getName().equals("java.awt.AWTError")) {
                throw e;
            }
            problem = "no graphics toolkit in this Java runtime: " + e.getMessage();
        } catch (IOException e) {
            problem = Main.ioMessage(e);
        } catch (RuntimeException e) {
            problem = e.toString();
        }
        disabled = true;
        out.println("warning: no training plot (" + problem + "); the checkpoint and metrics files are complete");
        return false;
    }

    /** Whether training.png holds the curves of the last successful draw. */
    boolean written() {
        return written;
    }
}
