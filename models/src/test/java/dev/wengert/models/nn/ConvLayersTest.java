package dev.wengert.models.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wengert.autograd.GradCheck;
import dev.wengert.autograd.Var;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.Device;
import dev.wengert.tensor.ScopePerTest;
import dev.wengert.tensor.Tensor;
import dev.wengert.tensor.Window2d;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The convolution and pooling layers: PyTorch's parameter names, layout and initialisation, their functions and gradients. */
@ExtendWith(ScopePerTest.class)
class ConvLayersTest {

    @Test
    void conv2dHasPyTorchsParametersAndInitialisation() {
        try (Conv2d conv = new Conv2d(6, 16, 5, 1, 2, Init.PYTORCH_DEFAULT, 3, DType.FLOAT32, Device.CPU)) {
            assertEquals(List.of("weight", "bias"), List.copyOf(conv.namedParameters().keySet()));
            assertArrayEquals(new int[] {16, 6, 5, 5}, conv.weight().shape());
            assertArrayEquals(new int[] {16}, conv.bias().shape());
            double bound = 1 / Math.sqrt(6 * 25);   // kaiming_uniform(a = sqrt(5)) and the bias: 1/sqrt(fan_in)
            for (Var p : conv.parameters()) {
                double fill = p == conv.weight() ? 0.99 : 0.5;   // 2,400 weights, 16 biases
                double[] v = p.value().toDoubleArray();
                double max = 0;
                for (double e : v) {
                    max = Math.max(max, Math.abs(e));
                }
                assertTrue(max <= bound && max > fill * bound, "within and filling +-" + bound + ": " + max);
            }
        }
        try (Conv2d grouped = new Conv2d(4, 6, 3, 1, 1, 1, 2, Init.PYTORCH_DEFAULT, 3, DType.FLOAT32, Device.CPU)) {
            assertArrayEquals(new int[] {6, 2, 3, 3}, grouped.weight().shape());
        }
    }

    @Test
    void conv2dIsTheConvolutionPlusTheBias() {
        Tensor w = Tensor.on(Device.CPU).randn(1, DType.FLOAT64, 3, 2, 3, 3);
        Tensor b = Tensor.on(Device.CPU).randn(2, DType.FLOAT64, 3);
        Tensor x = Tensor.on(Device.CPU).randn(3, DType.FLOAT64, 2, 2, 6, 5);
        Window2d win = new Window2d(3, 3, 2, 1, 1, 1, 1, 1);
        Tensor expected = x.conv2d(w, win, 1).add(b.reshape(1, 3, 1, 1));
        try (Conv2d conv = new Conv2d(w.copy(), b.copy(), win, 1)) {
            assertArrayEquals(expected.toDoubleArray(), conv.forward(Var.constant(x)).value().toDoubleArray(), 0);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> conv.forward(Var.constant(Tensor.on(Device.CPU).zeros(DType.FLOAT64, 2, 3, 6, 5))));
            assertTrue(e.getMessage().contains("[N, 2, H, W]"), e.getMessage());
        }
    }

    @Test
    void layersGradientCheckInFloat64() {
        Tensor x = Tensor.on(Device.CPU).randn(5, DType.FLOAT64, 2, 2, 6, 6);
        Tensor w = Tensor.on(Device.CPU).randn(6, DType.FLOAT64, 3, 2, 3, 3);
        Tensor b = Tensor.on(Device.CPU).randn(7, DType.FLOAT64, 3);
        GradCheck.Result r = GradCheck.check(in -> {
            Var y = in[0].conv2d(in[1], 1, 1).add(in[2].reshape(1, 3, 1, 1)).relu();
            return new Flatten().forward(new GlobalAvgPool2d().forward(new AvgPool2d(2).forward(new MaxPool2d(2, 1, 0).forward(y))));
        }, 1e-6, x, w, b);
        assertTrue(r.passes(1e-6), r.toString());
    }

    @Test
    void maxPoolGivesTheGradientToTheFirstMaximumAsPyTorch() {
        Var x = Var.param(Tensor.on(Device.CPU).of(new double[] {1, 1, 0.5, 0.5, 1, 0, 0.5, 0.5}, 1, 1, 2, 4));
        new MaxPool2d(2).forward(x).sum().backward();
        // torch.nn.functional.max_pool2d(x, 2).sum().backward(): x.grad = [[1, 0, 1, 0], [0, 0, 0, 0]]
        assertArrayEquals(new double[] {1, 0, 1, 0, 0, 0, 0, 0}, x.gradTensor().toDoubleArray(), 0);
        // overlapping windows add up at a shared maximum
        Var y = Var.param(Tensor.on(Device.CPU).of(new double[] {0, 0, 0, 0, 5, 0, 0, 0, 0}, 1, 1, 3, 3));
        new MaxPool2d(2, 1, 0).forward(y).sum().backward();
        assertEquals(4, y.gradTensor().toDoubleArray()[4]);
    }
}
