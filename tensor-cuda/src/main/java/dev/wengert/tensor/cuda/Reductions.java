package dev.wengert.tensor.cuda;

import dev.wengert.tensor.spi.Strides;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.ReduceOp;
import dev.wengert.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import jcuda.driver.CUdeviceptr;

/**
 * Plans a reduction along sorted axes. After dropping size-1 dimensions and merging neighbours that are
 * both kept or both reduced, the common layouts map straight onto a kernel: [K?, R] onto reduce_rows
 * (one block per contiguous row) and [K?, R, K] onto reduce_oli (one thread per output, coalesced
 * along the trailing kept block). Anything else is first permuted so that the reduced dimensions come
 * last. Few long rows are split into chunks reduced in two passes so that the whole GPU works.
 */
final class Reductions {
    /** Rows longer than this are chunked when there are too few rows to fill the GPU. */
    private static final long ROW_CHUNK = 4096;
    private static final long OLI_CHUNK = 64;

    private Reductions() {
    }

    static void reduce(CudaBackend be, ReduceOp op, Tensor x, int[] axes, Tensor out) {
        if (out.numel() == 0) {
            return;
        }
        int[] xs = x.shape();
        boolean[] reduced = new boolean[xs.length];
        for (int a : axes) {
            reduced[a] = true;
        }
        List<long[]> groups = new ArrayList<>(); // {size, 1 if reduced}
        for (int d = 0; d < xs.length; d++) {
            if (xs[d] == 1) {
                continue;
            }
            long flag = reduced[d] ? 1 : 0;
            if (!groups.isEmpty() && groups.get(groups.size() - 1)[1] == flag) {
                groups.get(groups.size() - 1)[0] *= xs[d];
            } else {
                groups.add(new long[] {xs[d], flag});
            }
        }
        int code = OpCodes.of(op);
        DType dt = x.dtype();
        CUdeviceptr xp = CudaBackend.ptr(x);
        CUdeviceptr op1 = CudaBackend.ptr(out);
        String pattern = pattern(groups);
        if (pattern.isEmpty() || pattern.equals("K")) { // only size-1 axes are reduced: the same elements, a copy
            be.copyBytes(x, 0, out, 0, out.numel());
        } else if (pattern.equals("R") || pattern.equals("KR")) {
            long rows = pattern.equals("R") ? 1 : groups.get(0)[0];
            rows(be, code, dt, xp, op1, rows, groups.get(groups.size() - 1)[0]);
        } else if (pattern.equals("RK") || pattern.equals("KRK")) {
            long outer = pattern.equals("RK") ? 1 : groups.get(0)[0];
            long len = groups.get(groups.size() - 2)[0];
            long inner = groups.get(groups.size() - 1)[0];
            oli(be, code, dt, xp, op1, outer, len, inner);
        } else {
            permuteThenRows(be, code, x, reduced, out);
        }
    }

    private static String pattern(List<long[]> groups) {
        StringBuilder sb = new StringBuilder();
        for (long[] g : groups) {
            sb.append(g[1] == 1 ? 'R' : 'K');
        }
        return sb.toString();
    }

    /** x permuted to [kept..., reduced...] in a scratch buffer, then reduced as rows. */
    private static void permuteThenRows(CudaBackend be, int code, Tensor x, boolean[] reduced, Tensor out) {
        int[] xs = x.shape();
        int[] perm = new int[xs.length];
        int p = 0;
        long rows = 1;
        for (int d = 0; d < xs.length; d++) {
            if (!reduced[d]) {
                perm[p++] = d;
                rows *= xs[d];
            }
        }
        for (int d = 0; d < xs.length; d++) {
            if (reduced[d]) {
                perm[p++] = d;
            }
        }
        int[] ps = new int[xs.length];
        int[] shape = new int[xs.length];
        int[] xst = Strides.strides(xs);
        for (int i = 0; i < xs.length; i++) {
            ps[i] = xst[perm[i]];
            shape[i] = xs[perm[i]];
        }
        DType dt = x.dtype();
        CachingAllocator.Block tmp = be.scratch((long) x.numel() * dt.bytes());
        try {
            Geo g = Geo.merged("reduce", shape, ps, Strides.strides(shape));
            be.kernels().launch("copy_strided_" + OpCodes.bits(dt), x.numel(), new Args().ptr(CudaBackend.ptr(x)).i64(0)
                    .ptr(tmp.ptr()).i64(0).i64(x.numel()).geo(g));
            rows(be, code, dt, tmp.ptr(), CudaBackend.ptr(out), rows, x.numel() / rows);
        } finally {
            be.release(tmp);
        }
    }

    /** out[r] = reduce(x[r, 0..len)), in two passes when a few long rows would leave the GPU idle. */
    private static void rows(CudaBackend be, int code, DType dt, CUdeviceptr x, CUdeviceptr out, long rows, long len) {
        String name = "reduce_rows_" + OpCodes.suffix(dt);
        long nchunks = 1;
        if (rows < 256 && len > 2 * ROW_CHUNK) {
            nchunks = Math.min((len + ROW_CHUNK - 1) / ROW_CHUNK, Math.max(1, 1024 / rows));
        }
        if (nchunks <= 1) {
            be.kernels().launchRows(name, rows, new Args().i32(code).ptr(x).ptr(out).i64(rows).i64(len).i64(Math.max(len, 1)));
            return;
        }
        long chunk = (len + nchunks - 1) / nchunks;
        nchunks = (len + chunk - 1) / chunk;
        CachingAllocator.Block partial = be.scratch(rows * nchunks * dt.bytes());
        try {
            be.kernels().launchRows(name, rows * nchunks, new Args().i32(code).ptr(x).ptr(partial.ptr()).i64(rows).i64(len).i64(chunk));
            be.kernels().launchRows(name, rows, new Args().i32(code).ptr(partial.ptr()).ptr(out).i64(rows).i64(nchunks).i64(nchunks));
        } finally {
            be.release(partial);
        }
    }

    /** out[o, i] = reduce(x[o, 0..len), i]), in two passes when there are few outputs and long columns. */
    private static void oli(CudaBackend be, int code, DType dt, CUdeviceptr x, CUdeviceptr out, long outer, long len, long inner) {
        String name = "reduce_oli_" + OpCodes.suffix(dt);
        long outputs = outer * inner;
        long nchunks = 1;
        if (outputs < 32 * 1024 && len > 4 * OLI_CHUNK) {
            nchunks = Math.min((len + OLI_CHUNK - 1) / OLI_CHUNK, Math.max(1, (256 * 1024) / outputs));
        }
        if (nchunks <= 1) {
            be.kernels().launch(name, outputs, new Args().i32(code).ptr(x).ptr(out).i64(outer).i64(len).i64(inner).i64(Math.max(len, 1)));
            return;
        }
        long chunk = (len + nchunks - 1) / nchunks;
        nchunks = (len + chunk - 1) / chunk;
        CachingAllocator.Block partial = be.scratch(outer * nchunks * inner * dt.bytes());
        try {
            be.kernels().launch(name, outer * nchunks * inner,
                    new Args().i32(code).ptr(x).ptr(partial.ptr()).i64(outer).i64(len).i64(inner).i64(chunk));
            be.kernels().launch(name, outputs,
                    new Args().i32(code).ptr(partial.ptr()).ptr(out).i64(outer).i64(nchunks).i64(inner).i64(nchunks));
        } finally {
            be.release(partial);
        }
    }
}
