package dev.wengert.tensor;

/**
 * The counter-based generator every backend uses for {@link Backend#random}: element i is a pure
 * function of (seed, i), so values do not depend on the device or on how work is split across threads.
 * Uniforms come from SplitMix64's finaliser; normals from Box-Muller on the uniforms of 2i and 2i+1.
 * A CUDA kernel implements the same arithmetic.
 */
public final class CounterRandom {
    private static final long GOLDEN = 0x9E3779B97F4A7C15L;

    private CounterRandom() {
    }

    /** SplitMix64 finaliser of (seed, counter). */
    public static long mix(long seed, long counter) {
        long z = seed + (counter + 1) * GOLDEN;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Uniform in [0, 1) with 53 random bits. */
    public static double uniform(long seed, long i) {
        return (mix(seed, i) >>> 11) * 0x1.0p-53;
    }

    /** Standard normal sample number i. */
    public static double normal(long seed, long i) {
        double u1 = 1.0 - uniform(seed, 2 * i);     // (0, 1]: log is finite
        double u2 = uniform(seed, 2 * i + 1);
        return Math.sqrt(-2.0 * Math.log(u1)) * Math.cos(2.0 * Math.PI * u2);
    }

    /** Sample i of the given distribution (see {@link Backend#random} for lo and hi). */
    public static double sample(RandomKind kind, double lo, double hi, long seed, long i) {
        return kind == RandomKind.UNIFORM ? lo + (hi - lo) * uniform(seed, i) : lo + hi * normal(seed, i);
    }
}
