package dev.wengert.tensor;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * JUnit extension: every test method runs inside its own {@link Scope}, so the tensors a test creates
 * are freed when it ends. Use with {@code @ExtendWith(ScopePerTest.class)}.
 */
public final class ScopePerTest implements BeforeEachCallback, AfterEachCallback {
    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(ScopePerTest.class);

    @Override
    public void beforeEach(ExtensionContext context) {
        context.getStore(NS).put("scope", Scope.open());
    }

    @Override
    public void afterEach(ExtensionContext context) {
        context.getStore(NS).remove("scope", Scope.class).close();
    }
}
