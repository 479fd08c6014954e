package dev.wengert.tensor.cuda;

import static jcuda.driver.JCudaDriver.cuLaunchKernel;
import static jcuda.driver.JCudaDriver.cuModuleGetFunction;
import static jcuda.driver.JCudaDriver.cuModuleLoadData;

import dev.wengert.cuda.KernelImage;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUresult;
import jcuda.driver.CUstream;

/**
 * The kernel module of one device context (kernels.fatbin from the wengert-cuda-kernels jar) and the
 * launch helpers. Launches are asynchronous on the backend's stream. Elementwise kernels use
 * grid-stride loops, so the grid is capped at a few blocks per SM rather than one thread per element.
 */
final class Kernels {
    static final String FATBIN = KernelImage.FATBIN;
    static final int BLOCK = 256;

    private final CUmodule module = new CUmodule();
    private final Map<String, CUfunction> functions = new ConcurrentHashMap<>();
    private final CUstream stream;
    private final int maxBlocks;

    /** Loads the module into the current context. */
    Kernels(CUstream stream, int multiprocessors) {
        this.stream = stream;
        this.maxBlocks = Math.max(1, multiprocessors) * 16;
        byte[] image = KernelImage.load();
        // cuModuleLoadData wants a NUL-terminated image (GPU-FACTS.md); cuModuleLoadFatBinary does not work.
        int r = cuModuleLoadData(module, Arrays.copyOf(image, image.length + 1));
        if (r != CUresult.CUDA_SUCCESS) {
            throw new IllegalStateException("loading " + FATBIN + " failed: " + CUresult.stringFor(r)
                    + " (the kernels have SASS for compute capability 7.5, 8.x, 9.0 and PTX for newer; a driver older"
                    + " than the CUDA 13 nvcc that built them cannot JIT the PTX: update the NVIDIA driver)");
        }
    }

    private CUfunction function(String name) {
        CUfunction f = functions.get(name);
        if (f == null) {
            f = new CUfunction();
            int r = cuModuleGetFunction(f, module, name);
            if (r != CUresult.CUDA_SUCCESS) {
                throw new IllegalStateException("kernel " + name + " is not in " + FATBIN + " (" + CUresult.stringFor(r)
                        + "); the wengert-cuda-kernels jar does not match this backend: rebuild both");
            }
            functions.put(name, f);
        }
        return f;
    }

    /** A grid-stride kernel over {@code n} items (nothing is launched for n == 0). */
    void launch(String name, long n, Args args) {
        if (n <= 0) {
            return;
        }
        long blocks = Math.min((n + BLOCK - 1) / BLOCK, maxBlocks);
        launch(name, (int) blocks, 1, 1, BLOCK, 1, args);
    }

    /** A kernel with one block per row (the kernels loop when there are more rows than blocks). */
    void launchRows(String name, long rows, Args args) {
        if (rows <= 0) {
            return;
        }
        launch(name, (int) Math.min(rows, maxBlocks * 4L), 1, 1, BLOCK, 1, args);
    }

    /** Rows up to which a row kernel has a warp-per-row form ({@link #launchWarpRows}): a block per row would idle. */
    static final int WARP_ROW_MAX = 1024;

    /**
     * A kernel with one warp per row (BLOCK / 32 rows per block; the kernels loop when there are more rows than
     * warps), for rows of up to {@link #WARP_ROW_MAX} elements: a block per row of 10 classes leaves 96% of it idle.
     */
    void launchWarpRows(String name, long rows, Args args) {
        if (rows <= 0) {
            return;
        }
        long perBlock = BLOCK / 32;
        launch(name, (int) Math.min((rows + perBlock - 1) / perBlock, maxBlocks * 4L), 1, 1, BLOCK, 1, args);
    }

    /** A launch of the given geometry; nothing is launched when any dimension is 0 (an empty tensor). */
    void launch(String name, int gx, int gy, int gz, int bx, int by, Args args) {
        if (gx <= 0 || gy <= 0 || gz <= 0 || bx <= 0 || by <= 0) {
            return;
        }
        int r = cuLaunchKernel(function(name), gx, gy, gz, bx, by, 1, 0, stream, args.pointer(), null);
        if (r != CUresult.CUDA_SUCCESS) {
            throw new IllegalStateException("launching kernel " + name + " (grid " + gx + "x" + gy + "x" + gz + ", block "
                    + bx + "x" + by + ") failed: " + CUresult.stringFor(r));
        }
    }
}
