package dev.wengert.models.nn;

import dev.wengert.autograd.Var;
import dev.wengert.tensor.Activation;
import java.util.List;

/**
 * Applies its layers in order; they are named "0", "1", ... so parameters are "0.weight", "0.bias", ... A
 * {@link Linear} followed by a {@link ReLU}, {@link Tanh} or {@link Sigmoid} runs as one fused primitive
 * ({@link Linear#forward(Var, Activation)}): the same values and gradients, fewer kernels, and the layers, their
 * names and the checkpoint format stay as they are.
 */
public final class Sequential extends Module {
    private final List<Module> layers;

    public Sequential(Module... layers) {
        this.layers = List.of(layers);
        for (int i = 0; i < layers.length; i++) {
            child(Integer.toString(i), layers[i]);
        }
    }

    @Override
    public Var forward(Var x) {
        Var h = x;
        for (int i = 0; i < layers.size(); i++) {
            Module m = layers.get(i);
            Activation fused = m instanceof Linear && i + 1 < layers.size() ? activationOf(layers.get(i + 1)) : null;
            if (fused != null) {
                h = ((Linear) m).forward(h, fused);
                i++;
            } else {
                h = m.forward(h);
            }
        }
        return h;
    }

    /** The activation a parameter-free module applies, when it is one a Linear can fuse; else null. */
    private static Activation activationOf(Module m) {
        if (m instanceof ReLU) {
            return Activation.RELU;
        } else if (m instanceof Tanh) {
            return Activation.TANH;
        } else if (m instanceof Sigmoid) {
            return Activation.SIGMOID;
        }
        return null;
    }

    /** The layers, in order (unmodifiable). */
    public List<Module> layers() {
        return layers;
    }

    public Module layer(int i) {
        return layers.get(i);
    }

    public int size() {
        return layers.size();
    }
}
