package dev.wengert.models.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wengert.models.data.BatchLoader;
import dev.wengert.models.data.MnistData;
import dev.wengert.models.io.SafeTensors;
import dev.wengert.models.nn.BatchNorm1d;
import dev.wengert.models.nn.Init;
import dev.wengert.models.nn.Linear;
import dev.wengert.models.nn.ReLU;
import dev.wengert.models.nn.Sequential;
import dev.wengert.models.optim.Adam;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.Device;
import dev.wengert.tensor.Scope;
import dev.wengert.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A network with batch normalisation resumes exactly: its buffers (running statistics and
 * num_batches_tracked) are saved in the training checkpoint under PyTorch's state_dict names, in their
 * dtypes, and restored, so 2 + 2 epochs equal 4 in one go bit for bit on the CPU (parameters, buffers,
 * validation figures, which use the running statistics).
 */
class BatchNormCheckpointTest {
    @TempDir
    Path dir;

    private static BatchLoader train;
    private static BatchLoader val;
    private static TrainingCheckpoint.DataSpec data;

    @BeforeAll
    static void data() throws IOException {
        MnistData.HoldOut parts = MnistData.embedded().train().holdOut(0.1, 42);
        train = BatchLoader.of(parts.train(), 64, true, 42, Device.CPU);
        val = BatchLoader.of(parts.validation(), 1000, false, 0, Device.CPU);
        data = TrainingCheckpoint.DataSpec.of(train, val, 28, 28);
    }

    /** 784-32-10 with BatchNorm1d(32) after the first layer; the seed makes a fresh model differ. */
    private static Sequential model(long seed) {
        try (Scope s = Scope.open()) {
            return new Sequential(new Linear(784, 32, Init.KAIMING_UNIFORM, seed, DType.FLOAT32, Device.CPU),
                    new BatchNorm1d(32, DType.FLOAT32, Device.CPU), new ReLU(),
                    new Linear(32, 10, Init.XAVIER_UNIFORM, seed + 1, DType.FLOAT32, Device.CPU));
        }
    }

    /** Parameters and buffers by name, as raw doubles (float32 and int64 values are exact in a double). */
    private static Map<String, double[]> state(Sequential model) {
        Map<String, double[]> out = new LinkedHashMap<>();
        model.namedParameters().forEach((n, p) -> out.put(n, p.value().toDoubleArray()));
        model.namedBuffers().forEach((n, t) -> out.put(n, t.toDoubleArray()));
        return out;
    }

    @Test
    void resumedRunEqualsTheRunInOneGo() throws IOException {
        Map<String, double[]> straight;
        List<Trainer.EpochResult> straightEpochs;
        try (Sequential model = model(1); Adam opt = new Adam(model.parameters(), 1e-3)) {
            straightEpochs = new Trainer(model, opt, null, null).fit(train, val, 0, 4).epochs();
            model.zeroGrad();
            straight = state(model);
        }
        Path file = dir.resolve("half.safetensors");
        try (Sequential model = model(1); Adam opt = new Adam(model.parameters(), 1e-3)) {
            List<Trainer.EpochResult> r = new Trainer(model, opt, null, null).fit(train, val, 0, 2).epochs();
            TrainingCheckpoint.save(file, model, opt, null, data, new TrainingCheckpoint.Progress(2, r.get(1), 0, Double.NaN),
                    Map.of());
            model.zeroGrad();
        }
        SafeTensors.Contents saved = SafeTensors.read(file);
        assertEquals("F32", saved.tensors().get("1.running_mean").dtype());
        assertArrayEquals(new long[] {32}, saved.tensors().get("1.running_var").shape());
        assertEquals("I64", saved.tensors().get("1.num_batches_tracked").dtype());
        assertArrayEquals(new long[0], saved.tensors().get("1.num_batches_tracked").shape(), "a scalar, as in PyTorch's state_dict");
        int stepsPerEpoch = (train.size() + train.batchSize() - 1) / train.batchSize();
        assertEquals(2L * stepsPerEpoch, saved.tensors().get("1.num_batches_tracked").asLongs()[0]);

        TrainingCheckpoint.Loaded last = TrainingCheckpoint.read(file);
        try (Sequential model = model(77); Adam opt = new Adam(model.parameters(), 1e-3)) {
            assertEquals(0, ((BatchNorm1d) model.layer(1)).runningMean().toDoubleArray()[0], "a fresh model's running mean is 0");
            last.restore(model, opt);
            List<Trainer.EpochResult> r = new Trainer(model, opt, null, null).fit(train, val, 2, 4).epochs();
            model.zeroGrad();
            Map<String, double[]> resumed = state(model);
            assertEquals(straight.keySet(), resumed.keySet());
            straight.forEach((n, v) -> assertArrayEquals(v, resumed.get(n), n + " differs after resuming"));
            assertEquals(4L * stepsPerEpoch, resumed.get("1.num_batches_tracked")[0]);
            assertEquals(straightEpochs.get(3).withoutTimes(), r.get(1).withoutTimes(), "epoch 4's figures");
        }
    }

    @Test
    void aCheckpointWithoutTheBuffersIsRefused() throws IOException {
        Path file = dir.resolve("plain.safetensors");
        try (Scope s = Scope.open();
                Sequential plain = new Sequential(new Linear(784, 32, Init.KAIMING_UNIFORM, 1, DType.FLOAT32, Device.CPU),
                        new Linear(32, 32, Init.KAIMING_UNIFORM, 2, DType.FLOAT32, Device.CPU), new ReLU(),
                        new Linear(32, 10, Init.XAVIER_UNIFORM, 3, DType.FLOAT32, Device.CPU));
                Adam opt = new Adam(plain.parameters(), 1e-3)) {
            TrainingCheckpoint.save(file, plain, opt, null, data, new TrainingCheckpoint.Progress(0, null, 0, Double.NaN), Map.of());
        }
        TrainingCheckpoint.Loaded loaded = TrainingCheckpoint.read(file);
        try (Sequential model = model(1); Adam opt = new Adam(model.parameters(), 1e-3)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> loaded.restore(model, opt));
            assertTrue(e.getMessage().contains("do not match the model's") && e.getMessage().contains("1.running_mean"),
                    e.getMessage());
            Tensor rm = ((BatchNorm1d) model.layer(1)).runningMean();
            assertFalse(rm.isClosed());
            assertArrayEquals(new double[32], rm.toDoubleArray(), "a refused restore modifies nothing");
        }
    }
}
