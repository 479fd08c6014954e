// random.cuh: the dropout mask drawn from device-side state {seed, calls, ticket}. Each mask is compared bit
// for bit with a plain reference of Dropout's composed path (CounterRandom's uniform of the draw's seed in T,
// compared with (T) p, times (T) 1/(1-p)); calls advances exactly once per launch, whatever the grid, so
// consecutive launches (a graph's replays) draw consecutive masks.
#include "harness.h"

namespace {

// random.cuh's DropoutState, as the Java side (CudaFused.dropoutMask) lays out its int64 [3] tensor.
struct StateH {
    i64 seed;
    i64 calls;
    unsigned long long ticket;
};

const unsigned long long GOLDEN = 0x9E3779B97F4A7C15ULL;

// CounterRandom.mix / uniform, the Java reference.
unsigned long long mix(unsigned long long seed, unsigned long long counter) {
    unsigned long long z = seed + (counter + 1) * GOLDEN;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}
double uniform(unsigned long long seed, unsigned long long i) { return (double)(mix(seed, i) >> 11) * 0x1.0p-53; }

template <typename T> const char* rsfx();
template <> const char* rsfx<float>() { return "f32"; }
template <> const char* rsfx<double>() { return "f64"; }

// Dropout.apply(x, p, seed + GOLDEN * draw): u = rand(seed') in T; mask = (u >= (T) p) * (T) (1 / (1 - p)).
template <typename T>
T want(i64 seed, i64 draw, double p, long i) {
    unsigned long long s = (unsigned long long)seed + GOLDEN * (unsigned long long)draw;
    T u = (T)uniform(s, (unsigned long long)i);
    return u >= (T)p ? (T)1 * (T)(1 / (1 - p)) : (T)0;
}

// Kernels.launch as CudaFused.dropoutMask calls it: grid-stride over the mask, at least one block (an empty
// mask still advances the counter).
int launch_mask(const char* name, long n, Args& a) {
    long blocks = (n + 255) / 256;
    if (blocks < 1) blocks = 1;
    if (blocks > MAX_BLOCKS) blocks = MAX_BLOCKS;
    return launch_dims(name, (unsigned)blocks, 1, 1, 256, 1, a);
}

// Sizes: empty, one, a block and one more, a block less one, not a multiple of the block, and more than the
// grid's 32 blocks x 256 threads (the grid-stride loop wraps).
const std::vector<long> SIZES = {0, 1, 257, 255, 1003, 9000};

template <typename T>
void test_masks(double p, i64 seed) {
    std::string name = std::string("dropout_mask_") + rsfx<T>();
    StateH s = {seed, 0, 0};
    i64 draws = 0;
    for (long n : SIZES) {
        for (int rep = 0; rep < 2; rep++) {  // the same launch twice (a replay): the next draw, not the same mask
            Buf<T> m(n);
            Args a;
            a.ptr(m.p).ptr(&s).f64(p).f64(1 / (1 - p)).i64(n);
            int rc = launch_mask(name.c_str(), n, a);
            draws++;
            long bad = -1, zeros = 0;
            for (long i = 0; i < n; i++) {
                if (!same(m[i], want<T>(seed, draws, p, i))) {
                    bad = i;
                    break;
                }
                zeros += m[i] == (T)0;
            }
            CHECK(rc == 0 && bad < 0 && m.tail_intact(), "%s p=%g seed %lld n=%ld draw %lld: element %ld differs from the"
                  " reference (got %g, want %g), or a write past the end", name.c_str(), p, seed, n, draws, bad,
                  bad < 0 ? 0.0 : (double)m[bad], bad < 0 ? 0.0 : (double)want<T>(seed, draws, p, bad));
            CHECK(s.seed == seed && s.calls == draws && s.ticket == 0, "%s n=%ld: one advance per launch: seed %lld calls %lld"
                  " (want %lld) ticket %llu", name.c_str(), n, s.seed, s.calls, draws, s.ticket);
            if (n == 9000) {
                double frac = (double)zeros / n;
                CHECK(fabs(frac - p) < 0.03, "%s p=%g: %.4f of 9000 elements dropped", name.c_str(), p, frac);
            }
        }
    }
    // Two consecutive launches on one buffer draw different masks (what a graph's replays must do).
    Buf<T> a1(1003), a2(1003);
    for (Buf<T>* b : {&a1, &a2}) {
        Args a;
        a.ptr(b->p).ptr(&s).f64(p).f64(1 / (1 - p)).i64(1003);
        launch_mask(name.c_str(), 1003, a);
    }
    long differ = 0;
    for (long i = 0; i < 1003; i++) differ += !same(a1[i], a2[i]);
    CHECK(differ > 100, "%s p=%g: consecutive launches draw new masks (%ld of 1003 elements differ)", name.c_str(), p, differ);
}

// A state the host wrote (a resumed checkpoint: calls = 41) draws mask 42 next, and only the values 0 and 1/(1-p) occur.
template <typename T>
void test_resume() {
    std::string name = std::string("dropout_mask_") + rsfx<T>();
    double p = 0.5;
    StateH s = {1234, 41, 0};
    Buf<T> m(700);
    Args a;
    a.ptr(m.p).ptr(&s).f64(p).f64(2.0).i64(700);
    int rc = launch_mask(name.c_str(), 700, a);
    long bad = -1;
    for (long i = 0; i < 700 && bad < 0; i++)
        if (!same(m[i], want<T>(1234, 42, p, i)) || (m[i] != (T)0 && m[i] != (T)2)) bad = i;
    CHECK(rc == 0 && bad < 0 && s.calls == 42, "%s: a state at calls 41 draws mask 42 (element %ld differs; calls %lld)",
          name.c_str(), bad, s.calls);
}

}  // namespace

void run_random_tests() {
    for (double p : {0.5, 0.25, 0.9}) {
        test_masks<float>(p, 7);
        test_masks<double>(p, -3);  // a negative seed: the same two's-complement arithmetic as Java's long
    }
    test_resume<float>();
    test_resume<double>();
}
