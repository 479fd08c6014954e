import dev.wengert.tensor.DType;
import dev.wengert.tensor.Scope;
import dev.wengert.tensor.Tensor;
import dev.wengert.tensor.UnaryOp;
import dev.wengert.tensor.Window2d;
import java.util.function.Supplier;

/**
 * The parts of the convnet-b256 CPU training step, each timed alone on its shapes (best and mean of 8 calls
 * after 3 warm-up calls): the two convolutions and their adjoints, im2col and col2im, max pooling, the
 * gather and scatter-add of its gradient, relu; and batch normalisation of the default convnet's first layer
 * (batch 64) as the CPU computes it, composed of tensor operations (the primitive's fallback). Compile and run as
 * ConvRoute (bench/RESULTS.md).
 */
public class ConvParts {
    static void time(String name, Supplier<Tensor[]> f) {
        for (int i = 0; i < 3; i++) {
            for (Tensor t : f.get()) {
                t.close();
            }
        }
        long best = Long.MAX_VALUE;
        long total = 0;
        int reps = 8;
        for (int i = 0; i < reps; i++) {
            long t0 = System.nanoTime();
            Tensor[] r = f.get();
            long dt = System.nanoTime() - t0;
            for (Tensor t : r) {
                t.close();
            }
            best = Math.min(best, dt);
            total += dt;
        }
        System.out.printf("%-28s best %7.2f ms  mean %7.2f ms%n", name, best / 1e6, total / 1e6 / reps);
    }

    public static void main(String[] args) {
        DType f = DType.FLOAT32;
        Tensor x1 = Tensor.randn(1, f, 256, 1, 28, 28);
        Tensor w1 = Tensor.randn(2, f, 32, 1, 3, 3);
        Tensor x2 = Tensor.randn(3, f, 256, 32, 14, 14);
        Tensor w2 = Tensor.randn(4, f, 64, 32, 3, 3);
        Tensor g1 = Tensor.randn(5, f, 256, 32, 28, 28);
        Tensor g2 = Tensor.randn(6, f, 256, 64, 14, 14);
        Window2d conv = Window2d.of(3, 1, 1);
        Window2d pool = Window2d.of(2, 2, 0);
        time("conv1 forward", () -> new Tensor[] {x1.conv2d(w1, conv, 1)});
        time("conv2 forward", () -> new Tensor[] {x2.conv2d(w2, conv, 1)});
        time("conv2 im2col", () -> new Tensor[] {x2.unfold(conv, 0)});
        time("conv2 input gradient", () -> new Tensor[] {g2.conv2dInputGrad(w2, conv, 1, 14, 14)});
        Tensor cols2 = x2.unfold(conv, 0);
        time("conv2 col2im", () -> new Tensor[] {cols2.fold(conv, 14, 14)});
        time("conv1 weight gradient", () -> new Tensor[] {x1.conv2dWeightGrad(g1, conv, 1)});
        time("conv2 weight gradient", () -> new Tensor[] {x2.conv2dWeightGrad(g2, conv, 1)});
        time("pool1 max (values, indices)", () -> g1.maxPool2dWithIndices(pool));
        time("pool2 max (values, indices)", () -> g2.maxPool2dWithIndices(pool));
        Tensor[] pooled = g1.maxPool2dWithIndices(pool);
        Tensor index = pooled[1].reshape(256, 32, 196);
        Tensor flat = g1.reshape(256, 32, 784);
        time("pool1 gather", () -> new Tensor[] {flat.gather(2, index)});
        Tensor src = Tensor.randn(7, f, 256, 32, 196);
        Tensor zeros = Tensor.zeros(f, 256, 32, 784);
        time("pool1 scatter-add (copy+add)", () -> new Tensor[] {zeros.scatterAdd(2, index, src)});
        time("relu on pool1's input", () -> new Tensor[] {g1.relu()});
        int n = 64, c = 32, l = 28 * 28;
        Tensor bx = Tensor.randn(8, f, n, c, l), bw = Tensor.ones(f, c), bb = Tensor.zeros(f, c), bdy = Tensor.randn(9, f, n, c, l);
        Tensor mean = Tensor.zeros(f, c), var = Tensor.zeros(f, c);
        time("batch norm, composed forward", () -> {
            try (Scope s = Scope.open()) {
                Tensor m = bx.mean(true, 0, 2);
                Tensor centred = bx.sub(m);
                Tensor v = centred.mul(centred).mean(true, 0, 2);
                Tensor inv = v.add(1e-5).sqrt().apply(UnaryOp.RECIPROCAL);
                return new Tensor[] {centred.mul(inv.mul(bw.reshape(1, c, 1))).add(bb.reshape(1, c, 1)).keepForever()};
            }
        });
        time("batch norm, composed backward", () -> {
            try (Scope s = Scope.open()) {
                Tensor inv = var.reshape(1, c, 1).add(1e-5).sqrt().apply(UnaryOp.RECIPROCAL);
                Tensor xhat = bx.sub(mean.reshape(1, c, 1)).mul(inv);
                Tensor sumDy = bdy.sum(true, 0, 2);
                Tensor sumDyXhat = bdy.mul(xhat).sum(true, 0, 2);
                Tensor inner = bdy.sub(sumDy.mul(1.0 / (n * l))).sub(xhat.mul(sumDyXhat.mul(1.0 / (n * l))));
                return new Tensor[] {inner.mul(inv.mul(bw.reshape(1, c, 1))).keepForever()};
            }
        });
    }
}
