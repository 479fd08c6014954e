package dev.wengert.tensor.cuda;

import jcuda.driver.CUdeviceptr;

/**
 * The numeric device address of a {@link CUdeviceptr}, for kernel parameters that carry pointers inside a
 * struct passed by value (optim.cuh's MtList): JCuda keeps the address in a protected field, which a
 * subclass may read from a copy of the pointer.
 */
final class DeviceAddress extends CUdeviceptr {
    private DeviceAddress(CUdeviceptr p) {
        super(p);
    }

    /** The address {@code p} points at (its allocation's address plus its byte offset). */
    static long of(CUdeviceptr p) {
        DeviceAddress a = new DeviceAddress(p);
        return a.getNativePointer() + a.getByteOffset();
    }
}
