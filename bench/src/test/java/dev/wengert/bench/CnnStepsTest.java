package dev.wengert.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wengert.tensor.Device;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The reference steps compute the same training step: the CNN workloads' hand-written im2col floor, ND4J's
 * conv2d floor and SameDiff start from the same weights and data, so their losses agree step after step (a
 * wrong im2col layout, col2im argument or pooling gradient would make them part after the first step); so do an
 * MLP's floor and SameDiff (the dense layers the floors share, {@link Nd4jDenseLayers}). Wengert starts from
 * its zoo's initialisation, so its losses differ from the first step on.
 */
class CnnStepsTest {

    /** A small batch of the lenet5 workload, to keep the test quick. */
    private static Workload small(String model, int[] widths) {
        return new Workload(model + "-b8", model, widths, 8);
    }

    private static List<Double> losses(TrainingStep step, int n) {
        List<Double> out = new ArrayList<>();
        try (step) {
            for (int i = 0; i < n; i++) {
                out.add(step.step());
            }
        }
        return out;
    }

    @Test
    void bothFloorsAndSameDiffTakeTheSameStepsOnLenet5() {
        Workload wl = small(Workload.LENET5, new int[] {400, 120, 84, 10});
        float lr = 0.1f;
        List<Double> im2col = losses(new Nd4jCnnFloorStep(wl, lr, Nd4jCnnFloorStep.Mode.IM2COL), 4);
        List<Double> conv = losses(new Nd4jCnnFloorStep(wl, lr, Nd4jCnnFloorStep.Mode.NATIVE), 4);
        List<Double> sameDiff = new ArrayList<>();
        try (SameDiffStep sd = new SameDiffStep(wl, lr)) {
            for (int i = 0; i < 4; i++) {
                sameDiff.add(sd.loss());     // the loss step i sees (its history reports NaN, see SameDiffStep.step)
                sd.step();
            }
        }
        for (int i = 0; i < 4; i++) {
            assertEquals(conv.get(i), im2col.get(i), 1e-4, "step " + i + ": im2col " + im2col + " vs conv2d " + conv);
            assertEquals(conv.get(i), sameDiff.get(i), 1e-4, "step " + i + ": samediff " + sameDiff + " vs conv2d " + conv);
        }
        assertTrue(conv.get(3) < conv.get(0), "SGD on one batch lowers its loss: " + conv);
    }

    @Test
    void theMlpFloorAndSameDiffTakeTheSameSteps() {
        Workload wl = new Workload("mlp-b16", new int[] {784, 64, 32, 10}, 16);
        float lr = 0.1f;
        List<Double> floor = losses(new Nd4jFloorStep(wl, lr), 4);
        List<Double> sameDiff = new ArrayList<>();
        try (SameDiffStep sd = new SameDiffStep(wl, lr)) {
            for (int i = 0; i < 4; i++) {
                sameDiff.add(sd.loss());
                sd.step();
            }
        }
        for (int i = 0; i < 4; i++) {
            assertEquals(floor.get(i), sameDiff.get(i), 1e-4, "step " + i + ": samediff " + sameDiff + " vs floor " + floor);
        }
        assertTrue(floor.get(3) < floor.get(0), "SGD on one batch lowers its loss: " + floor);
    }

    @Test
    void bothFloorsTakeTheSameStepsOnTheConvnet() {
        Workload wl = small(Workload.CONVNET, new int[] {3136, 128, 10});
        List<Double> im2col = losses(new Nd4jCnnFloorStep(wl, 0.05f, Nd4jCnnFloorStep.Mode.IM2COL), 3);
        List<Double> conv = losses(new Nd4jCnnFloorStep(wl, 0.05f, Nd4jCnnFloorStep.Mode.NATIVE), 3);
        for (int i = 0; i < 3; i++) {
            assertEquals(conv.get(i), im2col.get(i), 1e-4, "step " + i + ": im2col " + im2col + " vs conv2d " + conv);
        }
    }

    @Test
    void theRunnerReportsTheFasterFloorAndNamesBoth() {
        Workload wl = Workload.named("lenet5-b64");
        assertEquals(List.of("wengert", "nd4j-im2col", "nd4j-conv2d", "samediff"),
                ThroughputRunner.expandFloor(wl, List.of("wengert", "nd4j", "samediff")));
        assertEquals(List.of("wengert", "nd4j"), ThroughputRunner.expandFloor(Workload.named("mlp-b512"), List.of("wengert", "nd4j")));
        Map<String, ThroughputRunner.Measurement> row = new LinkedHashMap<>();
        row.put("wengert", new ThroughputRunner.Measurement("wengert", 5, 1, -1, 3, 0));
        row.put("nd4j-im2col", new ThroughputRunner.Measurement("nd4j-im2col", 4, 1, -1, 3, 0));
        row.put("nd4j-conv2d", new ThroughputRunner.Measurement("nd4j-conv2d", 3, 1, -1, 3, 0));
        String note = ThroughputRunner.pickFloor(wl, row);
        assertEquals(3, row.get("nd4j").medianMs());
        assertEquals(List.of("wengert", "nd4j"), List.copyOf(row.keySet()));
        assertTrue(note.contains("4.00 ms") && note.contains("3.00 ms") && note.endsWith("nd4j-conv2d"), note);
        assertThrows(IllegalArgumentException.class, () -> ThroughputRunner.create("nd4j", wl, 0.1f, Device.CPU));
    }

    @Test
    void theCnnWorkloadsDescribeTheirLayers() {
        Workload lenet = Workload.named("lenet5-b64");
        assertEquals(784, lenet.inputs());
        assertEquals(10, lenet.classes());
        assertEquals(16 * 5 * 5, lenet.convs().get(1).out() * lenet.convs().get(1).pooledSide() * lenet.convs().get(1).pooledSide());
        Workload convnet = Workload.named("convnet-b256");
        Workload.Conv last = convnet.convs().get(1);
        assertEquals(convnet.widths()[0], last.out() * last.pooledSide() * last.pooledSide());
        // 28*28*32*9 + 14*14*64*32*9 + 3136*128 + 128*10
        assertEquals(28L * 28 * 32 * 9 + 14L * 14 * 64 * 32 * 9 + 3136L * 128 + 1280, convnet.macsPerSample());
        assertEquals("lenet5: 6@5x5, 16@5x5, 400-120-84-10, batch 64", lenet.describe());
    }
}
