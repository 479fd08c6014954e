// optim.cuh: the multi-tensor optimizer kernels (a struct of pointers and sizes passed by value), the
// device-side step count they advance, and the loss watch. Each is compared with a plain reference and,
// for Adam, with fused.cuh's per-tensor kernel bit for bit (the same arithmetic).
#include "harness.h"

namespace {

const int MT = 32;  // MT_MAX
// optim.cuh's MtList and OptimScalars, as the Java side (CudaFused) packs them.
struct MtListH {
    int count;
    int pad;
    i64 start[MT + 1];
    void* ptr[4][MT];
};
struct ScalarsH {
    double t;
    double lr;
    unsigned ticket;
    unsigned pad;
    double spare;
};

template <typename T> const char* osfx();
template <> const char* osfx<float>() { return "f32"; }
template <> const char* osfx<double>() { return "f64"; }
std::string on(const char* base, const char* s) { return std::string(base) + "_" + s; }

unsigned long long g_seed = 88172645463325252ULL;
double orand() {
    g_seed ^= g_seed << 13, g_seed ^= g_seed >> 7, g_seed ^= g_seed << 17;
    return (double)(g_seed >> 11) / 9007199254740992.0;
}

template <typename T>
bool same(T a, T b) { return memcmp(&a, &b, sizeof(T)) == 0 || (a != a && b != b); }

MtListH mt_list(const std::vector<std::vector<void*>>& lists, const std::vector<long>& sizes) {
    MtListH l;
    memset(&l, 0, sizeof l);
    l.count = (int)sizes.size();
    for (size_t k = 0; k < sizes.size(); k++) {
        l.start[k + 1] = l.start[k] + sizes[k];
        for (size_t d = 0; d < lists.size(); d++) l.ptr[d][k] = lists[d][k];
    }
    return l;
}

// Kernels.launch as CudaFused calls it: a grid-stride grid over the total, at least one block.
int launch_total(const char* name, long total, Args& a) {
    long blocks = (total + 255) / 256;
    if (blocks < 1) blocks = 1;
    if (blocks > MAX_BLOCKS) blocks = MAX_BLOCKS;
    return launch_dims(name, (unsigned)blocks, 1, 1, 256, 1, a);
}

void test_struct_parameter() {
    for (const char* name : {"optim_sgd_f32", "optim_adam_f64"}) {
        const wsim_kernel* k = wsim_find_kernel(name);
        CHECK(k && k->nargs >= 2 && k->arg_kinds[0] == WSIM_ARG_VALUE && k->arg_sizes[0] == sizeof(MtListH)
                  && k->arg_kinds[1] != WSIM_ARG_VALUE,
              "%s: the MtList struct is one by-value parameter of %zu bytes (table: %zu)", name, sizeof(MtListH),
              k ? k->arg_sizes[0] : (size_t)0);
    }
    CHECK(sizeof(MtListH) == 1296, "MtList is 1296 bytes, as CudaFused packs it: %zu", sizeof(MtListH));
}

// Sizes: empty, size 1, a warp and one, more than one block's threads, and enough in all (over 8192) for
// the grid-stride loop to wrap.
const std::vector<long> SIZES = {0, 1, 33, 1003, 257, 9000, 5};

template <typename T>
void test_sgd() {
    for (int variant = 0; variant < 4; variant++) {  // plain, plain + wd, momentum + wd, nesterov
        bool has_vel = variant >= 2, nesterov = variant == 3;
        double lr = 0.1, mu = has_vel ? 0.9 : 0, wd = variant == 1 || variant == 2 ? 0.01 : 0;
        std::vector<std::vector<T>> p, g, v, p0, v0;
        std::vector<std::vector<void*>> lists(3);
        for (long n : SIZES) {
            p.emplace_back(n), g.emplace_back(n), v.emplace_back(n);
            for (long i = 0; i < n; i++)
                p.back()[i] = (T)(orand() - 0.5), g.back()[i] = (T)(orand() - 0.5), v.back()[i] = (T)(orand() * 0.1);
        }
        g[2][7] = (T)NAN;  // stays in its element
        p0 = p, v0 = v;
        for (size_t k = 0; k < SIZES.size(); k++)
            lists[0].push_back(p[k].data()), lists[1].push_back(g[k].data()), lists[2].push_back(v[k].data());
        ScalarsH s = {4, lr, 0, 0, 0};
        Args a;
        a.val(mt_list(lists, SIZES)).ptr(&s).f64(mu).f64(wd).i32(nesterov).i32(has_vel);
        long total = 0;
        for (long n : SIZES) total += n;
        int rc = launch_total(on("optim_sgd", osfx<T>()).c_str(), total, a);
        long bad = -1, badk = -1;
        for (size_t k = 0; k < SIZES.size() && bad < 0; k++)
            for (long i = 0; i < SIZES[k]; i++) {
                T gi = wd != 0 ? g[k][i] + (T)wd * p0[k][i] : g[k][i];
                T vi = v0[k][i];
                if (has_vel) {
                    vi = (T)mu * vi + gi;
                    gi = nesterov ? gi + (T)mu * vi : vi;
                }
                T want = p0[k][i] - (T)lr * gi;
                if (!same(p[k][i], want) || !same(v[k][i], vi)) {
                    bad = i, badk = (long)k;
                    break;
                }
            }
        CHECK(rc == 0 && bad < 0, "optim_sgd_%s variant %d: tensor %ld element %ld differs", osfx<T>(), variant, badk, bad);
        CHECK(p[2][7] != p[2][7] && p[2][6] == p[2][6] && p[2][8] == p[2][8], "optim_sgd_%s: a NaN gradient stays in its element",
              osfx<T>());
        CHECK(s.t == 4 && s.ticket == 0 && s.lr == lr, "optim_sgd_%s reads the scalars, writes none: t %g ticket %u", osfx<T>(),
              s.t, s.ticket);
    }
}

template <typename T>
void test_adam() {
    for (int variant = 0; variant < 3; variant++) {  // Adam, Adam + L2, AdamW
        int decoupled = variant == 2;
        double lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = variant ? 0.05 : 0;
        std::vector<std::vector<T>> p, g, m, v;
        for (long n : SIZES) {
            p.emplace_back(n), g.emplace_back(n), m.emplace_back(n, (T)0), v.emplace_back(n, (T)0);
            for (long i = 0; i < n; i++) p.back()[i] = (T)(orand() - 0.5), g.back()[i] = (T)(orand() - 0.5);
        }
        auto rp = p, rm = m, rv = v;  // the per-tensor kernel's run
        std::vector<std::vector<void*>> lists(4);
        for (size_t k = 0; k < SIZES.size(); k++)
            lists[0].push_back(p[k].data()), lists[1].push_back(g[k].data()), lists[2].push_back(m[k].data()),
                lists[3].push_back(v[k].data());
        ScalarsH s = {1, lr, 0, 0, 0};
        long total = 0;
        for (long n : SIZES) total += n;
        bool ok = true;
        for (int step = 1; step <= 3; step++) {
            if (step == 3) s.lr = lr = 0.002;  // the host's write after setLr
            Args a;
            a.val(mt_list(lists, SIZES)).ptr(&s).f64(b1).f64(b2).f64(eps).f64(wd).i32(decoupled).i32(1);
            int rc = launch_total(on("optim_adam", osfx<T>()).c_str(), total, a);
            CHECK(rc == 0 && s.t == step + 1 && s.ticket == 0, "optim_adam_%s step %d advances t once: t %g ticket %u", osfx<T>(),
                  step, s.t, s.ticket);
            double bc1 = 1 - pow(b1, (double)step), bc2 = 1 - pow(b2, (double)step);
            for (size_t k = 0; k < SIZES.size(); k++) {
                Args b;
                b.ptr(rp[k].data()).ptr(g[k].data()).ptr(rm[k].data()).ptr(rv[k].data()).f64(lr).f64(b1).f64(b2).f64(eps).f64(wd)
                    .f64(bc1).f64(bc2).i32(decoupled).i64(SIZES[k]);
                launch_n(on("adam", osfx<T>()).c_str(), SIZES[k], b);
            }
        }
        long bad = -1, badk = -1;
        for (size_t k = 0; k < SIZES.size() && ok; k++)
            for (long i = 0; i < SIZES[k]; i++)
                if (!same(p[k][i], rp[k][i]) || !same(m[k][i], rm[k][i]) || !same(v[k][i], rv[k][i])) {
                    bad = i, badk = (long)k, ok = false;
                    break;
                }
        CHECK(ok, "optim_adam_%s variant %d, 3 steps (an lr change before the 3rd): tensor %ld element %ld differs from adam_%s",
              osfx<T>(), variant, badk, bad, osfx<T>());
        // advance 0 (a chunk before the last): t stays; an empty list with advance still advances.
        Args a0;
        a0.val(mt_list(lists, SIZES)).ptr(&s).f64(b1).f64(b2).f64(eps).f64(wd).i32(decoupled).i32(0);
        int rc0 = launch_total(on("optim_adam", osfx<T>()).c_str(), total, a0);
        Args e;
        e.val(mt_list({}, {})).ptr(&s).f64(b1).f64(b2).f64(eps).f64(wd).i32(decoupled).i32(1);
        int rce = launch_total(on("optim_adam", osfx<T>()).c_str(), 0, e);
        CHECK(rc0 == 0 && rce == 0 && s.t == 5 && s.ticket == 0, "optim_adam_%s: advance 0 keeps t, an empty launch advances it: t %g",
              osfx<T>(), s.t);
    }
}

template <typename T>
void test_loss_watch() {
    // loss, weight -> sum, finite steps, current after the step
    struct Row {
        double loss, weight;
    };
    std::vector<Row> rows = {{2.0, 1}, {1.5, 0.25}, {3.0, 1}, {INFINITY, 1}, {5.0, 1}, {NAN, 1}};
    T sum = 0, fin = 0, cur = 0, rsum = 0, rfin = 0, rcur = 0;
    bool ok = true;
    for (size_t r = 0; r < rows.size(); r++) {
        T loss = (T)rows[r].loss;
        Args a;
        a.ptr(&sum).ptr(&fin).ptr(&cur).ptr(&loss).f64(rows[r].weight);
        int rc = launch_dims(on("loss_watch", osfx<T>()).c_str(), 1, 1, 1, 1, 1, a);
        if (rsum < (T)INFINITY) rcur = loss;
        rsum = rsum + (rows[r].weight == 1 ? loss : loss * (T)rows[r].weight);
        if (rsum < (T)INFINITY) rfin = rfin + 1;
        if (rc != 0 || !same(sum, rsum) || !same(fin, rfin) || !same(cur, rcur)) {
            ok = false;
            printf("  step %zu: sum %g/%g finite %g/%g current %g/%g\n", r + 1, (double)sum, (double)rsum, (double)fin, (double)rfin,
                   (double)cur, (double)rcur);
        }
    }
    CHECK(ok && fin == 3 && cur == (T)INFINITY && sum != sum,
          "loss_watch_%s: 3 finite steps, then the current loss freezes at the inf that ended them (the sum ends NaN)", osfx<T>());
    // A NaN first: no finite step, current is that NaN.
    T s2 = 0, f2 = 0, c2 = 7, nan = (T)NAN, one = 1;
    for (T* l : {&nan, &one}) {
        Args a;
        a.ptr(&s2).ptr(&f2).ptr(&c2).ptr(l).f64(1.0);
        launch_dims(on("loss_watch", osfx<T>()).c_str(), 1, 1, 1, 1, 1, a);
    }
    CHECK(f2 == 0 && c2 != c2, "loss_watch_%s: a NaN first step: finite steps %g, current %g", osfx<T>(), (double)f2, (double)c2);
}

void test_scalars_set() {
    ScalarsH s = {9, 9, 5, 5, 9};
    Args a;
    a.ptr(&s).f64(12).f64(0.125);
    int rc = launch_dims("optim_scalars_set", 1, 1, 1, 1, 1, a);
    CHECK(rc == 0 && s.t == 12 && s.lr == 0.125 && s.ticket == 0, "optim_scalars_set: t %g lr %g ticket %u", s.t, s.lr, s.ticket);
}

}  // namespace

void run_optim_tests() {
    test_struct_parameter();
    test_sgd<float>();
    test_sgd<double>();
    test_adam<float>();
    test_adam<double>();
    test_loss_watch<float>();
    test_loss_watch<double>();
    test_scalars_set();
}
