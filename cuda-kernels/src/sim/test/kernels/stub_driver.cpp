// Stand-in for the driver half of sim.h, so the kernel-emulator tests link without driver/:
// wsim_report prints and keeps the text, counts faults; wsim_check_access accepts everything.
// The full simulator build links the real libcuda.so.1 (driver/) instead of this file.
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <atomic>

#include "../../sim.h"

static std::atomic<int64_t> g_counters[WSIM_T_COUNT];
static char g_last[2048];

extern "C" void wsim_report(int kind, const char* fmt, ...) {
    static const char* kinds[] = {"memcheck", "hazard", "barrier", "api"};
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_last, sizeof g_last, fmt, ap);
    va_end(ap);
    fprintf(stderr, "wengert-sim: %s: %s\n", kind >= 0 && kind < WSIM_FAULT_KINDS ? kinds[kind] : "?", g_last);
    if (kind >= 0 && kind < WSIM_FAULT_KINDS) g_counters[WSIM_T_FAULTS_MEMCHECK + kind]++;
}

extern "C" int wsim_check_access(uint64_t, const void*, size_t, int, const char*) { return 0; }
extern "C" void wsim_trace_count(int counter) {
    if (counter >= 0 && counter < WSIM_T_COUNT) g_counters[counter]++;
}
extern "C" void wsim_trace_read(int64_t* out, int n) {
    for (int i = 0; i < n && i < WSIM_T_COUNT; i++) out[i] = g_counters[i].load();
}
extern "C" void wsim_trace_reset(void) {
    for (int i = 0; i < WSIM_T_COUNT; i++)
        if (i != WSIM_T_LIVE_ALLOCS) g_counters[i] = 0;
}
extern "C" void wsim_last_report(char* buf, size_t len) {
    if (!len) return;
    strncpy(buf, g_last, len - 1);
    buf[len - 1] = 0;
}
extern "C" int wsim_is_simulator(void) { return 1; }
