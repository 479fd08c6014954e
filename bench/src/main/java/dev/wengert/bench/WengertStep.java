package dev.wengert.bench;

import dev.wengert.autograd.Grad;
import dev.wengert.autograd.Var;
import dev.wengert.tensor.Backends;
import dev.wengert.tensor.BinaryOp;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.Device;
import dev.wengert.tensor.Scope;
import dev.wengert.tensor.Tensor;
import dev.wengert.tensor.TensorFactory;

/**
 * Wengert's step, written as a user would with Var: linear layers as x @ W^T + b (the transpose is a
 * GEMM flag, not a copy), ReLU, log-softmax + gather for the cross-entropy, backward(), and an in-place
 * SGD update without recording. Each step runs in a {@link Scope}, so nothing accumulates.
 */
final class WengertStep implements TrainingStep {
    private final Var[] w;
    private final Var[] b;
    private final Tensor x;
    private final Tensor labels;
    private final Tensor lr;
    private final Device device;

    WengertStep(Workload wl, float lr, Device device) {
        this.device = device;
        TensorFactory on = Tensor.on(device);
        int[] n = wl.widths();
        int layers = n.length - 1;
        w = new Var[layers];
        b = new Var[layers];
        for (int i = 0; i < layers; i++) {
            w[i] = Var.param(on.of(wl.initialWeights(i, 1), n[i + 1], n[i]).keepForever());
            b[i] = Var.param(on.zeros(DType.FLOAT32, n[i + 1]).keepForever());
        }
        x = on.of(wl.inputData(1), wl.batch(), n[0]).keepForever();
        labels = on.of(wl.labels(1), wl.batch(), 1).keepForever();
        this.lr = on.full(lr, DType.FLOAT32).keepForever();
        Backends.of(device).memoryStats();
    }

    @Override
    public double step() {
        try (Scope s = Scope.open()) {
            Var a = Var.constant(x);
            for (int i = 0; i < w.length; i++) {
                a = a.matmul(false, w[i], true).add(b[i]);
                if (i < w.length - 1) {
                    a = a.relu();
                }
            }
            Var loss = a.logSoftmax(1).gather(1, labels).mean().neg();
            loss.backward();
            try (Grad.Mode off = Grad.noGrad()) {
                for (Var p : concat(w, b)) {
                    p.value().applyInPlace(BinaryOp.SUB, p.gradTensor().applyInPlace(BinaryOp.MUL, lr));
                    p.zeroGrad();
                }
            }
            return loss.item();
        }
    }

    private static Var[] concat(Var[] a, Var[] b) {
        Var[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @Override
    public long peakBytes() {
        return Backends.of(device).memoryStats().peakAllocatedBytes();
    }

    @Override
    public void close() {
        for (Var p : concat(w, b)) {
            p.value().close();
        }
        x.close();
        labels.close();
        lr.close();
    }
}
