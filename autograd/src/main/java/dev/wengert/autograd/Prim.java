package dev.wengert.autograd;

import java.util.Objects;

/**
 * The identity of a differentiable primitive: what a tape node records and what the rule table
 * ({@link Rules}) is keyed by. Built-in primitives are the constants below; a user may create a new one
 * and give it rules with {@link Rules#define}.
 */
public final class Prim {
    private final String name;

    public Prim(String name) {
        this.name = Objects.requireNonNull(name);
    }

    public String name() {
        return name;
    }

    @Override
    public String toString() {
        return name;
    }

    // elementwise binary (broadcasting)
    public static final Prim ADD = new Prim("add");
    public static final Prim SUB = new Prim("sub");
    public static final Prim MUL = new Prim("mul");
    public static final Prim DIV = new Prim("div");
    public static final Prim POW = new Prim("pow");
    public static final Prim MAXIMUM = new Prim("maximum");
    public static final Prim MINIMUM = new Prim("minimum");
    public static final Prim WHERE = new Prim("where");
    // elementwise unary
    public static final Prim NEG = new Prim("neg");
    public static final Prim EXP = new Prim("exp");
    public static final Prim LOG = new Prim("log");
    public static final Prim SQRT = new Prim("sqrt");
    public static final Prim ABS = new Prim("abs");
    public static final Prim SIN = new Prim("sin");
    public static final Prim COS = new Prim("cos");
    public static final Prim TANH = new Prim("tanh");
    public static final Prim SIGMOID = new Prim("sigmoid");
    public static final Prim RELU = new Prim("relu");
    public static final Prim CAST = new Prim("cast");
    // linear algebra and reductions
    public static final Prim MATMUL = new Prim("matmul");
    public static final Prim SUM = new Prim("sum");
    public static final Prim MAX = new Prim("max");
    public static final Prim LOG_SOFTMAX = new Prim("logSoftmax");
    public static final Prim SOFTMAX_CROSS_ENTROPY = new Prim("softmaxCrossEntropy");
    // movement
    public static final Prim RESHAPE = new Prim("reshape");
    public static final Prim PERMUTE = new Prim("permute");
    public static final Prim SLICE = new Prim("slice");
    public static final Prim CONCAT = new Prim("concat");
    public static final Prim BROADCAST_TO = new Prim("broadcastTo");
    public static final Prim GATHER = new Prim("gather");
    public static final Prim SCATTER_ADD = new Prim("scatterAdd");
}
