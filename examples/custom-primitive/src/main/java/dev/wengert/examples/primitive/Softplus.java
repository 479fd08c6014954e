package dev.wengert.examples.primitive;

import dev.wengert.autograd.GradCheck;
import dev.wengert.autograd.Prim;
import dev.wengert.autograd.Rules;
import dev.wengert.autograd.Var;
import dev.wengert.tensor.Scope;
import dev.wengert.tensor.Tensor;

/**
 * A user-defined primitive: softplus(x) = log(1 + exp(beta x)) / beta with its own value and its own
 * derivative, sigmoid(beta x). Composed from built-ins, {@code x.mul(beta).exp().add(1).log().div(beta)}
 * overflows to infinity for large x and its gradient becomes NaN; the primitive computes the value in a
 * stable form and gives the derivative directly.
 */
public final class Softplus {

    /** The primitive's attributes: one record (or {@code Void} when it has none). */
    public record Beta(double beta) {
    }

    /** Created once; the rules are written with Var operations, so they can be differentiated again. */
    public static final Prim<Beta> SOFTPLUS = new Prim<>("softplus");

    static {
        Rules.define(SOFTPLUS,
                (g, out, in, a) -> new Var[] {g.mul(in[0].mul(a.beta()).sigmoid())},   // reverse mode: g * f'(x)
                (t, out, in, a) -> t[0].mul(in[0].mul(a.beta()).sigmoid()));           // forward mode: f'(x) * t
    }

    private Softplus() {
    }

    /** softplus of x, recorded on the tape: the value as max(x, 0) + log(1 + exp(-beta |x|)) / beta. */
    public static Var softplus(Var x, double beta) {
        Tensor v = x.value();
        Tensor value = v.relu().add(v.abs().mul(-beta).exp().add(1).log().div(beta));
        return Var.custom(SOFTPLUS, new Beta(beta), value, x);
    }

    public static void main(String[] args) {
        try (Scope s = Scope.open()) {
            Tensor points = Tensor.of(new double[] {-3, -0.5, 0.25, 2});
            GradCheck.Result first = GradCheck.check(v -> softplus(v[0], 2), 1e-6, points);
            GradCheck.Result second = GradCheck.checkSecondOrder(v -> softplus(v[0], 2), 1e-6, points);
            System.out.println("gradcheck, first order:  " + first);
            System.out.println("gradcheck, second order: " + second);

            Var big = Var.param(Tensor.of(new double[] {1000}));
            Var y = softplus(big, 1);
            y.sum().backward();
            System.out.println("softplus(1000) = " + y.value().item() + ", derivative " + big.gradTensor().item());
            big.zeroGrad();
            Var naive = big.exp().add(1).log();
            naive.sum().backward();
            System.out.println("composed from exp and log: " + naive.value().item() + ", derivative " + big.gradTensor().item());
        }
    }
}
