package dev.wengert.models.cli;

import dev.wengert.autograd.Grad;
import dev.wengert.autograd.Var;
import dev.wengert.models.nn.Sequential;
import dev.wengert.tensor.Device;
import dev.wengert.tensor.Scope;
import dev.wengert.tensor.Tensor;

/** Runs a model forward over many samples, batch by batch, without recording: the logits, and what follows from them. */
final class Inference {
    private Inference() {
    }

    /**
     * The logits of {@code count} samples of {@code inputs} features each (row-major in {@code features}), as
     * {@code count x classes} floats.
     */
    static float[][] logits(Sequential model, float[] features, int count, int inputs, Device device, int batch) {
        boolean wasTraining = model.isTraining();
        model.eval();
        float[][] out = new float[count][];
        try (Grad.Mode off = Grad.noGrad()) {
            for (int start = 0; start < count; start += batch) {
                int n = Math.min(batch, count - start);
                float[] chunk = new float[n * inputs];
                System.arraycopy(features, start * inputs, chunk, 0, chunk.length);
                try (Scope s = Scope.open()) {
                    Tensor x = Tensor.on(device).of(chunk, n, inputs);
                    float[] l = model.forward(Var.constant(x)).value().toFloatArray();
                    int classes = l.length / n;
                    for (int i = 0; i < n; i++) {
                        out[start + i] = new float[classes];
                        System.arraycopy(l, i * classes, out[start + i], 0, classes);
                    }
                }
            }
        } finally {
            model.train(wasTraining);
        }
        return out;
    }

    /** The side of the square images a model of {@code inputs} features takes, or 0 when {@code inputs} is not a square. */
    static int imageSide(int inputs) {
        int side = (int) Math.round(Math.sqrt(inputs));
        return side * side == inputs ? side : 0;
    }

    /** Index of the largest logit (the first of equal ones). */
    static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }

    /** Softmax probabilities, computed stably in double. */
    static double[] softmax(float[] logits) {
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        double[] p = new double[logits.length];
        double sum = 0;
        for (int i = 0; i < p.length; i++) {
            p[i] = Math.exp(logits[i] - max);
            sum += p[i];
        }
        for (int i = 0; i < p.length; i++) {
            p[i] /= sum;
        }
        return p;
    }

    /** Cross-entropy of one sample: log-sum-exp of the logits minus the label's logit. */
    static double crossEntropy(float[] logits, int label) {
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        double sum = 0;
        for (float l : logits) {
            sum += Math.exp(l - max);
        }
        return max + Math.log(sum) - logits[label];
    }
}
