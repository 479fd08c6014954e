package dev.wengert.autograd;

import dev.wengert.tensor.FusedKernel;
import dev.wengert.tensor.Tensor;
import dev.wengert.tensor.UnaryOp;
import java.util.Optional;

/**
 * The tensor computations of the batch-normalisation primitive ({@link Prim#BATCH_NORM}, training mode, y = (x -
 * mean) / sqrt(var + eps) weight + bias per channel of axis 1): operand checks, the forward (the backend's
 * {@link FusedKernel#BATCH_NORM} on x viewed [N, C, L], or the composed version) and the first-order backward (the
 * backend's {@link FusedKernel#BATCH_NORM_BACKWARD}, or the composed version). The CPU and CUDA register both kernels;
 * the composed versions run on an empty batch and on a backend without them (the forward is the operations BatchNorm
 * composed before the primitive, in the same order), and are the reference the kernels are tested against
 * ({@link #composedForward}, {@link #composedBackward}, in the kernels' signatures).
 */
final class FusedBatchNorm {
    private FusedBatchNorm() {
    }

    /** The forward's results: y shaped like x, and the batch's mean and biased variance [C]. */
    record Result(Tensor y, Tensor mean, Tensor var) {
    }

    /**
     * y, mean and var for x [N, C, ...], weight and bias [C]: the backend's kernel where it has one and the channels
     * have values (N * L &gt;= 1), else the composed version (an empty batch gives NaN statistics and an empty y).
     */
    static Result forward(Tensor x, Tensor weight, Tensor bias, double eps) {
        check(x, weight, bias, eps);
        return forward(x, weight, bias, eps, x.backend().fused(FusedKernel.BATCH_NORM));
    }

    /** {@link #forward(Tensor, Tensor, Tensor, double)} with the kernel given (tests run it with a stand-in). */
    static Result forward(Tensor x, Tensor weight, Tensor bias, double eps, Optional<FusedKernel.BatchNormForward> fused) {
        int c = x.dim(1);
        if (fused.isPresent() && x.numel() > 0) {
            Tensor y = Tensor.on(x.device()).empty(x.dtype(), x.shape());
            Tensor mean = Tensor.on(x.device()).empty(x.dtype(), c);
            Tensor var = Tensor.on(x.device()).empty(x.dtype(), c);
            try (Tensor x3 = view3(x); Tensor y3 = view3(y)) {
                fused.get().run(x3, weight, bias, eps, y3, mean, var);
            }
            return new Result(y, mean, var);
        }
        return composed(x, weight, bias, eps);
    }

    /**
     * The forward composed of tensor operations, in x's own shape: mean over every axis but 1, centred = x - mean,
     * var = mean(centred²), y = centred (weight / sqrt(var + eps)) + bias (BatchNorm's composition before the
     * primitive: the same operations in the same order).
     */
    static Result composed(Tensor x, Tensor weight, Tensor bias, double eps) {
        int[] axes = reducedAxes(x.rank());
        int[] perChannel = perChannel(x.shape());
        Tensor mean = x.mean(false, axes);
        Tensor y;
        Tensor var;
        try (Tensor mean1 = mean.reshape(perChannel); Tensor centred = x.sub(mean1)) {
            try (Tensor sq = centred.mul(centred)) {
                var = sq.mean(false, axes);
            }
            try (Tensor var1 = var.reshape(perChannel); Tensor inv = invStd(var1, eps); Tensor w = weight.reshape(perChannel);
                 Tensor scale = inv.mul(w); Tensor scaled = centred.mul(scale); Tensor b = bias.reshape(perChannel)) {
                y = scaled.add(b);
            }
        }
        return new Result(y, mean, var);
    }

    /**
     * The first-order adjoints {dx, dweight, dbias} for the upstream gradient dy (shaped like x), from x and the
     * forward's mean and var [C], null where {@code need} says no; every returned tensor is new.
     */
    static Tensor[] backward(Tensor dy, Tensor x, Tensor mean, Tensor var, Tensor weight, double eps, boolean needX,
                             boolean needW, boolean needB) {
        return backward(dy, x, mean, var, weight, eps, needX, needW, needB, x.backend().fused(FusedKernel.BATCH_NORM_BACKWARD));
    }

    /** {@link #backward(Tensor, Tensor, Tensor, Tensor, Tensor, double, boolean, boolean, boolean)} with the kernel given. */
    static Tensor[] backward(Tensor dy, Tensor x, Tensor mean, Tensor var, Tensor weight, double eps, boolean needX,
                             boolean needW, boolean needB, Optional<FusedKernel.BatchNormBackward> fused) {
        int c = x.dim(1);
        if (fused.isPresent() && x.numel() > 0) {
            Tensor dx = needX ? Tensor.on(x.device()).empty(x.dtype(), x.shape()) : null;
            Tensor dw = needW ? Tensor.on(x.device()).empty(x.dtype(), c) : null;
            Tensor db = needB ? Tensor.on(x.device()).empty(x.dtype(), c) : null;
            // the views closed again: a leaf adopts dx (Tensor.ownsMemoryAllocatedSince) only when no view shares it
            try (Tensor dy3 = view3(dy); Tensor x3 = view3(x); Tensor dx3 = dx == null ? null : view3(dx)) {
                fused.get().run(dy3, x3, mean, var, weight, eps, dx3, dw, db);
            }
            return new Tensor[] {dx, dw, db};
        }
        return composedAdjoints(dy, x, mean, var, weight, eps, needX, needW, needB);
    }

    /**
     * The backward composed of tensor operations, in x's own shape: invStd = 1 / sqrt(var + eps), xhat = (x - mean)
     * invStd, dbias = sum dy, dweight = sum dy xhat (sums over every axis but 1), dx = weight invStd (dy - dbias / M -
     * xhat dweight / M) with M the values per channel.
     */
    static Tensor[] composedAdjoints(Tensor dy, Tensor x, Tensor mean, Tensor var, Tensor weight, double eps,
                                     boolean needX, boolean needW, boolean needB) {
        int[] axes = reducedAxes(x.rank());
        int[] perChannel = perChannel(x.shape());
        int c = x.dim(1);
        long m = x.numel() / Math.max(1, c);
        if (!needX && !needW) {
            return new Tensor[] {null, null, needB ? dy.sum(false, axes) : null};
        }
        try (Tensor var1 = var.reshape(perChannel); Tensor inv = invStd(var1, eps); Tensor mean1 = mean.reshape(perChannel);
             Tensor centred = x.sub(mean1); Tensor xhat = centred.mul(inv); Tensor dyXhat = dy.mul(xhat)) {
            // the sums [C] themselves and no view of them left open: a leaf adopts a fresh tensor as its gradient
            // (Tensor.ownsMemoryAllocatedSince) instead of copying it
            Tensor sumDy = dy.sum(false, axes);
            Tensor sumDyXhat = dyXhat.sum(false, axes);
            Tensor dx = null;
            if (needX) {
                try (Tensor sumDyView = sumDy.reshape(perChannel); Tensor meanDy = sumDyView.mul(1.0 / m);
                     Tensor sumDyXhatView = sumDyXhat.reshape(perChannel); Tensor meanDyXhat = sumDyXhatView.mul(1.0 / m);
                     Tensor a = dy.sub(meanDy); Tensor b = xhat.mul(meanDyXhat); Tensor inner = a.sub(b);
                     Tensor w = weight.reshape(perChannel); Tensor scale = inv.mul(w)) {
                    dx = inner.mul(scale);
                }
            }
            if (!needW) {
                sumDyXhat.close();
            }
            if (!needB) {
                sumDy.close();
            }
            return new Tensor[] {dx, needW ? sumDyXhat : null, needB ? sumDy : null};
        }
    }

    /** {@link FusedKernel.BatchNormForward} composed, the reference the kernel is tested against: y, mean and var modified. */
    static void composedForward(Tensor x, Tensor weight, Tensor bias, double eps, Tensor y, Tensor mean, Tensor var) {
        Result r = composed(x, weight, bias, eps);
        try (Tensor ry = r.y(); Tensor rm = r.mean(); Tensor rv = r.var()) {
            y.assign(ry);
            mean.assign(rm);
            var.assign(rv);
        }
    }

    /**
     * {@link FusedKernel.BatchNormBackward} composed, the reference the kernel is tested against: dx, dweight and dbias
     * modified unless null.
     */
    static void composedBackward(Tensor dy, Tensor x, Tensor mean, Tensor var, Tensor weight, double eps, Tensor dx,
                                 Tensor dweight, Tensor dbias) {
        Tensor[] t = composedAdjoints(dy, x, mean, var, weight, eps, dx != null, dweight != null, dbias != null);
        Tensor[] into = {dx, dweight, dbias};
        for (int i = 0; i < 3; i++) {
            if (t[i] != null) {
                try (Tensor r = t[i]) {
                    into[i].assign(r);
                }
            }
        }
    }

    /** 1 / sqrt(var + eps) (not pow(-0.5), as BatchNorm before the primitive). */
    static Tensor invStd(Tensor var, double eps) {
        try (Tensor v = var.add(eps); Tensor s = v.sqrt()) {
            return s.apply(UnaryOp.RECIPROCAL);
        }
    }

    /** x [N, C, ...] viewed [N, C, L], the kernels' layout. */
    static Tensor view3(Tensor x) {
        int n = x.dim(0);
        int c = x.dim(1);
        int l = 1;
        for (int a = 2; a < x.rank(); a++) {
            l *= x.dim(a);
        }
        return x.reshape(n, c, l);
    }

    /** The axes batch normalisation reduces over: every axis but 1. */
    static int[] reducedAxes(int rank) {
        int[] axes = new int[rank - 1];
        for (int a = 2; a < rank; a++) {
            axes[a - 1] = a;
        }
        return axes;
    }

    /** [1, C, 1, ...] for x's rank: a per-channel tensor's broadcast shape. */
    static int[] perChannel(int[] shape) {
        int[] p = new int[shape.length];
        java.util.Arrays.fill(p, 1);
        p[1] = shape[1];
        return p;
    }

    static void check(Tensor x, Tensor weight, Tensor bias, double eps) {
        x.ensureOpen("batchNorm");
        Tensor.checkCompatible("batchNorm", x, weight);
        Tensor.checkCompatible("batchNorm", x, bias);
        if (!x.dtype().isFloating() || x.rank() < 2) {
            throw new IllegalArgumentException("batchNorm: x must be a float tensor [N, C, ...] with a batch axis 0 and a "
                    + "channel axis 1, got " + x.describe());
        }
        int c = x.dim(1);
        if (weight.rank() != 1 || weight.dim(0) != c || bias.rank() != 1 || bias.dim(0) != c) {
            throw new IllegalArgumentException("batchNorm: weight " + weight.describe() + " and bias " + bias.describe()
                    + " must be [" + c + "], one value per channel of x " + x.describe());
        }
        if (!(eps >= 0) || Double.isInfinite(eps)) {
            throw new IllegalArgumentException("batchNorm: eps must be finite and >= 0, got " + eps);
        }
    }
}
