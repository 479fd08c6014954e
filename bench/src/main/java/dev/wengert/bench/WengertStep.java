package dev.wengert.bench;

import dev.wengert.autograd.Var;
import dev.wengert.models.loss.Losses;
import dev.wengert.models.nn.Module;
import dev.wengert.models.optim.Sgd;
import dev.wengert.models.zoo.ModelSpec;
import dev.wengert.tensor.Backends;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.Device;
import dev.wengert.tensor.Scope;
import dev.wengert.tensor.Tensor;
import dev.wengert.tensor.TensorFactory;
import java.util.Arrays;

/**
 * Wengert's step exactly as a user of the zoo writes it: the zoo's model (Linear layers computing
 * x @ W^T + b, ReLU; for a CNN workload the zoo's lenet5 or plain convnet), {@link Losses#crossEntropy}, backward(), and the zoo's {@link Sgd}, inside a
 * {@link Scope} per step so nothing accumulates.
 */
final class WengertStep implements TrainingStep {
    private final Module model;
    private final Sgd sgd;
    private final Tensor x;
    private final Tensor labels;
    private final Device device;

    WengertStep(Workload wl, float lr, Device device) {
        this.device = device;
        int[] n = wl.widths();
        ModelSpec spec = switch (wl.model()) {
            case Workload.LENET5 -> ModelSpec.lenet5(wl.inputs(), wl.classes());
            case Workload.CONVNET -> ModelSpec.convnet(wl.inputs(), wl.classes(), false, 0);
            default -> n.length == 2 ? ModelSpec.logreg(n[0], n[1])
                    : ModelSpec.mlp(n[0], Arrays.copyOfRange(n, 1, n.length - 1), n[n.length - 1]);
        };
        model = spec.build(1, DType.FLOAT32, device);
        sgd = new Sgd(model.parameters(), lr);
        TensorFactory on = Tensor.on(device);
        x = on.of(wl.inputData(1), wl.batch(), wl.inputs()).keepForever();
        labels = on.of(wl.labels(1)).keepForever();
        Backends.of(device).resetPeak();
    }

    @Override
    public double step() {
        try (Scope s = Scope.open()) {
            Var loss = Losses.crossEntropy(model.forward(Var.constant(x)), labels);
            loss.backward();
            sgd.step();
            sgd.zeroGrad();
            return loss.item();
        }
    }

    @Override
    public long peakBytes() {
        return Backends.of(device).memoryStats().peakAllocatedBytes();
    }

    @Override
    public void close() {
        sgd.close();
        model.close();
        x.close();
        labels.close();
    }
}
