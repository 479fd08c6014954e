package dev.wengert.examples.readme;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Runs the example and checks that it prints what its comments (and so the README) say. */
class ReadmeExampleTest {

    @Test
    void printsTheValuesInItsComments() throws IOException {
        List<String> printed = run();
        List<String> promised = Files.readAllLines(Path.of("src/main/java/dev/wengert/examples/readme/ReadmeExample.java"))
                .stream()
                .filter(line -> line.contains("System.out.println("))
                .map(line -> line.substring(line.indexOf("//") + 2).trim())
                .toList();
        assertEquals(List.of("11.652071455223084", "5.5", "1.7163378145367738"), promised);
        assertEquals(promised, printed);
        // and the values are right: f = ln x1 + x1 x2 - sin x2, df/dx1 = 1/x1 + x2, df/dx2 = x1 - cos x2
        assertEquals(Math.log(2) + 10 - Math.sin(5), Double.parseDouble(printed.get(0)), 1e-12);
        assertEquals(1 / 2.0 + 5, Double.parseDouble(printed.get(1)), 1e-12);
        assertEquals(2 - Math.cos(5), Double.parseDouble(printed.get(2)), 1e-12);
    }

    private static List<String> run() {
        PrintStream out = System.out;
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buffer, true, StandardCharsets.UTF_8));
        try {
            ReadmeExample.main(new String[0]);
        } finally {
            System.setOut(out);
        }
        return buffer.toString(StandardCharsets.UTF_8).lines().toList();
    }
}
