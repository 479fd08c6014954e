package dev.wengert.bench;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.scalar.Step;
import org.nd4j.linalg.api.ops.impl.transforms.custom.SoftMax;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The dense layers and the softmax cross-entropy of a workload, hand-written on raw ND4J for the floors
 * ({@link Nd4jFloorStep}, and {@link Nd4jCnnFloorStep} after its convolutions). Every buffer is allocated once;
 * GEMMs go through Nd4j.gemm with transpose flags into existing arrays, bias gradients are GEMMs with a ones
 * vector, and elementwise work is in place. Gradients by hand: dlogits = (softmax - onehot) / B, dW = dZ^T A,
 * db = 1^T dZ, dA = dZ W, dZ = dA * (Z > 0).
 */
final class Nd4jDenseLayers {
    private final int layers;
    private final int batch;
    private final INDArray onehot;
    private final INDArray ones;
    private final INDArray[] w;
    private final INDArray[] b;
    private final INDArray[] act;   // act[0] = the input, act[i+1] = output of layer i (after relu, logits last)
    private final INDArray[] dw;
    private final INDArray[] db;
    private final INDArray[] dz;    // gradient w.r.t. layer i's pre-activation
    private final INDArray[] masks; // masks[i] = act[i] > 0, the ReLU derivative
    private final INDArray probs;
    private final INDArray logp;

    /** @param input the first layer's input [batch, widths[0]] (read at every step: the caller may write it between steps) */
    Nd4jDenseLayers(Workload wl, INDArray input) {
        int[] n = wl.widths();
        layers = n.length - 1;
        batch = wl.batch();
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
        act[0] = input;
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

    /** Forward through the layers and the loss; leaves the logits' gradient for {@link #backward}. Returns the mean loss. */
    double forward() {
        for (int i = 0; i < layers; i++) {
            Nd4j.gemm(act[i], w[i], act[i + 1], false, true, 1.0, 0.0);
            act[i + 1].addiRowVector(b[i]);
            if (i < layers - 1) {
                Transforms.relu(act[i + 1], false);
            }
        }
        Nd4j.exec(new SoftMax(act[layers], probs, 1));
        // loss = -mean(sum(onehot * log p)); computed for reporting like the others
        Nd4j.getExecutioner().exec(new org.nd4j.linalg.api.ops.impl.transforms.strict.Log(probs, logp));
        double loss = -logp.muli(onehot).sumNumber().doubleValue() / batch;
        dz[layers - 1].assign(probs).subi(onehot).muli(1.0f / batch);
        return loss;
    }

    /** The weight and bias gradients, and the input's gradient into {@code dInput} [batch, widths[0]] unless null. */
    void backward(INDArray dInput) {
        for (int i = layers - 1; i >= 0; i--) {
            Nd4j.gemm(dz[i], act[i], dw[i], true, false, 1.0, 0.0);
            Nd4j.gemm(ones, dz[i], db[i], false, false, 1.0, 0.0);
            INDArray down = i > 0 ? dz[i - 1] : dInput;
            if (down != null) {
                Nd4j.gemm(dz[i], w[i], down, false, false, 1.0, 0.0);
            }
            if (i > 0) {
                Nd4j.getExecutioner().exec(new Step(act[i], masks[i]));
                down.muli(masks[i]);
            }
        }
    }

    /** Plain SGD on the weights and biases (the gradients are scaled in place). */
    void update(float lr) {
        for (int i = 0; i < layers; i++) {
            w[i].subi(dw[i].muli(lr));
            b[i].subi(db[i].muli(lr));
        }
    }
}
