package dev.wengert.bench;

import org.nd4j.autodiff.loss.LossReduce;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.TrainingConfig;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;

/**
 * The Java autodiff peer: the same workload as a DL4J SameDiff graph (mmul with a transposed weight,
 * bias add, ReLU, softmax cross-entropy with mean reduction), one {@code sd.fit(dataSet)} per step,
 * plain SGD, starting from the same weights as the other implementations.
 */
final class SameDiffStep implements TrainingStep {
    private final SameDiff sd = SameDiff.create();
    private final DataSet data;

    SameDiffStep(Workload wl, float lr) {
        int[] n = wl.widths();
        int layers = n.length - 1;
        SDVariable in = sd.placeHolder("in", DataType.FLOAT, -1, n[0]);
        SDVariable label = sd.placeHolder("label", DataType.FLOAT, -1, wl.classes());
        SDVariable a = in;
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
        INDArray x = Nd4j.create(wl.inputData(1), new long[] {wl.batch(), n[0]}, 'c');
        long[] labels = wl.labels(1);
        INDArray onehot = Nd4j.zeros(DataType.FLOAT, wl.batch(), wl.classes());
        for (int i = 0; i < wl.batch(); i++) {
            onehot.putScalar(i, (int) labels[i], 1f);
        }
        data = new DataSet(x, onehot);
    }

    @Override
    public double step() {
        var history = sd.fit(data);
        var curve = history.lossCurve();
        return curve == null ? Double.NaN : curve.lastMeanLoss("loss");
    }
}
