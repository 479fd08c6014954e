package dev.wengert.bench;

import org.nd4j.autodiff.loss.LossReduce;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.TrainingConfig;
import org.nd4j.enums.WeightsFormat;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.layers.convolution.Pooling2D;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.Conv2DConfig;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.PaddingMode;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.Pooling2DConfig;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;

/**
 * The Java autodiff peer: the same workload as a DL4J SameDiff graph, one {@code sd.fit(dataSet)} per step,
 * plain SGD, starting from the same weights as the other implementations. A CNN workload's convolutions come
 * first: SameDiff's conv2d (NCHW, weight [k, k, in, out], its default), ReLU and 2x2 max pooling each; then
 * the dense layers (mmul with a transposed weight, bias add, ReLU but after the last) and softmax cross-entropy
 * with mean reduction.
 */
final class SameDiffStep implements TrainingStep {
    private final SameDiff sd = SameDiff.create();
    private final DataSet data;

    SameDiffStep(Workload wl, float lr) {
        int[] n = wl.widths();
        int side = Workload.IMAGE_SIDE;
        long[] shape = wl.convolutional() ? new long[] {wl.batch(), 1, side, side} : new long[] {wl.batch(), n[0]};
        SDVariable in = wl.convolutional() ? sd.placeHolder("in", DataType.FLOAT, -1, 1, side, side)
                : sd.placeHolder("in", DataType.FLOAT, -1, n[0]);
        SDVariable label = sd.placeHolder("label", DataType.FLOAT, -1, wl.classes());
        SDVariable a = in;
        for (int i = 0; i < wl.convs().size(); i++) {
            a = convolution(wl, i, a);
        }
        if (wl.convolutional()) {
            a = a.reshape(-1, n[0]);
        }
        int layers = n.length - 1;
        for (int i = 0; i < layers; i++) {
            INDArray w0 = Nd4j.create(wl.initialWeights(i, 1), new long[] {n[i + 1], n[i]}, 'c');
            SDVariable w = sd.var("w" + i, w0);
            SDVariable b = sd.var("b" + i, Nd4j.zeros(DataType.FLOAT, n[i + 1]));
            SDVariable z = sd.nn().biasAdd(sd.mmul(a, w, false, true, false), b, true);
            a = i < layers - 1 ? sd.nn().relu(z, 0) : z;
        }
        SDVariable loss = sd.loss().softmaxCrossEntropy("loss", label, a, null, LossReduce.MEAN_BY_NONZERO_WEIGHT_COUNT, 0.0);
        loss.markAsLoss();
        sd.setTrainingConfig(new TrainingConfig.Builder()
                .updater(new Sgd(lr))
                .dataSetFeatureMapping("in")
                .dataSetLabelMapping("label")
                .build());
        INDArray x = Nd4j.create(wl.inputData(1), shape, 'c');
        long[] labels = wl.labels(1);
        INDArray onehot = Nd4j.zeros(DataType.FLOAT, wl.batch(), wl.classes());
        for (int i = 0; i < wl.batch(); i++) {
            onehot.putScalar(i, (int) labels[i], 1f);
        }
        data = new DataSet(x, onehot);
    }

    /** Convolution i of the workload on {@code a}: conv2d with bias, ReLU, 2x2 max pooling. */
    private SDVariable convolution(Workload wl, int i, SDVariable a) {
        Workload.Conv c = wl.convs().get(i);
        int k = c.kernel();
        // SameDiff's default weight layout [k, k, in, out]: its conv2d backward ignores weightsFormat(OIYX) in M2.1
        // (conv2d_bp then expects out = k and fails), so the [out, in, k, k] weights are permuted instead
        INDArray oiyx = Nd4j.create(wl.initialConvWeights(i, 1), new long[] {c.out(), c.in(), k, k}, 'c');
        SDVariable w = sd.var("cw" + i, oiyx.permute(2, 3, 1, 0).dup('c'));
        SDVariable b = sd.var("cb" + i, Nd4j.zeros(DataType.FLOAT, c.out()));
        Conv2DConfig conv = Conv2DConfig.builder().kH(k).kW(k).sH(1).sW(1).pH(c.padding()).pW(c.padding()).dH(1).dW(1)
                .paddingMode(PaddingMode.VALID).dataFormat(Conv2DConfig.NCHW).weightsFormat(WeightsFormat.YXIO).build();
        SDVariable relu = sd.nn().relu(sd.cnn().conv2d(a, w, b, conv), 0);
        Pooling2DConfig pool = Pooling2DConfig.builder().kH(2).kW(2).sH(2).sW(2).pH(0).pW(0).dH(1).dW(1)
                .paddingMode(PaddingMode.VALID).type(Pooling2D.Pooling2DType.MAX).isNHWC(false).build();
        return sd.cnn().maxPooling2d(relu, pool);
    }

    /**
     * One fit step. Returns the loss SameDiff's history reports, which for a CNN graph is NaN in ND4J 1.0.0-M2.1
     * although the step itself is right ({@link #loss()} after it equals the floor's next loss).
     */
    @Override
    public double step() {
        var history = sd.fit(data);
        var curve = history.lossCurve();
        return curve == null ? Double.NaN : curve.lastMeanLoss("loss");
    }

    /** The loss of the current weights on the batch: a forward pass outside the timed step. */
    double loss() {
        return sd.output(java.util.Map.of("in", data.getFeatures(), "label", data.getLabels()), "loss").get("loss").getDouble(0);
    }
}
