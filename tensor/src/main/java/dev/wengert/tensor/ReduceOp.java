package dev.wengert.tensor;

/** Reductions along axes. Mean is composed from SUM above the SPI. */
public enum ReduceOp {
    SUM("sum"), MAX("max");

    private final String opName;

    ReduceOp(String opName) {
        this.opName = opName;
    }

    public String opName() {
        return opName;
    }
}
