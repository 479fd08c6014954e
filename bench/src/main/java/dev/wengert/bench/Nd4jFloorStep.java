package dev.wengert.bench;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.scalar.Step;
import org.nd4j.linalg.api.ops.impl.transforms.custom.SoftMax;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The floor on the CPU: the same step hand-written on raw ND4J, with no autodiff at all. Every buffer
 * is allocated once; GEMMs go through Nd4j.gemm with transpose flags into existing arrays, bias
 * gradients are GEMMs with a ones vector, and elementwise work is in place (the fastest way to use ND4J,
 * per the measured facts). Gradients are derived by hand:
 * dlogits = (softmax - onehot) / B, dW = dZ^T A, db = 1^T dZ, dA = dZ W, dZ = dA * (Z > 0).
 */
final class Nd4jFloorStep implements TrainingStep {
    private final int layers;
    private final int batch;
    private final float lr;
    private final INDArray x;
    private final INDArray onehot;
    private final INDArray ones;
    private final INDArray[] w;
    private final INDArray[] b;
    private final INDArray[] act;   // act[0] = x, act[i+1] = output of layer i (after relu, logits last)
    private final INDArray[] dw;
    private final INDArray[] db;
    private final INDArray[] dz;    // gradient w.r.t. layer i's pre-activation
    private final INDArray[] masks; // masks[i] = act[i] > 0, the ReLU derivative
    private final INDArray probs;
    private final INDArray logp;

    Nd4jFloorStep(Workload wl, float lr) {
        this.layers = wl.widths().length - 1;
        this.batch = wl.batch();
        this.lr = lr;
        int[] n = wl.widths();
        x = Nd4j.create(wl.inputData(1), new long[] {batch, n[0]}, 'c');
        long[] labels = wl.labels(1);
        onehot = Nd4j.zeros(DataType.FLOAT, batch, wl.classes());
        for (int i = 0; i < batch; i++) {
            onehot.putScalar(i, (int) labels[i], 1f);
        }
        ones = Nd4j.ones(DataType.FLOAT, 1, batch);
        w = new INDArray[layers];
        b = new INDArray[layers];
        dw = new INDArray[layers];
        db = new INDArray[layers];
        dz = new INDArray[layers];
        act = new INDArray[layers + 1];
        act[0] = x;
        masks = new INDArray[layers];
        for (int i = 0; i < layers; i++) {
            w[i] = Nd4j.create(wl.initialWeights(i, 1), new long[] {n[i + 1], n[i]}, 'c');
            b[i] = Nd4j.zeros(DataType.FLOAT, 1, n[i + 1]);
            dw[i] = Nd4j.create(DataType.FLOAT, n[i + 1], n[i]);
            db[i] = Nd4j.create(DataType.FLOAT, 1, n[i + 1]);
            dz[i] = Nd4j.create(DataType.FLOAT, batch, n[i + 1]);
            act[i + 1] = Nd4j.create(DataType.FLOAT, batch, n[i + 1]);
            masks[i] = Nd4j.create(DataType.FLOAT, batch, n[i]);
        }
        probs = Nd4j.create(DataType.FLOAT, batch, wl.classes());
        logp = Nd4j.create(DataType.FLOAT, batch, wl.classes());
    }

    @Override
    public double step() {
        for (int i = 0; i < layers; i++) {
            Nd4j.gemm(act[i], w[i], act[i + 1], false, true, 1.0, 0.0);
            act[i + 1].addiRowVector(b[i]);
            if (i < layers - 1) {
                org.nd4j.linalg.ops.transforms.Transforms.relu(act[i + 1], false);
            }
        }
        INDArray logits = act[layers];
        Nd4j.exec(new SoftMax(logits, probs, 1));
        // loss = -mean(sum(onehot * log p)); computed for reporting like the others
        Nd4j.getExecutioner().exec(new org.nd4j.linalg.api.ops.impl.transforms.strict.Log(probs, logp));
        double loss = -logp.muli(onehot).sumNumber().doubleValue() / batch;
        INDArray g = dz[layers - 1];
        g.assign(probs).subi(onehot).muli(1.0f / batch);
        for (int i = layers - 1; i >= 0; i--) {
            Nd4j.gemm(dz[i], act[i], dw[i], true, false, 1.0, 0.0);
            Nd4j.gemm(ones, dz[i], db[i], false, false, 1.0, 0.0);
            if (i > 0) {
                Nd4j.gemm(dz[i], w[i], dz[i - 1], false, false, 1.0, 0.0);
                Nd4j.getExecutioner().exec(new Step(act[i], masks[i]));
                dz[i - 1].muli(masks[i]);
            }
        }
        for (int i = 0; i < layers; i++) {
            w[i].subi(dw[i].muli(lr));
            b[i].subi(db[i].muli(lr));
        }
        return loss;
    }
}
