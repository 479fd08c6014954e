package dev.wengert.tensor.cuda;

import jcuda.driver.CUresult;

/** Checks CUDA driver results. JCuda's own exceptions stay disabled so that every failure names its op. */
final class Cu {
    private Cu() {
    }

    /** @throws IllegalStateException naming {@code what} and the CUDA error when {@code result} is not success */
    static void check(int result, String what) {
        if (result != CUresult.CUDA_SUCCESS) {
            throw new IllegalStateException(what + " failed: " + CUresult.stringFor(result));
        }
    }
}
