package dev.wengert.models.nn;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wengert.autograd.GradCheck;
import dev.wengert.autograd.Var;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.Device;
import dev.wengert.tensor.Scope;
import dev.wengert.tensor.ScopePerTest;
import dev.wengert.tensor.Tensor;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every layer's function, gradient-checked in float64 in both modes (one row per layer). */
@ExtendWith(ScopePerTest.class)
class LayerGradTest {
    static Tensor randn(long seed, int... shape) {
        return Tensor.on(Device.CPU).randn(seed, DType.FLOAT64, shape);
    }

    record Case(String name, Function<Var[], Var> f, Function<Integer, Tensor[]> inputs) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Arguments> layers() {
        return Stream.of(
                new Case("Linear x W^T + b", in -> Linear.apply(in[0], in[1], in[2]),
                        s -> new Tensor[] {randn(s, 4, 3), randn(s + 1, 5, 3), randn(s + 2, 5)}),
                new Case("ReLU", in -> new ReLU().forward(in[0]), s -> new Tensor[] {randn(s, 3, 4)}),
                new Case("Sigmoid", in -> new Sigmoid().forward(in[0]), s -> new Tensor[] {randn(s, 3, 4).mul(3)}),
                new Case("Tanh", in -> new Tanh().forward(in[0]), s -> new Tensor[] {randn(s, 3, 4).mul(2)}),
                new Case("Softmax rows", in -> new Softmax().forward(in[0]), s -> new Tensor[] {randn(s, 3, 4).mul(3)}),
                new Case("Softmax axis 0", in -> new Softmax(0).forward(in[0]), s -> new Tensor[] {randn(s, 3, 4)}),
                new Case("Flatten", in -> new Flatten().forward(in[0]).mul(in[0].reshape(2, 6)), s -> new Tensor[] {randn(s, 2, 3, 2)}),
                new Case("Dropout p=0.5", in -> Dropout.apply(in[0], 0.5, 7), s -> new Tensor[] {randn(s, 4, 5)}),
                new Case("Linear-Tanh-Linear-Softmax composition",
                        in -> Linear.apply(Linear.apply(in[0], in[1], in[2]).tanh(), in[3], in[4]).softmax(1),
                        s -> new Tensor[] {randn(s, 3, 4), randn(s + 1, 5, 4), randn(s + 2, 5), randn(s + 3, 2, 5), randn(s + 4, 2)}))
                .map(Arguments::of);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("layers")
    void gradientMatchesFiniteDifferences(Case c) {
        for (int seed : new int[] {1, 100}) {
            GradCheck.Result r = GradCheck.check(c.f(), 1e-6, c.inputs().apply(seed));
            assertTrue(r.passes(1e-6), c.name() + " seed " + seed + ": " + r);
        }
    }

    @ParameterizedTest(name = "Sequential module {0}")
    @MethodSource("modules")
    void sequentialModuleGradientWithRespectToInput(String name, Module m) {
        try (m) {
            GradCheck.Result r = GradCheck.check(in -> m.forward(in[0]), 1e-6, randn(3, 4, 6));
            assertTrue(r.passes(1e-6), name + ": " + r);
        }
    }

    static Stream<Arguments> modules() {
        try (Scope s = Scope.open()) {
            return Stream.of(
                    Arguments.of("Linear-ReLU-Linear", new Sequential(new Linear(6, 5, Init.KAIMING_NORMAL, 1, DType.FLOAT64, Device.CPU),
                            new ReLU(), new Linear(5, 3, Init.XAVIER_NORMAL, 2, DType.FLOAT64, Device.CPU))),
                    Arguments.of("Flatten-Linear-Sigmoid-Linear-Tanh", new Sequential(new Flatten(),
                            new Linear(6, 4, Init.XAVIER_UNIFORM, 3, DType.FLOAT64, Device.CPU), new Sigmoid(),
                            new Linear(4, 2, Init.KAIMING_UNIFORM, 4, DType.FLOAT64, Device.CPU), new Tanh())));
        }
    }
}
