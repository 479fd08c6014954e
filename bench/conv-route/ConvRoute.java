import dev.wengert.tensor.*;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.api.buffer.DataType;

/** Times one conv2d forward + both adjoints per layer: Wengert (im2col + GEMM) vs ND4J's conv2d / conv2d_bp ops. */
public class ConvRoute {
    public static void main(String[] a) {
        int[][] layers = {
            {64, 1, 28, 28, 6, 5, 2}, {64, 6, 14, 14, 16, 5, 0},        // lenet5-b64
            {256, 1, 28, 28, 32, 3, 1}, {256, 32, 14, 14, 64, 3, 1}};   // convnet-b256
        for (int[] l : layers) {
            int n = l[0], c = l[1], h = l[2], w = l[3], co = l[4], k = l[5], p = l[6];
            Window2d win = Window2d.of(k, 1, p);
            int oh = win.outH(h), ow = win.outW(w);
            Tensor x = Tensor.on(Device.CPU).randn(1, DType.FLOAT32, n, c, h, w).keepForever();
            Tensor wt = Tensor.on(Device.CPU).randn(2, DType.FLOAT32, co, c, k, k).keepForever();
            Tensor g = Tensor.on(Device.CPU).randn(3, DType.FLOAT32, n, co, oh, ow).keepForever();
            double wf = time(() -> { try (Scope s = Scope.open()) { x.conv2d(wt, win, 1).sum().item(); } });
            double wb = time(() -> { try (Scope s = Scope.open()) {
                g.conv2dInputGrad(wt, win, 1, h, w).sum().item(); x.conv2dWeightGrad(g, win, 1).sum().item(); } });
            INDArray xi = Nd4j.randn(DataType.FLOAT, n, c, h, w);
            INDArray wi = Nd4j.randn(DataType.FLOAT, co, c, k, k);
            INDArray gi = Nd4j.randn(DataType.FLOAT, n, co, oh, ow);
            INDArray yi = Nd4j.create(DataType.FLOAT, n, co, oh, ow);
            INDArray dxi = Nd4j.create(DataType.FLOAT, n, c, h, w);
            INDArray dwi = Nd4j.create(DataType.FLOAT, co, c, k, k);
            int[] iargs = {k, k, 1, 1, p, p, 1, 1, 0, 0, 1};   // same=0, NCHW, weights [oC, iC, kH, kW]
            double nf = time(() -> Nd4j.exec(DynamicCustomOp.builder("conv2d").addInputs(xi, wi).addOutputs(yi).addIntegerArguments(iargs).build()));
            double nb = time(() -> Nd4j.exec(DynamicCustomOp.builder("conv2d_bp").addInputs(xi, wi, gi).addOutputs(dxi, dwi).addIntegerArguments(iargs).build()));
            System.out.printf("x[%d,%d,%d,%d] w[%d,%d,%d,%d] pad %d: forward wengert %.2f ms, nd4j %.2f ms; backward (both adjoints) wengert %.2f ms, nd4j %.2f ms%n",
                n, c, h, w, co, c, k, k, p, wf, nf, wb, nb);
        }
    }

    static double time(Runnable r) {
        for (int i = 0; i < 5; i++) r.run();
        double[] t = new double[15];
        for (int i = 0; i < t.length; i++) {
            long s = System.nanoTime();
            r.run();
            t[i] = (System.nanoTime() - s) / 1e6;
        }
        java.util.Arrays.sort(t);
        return t[t.length / 2];
    }
}
