package dev.wengert.autograd;

/**
 * Whether operations are recorded on this thread. Recording is on by default; turn it off for
 * evaluation and optimizer updates:
 * <pre>{@code try (Grad.Mode off = Grad.noGrad()) { ... } }</pre>
 */
public final class Grad {
    private static final ThreadLocal<boolean[]> ENABLED = ThreadLocal.withInitial(() -> new boolean[] {true});

    private Grad() {
    }

    /** True when operations on variables that require grad are being recorded. */
    public static boolean isEnabled() {
        return ENABLED.get()[0];
    }

    /** Stops recording until the returned mode is closed. */
    public static Mode noGrad() {
        return set(false);
    }

    /** (Re)starts recording until the returned mode is closed, e.g. inside a no-grad region. */
    public static Mode enableGrad() {
        return set(true);
    }

    static Mode set(boolean on) {
        boolean[] flag = ENABLED.get();
        Mode m = new Mode(flag, flag[0]);
        flag[0] = on;
        return m;
    }

    /** Restores the previous recording state when closed. */
    public static final class Mode implements AutoCloseable {
        private final boolean[] flag;
        private final boolean previous;

        private Mode(boolean[] flag, boolean previous) {
            this.flag = flag;
            this.previous = previous;
        }

        @Override
        public void close() {
            flag[0] = previous;
        }
    }
}
