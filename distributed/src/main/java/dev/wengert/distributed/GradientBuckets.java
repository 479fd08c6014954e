package dev.wengert.distributed;

import dev.wengert.autograd.Backward;
import dev.wengert.autograd.Var;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.Tensor;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Sums the parameters' gradients over the ranks in buckets, as PyTorch's DistributedDataParallel does: the
 * parameters, in reverse order (the output layer's first, the order in which the backward pass completes their
 * gradients), are grouped into buckets of about {@code bucketBytes}, each with one flat host buffer. When the
 * backward pass reports the last gradient of a bucket complete ({@link Backward.Listener#gradientReady}), the
 * bucket's gradients are copied into its buffer, each multiplied by this rank's weight, and its all-reduce starts
 * on the communicator's thread while the backward pass goes on with the layers below. {@link #finish} starts any
 * bucket not yet started, waits for all and writes the sums back into the gradients (in place).
 *
 * <p>The weight is this rank's share of the global batch (its rows / the batch's rows), so that the sum of the
 * ranks' weighted mean gradients is the mean gradient over the whole batch: the same update as one process.
 * A parameter that got no gradient on this pass contributes zeros and keeps no gradient.
 */
final class GradientBuckets {
    private final Communicator comm;
    private final List<Var> params;
    private final List<int[]> buckets = new ArrayList<>();      // parameter indices (into params) per bucket
    private final Map<Var, Integer> bucketOf = new IdentityHashMap<>();
    private final HostBuffer[] buffers;
    private final int[] pending;
    private final boolean[] started;
    private final List<CompletableFuture<HostBuffer>> inFlight = new ArrayList<>();
    private final List<Integer> startOrder = new ArrayList<>();
    private double weight;
    private int launched;

    GradientBuckets(Communicator comm, List<Var> parameters, long bucketBytes) {
        this.comm = comm;
        this.params = List.copyOf(parameters);
        List<Integer> current = new ArrayList<>();
        long bytes = 0;
        for (int i = params.size() - 1; i >= 0; i--) {
            Var p = params.get(i);
            if (p.dtype() != DType.FLOAT32 && p.dtype() != DType.FLOAT64) {
                throw new IllegalArgumentException("data-parallel training: parameter " + i + " " + p.value().describe()
                        + " is neither float32 nor float64");
            }
            boolean f64 = p.dtype() == DType.FLOAT64;
            if (!current.isEmpty() && (bytes >= bucketBytes || f64 != (params.get(current.get(0)).dtype() == DType.FLOAT64))) {
                close(current);
                current = new ArrayList<>();
                bytes = 0;
            }
            current.add(i);
            bytes += (long) p.value().numel() * (f64 ? 8 : 4);
        }
        if (!current.isEmpty()) {
            close(current);
        }
        buffers = new HostBuffer[buckets.size()];
        for (int b = 0; b < buckets.size(); b++) {
            int n = 0;
            for (int i : buckets.get(b)) {
                n += params.get(i).value().numel();
            }
            buffers[b] = comm.hostBuffer(n, params.get(buckets.get(b)[0]).dtype() == DType.FLOAT64);
        }
        pending = new int[buckets.size()];
        started = new boolean[buckets.size()];
    }

    private void close(List<Integer> indices) {
        int b = buckets.size();
        buckets.add(indices.stream().mapToInt(Integer::intValue).toArray());
        for (int i : indices) {
            bucketOf.put(params.get(i), b);
        }
    }

    /** The number of buckets. */
    int count() {
        return buckets.size();
    }

    /** Starts a pass: this rank's gradients will be multiplied by {@code weight} before the sum. */
    void begin(double weight) {
        this.weight = weight;
        for (int b = 0; b < buckets.size(); b++) {
            pending[b] = buckets.get(b).length;
            started[b] = false;
        }
        inFlight.clear();
        startOrder.clear();
        launched = 0;
    }

    /** The backward listener that starts each bucket once its gradients are complete. */
    Backward.Listener listener() {
        return Backward.Listener.onGradientReady(this::ready);
    }

    private void ready(Var leaf) {
        Integer b = bucketOf.get(leaf);
        if (b != null && !started[b] && --pending[b] == 0) {
            start(b);
        }
    }

    private void start(int b) {
        started[b] = true;
        HostBuffer buf = buffers[b];
        int offset = 0;
        for (int i : buckets.get(b)) {
            Var p = params.get(i);
            Tensor g = p.gradTensor();
            int n = p.value().numel();
            if (g == null) {
                buf.put(offset, new double[n], 0);
            } else if (buf.float64()) {
                buf.put(offset, g.toDoubleArray(), weight);
            } else {
                buf.put(offset, g.toFloatArray(), weight);
            }
            offset += n;
        }
        inFlight.add(comm.allReduceAsync(buf));
        startOrder.add(b);
        launched++;
    }

    /** Buckets started by the backward pass itself (before {@link #finish}): the overlap achieved. */
    int startedDuringBackward() {
        return launched;
    }

    /** Starts the buckets not started yet, waits for every sum and writes it into the gradients. */
    void finish() {
        for (int b = 0; b < buckets.size(); b++) {
            if (!started[b]) {
                start(b);
            }
        }
        for (int k = 0; k < inFlight.size(); k++) {
            int b = startOrder.get(k);
            HostBuffer buf = comm.await(inFlight.get(k), "all-reduce of gradient bucket " + b + " (" + buffers[b].count() + " values)");
            int offset = 0;
            for (int i : buckets.get(b)) {
                Var p = params.get(i);
                Tensor g = p.gradTensor();
                int n = p.value().numel();
                if (g != null) {
                    writeBack(g, buf, offset, n);
                }
                offset += n;
            }
        }
    }

    private static void writeBack(Tensor g, HostBuffer buf, int offset, int n) {
        Tensor src = buf.float64() ? Tensor.on(g.device()).of(buf.getDoubles(offset, n), g.shape())
                : Tensor.on(g.device()).of(buf.getFloats(offset, n), g.shape());
        try (src) {
            g.assign(src);
        }
    }
}
