package dev.wengert.examples.readme;

import dev.wengert.autograd.Var;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.Tensor;

/** The README's "Ten lines that compute a gradient" as a program: keep the two identical. */
public final class ReadmeExample {

    public static void main(String[] args) {
        Var x1 = Var.param(Tensor.scalar(2, DType.FLOAT64));
        Var x2 = Var.param(Tensor.scalar(5, DType.FLOAT64));
        Var f = x1.log().add(x1.mul(x2)).sub(x2.sin());   // f(x1, x2) = ln x1 + x1 x2 - sin x2
        f.backward();
        System.out.println(f.item());                      // 11.652071455223084
        System.out.println(x1.gradTensor().item());        // 5.5
        System.out.println(x2.gradTensor().item());        // 1.7163378145367738
    }
}
