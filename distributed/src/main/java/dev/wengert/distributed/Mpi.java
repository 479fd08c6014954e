package dev.wengert.distributed;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Open MPI's C library, libmpi.so.40, called through JNA: the few functions data-parallel training needs and the
 * handles Open MPI exports as global objects (an Open MPI {@code MPI_Comm}, {@code MPI_Datatype} or {@code MPI_Op}
 * is the address of one: {@code MPI_COMM_WORLD == &ompi_mpi_comm_world}). Open MPI's own Java bindings are not
 * shipped by Debian and are gone upstream; this binding needs nothing at build time.
 *
 * <p>The library is loaded with RTLD_GLOBAL, because Open MPI's plugins (mca_*.so), which it opens itself, resolve
 * their MPI symbols against it.
 */
final class Mpi {
    static final String LIBRARY = "libmpi.so.40";
    /** Open MPI's {@code MPI_IN_PLACE}: {@code (void *) 1}. */
    static final Pointer IN_PLACE = new Pointer(1);
    static final int THREAD_FUNNELED = 1;
    static final int SUCCESS = 0;
    /** How to get Open MPI, for the messages that need it. */
    static final String INSTALL_HINT = "install Open MPI (Debian/Ubuntu: apt-get install openmpi-bin)";

    /** The C functions used, with Open MPI's handle types as pointers. */
    interface Lib extends Library {
        int MPI_Init_thread(Pointer argc, Pointer argv, int required, IntByReference provided);

        int MPI_Initialized(IntByReference flag);

        int MPI_Finalized(IntByReference flag);

        int MPI_Comm_rank(Pointer comm, IntByReference rank);

        int MPI_Comm_size(Pointer comm, IntByReference size);

        int MPI_Allreduce(Pointer sendbuf, Pointer recvbuf, int count, Pointer datatype, Pointer op, Pointer comm);

        int MPI_Bcast(Pointer buffer, int count, Pointer datatype, int root, Pointer comm);

        int MPI_Barrier(Pointer comm);

        int MPI_Abort(Pointer comm, int errorcode);

        int MPI_Finalize();
    }

    final Lib lib;
    final Pointer commWorld;
    final Pointer float32;
    final Pointer float64;
    final Pointer sum;
    private final NativeLibrary nat;

    private Mpi(Lib lib, NativeLibrary nat) {
        this.lib = lib;
        this.commWorld = nat.getGlobalVariableAddress("ompi_mpi_comm_world");
        this.float32 = nat.getGlobalVariableAddress("ompi_mpi_float");
        this.float64 = nat.getGlobalVariableAddress("ompi_mpi_double");
        this.sum = nat.getGlobalVariableAddress("ompi_mpi_op_sum");
        this.nat = nat;
    }

    /** MPI_BYTE. */
    Pointer byteType() {
        return nat.getGlobalVariableAddress("ompi_mpi_byte");
    }

    /** Loads the library; throws {@link IllegalStateException} saying how to install it when it is not there. */
    static Mpi load() {
        try {
            Map<String, Object> options = Map.of(Library.OPTION_OPEN_FLAGS, 0x1 | 0x100);   // RTLD_LAZY | RTLD_GLOBAL
            NativeLibrary nat = NativeLibrary.getInstance(LIBRARY, options);
            Lib lib = Native.load(LIBRARY, Lib.class, options);
            return new Mpi(lib, nat);
        } catch (UnsatisfiedLinkError e) {
            throw new IllegalStateException("cannot load Open MPI's " + LIBRARY + " (" + e.getMessage().lines().findFirst().orElse("")
                    + "): " + INSTALL_HINT, e);
        }
    }

    /** Throws with the function's name and MPI error code unless {@code rc} is MPI_SUCCESS. */
    static void check(int rc, String function) {
        if (rc != SUCCESS) {
            throw new IllegalStateException(function + " failed with MPI error code " + rc);
        }
    }

    /**
     * Where {@code mpirun} is on the PATH, or null. The launcher ({@code --nproc}) and the tests use it; training
     * itself needs only the library.
     */
    static Path mpirun() {
        String path = System.getenv("PATH");
        if (path == null) {
            return null;
        }
        for (String dir : path.split(java.io.File.pathSeparator)) {
            Path p = Path.of(dir.isEmpty() ? "." : dir, "mpirun");
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }
}
