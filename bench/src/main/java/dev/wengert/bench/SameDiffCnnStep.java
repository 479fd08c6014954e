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
 * The Java autodiff peer of a CNN workload: a DL4J SameDiff graph with SameDiff's conv2d (NCHW, weight
 * [k, k, in, out], its default), ReLU and max-pooling per convolution, then the dense layers as {@link SameDiffStep}
 * (mmul with a transposed weight, bias add, ReLU), softmax cross-entropy with mean reduction, one
 * {@code sd.fit(dataSet)} per step, plain SGD, from the same weights as the ND4J floor.
 */
final class SameDiffCnnStep implements TrainingStep {
    private final SameDiff sd = SameDiff.create();
    private final DataSet data;

    SameDiffCnnStep(Workload wl, float lr) {
        int side = Workload.IMAGE_SIDE;
        SDVariable in = sd.placeHolder("in", DataType.FLOAT, -1, 1, side, side);
        SDVariable label = sd.placeHolder("label", DataType.FLOAT, -1, wl.classes());
        SDVariable a = in;
        for (int i = 0; i < wl.convs().size(); i++) {
            Workload.Conv c = wl.convs().get(i);
            int k = c.kernel();
            // SameDiff's default weight layout [k, k, in, out]: its conv2d backward ignores weightsFormat(OIYX) in M2.1
            // (conv2d_bp then expects out = k and fails), so the [out, in, k, k] weights are permuted instead
            INDArray oiyx = Nd4j.create(wl.initialConvWeights(i, 1), new long[] {c.out(), c.in(), k, k}, 'c');
            SDVariable w = sd.var("cw" + i, oiyx.permute(2, 3, 1, 0).dup('c'));
            SDVariable b = sd.var("cb" + i, Nd4j.zeros(DataType.FLOAT, c.out()));
            Conv2DConfig conv = Conv2DConfig.builder().kH(k).kW(k).sH(1).sW(1).pH(c.padding()).pW(c.padding()).dH(1).dW(1)
                    .paddingMode(PaddingMode.VALID).dataFormat(Conv2DConfig.NCHW).weightsFormat(WeightsFormat.YXIO).build();
            a = sd.nn().relu(sd.cnn().conv2d(a, w, b, conv), 0);
            Pooling2DConfig pool = Pooling2DConfig.builder().kH(2).kW(2).sH(2).sW(2).pH(0).pW(0).dH(1).dW(1)
                    .paddingMode(PaddingMode.VALID).type(Pooling2D.Pooling2DType.MAX).isNHWC(false).build();
            a = sd.cnn().maxPooling2d(a, pool);
        }
        int[] n = wl.widths();
        a = a.reshape(-1, n[0]);
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
        INDArray x = Nd4j.create(wl.inputData(1), new long[] {wl.batch(), 1, side, side}, 'c');
        long[] labels = wl.labels(1);
        INDArray onehot = Nd4j.zeros(DataType.FLOAT, wl.batch(), wl.classes());
        for (int i = 0; i < wl.batch(); i++) {
            onehot.putScalar(i, (int) labels[i], 1f);
        }
        data = new DataSet(x, onehot);
    }

    /**
     * One fit step. Returns the loss SameDiff's history reports, which for this graph is NaN in ND4J 1.0.0-M2.1
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
