package dev.wengert.tensor.cuda;

import dev.wengert.tensor.ComposedFusedOps;
import dev.wengert.tensor.FusedOps;
import dev.wengert.tensor.Tensor;

/** The CUDA backend's fused operations: the kernels of fused.cuh through {@link CudaFused}. */
final class CudaFusedOps implements FusedOps {
    static final CudaFusedOps INSTANCE = new CudaFusedOps();

    private CudaFusedOps() {
    }

    @Override
    public void softmaxCrossEntropy(Tensor logits, Tensor labels, Tensor loss) {
        CudaFused.softmaxCrossEntropy(logits, labels, loss);
    }

    @Override
    public void softmaxCrossEntropyBackward(Tensor logits, Tensor labels, Tensor gradLoss, double scale, Tensor grad) {
        CudaFused.softmaxCrossEntropyBackward(logits, labels, gradLoss, scale, grad);
    }

    @Override
    public void sgd(Tensor param, Tensor grad, Tensor velocity, double lr, double momentum, double weightDecay, boolean nesterov) {
        if (velocity == null) { // plain SGD: two elementwise launches, nothing to fuse a velocity into
            ComposedFusedOps.INSTANCE.sgd(param, grad, null, lr, momentum, weightDecay, nesterov);
        } else {
            CudaFused.sgdMomentum(param, grad, velocity, lr, momentum, weightDecay, nesterov);
        }
    }

    @Override
    public void adam(Tensor param, Tensor grad, Tensor m, Tensor v, double lr, double beta1, double beta2, double eps,
                     double weightDecay, long step, boolean decoupled) {
        CudaFused.adam(param, grad, m, v, lr, beta1, beta2, eps, weightDecay, step, decoupled);
    }
}
