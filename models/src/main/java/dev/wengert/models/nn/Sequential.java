package dev.wengert.models.nn;

import dev.wengert.autograd.Var;
import java.util.List;

/** Applies its layers in order; they are named "0", "1", ... so parameters are "0.weight", "0.bias", ... */
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
        for (Module m : layers) {
            h = m.forward(h);
        }
        return h;
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
