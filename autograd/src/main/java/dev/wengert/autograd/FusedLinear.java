package dev.wengert.autograd;

import dev.wengert.tensor.Activation;
import dev.wengert.tensor.BinaryOp;
import dev.wengert.tensor.FusedKernel;
import dev.wengert.tensor.Tensor;
import java.util.Optional;

/**
 * The tensor computations of the linear primitive ({@link Prim#LINEAR}, y = act(x W^T + b)): operand checks, the
 * forward (one GEMM, then the backend's {@link FusedKernel#BIAS_ACT} in place, or the composed bias add and
 * activation), and the first-order backward (the backend's {@link FusedKernel#BIAS_ACT_BACKWARD} for dz and the
 * bias gradient in one pass, or the composed version, then one GEMM per weight and input gradient). The composed
 * versions are what the CPU runs (the same operations a Linear followed by an activation ran before, with the bias
 * added in place) and the reference the kernels are tested against.
 */
final class FusedLinear {
    private FusedLinear() {
    }

    /** y = act(x W^T + b) for x [rows, in], W [out, in], b [out]. */
    static Tensor forward(Tensor x, Tensor w, Tensor b, Activation act) {
        check(x, w, b);
        Tensor z = x.matmul(false, w, true);
        Optional<FusedKernel.BiasActivation> fused = x.backend().fused(FusedKernel.BIAS_ACT);
        if (fused.isPresent()) {
            fused.get().run(z, b, act, z);
            return z;
        }
        z.applyInPlace(BinaryOp.ADD, b);
        if (act == Activation.NONE) {
            return z;
        }
        try (z) {
            return z.apply(act.op());
        }
    }

    /**
     * The first-order adjoints {dx, dW, db} of y = act(x W^T + b) for the upstream gradient dy, null where
     * {@code need} says no: dz = dy act'(y) and db = the column sums of dz (one fused pass where the backend has
     * it), dW = dz^T x and dx = dz W (one GEMM each). Every returned tensor is new (dy is never returned or written).
     */
    static Tensor[] backward(Tensor dy, Tensor y, Tensor x, Tensor w, Activation act, boolean needX, boolean needW,
                             boolean needB) {
        Tensor dz = null;
        Tensor db = null;
        boolean fresh = act != Activation.NONE;
        Optional<FusedKernel.BiasActivationBackward> fused = dy.backend().fused(FusedKernel.BIAS_ACT_BACKWARD);
        if (fused.isPresent() && (needB || fresh)) {
            dz = fresh ? Tensor.on(dy.device()).empty(dy.dtype(), dy.shape()) : dy;
            db = Tensor.on(dy.device()).empty(dy.dtype(), dy.dim(1));
            fused.get().run(dy, y, act, fresh ? dz : null, db);
            if (!needB) {
                db.close();
                db = null;
            }
        } else {
            dz = fresh ? composedDz(dy, y, act) : dy;
            db = needB ? dz.sum(false, 0) : null;
        }
        Tensor dw = needW ? dz.matmul(true, x, false) : null;
        Tensor dx = needX ? dz.matmul(false, w, false) : null;
        if (fresh) {
            dz.close();
        }
        return new Tensor[] {dx, dw, db};
    }

    /** {@link FusedKernel.BiasActivationBackward}'s dz composed: dy act'(y) (relu: dy times the 0/1 mask y &gt; 0). */
    static Tensor composedDz(Tensor dy, Tensor y, Activation act) {
        return switch (act) {
            case NONE -> dy.copy();
            case RELU -> {
                try (Tensor mask = y.apply(BinaryOp.GT, 0.0)) {
                    yield dy.mul(mask);
                }
            }
            case TANH -> {
                try (Tensor y2 = y.mul(y); Tensor d = y2.neg().add(1.0)) {
                    yield dy.mul(d);
                }
            }
            case SIGMOID -> {
                try (Tensor oneMinus = y.neg().add(1.0); Tensor d = y.mul(oneMinus)) {
                    yield dy.mul(d);
                }
            }
        };
    }

    /**
     * {@link FusedKernel.BiasActivationBackward} composed, the reference the kernels are tested against: dz
     * (modified unless null) and db (modified).
     */
    static void composedBackward(Tensor dy, Tensor y, Activation act, Tensor dz, Tensor db) {
        try (Tensor d = composedDz(dy, y, act); Tensor s = d.sum(false, 0)) {
            if (dz != null) {
                dz.assign(d);
            }
            db.assign(s);
        }
    }

    static void check(Tensor x, Tensor w, Tensor b) {
        x.ensureOpen("linear");
        w.ensureOpen("linear");
        b.ensureOpen("linear");
        Tensor.checkCompatible("linear", x, w);
        Tensor.checkCompatible("linear", x, b);
        if (!x.dtype().isFloating() || x.rank() != 2 || w.rank() != 2 || b.rank() != 1 || w.dim(1) != x.dim(1)
                || b.dim(0) != w.dim(0)) {
            throw new IllegalArgumentException("linear: needs float x [rows, in], weight [out, in] and bias [out] with in = "
                    + "x's columns and out = weight's rows; got x " + x.describe() + ", weight " + w.describe() + ", bias "
                    + b.describe() + " (Var.linear reshapes inputs of other ranks to 2-D)" + (x.rank() == 2 && w.rank() == 2
                    && w.dim(1) != x.dim(1) ? "; x has " + x.dim(1) + " features, the weight expects " + w.dim(1) : ""));
        }
    }
}
