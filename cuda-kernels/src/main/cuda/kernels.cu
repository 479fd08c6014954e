// The one translation unit nvcc compiles into kernels.fatbin; each header holds one family of kernels.
// Every entry point is extern "C" so the Java side finds it by its plain name (e.g. "unary_f32").
#include "common.cuh"
#include "elementwise.cuh"
#include "reduce.cuh"
#include "movement.cuh"
#include "fused.cuh"
#include "optim.cuh"
#include "conv.cuh"
#include "random.cuh"
