package dev.wengert.models.cli;

import dev.wengert.models.zoo.Checkpoint;
import dev.wengert.tensor.Device;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** --checkpoint FILE, as evaluate and predict take it. */
final class CheckpointOption {
    @Option(names = "--checkpoint", paramLabel = "FILE", required = true,
            description = "model.safetensors written by 'wengert train' (required)")
    Path checkpoint;

    /** Reads the checkpoint and rebuilds its model on {@code device}; a missing file says so. */
    Checkpoint.Loaded load(Device device) throws IOException {
        if (!Files.exists(checkpoint)) {
            throw new IOException("checkpoint not found: " + checkpoint);
        }
        if (!Files.isRegularFile(checkpoint)) {
            throw new IOException("checkpoint " + checkpoint + " is not a file");
        }
        return Checkpoint.load(checkpoint, device);
    }
}
