package dev.wengert.tensor.cpu;

import dev.wengert.tensor.FusedKernel;
import dev.wengert.tensor.Tensor;
import dev.wengert.tensor.spi.Tensors;

/**
 * The CPU's fused softmax cross-entropy: one Java pass per row (max, sum of exponentials, loss; or
 * softmax minus one-hot for the gradient) instead of five or six primitive calls. Above the ND4J
 * threshold the exponentials go to ND4J (Math.exp costs about 20 ns): the loss through the backend's
 * log-softmax (the same formula as the Java pass), the gradient through ND4J's softmax, and only the
 * per-row label work stays in Java. The loss is log(sum exp(x - max)) - (x_label - max), never
 * (max + log sum) - x_label, whose rounding grows with |max|. Registered by {@link CpuBackend} as
 * {@link FusedKernel#SOFTMAX_XENT_FWD} and {@link FusedKernel#SOFTMAX_XENT_BWD}; the CPU registers no
 * optimizer kernel: the optimizers' composed updates already run their large elementwise steps in ND4J.
 */
final class CpuFused {
    private CpuFused() {
    }

    /** {@link FusedKernel.SoftmaxXentForward}. */
    static void softmaxCrossEntropy(Tensor logits, Tensor labels, Tensor loss) {
        if (logits.numel() >= Nd4jKernels.LARGE) { // ND4J's vectorised log-softmax, then one pick per row
            try (Tensor logp = Tensors.empty(logits.backend(), logits.dtype(), logits.shape())) {
                Nd4jKernels.logSoftmax(logits, 1, logp);
                Buf lp = CpuBackend.buf(logp);
                Buf.I64 y = (Buf.I64) CpuBackend.buf(labels);
                Buf out = CpuBackend.buf(loss);
                int classes = logits.dim(1);
                for (int r = 0, rows = logits.dim(0); r < rows; r++) {
                    out.set(r, -lp.get(r * classes + label(y, r, classes)));
                }
            }
            return;
        }
        Buf x = CpuBackend.buf(logits);
        Buf.I64 y = (Buf.I64) CpuBackend.buf(labels);
        Buf out = CpuBackend.buf(loss);
        int rows = logits.dim(0);
        int classes = logits.dim(1);
        for (int r = 0; r < rows; r++) {
            int base = r * classes;
            double max = CpuBackend.rowMax(x, base, 1, classes);
            // lse - x_label = log(sum exp(x - max)) - (x_label - max): no |max| * eps rounding
            out.set(r, CpuBackend.logSumShifted(x, base, 1, classes, max) - (x.get(base + label(y, r, classes)) - max));
        }
    }

    /** {@link FusedKernel.SoftmaxXentBackward}. */
    static void softmaxCrossEntropyBackward(Tensor logits, Tensor labels, Tensor gradLoss, double scale, Tensor grad) {
        if (logits.numel() >= Nd4jKernels.LARGE) { // ND4J's softmax into grad, then in place: - one-hot, * upstream
            Nd4jKernels.softmaxRows(logits, grad);
            Buf g = CpuBackend.buf(grad);
            Buf.I64 y = (Buf.I64) CpuBackend.buf(labels);
            Buf up = CpuBackend.buf(gradLoss);
            int rows = logits.dim(0);
            int classes = logits.dim(1);
            for (int r = 0; r < rows; r++) {
                int at = r * classes + label(y, r, classes);
                g.set(at, g.get(at) - 1);
            }
            if (gradLoss.numel() == 1) {
                Nd4jKernels.scalar(dev.wengert.tensor.BinaryOp.MUL, grad, up.get(0) * scale, grad);
            } else {
                for (int r = 0; r < rows; r++) {
                    double f = up.get(r) * scale;
                    for (int c = 0; c < classes; c++) {
                        g.set(r * classes + c, g.get(r * classes + c) * f);
                    }
                }
            }
            return;
        }
        Buf x = CpuBackend.buf(logits);
        Buf.I64 y = (Buf.I64) CpuBackend.buf(labels);
        Buf up = CpuBackend.buf(gradLoss);
        Buf g = CpuBackend.buf(grad);
        boolean shared = gradLoss.numel() == 1;
        int rows = logits.dim(0);
        int classes = logits.dim(1);
        for (int r = 0; r < rows; r++) {
            int base = r * classes;
            double max = CpuBackend.rowMax(x, base, 1, classes);
            double logSum = CpuBackend.logSumShifted(x, base, 1, classes, max);
            double factor = up.get(shared ? 0 : r) * scale;
            int target = label(y, r, classes);
            for (int c = 0; c < classes; c++) {
                double p = Math.exp((x.get(base + c) - max) - logSum);
                g.set(base + c, (p - (c == target ? 1 : 0)) * factor);
            }
        }
    }

    private static int label(Buf.I64 y, int row, int classes) {
        long c = y.getLong(row);
        if (c < 0 || c >= classes) {
            throw new IndexOutOfBoundsException("softmaxCrossEntropy: label " + c + " of row " + row + " is outside [0, " + classes + ")");
        }
        return (int) c;
    }
}
