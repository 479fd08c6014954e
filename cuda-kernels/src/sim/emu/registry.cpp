// Extra kernel tables (wsim_register_kernels): tests register planted-fault kernels made with
// WSIM_KERNEL(fn). wsim_find_kernel (in the generated kernel table, gen-kernel-table.sh) looks at the
// kernels built from src/main/cuda first, then here.
#include <string.h>

#include <mutex>
#include <vector>

#include "cuda_emu.h"

extern "C" const wsim_kernel* wsim_find_registered(const char* name) __attribute__((visibility("hidden")));

namespace {
struct Table {
    const wsim_kernel* k;
    int count;
};
std::mutex g_lock;
std::vector<Table>& tables() {
    static std::vector<Table> t;
    return t;
}
}  // namespace

extern "C" void wsim_register_kernels(const wsim_kernel* table, int count) {
    if (!table || count <= 0) return;
    std::lock_guard<std::mutex> g(g_lock);
    tables().push_back(Table{table, count});
}

extern "C" const wsim_kernel* wsim_find_registered(const char* name) {
    if (!name) return nullptr;
    std::lock_guard<std::mutex> g(g_lock);
    // Later registrations first, so a test can re-register a fixed version under the same name.
    for (auto it = tables().rbegin(); it != tables().rend(); ++it) {
        for (int i = 0; i < it->count; i++) {
            if (it->k[i].name && strcmp(it->k[i].name, name) == 0) return &it->k[i];
        }
    }
    return nullptr;
}
