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
 */
public final class Scope implements AutoCloseable {
    private static final ThreadLocal<Deque<Scope>> STACK = ThreadLocal.withInitial(ArrayDeque::new);

    private final List<Tensor> owned = new ArrayList<>();
    private final Thread thread = Thread.currentThread();
    private final Scope parent;
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

    /** The innermost open scope of this thread, or null. */
    static Scope current() {
        return STACK.get().peek();
    }

    /** Number of tensors this scope owns now (open ones). */
    public int ownedCount() {
        int n = 0;
        for (Tensor t : owned) {
            if (t.owner() == this && !t.isClosed()) {
                n++;
            }
        }
        return n;
    }

    void adopt(Tensor t) {
        if (closed) {
            throw new IllegalStateException("scope is closed");
        }
        owned.add(t);
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
            throw new IllegalStateException("a scope must be closed by the thread that opened it (" + thread.getName() + ")");
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
    }
}
