package dev.wengert.autograd.docs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.wengert.tensor.Scope;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Keeps docs/step-by-step.md honest: every ```java block must be preceded by {@code <!-- snippet:NAME -->}
 * and equal the lines between {@code // snippet:NAME} and {@code // end-snippet} in
 * {@link StepByStepSnippets} (dedented); every {@code <!-- output:NAME -->} block must equal what the
 * method NAME prints. Both fail when the document and the code drift apart.
 */
class StepByStepDocTest {
    private static final Path SNIPPETS = Path.of("src/test/java/dev/wengert/autograd/docs/StepByStepSnippets.java");
    private static final Pattern BLOCK = Pattern.compile("(?:<!-- (snippet|output):(\\w+) -->\\n)?```(\\w*)\\n(.*?)```",
            Pattern.DOTALL);

    /** The repository root: the working directory (Maven runs tests in autograd/) or its parent. */
    static Path root() {
        Path here = Path.of("").toAbsolutePath();
        for (Path p = here; p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("docs/step-by-step.md"))) {
                return p;
            }
        }
        throw new AssertionError("docs/step-by-step.md not found above " + here);
    }

    /** NAME -> dedented snippet text, from the source file. */
    static Map<String, String> snippets() throws IOException {
        Path src = root().resolve("autograd").resolve(SNIPPETS);
        Map<String, String> out = new LinkedHashMap<>();
        String name = null;
        List<String> lines = new ArrayList<>();
        for (String line : Files.readAllLines(src, StandardCharsets.UTF_8)) {
            String t = line.strip();
            if (t.startsWith("// snippet:")) {
                name = t.substring("// snippet:".length());
                lines.clear();
            } else if (t.equals("// end-snippet")) {
                out.put(name, dedent(lines));
                name = null;
            } else if (name != null) {
                lines.add(line);
            }
        }
        return out;
    }

    static String dedent(List<String> lines) {
        int indent = Integer.MAX_VALUE;
        for (String l : lines) {
            if (!l.isBlank()) {
                indent = Math.min(indent, l.length() - l.stripLeading().length());
            }
        }
        StringBuilder sb = new StringBuilder();
        for (String l : lines) {
            sb.append(l.isBlank() ? "" : l.substring(indent)).append('\n');
        }
        return sb.toString();
    }

    static String run(String name) throws Exception {
        Method m = StepByStepSnippets.class.getDeclaredMethod(name);
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        try (Scope s = Scope.open(); PrintStream capture = new PrintStream(buf, true, StandardCharsets.UTF_8)) {
            System.setOut(capture);
            m.invoke(null);
        } finally {
            System.setOut(old);
        }
        return buf.toString(StandardCharsets.UTF_8);
    }

    @Test
    void everyJavaBlockIsATestedSnippetAndEveryOutputIsWhatTheCodePrints() throws Exception {
        String doc = Files.readString(root().resolve("docs/step-by-step.md"), StandardCharsets.UTF_8);
        Map<String, String> snippets = snippets();
        Matcher m = BLOCK.matcher(doc);
        int javaBlocks = 0;
        int outputs = 0;
        List<String> shown = new ArrayList<>();
        while (m.find()) {
            String kind = m.group(1);
            String name = m.group(2);
            String lang = m.group(3);
            String body = m.group(4);
            if (lang.equals("java")) {
                if (!"snippet".equals(kind)) {
                    fail("a ```java block without <!-- snippet:NAME --> before it: every code block must be a tested snippet:\n" + body);
                }
                assertTrue(snippets.containsKey(name), "snippet '" + name + "' is not in " + SNIPPETS);
                assertEquals(snippets.get(name), body, "docs/step-by-step.md shows snippet '" + name + "' differently from " + SNIPPETS);
                shown.add(name);
                javaBlocks++;
            } else if ("output".equals(kind)) {
                assertEquals(run(name), body, "docs/step-by-step.md shows output '" + name + "' that the code no longer prints");
                outputs++;
            }
        }
        assertEquals(snippets.keySet().stream().toList(), shown, "every snippet appears once, in order");
        assertEquals(snippets.size(), javaBlocks);
        assertEquals(snippets.size(), outputs, "every snippet's output is shown");
    }

    @Test
    void dedentAndExtractionWork() {
        assertEquals("a\n  b\n\nc\n", dedent(List.of("    a", "      b", "", "    c")));
    }
}
