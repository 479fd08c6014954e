package dev.wengert.models.cli;

/**
 * Every default of the command line, in one place: the options' annotations, their help text and the code
 * that fills in what the user left out all read these constants.
 */
final class Defaults {
    static final String DEVICE = "auto";
    static final String MODEL = "logreg";
    static final String HIDDEN = "512,256";
    static final int EPOCHS = 10;
    static final int BATCH_SIZE = 64;
    static final String OPTIMIZER = "sgd";
    /** Learning rates: SGD on logistic regression, SGD on the MLP, Adam on either. */
    static final double LR_LOGREG = 0.5;
    static final double LR_MLP = 0.05;
    static final double LR_ADAM = 0.001;
    /** SGD momentum of the MLP; logistic regression uses none. */
    static final double MOMENTUM_MLP = 0.9;
    static final double WEIGHT_DECAY = 0;
    static final String SCHEDULE = "none";
    static final long SEED = 42;
    /** Share of the training images held out for validation after each epoch (0: none). */
    static final double VAL_FRACTION = 0.1;
    /** Samples per forward pass when only evaluating (evaluate, predict, the test pass of train). */
    static final int EVAL_BATCH_SIZE = 1000;
    /**
     * The convnet's own recipe (chosen on the bundled 8,000/2,000 split, see bench/RESULTS.md): Adam, batch
     * normalisation, dropout before the last layer, a cosine schedule and random shifts of up to 2 pixels.
     * LeNet-5 defaults to Adam and the rest of the plain recipe (no schedule, no shifts).
     */
    static final int EPOCHS_CONVNET = 12;
    static final boolean BATCH_NORM_CONVNET = true;
    static final double DROPOUT_CONVNET = 0.25;
    static final int SHIFT_CONVNET = 2;
    static final String SCHEDULE_CONVNET = "cosine";
    /** The largest --shift (pixels). */
    static final int MAX_SHIFT = 8;

    /** Where runs go without --output: runs/<model>-<timestamp>. */
    static final String RUNS_DIR = "runs";

    /** Bounds the options accept. */
    static final int MAX_EPOCHS = 100_000;
    static final int MAX_BATCH_SIZE = 1 << 20;
    static final int MAX_HIDDEN = 1 << 16;
    static final double MAX_LR = 1e6;
    static final double MAX_MOMENTUM = 0.9999;
    static final double MAX_WEIGHT_DECAY = 1e3;
    static final double MAX_VAL_FRACTION = 0.9;

    private Defaults() {
    }

    static int epochs(String model) {
        return model.equals("convnet") ? EPOCHS_CONVNET : EPOCHS;
    }

    static String optimizer(String model) {
        return model.equals("lenet5") || model.equals("convnet") ? "adam" : OPTIMIZER;
    }

    static String schedule(String model) {
        return model.equals("convnet") ? SCHEDULE_CONVNET : SCHEDULE;
    }

    static int shift(String model) {
        return model.equals("convnet") ? SHIFT_CONVNET : 0;
    }

    static double lr(String model, String optimizer) {
        return optimizer.equals("adam") ? LR_ADAM : model.equals("mlp") ? LR_MLP : LR_LOGREG;
    }

    static double momentum(String model, String optimizer) {
        return model.equals("mlp") && optimizer.equals("sgd") ? MOMENTUM_MLP : 0;
    }

    /** The most processes --nproc starts on one machine. */
    static final int MAX_NPROC = 256;
}
