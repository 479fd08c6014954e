package dev.wengert.models.nn;

import dev.wengert.tensor.DType;
import dev.wengert.tensor.Device;
import dev.wengert.tensor.Tensor;

/**
 * Weight initialisers with explicit seeds (reproducible on every backend: the tensor library's random
 * numbers depend only on the seed and the element index). {@code fanIn} and {@code fanOut} are the
 * input and output sizes of the layer; bounds follow PyTorch's {@code torch.nn.init}.
 */
@FunctionalInterface
public interface Init {

    /** A new tensor of {@code shape} in the current scope. */
    Tensor create(int fanIn, int fanOut, long seed, DType dtype, Device device, int... shape);

    /** Glorot/Xavier uniform: U(-a, a) with a = sqrt(6 / (fanIn + fanOut)); for tanh and sigmoid layers. */
    Init XAVIER_UNIFORM = (in, out, seed, dt, dev, shape) -> {
        double a = Math.sqrt(6.0 / (in + out));
        return Tensor.on(dev).uniform(-a, a, seed, dt, shape);
    };

    /** Glorot/Xavier normal: N(0, 2 / (fanIn + fanOut)). */
    Init XAVIER_NORMAL = (in, out, seed, dt, dev, shape) -> Tensor.on(dev).normal(0, Math.sqrt(2.0 / (in + out)), seed, dt, shape);

    /** Kaiming/He uniform for ReLU: U(-a, a) with a = sqrt(6 / fanIn). */
    Init KAIMING_UNIFORM = (in, out, seed, dt, dev, shape) -> {
        double a = Math.sqrt(6.0 / in);
        return Tensor.on(dev).uniform(-a, a, seed, dt, shape);
    };

    /** Kaiming/He normal for ReLU: N(0, 2 / fanIn). */
    Init KAIMING_NORMAL = (in, out, seed, dt, dev, shape) -> Tensor.on(dev).normal(0, Math.sqrt(2.0 / in), seed, dt, shape);

    /**
     * PyTorch's default for Linear and Conv2d weights, kaiming_uniform(a = sqrt(5)): U(-b, b) with
     * b = gain * sqrt(3 / fanIn), gain = sqrt(2 / (1 + a^2)), which is b = 1 / sqrt(fanIn).
     */
    Init PYTORCH_DEFAULT = (in, out, seed, dt, dev, shape) -> {
        double b = 1 / Math.sqrt(in);
        return Tensor.on(dev).uniform(-b, b, seed, dt, shape);
    };

    /** All zeros (biases). */
    Init ZEROS = (in, out, seed, dt, dev, shape) -> Tensor.on(dev).zeros(dt, shape);
}
