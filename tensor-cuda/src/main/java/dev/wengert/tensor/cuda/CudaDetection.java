package dev.wengert.tensor.cuda;

import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDeviceGetAttribute;
import static jcuda.driver.JCudaDriver.cuDeviceGetCount;
import static jcuda.driver.JCudaDriver.cuDeviceGetName;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRetain;
import static jcuda.driver.JCudaDriver.cuDriverGetVersion;
import static jcuda.driver.JCudaDriver.cuInit;

import dev.wengert.tensor.Backend;
import dev.wengert.tensor.Device;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

/**
 * Opens a CUDA device without ever letting a failure escape: a missing driver library, cuInit failing
 * (no GPU), an absent device ordinal, a driver older than CUDA 12, an unsupported card, missing cuBLAS
 * or kernels each become one sentence in {@code whyNot}, and the CPU backend stays usable. A failure
 * to load the driver library is remembered, because JCuda's classes cannot be initialised twice.
 */
final class CudaDetection {
    /** The oldest compute capability the kernels are built for (major * 10 + minor). */
    static final int MIN_CAPABILITY = 75;
    /**
     * The oldest driver that loads kernels.fatbin (CUDA version * 1000): nvcc 13 built its SASS and PTX,
     * which a CUDA 12 driver cannot load. Supporting 12.x drivers needs a fatbin from nvcc 12.
     */
    static final int MIN_DRIVER = 13000;
    /** How the stand-in libcuda.so.1 of cuda-kernels/src/sim names its device. */
    static final String SIMULATOR_NAME = "Wengert CUDA simulator";
    private static String driverProblem;
    private static boolean initialised;

    private CudaDetection() {
    }

    static synchronized Optional<Backend> open(Device device, StringBuilder whyNot) {
        try {
            String problem = initDriver();
            if (problem != null) {
                whyNot.append(problem);
                return Optional.empty();
            }
            int[] count = {0};
            check(cuDeviceGetCount(count), "cuDeviceGetCount");
            if (device.index() >= count[0]) {
                whyNot.append(device).append(" was requested but this machine has ").append(count[0]).append(" CUDA device(s)")
                        .append(count[0] > 0 ? " (cuda:0 to cuda:" + (count[0] - 1) + ")" : "");
                return Optional.empty();
            }
            CUdevice dev = new CUdevice();
            check(cuDeviceGet(dev, device.index()), "cuDeviceGet(" + device.index() + ")");
            int major = attribute(dev, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
            int minor = attribute(dev, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
            String name = name(dev);
            if (major * 10 + minor < MIN_CAPABILITY) {
                whyNot.append(device).append(" (").append(name).append(") has compute capability ").append(major).append('.')
                        .append(minor).append("; Wengert's kernels need 7.5 or newer");
                return Optional.empty();
            }
            String cublas = CublasLoader.ensureLoaded(whyNot);
            if (cublas == null) {
                return Optional.empty();
            }
            CUcontext ctx = new CUcontext();
            check(cuDevicePrimaryCtxRetain(ctx, dev), "cuDevicePrimaryCtxRetain for " + device);
            int[] version = {0};
            check(cuDriverGetVersion(version), "cuDriverGetVersion");
            boolean simulated = name.startsWith(SIMULATOR_NAME);
            String description = name + ", compute capability " + major + "." + minor + ", driver for CUDA "
                    + version[0] / 1000 + "." + version[0] % 1000 / 10 + ", " + cublas;
            int sms = attribute(dev, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
            return Optional.of(new CudaBackend(device, ctx, sms, description, simulated));
        } catch (LinkageError | RuntimeException e) {
            whyNot.append("CUDA could not be used on ").append(device).append(": ").append(e);
            return Optional.empty();
        }
    }

    /** Loads libJCudaDriver (needs libcuda.so.1) and runs cuInit once; null when both worked. */
    private static String initDriver() {
        if (initialised) {
            return null;
        }
        if (driverProblem != null) {
            return driverProblem;
        }
        try {
            JCudaDriver.setExceptionsEnabled(false);
        } catch (LinkageError e) {
            driverProblem = "the NVIDIA driver library could not be loaded (" + firstLine(e)
                    + "): this machine has no NVIDIA driver, or libcuda.so.1 is not on the library path";
            return driverProblem;
        }
        int r = cuInit(0);
        if (r != CUresult.CUDA_SUCCESS) {
            driverProblem = "cuInit failed with " + CUresult.stringFor(r) + ": "
                    + (r == CUresult.CUDA_ERROR_NO_DEVICE ? "no CUDA-capable GPU is visible"
                    : "the NVIDIA driver is not working (check nvidia-smi)");
            return driverProblem;
        }
        int[] version = {0};
        check(cuDriverGetVersion(version), "cuDriverGetVersion");
        driverProblem = driverTooOld(version[0]);
        if (driverProblem != null) {
            return driverProblem;
        }
        initialised = true;
        return null;
    }

    /** Why a driver of this CUDA version (cuDriverGetVersion: major * 1000 + minor * 10) cannot load the kernels, or null. */
    static String driverTooOld(int version) {
        if (version >= MIN_DRIVER) {
            return null;
        }
        return "the NVIDIA driver supports CUDA " + version / 1000 + "." + version % 1000 / 10
                + " but Wengert's kernels (built by nvcc 13) need a driver for CUDA 13.0 or newer (R580 or later):"
                + " update the NVIDIA driver";
    }

    /** The line of a (multi-line) JCuda load error that names the missing library, else its first line. */
    private static String firstLine(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            for (String line : String.valueOf(t.getMessage()).split("\n")) {
                if (line.contains("cannot open shared object")) {
                    // JCuda's message repeats the exception's class name: keep only the reason
                    return e.getClass().getSimpleName() + ": " + line.trim().replaceFirst("^[\\w.$]+(Error|Exception): ", "");
                }
            }
        }
        String m = String.valueOf(e.getMessage());
        int nl = m.indexOf('\n');
        return e.getClass().getSimpleName() + ": " + (nl < 0 ? m : m.substring(0, nl));
    }

    private static void check(int result, String what) {
        Cu.check(result, what);
    }

    private static int attribute(CUdevice dev, int attribute) {
        int[] v = {0};
        check(cuDeviceGetAttribute(v, attribute, dev), "cuDeviceGetAttribute(" + attribute + ")");
        return v[0];
    }

    private static String name(CUdevice dev) {
        byte[] b = new byte[256];
        check(cuDeviceGetName(b, b.length, dev), "cuDeviceGetName");
        int len = 0;
        while (len < b.length && b[len] != 0) {
            len++;
        }
        return new String(b, 0, len, StandardCharsets.US_ASCII);
    }
}
