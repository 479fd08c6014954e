package dev.wengert.bench;

import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastAddOp;
import org.nd4j.linalg.api.ops.impl.scalar.Step;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The floor of a CNN workload on the CPU: its training step hand-written on raw ND4J, no autodiff. Each
 * convolution (stride 1, NCHW, weight [out, in, k, k] as PyTorch) is followed by ReLU and a 2x2 max-pool,
 * then the dense layers ({@link Nd4jDenseLayers}, as in {@link Nd4jFloorStep}); softmax cross-entropy, plain SGD. Every buffer is
 * allocated once. Two ways to convolve, the reason this class exists twice in a table:
 * <ul>
 *   <li>{@link Mode#IM2COL}: ND4J's im2col into [N, C, k, k, oh, ow], then per image one GEMM
 *       {@code W [out, C*k*k] x col [C*k*k, oh*ow]} written straight into the NCHW output, the bias as a
 *       broadcast add; backward {@code dW += dZ col^T} per image, {@code db = sum dZ},
 *       {@code dcol = W^T dZ} and col2im (not for the first convolution, whose input needs no gradient);
 *   <li>{@link Mode#NATIVE}: ND4J's own {@code conv2d} and {@code conv2d_bp} ops (libnd4j's kernels).
 * </ul>
 * Pooling is ND4J's {@code maxpool2d} / {@code maxpool2d_bp} in both. The runner reports the faster of the
 * two as the floor.
 */
final class Nd4jCnnFloorStep implements TrainingStep {

    /** How the convolutions are computed. */
    enum Mode { IM2COL, NATIVE }

    private final Mode mode;
    private final int batch;
    private final float lr;
    private final List<Workload.Conv> convs;
    private final INDArray x;
    // convolutions: input[i] -> z[i] (conv + bias, then ReLU in place) -> pooled[i] (= input[i + 1])
    private final INDArray[] input;
    private final INDArray[] cw;
    private final INDArray[] cb;
    private final INDArray[] z;
    private final INDArray[] pooled;
    private final INDArray[] dcw;
    private final INDArray[] dcb;
    private final INDArray[] dz;
    private final INDArray[] dInput;    // gradient w.r.t. input[i] (null for i = 0)
    private final INDArray[] convMask;
    private final INDArray[] col;       // IM2COL: [N, C, k, k, oh, ow]
    private final INDArray[] dcol;
    private final DynamicCustomOp[] im2col;
    private final DynamicCustomOp[] col2im;
    private final DynamicCustomOp[] convFwd;
    private final DynamicCustomOp[] convBwd;
    private final DynamicCustomOp[] poolFwd;
    private final DynamicCustomOp[] poolBwd;
    private final Nd4jDenseLayers dense;
    private final INDArray dFlat;       // the gradient of the flattened last pooling output

    Nd4jCnnFloorStep(Workload wl, float lr, Mode mode) {
        if (!wl.convolutional()) {
            throw new IllegalArgumentException("Nd4jCnnFloorStep: " + wl.name() + " is not a convolutional workload");
        }
        this.mode = mode;
        this.batch = wl.batch();
        this.lr = lr;
        this.convs = wl.convs();
        int side = Workload.IMAGE_SIDE;
        x = Nd4j.create(wl.inputData(1), new long[] {batch, 1, side, side}, 'c');
        int nc = convs.size();
        input = new INDArray[nc];
        cw = new INDArray[nc];
        cb = new INDArray[nc];
        z = new INDArray[nc];
        pooled = new INDArray[nc];
        dcw = new INDArray[nc];
        dcb = new INDArray[nc];
        dz = new INDArray[nc];
        dInput = new INDArray[nc];
        convMask = new INDArray[nc];
        col = new INDArray[nc];
        dcol = new INDArray[nc];
        im2col = new DynamicCustomOp[nc];
        col2im = new DynamicCustomOp[nc];
        convFwd = new DynamicCustomOp[nc];
        convBwd = new DynamicCustomOp[nc];
        poolFwd = new DynamicCustomOp[nc];
        poolBwd = new DynamicCustomOp[nc];
        INDArray in = x;
        for (int i = 0; i < nc; i++) {
            Workload.Conv c = convs.get(i);
            int k = c.kernel();
            int o = c.outSide();
            int p = c.pooledSide();
            input[i] = in;
            cw[i] = Nd4j.create(wl.initialConvWeights(i, 1), new long[] {c.out(), c.in(), k, k}, 'c');
            cb[i] = Nd4j.zeros(DataType.FLOAT, c.out());
            z[i] = Nd4j.create(DataType.FLOAT, batch, c.out(), o, o);
            pooled[i] = Nd4j.create(DataType.FLOAT, batch, c.out(), p, p);
            dcw[i] = Nd4j.create(DataType.FLOAT, c.out(), c.in(), k, k);
            dcb[i] = Nd4j.create(DataType.FLOAT, c.out());
            dz[i] = Nd4j.create(DataType.FLOAT, batch, c.out(), o, o);
            dInput[i] = i == 0 && mode == Mode.IM2COL ? null : Nd4j.create(DataType.FLOAT, batch, c.in(), c.side(), c.side());
            convMask[i] = Nd4j.create(DataType.FLOAT, batch, c.out(), o, o);
            int[] convArgs = {k, k, 1, 1, c.padding(), c.padding(), 1, 1, 0, 0, 1};   // NCHW, weight [out, in, k, k]
            int[] poolArgs = {2, 2, 2, 2, 0, 0, 1, 1, 0, 0, 0};                      // 2x2 stride 2, NCHW
            if (mode == Mode.IM2COL) {
                col[i] = Nd4j.create(DataType.FLOAT, batch, c.in(), k, k, o, o);
                dcol[i] = i == 0 ? null : Nd4j.create(DataType.FLOAT, batch, c.in(), k, k, o, o);
                im2col[i] = DynamicCustomOp.builder("im2col").addInputs(input[i]).addOutputs(col[i])
                        .addIntegerArguments(k, k, 1, 1, c.padding(), c.padding(), 1, 1, 0).addFloatingPointArguments(0.0).build();
                if (i > 0) {
                    // strides, padding, image height and width, dilations, not "same" mode
                    col2im[i] = DynamicCustomOp.builder("col2im").addInputs(dcol[i]).addOutputs(dInput[i])
                            .addIntegerArguments(1, 1, c.padding(), c.padding(), c.side(), c.side(), 1, 1, 0).build();
                }
            } else {
                convFwd[i] = DynamicCustomOp.builder("conv2d").addInputs(input[i], cw[i], cb[i]).addOutputs(z[i])
                        .addIntegerArguments(convArgs).build();
                convBwd[i] = DynamicCustomOp.builder("conv2d_bp").addInputs(input[i], cw[i], cb[i], dz[i])
                        .addOutputs(dInput[i], dcw[i], dcb[i]).addIntegerArguments(convArgs).build();
            }
            poolFwd[i] = DynamicCustomOp.builder("maxpool2d").addInputs(z[i]).addOutputs(pooled[i]).addIntegerArguments(poolArgs).build();
            in = pooled[i];
        }
        int[] n = wl.widths();
        dense = new Nd4jDenseLayers(wl, in.reshape('c', batch, n[0]));
        // the gradient of the flattened last pooling output, viewed as NCHW for maxpool2d_bp
        INDArray dFlat = Nd4j.create(DataType.FLOAT, batch, n[0]);
        for (int i = nc - 1; i >= 0; i--) {
            INDArray gradOut = i == nc - 1 ? dFlat.reshape('c', pooled[i].shape()) : dInput[i + 1];
            poolBwd[i] = DynamicCustomOp.builder("maxpool2d_bp").addInputs(z[i], gradOut).addOutputs(dz[i])
                    .addIntegerArguments(2, 2, 2, 2, 0, 0, 1, 1, 0, 0, 0).build();
        }
        this.dFlat = dFlat;
    }

    @Override
    public double step() {
        for (int i = 0; i < convs.size(); i++) {
            convForward(i);
            Transforms.relu(z[i], false);
            Nd4j.exec(poolFwd[i]);
        }
        double loss = dense.forward();
        dense.backward(dFlat);
        for (int i = convs.size() - 1; i >= 0; i--) {
            Nd4j.exec(poolBwd[i]);
            Nd4j.getExecutioner().exec(new Step(z[i], convMask[i]));
            dz[i].muli(convMask[i]);
            convBackward(i);
        }
        dense.update(lr);
        for (int i = 0; i < convs.size(); i++) {
            cw[i].subi(dcw[i].muli(lr));
            cb[i].subi(dcb[i].muli(lr));
        }
        return loss;
    }

    private void convForward(int i) {
        if (mode == Mode.NATIVE) {
            Nd4j.exec(convFwd[i]);
            return;
        }
        Workload.Conv c = convs.get(i);
        int k = c.kernel();
        int ckk = c.in() * k * k;
        int pixels = c.outSide() * c.outSide();
        Nd4j.exec(im2col[i]);
        INDArray w2 = cw[i].reshape('c', c.out(), ckk);
        for (int n = 0; n < batch; n++) {
            Nd4j.gemm(w2, col[i].slice(n).reshape('c', ckk, pixels), z[i].slice(n).reshape('c', c.out(), pixels), false, false, 1.0, 0.0);
        }
        INDArray z3 = z[i].reshape('c', batch, c.out(), pixels);
        Nd4j.getExecutioner().exec(new BroadcastAddOp(z3, cb[i], z3, 1));
    }

    private void convBackward(int i) {
        if (mode == Mode.NATIVE) {
            Nd4j.exec(convBwd[i]);
            return;
        }
        Workload.Conv c = convs.get(i);
        int k = c.kernel();
        int ckk = c.in() * k * k;
        int pixels = c.outSide() * c.outSide();
        INDArray w2 = cw[i].reshape('c', c.out(), ckk);
        INDArray dw2 = dcw[i].reshape('c', c.out(), ckk);
        for (int n = 0; n < batch; n++) {
            INDArray g = dz[i].slice(n).reshape('c', c.out(), pixels);
            Nd4j.gemm(g, col[i].slice(n).reshape('c', ckk, pixels), dw2, false, true, 1.0, n == 0 ? 0.0 : 1.0);
            if (dcol[i] != null) {
                Nd4j.gemm(w2, g, dcol[i].slice(n).reshape('c', ckk, pixels), true, false, 1.0, 0.0);
            }
        }
        dz[i].sum(dcb[i], 0, 2, 3);
        if (dcol[i] != null) {
            dInput[i].assign(0);
            Nd4j.exec(col2im[i]);
        }
    }
}
