package dev.wengert.bench;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The floor on the CPU: the same step hand-written on raw ND4J, with no autodiff at all. Every buffer
 * is allocated once; GEMMs go through Nd4j.gemm with transpose flags into existing arrays, bias
 * gradients are GEMMs with a ones vector, and elementwise work is in place (the fastest way to use ND4J,
 * per the measured facts): {@link Nd4jDenseLayers}, gradients derived by hand.
 */
final class Nd4jFloorStep implements TrainingStep {
    private final float lr;
    private final Nd4jDenseLayers dense;

    Nd4jFloorStep(Workload wl, float lr) {
        this.lr = lr;
        INDArray x = Nd4j.create(wl.inputData(1), new long[] {wl.batch(), wl.widths()[0]}, 'c');
        dense = new Nd4jDenseLayers(wl, x);
    }

    @Override
    public double step() {
        double loss = dense.forward();
        dense.backward(null);
        dense.update(lr);
        return loss;
    }
}
