package dev.wengert.examples.jacobian;

import dev.wengert.autograd.Jacobians;
import dev.wengert.autograd.Var;
import dev.wengert.tensor.Scope;
import dev.wengert.tensor.Tensor;
import java.util.Arrays;

/**
 * Whole-function derivatives with {@link Jacobians}: the Jacobian of a vector function (by forward and by
 * reverse mode) and the gradient and Hessian of a scalar function.
 */
public final class JacobianHessian {

    /** Polar to Cartesian coordinates: (r, theta) -> (r cos theta, r sin theta). */
    public static Var polarToCartesian(Var p) {
        Var r = p.slice(0, 0, 1);
        Var theta = p.slice(0, 1, 2);
        return Var.concat(0, r.mul(theta.cos()), r.mul(theta.sin()));
    }

    /** Rosenbrock's function (1 - x)^2 + 100 (y - x^2)^2 of v = (x, y). */
    public static Var rosenbrock(Var v) {
        Var x = v.slice(0, 0, 1);
        Var y = v.slice(0, 1, 2);
        return x.rsub(1).square().add(y.sub(x.square()).square().mul(100)).sum();
    }

    /** The Jacobian [2, 2] of {@link #polarToCartesian} at (r, theta), row-major. */
    public static double[] jacobian(double r, double theta, Jacobians.Mode mode) {
        try (Scope s = Scope.open()) {
            Tensor p = Tensor.of(new double[] {r, theta});
            return Jacobians.jacobian(JacobianHessian::polarToCartesian, p, mode).toDoubleArray();
        }
    }

    /** The gradient [2] of {@link #rosenbrock} at (x, y). */
    public static double[] gradient(double x, double y) {
        try (Scope s = Scope.open()) {
            return Jacobians.grad(JacobianHessian::rosenbrock, Tensor.of(new double[] {x, y})).toDoubleArray();
        }
    }

    /** The Hessian [2, 2] of {@link #rosenbrock} at (x, y), row-major. */
    public static double[] hessian(double x, double y) {
        try (Scope s = Scope.open()) {
            return Jacobians.hessian(JacobianHessian::rosenbrock, Tensor.of(new double[] {x, y})).toDoubleArray();
        }
    }

    public static void main(String[] args) {
        double r = 2;
        double theta = Math.PI / 6;
        System.out.println("Jacobian of polar -> Cartesian at (2, pi/6), forward mode: "
                + Arrays.toString(jacobian(r, theta, Jacobians.Mode.FORWARD)));
        System.out.println("                                          reverse mode: "
                + Arrays.toString(jacobian(r, theta, Jacobians.Mode.REVERSE)));
        System.out.println("analytic [cos t, -r sin t, sin t, r cos t]:             "
                + Arrays.toString(new double[] {Math.cos(theta), -r * Math.sin(theta), Math.sin(theta), r * Math.cos(theta)}));
        System.out.println("gradient of Rosenbrock at (-1, 2): " + Arrays.toString(gradient(-1, 2)));
        System.out.println("Hessian of Rosenbrock at (-1, 2):  " + Arrays.toString(hessian(-1, 2))
                + " (analytic [1200 x^2 - 400 y + 2, -400 x, -400 x, 200] = [402, 400, 400, 200])");
    }
}
