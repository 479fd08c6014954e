package dev.wengert.tensor.cpu;

import dev.wengert.tensor.BackendContractTest;
import dev.wengert.tensor.Device;

/** The CPU backend against the contract. */
class CpuBackendTest extends BackendContractTest {
    @Override
    protected Device device() {
        return Device.CPU;
    }
}
