package dev.wengert.tensor;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * Owns the tensors created on this thread while it is the innermost open scope, and closes them when it
 * closes, except the ones kept with {@link Tensor#keep()} (which move to the enclosing scope, or to no
 * scope at all). Use with try-with-resources around each training step so that a loop of a million
 * steps does not grow:
 * <pre>{@code
 * try (Scope step = Scope.open()) {
 *     Tensor loss = ...;           // every intermediate belongs to step
 *     result = loss.keep();        // survives the scope
 * }                                // intermediates closed here
 * }</pre>
 * Scopes nest and are confined to the thread that opened them.
 *
 * <p><b>Threads.</b> Each thread has its own stack of scopes: a tensor created on a thread belongs to
 * that thread's innermost scope, never to another thread's. Only the thread that opened a scope may
 * change what it owns or close it: closing it, asking {@link #ownedCount()}, and moving a tensor into or
 * out of it ({@link Tensor#keep()}, {@link Tensor#keepWith}, {@link Tensor#keepForever()}) from another
 * thread throw {@link IllegalStateException} naming the operation, the tensor and both threads, and
 * change nothing. Reading a tensor that another thread's scope owns (using it as an operand, downloading
 * it) is allowed, as is closing it; the owner must not close it (nor its scope) while other threads may
 * still read it: hand results over with a happens-before edge (join, {@code Future.get}) and order the
 * close after the last read. To give a tensor to another thread for good, {@code keepForever()} it on
 * its own thread first. The check is one thread comparison; nothing takes a lock.
 */
public final class Scope implements AutoCloseable {
    private static final ThreadLocal<Deque<Scope>> STACK = ThreadLocal.withInitial(ArrayDeque::new);

    private final List<Tensor> owned = new ArrayList<>();
    private final Thread thread = Thread.currentThread();
    private final Scope parent;
    private List<Runnable> atClose;
    private boolean closed;

    private Scope(Scope parent) {
        this.parent = parent;
    }

    /** Opens a scope nested in the current one (if any) and makes it current. */
    public static Scope open() {
        Deque<Scope> stack = STACK.get();
        Scope s = new Scope(stack.peek());
        stack.push(s);
        return s;
    }

    /**
     * Runs {@code action} when the calling thread's innermost open scope closes, after its tensors are
     * closed; returns false, doing nothing, when the thread has no open scope. For code that holds something
     * for the rest of a step, e.g. autograd's claim on the gradients a backward pass filled.
     */
    public static boolean runAtClose(Runnable action) {
        Scope s = current();
        if (s == null) {
            return false;
        }
        if (s.atClose == null) {
            s.atClose = new ArrayList<>();
        }
        s.atClose.add(action);
        return true;
    }

    /** The innermost open scope of this thread, or null. */
    static Scope current() {
        return STACK.get().peek();
    }

    /** Number of tensors this scope owns now (open ones). Only on the thread that opened the scope. */
    public int ownedCount() {
        if (Thread.currentThread() != thread) {
            throw new IllegalStateException("ownedCount: this scope belongs to thread '" + thread.getName()
                    + "'; thread '" + Thread.currentThread().getName() + "' cannot inspect it (scopes are confined to their thread)");
        }
        int n = 0;
        for (Tensor t : owned) {
            if (t.owner() == this && !t.isClosed()) {
                n++;
            }
        }
        return n;
    }

    /** Takes ownership of {@code t}; {@code op} names the caller for the error of a foreign thread. */
    void adopt(Tensor t, String op) {
        checkThread(op, t);
        if (closed) {
            throw new IllegalStateException("scope is closed");
        }
        owned.add(t);
    }

    /**
     * Throws when the calling thread is not this scope's: {@code op} would change which tensors it owns
     * ({@code t}), and a scope's list is confined to its thread. One thread comparison, no lock.
     */
    void checkThread(String op, Tensor t) {
        Thread current = Thread.currentThread();
        if (current != thread) {
            throw new IllegalStateException(op + ": the tensor " + t.describe() + " would move into or out of a scope of thread '"
                    + thread.getName() + "', but this is thread '" + current.getName() + "'; only a scope's own thread may "
                    + "change what it owns. Other threads may read the tensor (and close it); to hand it over, keepForever() it "
                    + "on '" + thread.getName() + "' before passing it on, or copy() it on this thread into a scope of this thread");
        }
    }

    Scope parent() {
        return parent;
    }

    /** Closes every tensor this scope still owns. Scopes must close innermost first. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        if (Thread.currentThread() != thread) {
            throw new IllegalStateException("close: a scope must be closed by the thread that opened it ('" + thread.getName()
                    + "'), not by '" + Thread.currentThread().getName() + "'");
        }
        Deque<Scope> stack = STACK.get();
        if (stack.peek() != this) {
            throw new IllegalStateException("scopes must be closed innermost first; close the inner scope before this one");
        }
        stack.pop();
        closed = true;
        for (Tensor t : owned) {
            if (t.owner() == this) {
                t.close();
            }
        }
        owned.clear();
        if (atClose != null) {
            atClose.forEach(Runnable::run);
            atClose = null;
        }
    }
}
