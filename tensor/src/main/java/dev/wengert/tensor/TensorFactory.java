package dev.wengert.tensor;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Creates tensors on one device. Obtain with {@link Tensor#on(Device)}; Tensor's static factories use the default device. */
public final class TensorFactory {
    private static final Map<Device, TensorFactory> FACTORIES = new ConcurrentHashMap<>();

    private final Device device;

    private TensorFactory(Device device) {
        this.device = device;
    }

    static TensorFactory of(Device device) {
        return FACTORIES.computeIfAbsent(device, TensorFactory::new);
    }

    private Backend backend() {
        return Backends.of(device);
    }

    public Device device() {
        return device;
    }

    /** A float32 tensor with a copy of {@code data}; a vector when no shape is given. */
    public Tensor of(float[] data, int... shape) {
        return upload(data, data.length, DType.FLOAT32, shape);
    }

    /** A float64 tensor with a copy of {@code data}. */
    public Tensor of(double[] data, int... shape) {
        return upload(data, data.length, DType.FLOAT64, shape);
    }

    /** An int64 tensor with a copy of {@code data}. */
    public Tensor of(long[] data, int... shape) {
        return upload(data, data.length, DType.INT64, shape);
    }

    private Tensor upload(Object data, int length, DType dtype, int[] shape) {
        int[] s = shape.length == 0 ? new int[] {length} : shape;
        if (Shape.numel(s) != length) {
            throw new IllegalArgumentException("of: " + length + " values do not fill shape " + Shape.str(s)
                    + " (" + Shape.numel(s) + " elements)");
        }
        Tensor t = Tensor.empty(backend(), dtype, s);
        backend().upload(data, t);
        return t;
    }

    /**
     * An uninitialised tensor (like torch.empty): for outputs that an op overwrites completely. Reading it
     * before writing gives unspecified values.
     */
    public Tensor empty(DType dtype, int... shape) {
        return Tensor.empty(backend(), dtype, shape.clone());
    }

    public Tensor zeros(DType dtype, int... shape) {
        return full(0, dtype, shape);
    }

    public Tensor ones(DType dtype, int... shape) {
        return full(1, dtype, shape);
    }

    /** Every element {@code value}; a scalar when no shape is given. */
    public Tensor full(double value, DType dtype, int... shape) {
        Tensor t = Tensor.empty(backend(), dtype, shape);
        backend().fill(t, value);
        return t;
    }

    /** 0, 1, ..., n-1. */
    public Tensor arange(int n, DType dtype) {
        return switch (dtype) {
            case FLOAT32 -> {
                float[] v = new float[n];
                for (int i = 0; i < n; i++) {
                    v[i] = i;
                }
                yield of(v);
            }
            case FLOAT64 -> {
                double[] v = new double[n];
                for (int i = 0; i < n; i++) {
                    v[i] = i;
                }
                yield of(v);
            }
            case INT64 -> {
                long[] v = new long[n];
                for (int i = 0; i < n; i++) {
                    v[i] = i;
                }
                yield of(v);
            }
        };
    }

    /** Standard normal samples, reproducible from {@code seed} on every backend. */
    public Tensor randn(long seed, DType dtype, int... shape) {
        return random(RandomKind.NORMAL, 0, 1, seed, dtype, shape);
    }

    /** Uniform [0, 1) samples, reproducible from {@code seed} on every backend. */
    public Tensor rand(long seed, DType dtype, int... shape) {
        return random(RandomKind.UNIFORM, 0, 1, seed, dtype, shape);
    }

    /** Uniform [lo, hi) samples. */
    public Tensor uniform(double lo, double hi, long seed, DType dtype, int... shape) {
        return random(RandomKind.UNIFORM, lo, hi, seed, dtype, shape);
    }

    /** Normal samples with the given mean and standard deviation. */
    public Tensor normal(double mean, double std, long seed, DType dtype, int... shape) {
        return random(RandomKind.NORMAL, mean, std, seed, dtype, shape);
    }

    private Tensor random(RandomKind kind, double a, double b, long seed, DType dtype, int[] shape) {
        if (!dtype.isFloating()) {
            throw new IllegalArgumentException("random: " + dtype + " is not a float type");
        }
        Tensor t = Tensor.empty(backend(), dtype, shape);
        backend().random(kind, a, b, seed, t);
        return t;
    }
}
