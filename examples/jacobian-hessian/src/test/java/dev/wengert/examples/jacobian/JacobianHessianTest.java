package dev.wengert.examples.jacobian;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.wengert.autograd.Jacobians;
import org.junit.jupiter.api.Test;

/** The derivatives the example computes are the analytic ones. */
class JacobianHessianTest {

    @Test
    void jacobianOfPolarToCartesianInBothModes() {
        double r = 2;
        double t = Math.PI / 6;
        double[] analytic = {Math.cos(t), -r * Math.sin(t), Math.sin(t), r * Math.cos(t)};
        assertArrayEquals(analytic, JacobianHessian.jacobian(r, t, Jacobians.Mode.FORWARD), 1e-12);
        assertArrayEquals(analytic, JacobianHessian.jacobian(r, t, Jacobians.Mode.REVERSE), 1e-12);
    }

    @Test
    void gradientAndHessianOfRosenbrock() {
        double x = -1;
        double y = 2;
        // d/dx = -2 (1 - x) - 400 x (y - x^2), d/dy = 200 (y - x^2)
        assertArrayEquals(new double[] {-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)},
                JacobianHessian.gradient(x, y), 1e-9);
        assertArrayEquals(new double[] {1200 * x * x - 400 * y + 2, -400 * x, -400 * x, 200},
                JacobianHessian.hessian(x, y), 1e-9);
    }

    @Test
    void mainRuns() {
        JacobianHessian.main(new String[0]);
    }
}
