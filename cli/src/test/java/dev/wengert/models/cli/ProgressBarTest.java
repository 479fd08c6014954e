package dev.wengert.models.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ProgressBarTest {

    private static final String NL = System.lineSeparator();
    private static final long MS = 1_000_000L;

    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    private final AtomicLong clock = new AtomicLong();

    private String text() {
        return bytes.toString(StandardCharsets.UTF_8);
    }

    private String takeText() {
        String t = text();
        bytes.reset();
        return t;
    }

    @Test
    void interactiveRedrawsOneLineAtMostTenTimesASecond() {
        ProgressBar bar = new ProgressBar(out, "epoch 1/5", 469, true, clock::get);

        bar.update(0, "loss 2.30");
        String first = "epoch 1/5 [>" + " ".repeat(29) + "]   0/469  loss 2.30";
        assertEquals("\r" + first, takeText());

        clock.set(50 * MS);
        bar.update(10, "loss 2.00");
        assertEquals("", takeText(), "no redraw within 100 ms");

        clock.set(150 * MS);
        bar.update(120, "loss 0.34  12,345 samples/s");
        String second = "epoch 1/5 [=======>" + " ".repeat(22) + "] 120/469  loss 0.34  12,345 samples/s";
        assertEquals("\r" + second, takeText());

        clock.set(160 * MS);
        bar.update(469, "loss 0.30");
        String last = "epoch 1/5 [" + "=".repeat(30) + "] 469/469  loss 0.30";
        assertEquals("\r" + last + " ".repeat(second.length() - last.length()), takeText(),
                "the last step is always drawn, and leftovers of the longer line are blanked");

        bar.finish("loss 0.30  acc 91.20%");
        assertEquals("\repoch 1/5 [" + "=".repeat(30) + "] 469/469  loss 0.30  acc 91.20%" + NL, takeText());
        bar.finish("again");
        assertEquals("", takeText(), "finish is idempotent");
    }

    @Test
    void interactiveRedrawCountIsBoundedByTheClock() {
        ProgressBar bar = new ProgressBar(out, "e", 1000, true, clock::get);
        for (int i = 0; i < 999; i++) {
            clock.addAndGet(MS); // 1 ms per step: ~1 s in total
            bar.update(i, "");
        }
        long redraws = text().chars().filter(c -> c == '\r').count();
        assertEquals(10, redraws, "first draw + one per 100 ms");
    }

    @Test
    void nonInteractivePrintsPlainLinesAtQuarterMilestones() {
        ProgressBar bar = new ProgressBar(out, "epoch 2/5", 8, false, clock::get);
        for (int i = 1; i <= 8; i++) {
            bar.update(i, "loss 0." + i);
        }
        bar.finish("loss 0.1  acc 90.0%");
        assertEquals("epoch 2/5  25% 2/8  loss 0.2" + NL
                + "epoch 2/5  50% 4/8  loss 0.4" + NL
                + "epoch 2/5  75% 6/8  loss 0.6" + NL
                + "epoch 2/5 100% 8/8  loss 0.8" + NL
                + "epoch 2/5 done 8/8  loss 0.1  acc 90.0%" + NL, text());
        assertFalse(text().contains("\r"));
    }

    @Test
    void nonInteractiveJumpPrintsOneLine() {
        ProgressBar bar = new ProgressBar(out, "e", 469, false, clock::get);
        bar.update(100, null);
        assertEquals("", takeText(), "21% has not reached a milestone");
        bar.update(400, "x");
        assertEquals("e  85% 400/469  x" + NL, takeText());
        bar.update(410, "x");
        assertEquals("", takeText());
    }

    @Test
    void emptyEpochAndMisuse() {
        ProgressBar bar = new ProgressBar(out, "e", 0, true, clock::get);
        bar.update(0, "");
        assertEquals("\re [" + "=".repeat(30) + "] 0/0", takeText());
        bar.finish(null);
        assertThrows(IllegalStateException.class, () -> bar.update(1, ""));
        ProgressBar other = new ProgressBar(out, "e", 5, false);
        assertThrows(IllegalArgumentException.class, () -> other.update(-1, ""));
        assertThrows(IllegalArgumentException.class, () -> new ProgressBar(out, "e", -1, false));
    }

    @Test
    void notInteractiveWithoutAConsole() {
        assumeTrue(System.console() == null, "running in a terminal");
        assertFalse(ProgressBar.isInteractive());
    }
}
