package dev.wengert.autograd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.wengert.tensor.Activation;
import dev.wengert.tensor.BinaryOp;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.ScopePerTest;
import dev.wengert.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Var.accumulate adopts a gradient the reverse sweep proves unaliased instead of copying it, and the mean
 * cross-entropy's backward from its seed uses the gradient its forward kept: gradients stay independent where a
 * rule hands one tensor to two inputs, a stashed gradient is never adopted, and accumulation across backward calls,
 * zeroGrad and a different upstream gradient give what the copying sweep gave.
 */
@ExtendWith(ScopePerTest.class)
class GradientAdoptionTest {

    private static Tensor randn(long seed, int... shape) {
        return Tensor.randn(seed, DType.FLOAT64, shape);
    }

    @Test
    void addHandsOneTensorToBothInputsSoNeitherAdoptsIt() {
        Var a = Var.param(randn(1, 3));
        Var b = Var.param(randn(2, 3));
        a.add(b).sum().backward();
        assertNotSame(a.gradTensor(), b.gradTensor());
        a.gradTensor().applyInPlace(BinaryOp.ADD, 5.0);
        assertArrayEquals(new double[] {1, 1, 1}, b.gradTensor().toDoubleArray(), 0, "b's gradient is not a's");
    }

    @Test
    void theSameLeafTwiceAccumulatesBothContributions() {
        Var a = Var.param(randn(3, 4));
        a.mul(a).sum().backward();
        assertArrayEquals(a.value().mul(2).toDoubleArray(), a.gradTensor().toDoubleArray(), 1e-15);
    }

    @Test
    void aLinearLayersGradientsAreAdoptedAndAccumulateAcrossBackwardCalls() {
        Var x = Var.constant(randn(3, 5, 4));
        Var w = Var.param(randn(4, 3, 4));
        Var b = Var.param(randn(5, 3));
        Tensor labels = Tensor.of(new long[] {0, 2, 1, 1, 0});
        Var loss = x.linear(w, b, Activation.RELU).softmaxCrossEntropyMean(labels);
        loss.backward(null, true, false);
        Tensor first = w.gradTensor();
        double[] once = first.toDoubleArray();
        double[] bOnce = b.gradTensor().toDoubleArray();
        loss.backward(null, true, false);
        assertSame(first, w.gradTensor(), "the second pass adds into the gradient in place");
        double[] twice = w.gradTensor().toDoubleArray();
        for (int i = 0; i < once.length; i++) {
            assertEquals(2 * once[i], twice[i], 1e-14 * Math.max(1, Math.abs(once[i])), "accumulated, element " + i);
        }
        w.zeroGrad();
        b.zeroGrad();
        loss.backward();
        assertArrayEquals(once, w.gradTensor().toDoubleArray(), 0, "after zeroGrad, the same gradient again");
        assertArrayEquals(bOnce, b.gradTensor().toDoubleArray(), 0);
    }

    /** With logits a leaf, the seed path hands the kept gradient to it: copied, so a second pass doubles it exactly. */
    @Test
    void aStashedGradientIsCopiedNotAdopted() {
        Var logits = Var.param(randn(7, 4, 3));
        Tensor labels = Tensor.of(new long[] {0, 2, 1, 1});
        Var loss = logits.softmaxCrossEntropyMean(labels);
        loss.backward(null, true, false);
        double[] once = logits.gradTensor().toDoubleArray();
        loss.backward(null, true, false);
        double[] twice = logits.gradTensor().toDoubleArray();
        for (int i = 0; i < once.length; i++) {
            assertEquals(2 * once[i], twice[i], 0, "element " + i);
        }
        Tensor expected = logits.value().softmax(1).sub(labels.oneHot(3, DType.FLOAT64)).mul(0.25);
        assertArrayEquals(expected.toDoubleArray(), once, 1e-15);
    }

    /** The seed 1 without a tensor, an explicit cotangent, and a scaled loss all agree. */
    @Test
    void theMeanCrossEntropysUnitSeedAgreesWithEveryOtherUpstream() {
        Tensor labels = Tensor.of(new long[] {1, 0, 2});
        Tensor value = randn(9, 3, 3);
        Var a = Var.param(value);
        a.softmaxCrossEntropyMean(labels).backward();
        Var b = Var.param(value);
        b.softmaxCrossEntropyMean(labels).backward(Tensor.ones(DType.FLOAT64));
        Var c = Var.param(value);
        c.softmaxCrossEntropyMean(labels).mul(3).backward();
        Var d = Var.param(value);
        d.softmaxCrossEntropy(labels).mean().backward();
        assertArrayEquals(a.gradTensor().toDoubleArray(), b.gradTensor().toDoubleArray(), 0);
        assertArrayEquals(a.gradTensor().mul(3).toDoubleArray(), c.gradTensor().toDoubleArray(), 1e-15);
        assertArrayEquals(d.gradTensor().toDoubleArray(), a.gradTensor().toDoubleArray(), 1e-15);
        Var e = Var.param(value);
        Var loss = e.softmaxCrossEntropyMean(labels);
        assertEquals(e.softmaxCrossEntropy(labels).mean().item(), loss.item(), 1e-15);
        try (Grad.Mode off = Grad.noGrad()) {
            assertEquals(loss.item(), e.softmaxCrossEntropyMean(labels).item(), 0, "an unrecorded loss, computed without its gradient");
        }
    }
}
