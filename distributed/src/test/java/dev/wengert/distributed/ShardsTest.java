package dev.wengert.distributed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wengert.models.data.BatchLoader;
import dev.wengert.models.nn.Sequential;
import dev.wengert.models.optim.Optimizer;
import dev.wengert.models.train.Trainer;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.Scope;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The shares of a batch, a loader's partial batches, and the data-parallel loop in one process (no MPI needed). */
class ShardsTest {

    @Test
    void theSharesCoverEveryRowOnceAndDifferByAtMostOne() {
        for (int size = 1; size <= 5; size++) {
            for (int rows = 0; rows <= 23; rows++) {
                int next = 0;
                int min = Integer.MAX_VALUE;
                int max = 0;
                for (int r = 0; r < size; r++) {
                    assertEquals(next, Shards.from(rows, r, size), rows + " rows, rank " + r + " of " + size);
                    next = Shards.to(rows, r, size);
                    min = Math.min(min, next - Shards.from(rows, r, size));
                    max = Math.max(max, next - Shards.from(rows, r, size));
                }
                assertEquals(rows, next);
                assertTrue(max - min <= 1, rows + " rows over " + size);
            }
        }
        assertThrows(IllegalArgumentException.class, () -> Shards.from(4, 2, 2));
        assertThrows(IllegalArgumentException.class, () -> Shards.to(-1, 0, 2));
    }

    @Test
    void aShareOfABatchIsThoseRowsOfIt() {
        BatchLoader loader = DataParallelCheck.Scenario.named("logreg64odd").loader();
        BatchLoader.Epoch epoch = loader.epoch(1);
        try (Scope s = Scope.open()) {
            for (int i = 0; i < epoch.batches(); i++) {
                BatchLoader.Batch whole = epoch.batch(i);
                assertEquals(whole.size(), epoch.batchRows(i));
                int rows = whole.size();
                BatchLoader.Batch part = epoch.batch(i, 1, rows);
                assertArrayEquals(whole.features().narrow(0, 1, rows - 1).toFloatArray(), part.features().toFloatArray());
                assertArrayEquals(whole.labels().narrow(0, 1, rows - 1).toLongArray(), part.labels().toLongArray());
            }
            assertEquals(1, epoch.batchRows(epoch.batches() - 1), "43 rows in batches of 7 leave 1");
            assertThrows(IndexOutOfBoundsException.class, () -> epoch.batch(0, 3, 8));
        }
    }

    @Test
    void inOneProcessItTrainsAsTheTrainerDoes() {
        DataParallelCheck.Scenario s = DataParallelCheck.Scenario.named("logreg32");
        List<Trainer.EpochResult> want;
        List<Trainer.EpochResult> got;
        try (Sequential net = s.build(); Optimizer opt = s.optimizer(net)) {
            want = new Trainer(net, opt, null, null).fit(s.loader(), s.loader(), 0, 2).epochs();
        }
        try (Sequential net = s.build(); Optimizer opt = s.optimizer(net)) {
            DataParallelTrainer t = new DataParallelTrainer(new SingleProcess(), net, opt, null, null, 16);
            assertTrue(t.bucketCount() >= 2, "16-byte buckets split logreg's weight and bias");
            t.broadcastParameters();
            got = t.fit(s.loader(), s.loader(), 0, 2).epochs();
            assertEquals(t.bucketCount(), t.bucketsStartedDuringBackward(), "every bucket started from the backward pass");
        }
        assertEquals(2, got.size());
        for (int e = 0; e < 2; e++) {
            Trainer.EpochResult a = want.get(e).withoutTimes();
            Trainer.EpochResult b = got.get(e).withoutTimes();
            assertEquals(a.valAccuracy(), b.valAccuracy(), "epoch " + (e + 1));
            assertEquals(a.valLoss(), b.valLoss(), 1e-6, "epoch " + (e + 1));
            assertEquals(a.trainLoss(), b.trainLoss(), 1e-6, "epoch " + (e + 1));
            assertEquals(a.lr(), b.lr());
        }
        assertEquals(DType.FLOAT32, s.dtype());
    }
}
