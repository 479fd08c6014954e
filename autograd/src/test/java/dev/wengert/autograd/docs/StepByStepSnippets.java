package dev.wengert.autograd.docs;

import dev.wengert.autograd.Forward;
import dev.wengert.autograd.Jacobians;
import dev.wengert.autograd.Var;
import dev.wengert.autograd.lessons.Dual;
import dev.wengert.autograd.numeric.NumericDiff;
import dev.wengert.autograd.lessons.ExpressionSwell;
import dev.wengert.autograd.lessons.Expr;
import dev.wengert.autograd.lessons.SwellDemo;
import dev.wengert.autograd.trace.WengertList;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.Tensor;
import java.util.Locale;

/**
 * The code of docs/step-by-step.md. Each method holds one snippet between {@code // snippet:NAME} and
 * {@code // end-snippet}; {@link StepByStepDocTest} checks that the document shows exactly these lines
 * and exactly what each method prints.
 */
final class StepByStepSnippets {

    private StepByStepSnippets() {
    }

    static void symbolic() {
        // snippet:symbolic
        Expr x = Expr.variable("x");
        Expr f = x.times(x).sin();                    // sin(x^2)
        System.out.println("d/dx " + f + " = " + f.diff("x").simplify());
        for (ExpressionSwell.Row r : ExpressionSwell.logisticMap(6)) {
            System.out.println("n = " + r.n() + ": l_n has " + r.expressionSize()
                    + " nodes, dl_n/dx has " + r.derivativeSize());
        }
        // end-snippet
    }

    static void numeric() {
        // snippet:numeric
        double exact = Math.cos(1.0);                 // d/dx sin x at x = 1
        for (double h = 1e-1; h > 1e-14; h /= 100) {
            double approx = NumericDiff.derivative(Math::sin, 1.0, h);
            System.out.printf(Locale.ROOT, "h = %.0e   error = %.1e%n", h, Math.abs(approx - exact));
        }
        // end-snippet
    }

    static void dual() {
        // snippet:dual
        // f(x1, x2) = ln x1 + x1 x2 - sin x2 at (2, 5); seed x1 with tangent 1 for df/dx1
        Dual x1 = Dual.of(2, 1);
        Dual x2 = Dual.constant(5);
        Dual y = x1.log().plus(x1.times(x2)).minus(x2.sin());
        System.out.println("f = " + y.value() + ", df/dx1 = " + y.tangent());
        // end-snippet
    }

    /** The survey's example, recorded with Var. */
    static Var survey(Var x1, Var x2) {
        return x1.log().add(x1.mul(x2)).sub(x2.sin());
    }

    static void forwardTrace() {
        // snippet:forwardTrace
        Var x1 = Var.param(Tensor.scalar(2, DType.FLOAT64)).named("x1");
        Var x2 = Var.param(Tensor.scalar(5, DType.FLOAT64)).named("x2");
        Forward.withTangent(x1, Tensor.scalar(1, DType.FLOAT64));   // ẋ1 = 1, ẋ2 = 0
        Var y = x1.log().add(x1.mul(x2)).sub(x2.sin());
        WengertList list = WengertList.of(y);
        System.out.print(list.primalTrace());
        System.out.print(list.tangentTrace());
        // end-snippet
    }

    static void reverseTrace() {
        // snippet:reverseTrace
        Var x1 = Var.param(Tensor.scalar(2, DType.FLOAT64)).named("x1");
        Var x2 = Var.param(Tensor.scalar(5, DType.FLOAT64)).named("x2");
        Var y = x1.log().add(x1.mul(x2)).sub(x2.sin());
        System.out.print(WengertList.of(y).backward().adjointTrace());
        System.out.println("x1.grad = " + x1.gradTensor().item() + ", x2.grad = " + x2.gradTensor().item());
        // end-snippet
    }

    static void wengertList() {
        // snippet:wengertList
        Var x = Var.param(Tensor.scalar(0.3, DType.FLOAT64)).named("x");
        Var l = x;
        for (int k = 1; k < 3; k++) {
            l = l.mul(4).mul(l.rsub(1));              // l_{k+1} = 4 l_k (1 - l_k)
        }
        System.out.print(WengertList.of(l).primalTrace());
        System.out.print(SwellDemo.table(SwellDemo.rows(10)));
        // end-snippet
    }

    static void jacobians() {
        // snippet:jacobians
        // f: R^2 -> R^3, f(x) = (x0 x1, sin x0, exp x1)
        Tensor x = Tensor.of(new double[] {1.0, 2.0}, 2);
        java.util.function.Function<Var, Var> f = v -> {
            Var a = v.slice(0, 0, 1);
            Var b = v.slice(0, 1, 2);
            return Var.concat(0, a.mul(b), a.sin(), b.exp());
        };
        System.out.println("forward: " + Jacobians.jacobian(f, x, Jacobians.Mode.FORWARD));
        System.out.println("reverse: " + Jacobians.jacobian(f, x, Jacobians.Mode.REVERSE));
        System.out.println("AUTO for 2 inputs, 3 outputs: " + Jacobians.Mode.AUTO.resolve(2, 3));
        System.out.println("AUTO for 1000 inputs, 1 output: " + Jacobians.Mode.AUTO.resolve(1000, 1));
        // end-snippet
    }

    static void logisticRegression() {
        // snippet:logisticRegression
        // 2 samples, 3 features, 2 classes
        Var xs = Var.constant(Tensor.of(new double[] {1.0, 2.0, -1.0, 0.5, -1.5, 2.0}, 2, 3)).named("X");
        Tensor labels = Tensor.of(new long[] {0, 1}, 2, 1);
        Var w = Var.param(Tensor.of(new double[] {0.1, -0.2, 0.3, 0.0, -0.1, 0.2}, 3, 2)).named("W");
        Var b = Var.param(Tensor.of(new double[] {0.0, 0.1}, 2)).named("b");

        Var logits = xs.matmul(w).add(b);
        Var logProbs = logits.logSoftmax(1);
        Var loss = logProbs.gather(1, labels).mean().neg().named("loss");

        WengertList list = WengertList.of(loss);
        System.out.print(list.primalTrace());
        System.out.print(list.backward().adjointTrace());
        Tensor step = w.value().sub(w.gradTensor().mul(0.5));      // one SGD step, learning rate 0.5
        System.out.println("W after one step: " + step);
        // end-snippet
    }
}
