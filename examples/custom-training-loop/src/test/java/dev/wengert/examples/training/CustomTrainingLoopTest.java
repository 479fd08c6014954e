package dev.wengert.examples.training;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class CustomTrainingLoopTest {

    @Test
    void learnsToSeparateTheCircleFromTheRing() {
        CustomTrainingLoop.Result result = CustomTrainingLoop.train(10, 42);
        List<Double> losses = result.epochLosses();
        double first = losses.get(0);
        double last = losses.get(losses.size() - 1);
        assertTrue(last < first / 4, "the loss fell from " + first + " to " + last + " only");
        assertTrue(result.testAccuracy() > 0.95, "test accuracy " + result.testAccuracy());
    }
}
