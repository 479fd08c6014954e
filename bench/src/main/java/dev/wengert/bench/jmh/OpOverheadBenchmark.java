package dev.wengert.bench.jmh;

import dev.wengert.autograd.Var;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.Scope;
import dev.wengert.tensor.Tensor;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What autodiff costs per op on small tensors (16 floats, where arithmetic is free and overhead is
 * everything): a chain of 8 elementwise ops as plain tensor ops, the same chain recorded on the tape,
 * and recorded plus backward. The difference is Wengert's bookkeeping.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "-Xmx2g")
@State(org.openjdk.jmh.annotations.Scope.Thread)
public class OpOverheadBenchmark {
    private Tensor x;
    private Var param;

    @Setup(Level.Trial)
    public void setUp() {
        x = Tensor.randn(1, DType.FLOAT32, 16).keepForever();
        param = Var.param(x);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        x.close();
    }

    /** 8 ops on plain tensors: the backend cost alone. */
    @Benchmark
    public double tensorOps() {
        try (Scope s = Scope.open()) {
            Tensor y = x.mul(x).add(x).tanh().mul(x).sub(x).exp().add(x).sum();
            return y.item();
        }
    }

    /** The same 8 ops on a variable that requires grad: forward plus recording. */
    @Benchmark
    public double recordedOps() {
        try (Scope s = Scope.open()) {
            Var y = param.mul(param).add(param).tanh().mul(param).sub(param).exp().add(param).sum();
            return y.item();
        }
    }

    /** Recording plus the backward pass. */
    @Benchmark
    public double recordedOpsAndBackward() {
        try (Scope s = Scope.open()) {
            Var y = param.mul(param).add(param).tanh().mul(param).sub(param).exp().add(param).sum();
            y.backward();
            double g = param.gradTensor().toFloatArray()[0];
            param.zeroGrad();
            return g;
        }
    }
}
