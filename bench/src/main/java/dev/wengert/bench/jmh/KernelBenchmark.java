package dev.wengert.bench.jmh;

import dev.wengert.tensor.BinaryOp;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.Scope;
import dev.wengert.tensor.Tensor;
import java.util.concurrent.TimeUnit;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.AddOp;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Exp;
import org.nd4j.linalg.factory.Nd4j;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Kernel throughput on the CPU, ours beside raw ND4J writing into preallocated arrays (ND4J's fastest
 * use): square matmul at several sizes, and elementwise add / exp at several lengths. Ours allocates
 * its output from the buffer pool each call, as real code does.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "-Xmx2g")
@State(org.openjdk.jmh.annotations.Scope.Thread)
public class KernelBenchmark {
    @Param({"64", "256", "1024"})
    public int n;

    private Tensor a;
    private Tensor b;
    private Tensor v;
    private Tensor w;
    private INDArray na;
    private INDArray nb;
    private INDArray nc;
    private INDArray nv;
    private INDArray nw;
    private INDArray nz;

    @Setup(Level.Trial)
    public void setUp() {
        a = Tensor.randn(1, DType.FLOAT32, n, n).keepForever();
        b = Tensor.randn(2, DType.FLOAT32, n, n).keepForever();
        v = Tensor.randn(3, DType.FLOAT32, n * n).keepForever();
        w = Tensor.randn(4, DType.FLOAT32, n * n).keepForever();
        na = Nd4j.rand(DataType.FLOAT, n, n);
        nb = Nd4j.rand(DataType.FLOAT, n, n);
        nc = Nd4j.create(DataType.FLOAT, n, n);
        nv = Nd4j.rand(DataType.FLOAT, n * n);
        nw = Nd4j.rand(DataType.FLOAT, n * n);
        nz = Nd4j.create(DataType.FLOAT, n * n);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        a.close();
        b.close();
        v.close();
        w.close();
    }

    @Benchmark
    public Object matmulWengert() {
        try (Scope s = Scope.open()) {
            return a.matmul(false, b, true).dtype();
        }
    }

    @Benchmark
    public Object matmulNd4jGemm() {
        return Nd4j.gemm(na, nb, nc, false, true, 1.0, 0.0);
    }

    /** n*n elements. */
    @Benchmark
    public Object addWengert() {
        try (Scope s = Scope.open()) {
            return v.apply(BinaryOp.ADD, w).dtype();
        }
    }

    @Benchmark
    public Object addNd4j() {
        return Nd4j.getExecutioner().exec(new AddOp(nv, nw, nz));
    }

    @Benchmark
    public Object expWengert() {
        try (Scope s = Scope.open()) {
            return v.exp().dtype();
        }
    }

    @Benchmark
    public Object expNd4j() {
        return Nd4j.getExecutioner().exec(new Exp(nv, nz));
    }
}
