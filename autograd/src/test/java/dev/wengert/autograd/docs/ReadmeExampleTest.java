package dev.wengert.autograd.docs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wengert.autograd.Var;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.ScopePerTest;
import dev.wengert.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The README's ten-line example: its code is this code, and the values in its comments are what it prints. */
@ExtendWith(ScopePerTest.class) // the README's lines run as a user's would, inside a scope that frees them
class ReadmeExampleTest {

    @Test
    void readmeExampleIsTrue() throws IOException {
        String readme = Files.readString(Path.of("..", "README.md"));
        String[] code = {
            "Var x1 = Var.param(Tensor.scalar(2, DType.FLOAT64));",
            "Var x2 = Var.param(Tensor.scalar(5, DType.FLOAT64));",
            "Var f = x1.log().add(x1.mul(x2)).sub(x2.sin());",
            "f.backward();",
        };
        for (String line : code) {
            assertTrue(readme.contains(line), "README no longer contains: " + line);
        }
        Var x1 = Var.param(Tensor.scalar(2, DType.FLOAT64));
        Var x2 = Var.param(Tensor.scalar(5, DType.FLOAT64));
        Var f = x1.log().add(x1.mul(x2)).sub(x2.sin());
        f.backward();
        assertPrinted(readme, "System.out.println(f.item());", f.item());
        assertPrinted(readme, "System.out.println(x1.gradTensor().item());", x1.gradTensor().item());
        assertPrinted(readme, "System.out.println(x2.gradTensor().item());", x2.gradTensor().item());
    }

    /** examples/readme-example, the README's example as a user's project, has the README's lines (indentation aside). */
    @Test
    void exampleProjectHasTheReadmeLines() throws IOException {
        String readme = Files.readString(Path.of("..", "README.md"));
        int from = readme.indexOf("```java", readme.indexOf("## Ten lines that compute a gradient")) + "```java".length();
        List<String> block = readme.substring(from, readme.indexOf("```", from)).lines()
                .map(String::strip).filter(l -> !l.isEmpty()).toList();
        Set<String> example = Files.readString(Path.of("..", "examples", "readme-example", "src", "main", "java", "dev", "wengert",
                "examples", "readme", "ReadmeExample.java")).lines().map(String::strip).collect(Collectors.toSet());
        assertTrue(block.size() >= 10, "the README's example block: " + block);
        for (String line : block) {
            assertTrue(example.contains(line), "examples/readme-example's ReadmeExample.java lacks the README line: " + line);
        }
    }

    /** The README line {@code statement // value} shows exactly the value Java prints. */
    private static void assertPrinted(String readme, String statement, double value) {
        int at = readme.indexOf(statement);
        assertTrue(at >= 0, "README no longer contains: " + statement);
        String rest = readme.substring(at + statement.length(), readme.indexOf('\n', at));
        assertEquals("// " + value, rest.trim(), "README comment after " + statement);
    }
}
