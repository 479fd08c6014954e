package dev.wengert.tensor;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/** The rules of {@link ArchitectureRules} that tensor's classes (and cuda-kernels') can be checked against here. */
@AnalyzeClasses(packages = "dev.wengert",
        importOptions = {ImportOption.DoNotIncludeTests.class, ArchitectureRules.DoNotIncludeTestJars.class})
class ArchitectureTest {
    @ArchTest
    static final ArchRule nd4jOnlyInTheCpuBackend = ArchitectureRules.ND4J_ONLY_IN_THE_CPU_BACKEND;
    @ArchTest
    static final ArchRule jcudaOnlyInTheCudaBackend = ArchitectureRules.JCUDA_ONLY_IN_THE_CUDA_BACKEND;
    @ArchTest
    static final ArchRule unsafeOnlyInBuf = ArchitectureRules.UNSAFE_ONLY_IN_BUF;
    @ArchTest
    static final ArchRule cudaBackendDoesNotUseTheCpuBackend = ArchitectureRules.CUDA_BACKEND_DOES_NOT_USE_THE_CPU_BACKEND;
    @ArchTest
    static final ArchRule cpuBackendDoesNotUseTheCudaBackend = ArchitectureRules.CPU_BACKEND_DOES_NOT_USE_THE_CUDA_BACKEND;
    @ArchTest
    static final ArchRule spiOnlyInsideTensor = ArchitectureRules.SPI_ONLY_INSIDE_TENSOR;

    @ArchTest
    static final ArchRule kernelsDependOnNoHigherModule = ArchitectureRules.KERNELS_DEPEND_ON_NO_HIGHER_MODULE;
    @ArchTest
    static final ArchRule tensorDependsOnNoHigherModule = ArchitectureRules.TENSOR_DEPENDS_ON_NO_HIGHER_MODULE;
}
