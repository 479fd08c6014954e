package dev.wengert.tensor;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.core.importer.Location;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;
import java.util.regex.Pattern;

/**
 * The dependency rules of Wengert's modules, checked by ArchUnit on compiled classes imported from the
 * class path (package dev.wengert), without test classes ({@link ImportOption.DoNotIncludeTests} for
 * test-classes directories, {@link DoNotIncludeTestJars} for the test jars modules depend on). Each
 * module's {@code ArchitectureTest} checks the rules whose classes it sees: tensor names the rules about
 * cuda-kernels and tensor; models checks all of them ({@code ArchTests.in(ArchitectureRules.class)}) on
 * cuda-kernels, tensor, autograd and models; bench checks all of them on everything. (A rule whose
 * subject classes are all absent fails, so tensor cannot take them all.)
 */
public final class ArchitectureRules {
    private ArchitectureRules() {}

    /** ND4J and JavaCPP (org.bytedeco) stay inside the CPU backend; bench's reference baselines call ND4J directly. */
    @ArchTest
    public static final ArchRule ND4J_ONLY_IN_THE_CPU_BACKEND = noClasses()
            .that().resideInAPackage("dev.wengert..")
            .and().resideOutsideOfPackages("dev.wengert.tensor.cpu..", "dev.wengert.bench..")
            .should().dependOnClassesThat().resideInAnyPackage("org.nd4j..", "org.bytedeco..")
            .because("ND4J is the CPU backend's implementation detail (bench's ND4J and SameDiff baselines excepted)");

    /**
     * sun.misc.Unsafe (raw memory access, no bounds checks) stays inside one class, the CPU backend's element
     * access Buf (its nested per-dtype classes included), so every raw address the kernels touch goes through it.
     */
    @ArchTest
    public static final ArchRule UNSAFE_ONLY_IN_BUF = noClasses()
            .that().resideInAPackage("dev.wengert..")
            .and().haveNameNotMatching("dev\\.wengert\\.tensor\\.cpu\\.Buf(\\$.*)?")
            .should().dependOnClassesThat().haveFullyQualifiedName("sun.misc.Unsafe")
            .because("raw memory access is the CPU backend's Buf's alone");

    /** JCuda stays inside the CUDA backend, benchmarks included. */
    @ArchTest
    public static final ArchRule JCUDA_ONLY_IN_THE_CUDA_BACKEND = noClasses()
            .that().resideInAPackage("dev.wengert..")
            .and().resideOutsideOfPackage("dev.wengert.tensor.cuda..")
            .should().dependOnClassesThat().resideInAPackage("jcuda..")
            .because("JCuda is the CUDA backend's implementation detail");

    @ArchTest
    public static final ArchRule CUDA_BACKEND_DOES_NOT_USE_THE_CPU_BACKEND = noClasses()
            .that().resideInAPackage("dev.wengert.tensor.cuda..")
            .should().dependOnClassesThat().resideInAPackage("dev.wengert.tensor.cpu..")
            .because("the backends meet only through the Backend SPI");

    @ArchTest
    public static final ArchRule CPU_BACKEND_DOES_NOT_USE_THE_CUDA_BACKEND = noClasses()
            .that().resideInAPackage("dev.wengert.tensor.cpu..")
            .should().dependOnClassesThat().resideInAPackage("dev.wengert.tensor.cuda..")
            .because("the backends meet only through the Backend SPI");

    /**
     * The tensor SPI (uninitialised allocation, a tensor's storage, shape inference and operand checks for
     * backends) is used only inside the tensor module: Tensor and its factories, and the backends, which
     * live in other packages (cpu, cuda) so package-private cannot serve them. Autograd, models and bench
     * use the public API.
     */
    @ArchTest
    public static final ArchRule SPI_ONLY_INSIDE_TENSOR = noClasses()
            .that().resideInAPackage("dev.wengert..")
            .and().resideOutsideOfPackage("dev.wengert.tensor..")
            .should().dependOnClassesThat().resideInAPackage("dev.wengert.tensor.spi..")
            .because("the SPI is for backends; users create tensors through the factories and ops");

    // No upward imports along cuda-kernels <- tensor <- autograd <- models <- bench.

    @ArchTest
    public static final ArchRule KERNELS_DEPEND_ON_NO_HIGHER_MODULE = noClasses()
            .that().resideInAPackage("dev.wengert.cuda..")
            .should().dependOnClassesThat().resideInAnyPackage(
                    "dev.wengert.tensor..", "dev.wengert.autograd..", "dev.wengert.models..", "dev.wengert.bench..");

    @ArchTest
    public static final ArchRule TENSOR_DEPENDS_ON_NO_HIGHER_MODULE = noClasses()
            .that().resideInAPackage("dev.wengert.tensor..")
            .should().dependOnClassesThat().resideInAnyPackage(
                    "dev.wengert.autograd..", "dev.wengert.models..", "dev.wengert.bench..");

    @ArchTest
    public static final ArchRule AUTOGRAD_DEPENDS_ON_NO_HIGHER_MODULE = noClasses()
            .that().resideInAPackage("dev.wengert.autograd..")
            .should().dependOnClassesThat().resideInAnyPackage("dev.wengert.models..", "dev.wengert.bench..");

    @ArchTest
    public static final ArchRule MODELS_DEPENDS_ON_NO_HIGHER_MODULE = noClasses()
            .that().resideInAPackage("dev.wengert.models..")
            .should().dependOnClassesThat().resideInAPackage("dev.wengert.bench..");

    /**
     * The teaching code (symbolic differentiation, dual numbers, the swell demo) is a leaf: autograd's core
     * packages do not use it (tests may, as oracles). Finite differences stay in the core (numeric), for GradCheck.
     */
    @ArchTest
    public static final ArchRule AUTOGRAD_CORE_DOES_NOT_USE_THE_LESSONS = noClasses()
            .that().resideInAPackage("dev.wengert.autograd..")
            .and().resideOutsideOfPackage("dev.wengert.autograd.lessons..")
            .should().dependOnClassesThat().resideInAPackage("dev.wengert.autograd.lessons..")
            .because("the lessons are the seed's teaching code and the tests' oracles, not part of the core");

    /** Leaves out other modules' test jars (wengert-tensor-*-tests.jar), which DoNotIncludeTests does not recognise. */
    public static final class DoNotIncludeTestJars implements ImportOption {
        private static final Pattern TEST_JAR = Pattern.compile(".*-tests\\.jar!/.*");

        @Override
        public boolean includes(Location location) {
            return !location.matches(TEST_JAR);
        }
    }
}
