package dev.wengert.bench;

import dev.wengert.tensor.Device;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * End-to-end training throughput: for each workload, each implementation's median milliseconds per
 * step after warm-up, samples per second and peak tensor memory, measured in one process, and the ratio
 * of ours to each reference. Prints one table; can also write it as Markdown and as a PNG bar chart.
 *
 * <p>For a convolutional workload the {@code nd4j} floor is measured twice, convolving with a hand-written
 * im2col + GEMM ({@code nd4j-im2col}) and with ND4J's own conv2d op ({@code nd4j-conv2d}), and its column
 * shows the faster of the two (both are listed under the table); {@code samediff} is SameDiff's conv2d.
 *
 * <pre>
 * java ... dev.wengert.bench.ThroughputRunner [--workloads a,b] [--impls wengert,nd4j,samediff]
 *     [--device cpu|cuda:0] [--warmup N] [--steps N] [--seconds S] [--reference pytorch.json]
 *     [--markdown FILE] [--png FILE]
 * </pre>
 */
public final class ThroughputRunner {

    /** One measured cell. */
    public record Measurement(String impl, double medianMs, double samplesPerSecond, long peakBytes, int steps, double lastLoss) {
    }

    private ThroughputRunner() {
    }

    public static void main(String[] args) throws IOException {
        Map<String, String> opt = parse(args);
        List<Workload> workloads = new ArrayList<>();
        for (String name : opt.getOrDefault("workloads", String.join(",", Workload.ALL.stream().map(Workload::name).toList())).split(",")) {
            workloads.add(Workload.named(name.trim()));
        }
        List<String> impls = Arrays.asList(opt.getOrDefault("impls", "wengert,nd4j,samediff").split(","));
        Device device = Device.parse(opt.getOrDefault("device", "cpu"));
        int warmup = Integer.parseInt(opt.getOrDefault("warmup", "3"));
        int steps = Integer.parseInt(opt.getOrDefault("steps", "20"));
        double seconds = Double.parseDouble(opt.getOrDefault("seconds", "20"));
        float lr = 0.01f;

        Map<Workload, Map<String, Measurement>> results = new LinkedHashMap<>();
        List<String> floorNotes = new ArrayList<>();
        for (Workload wl : workloads) {
            List<String> measured = expandFloor(wl, impls);
            System.err.printf(Locale.ROOT, "measuring %s: %s ...%n", wl.name(), measured);
            Map<String, Measurement> row = measureInterleaved(wl, measured, lr, device, warmup, steps, seconds);
            String note = pickFloor(wl, row);
            if (note != null) {
                floorNotes.add(note);
            }
            results.put(wl, row);
        }
        List<String> columns = new ArrayList<>(impls);
        String referenceNote = "";
        if (opt.containsKey("reference")) {
            referenceNote = "; reference " + mergeReference(Path.of(opt.get("reference")), results, columns);
        }
        impls = columns;
        String title = String.format(Locale.ROOT, "Training step, fp32, SGD, softmax cross-entropy; device %s%s; %s",
                device + (dev.wengert.tensor.Backends.of(device).isSimulated()
                        ? " (the CUDA simulator: these times are not GPU figures)" : ""), referenceNote, java.time.LocalDate.now());
        String table = markdown(results, impls, title);
        if (!floorNotes.isEmpty()) {
            table += "\n" + String.join("\n", floorNotes) + "\n";
        }
        System.out.println(table);
        if (opt.containsKey("markdown")) {
            Files.writeString(Path.of(opt.get("markdown")), table);
        }
        if (opt.containsKey("png")) {
            BarChart.write(Path.of(opt.get("png")), title, results, impls);
        }
    }

    /**
     * Adds the measurements of a reference run (bench/reference/pytorch_reference.py --out FILE) as extra
     * columns. Returns a description of the reference (device, version).
     */
    @SuppressWarnings("unchecked")
    static String mergeReference(Path file, Map<Workload, Map<String, Measurement>> results, List<String> columns) throws IOException {
        Map<String, Object> doc = (Map<String, Object>) dev.wengert.models.io.Json.parse(Files.readString(file));
        Map<String, Object> byWorkload = (Map<String, Object>) doc.get("results");
        for (var e : results.entrySet()) {
            Object row = byWorkload.get(e.getKey().name());
            if (row == null) {
                throw new IllegalArgumentException("reference " + file + " has no result for workload " + e.getKey().name());
            }
            for (var cell : ((Map<String, Object>) row).entrySet()) {
                Map<String, Object> m = (Map<String, Object>) cell.getValue();
                double ms = ((Number) m.get("ms")).doubleValue();
                Object peak = m.get("peak_mb");
                e.getValue().put(cell.getKey(), new Measurement(cell.getKey(), ms, e.getKey().batch() / (ms / 1e3),
                        peak == null ? -1 : (long) (((Number) peak).doubleValue() * 1e6), -1, Double.NaN));
                if (!columns.contains(cell.getKey())) {
                    columns.add(cell.getKey());
                }
            }
        }
        return "PyTorch " + doc.get("torch") + " on " + doc.get("device");
    }

    /** The floor variants of a convolutional workload. */
    static final List<String> CNN_FLOORS = List.of("nd4j-im2col", "nd4j-conv2d");

    /** {@code impls} with {@code nd4j} replaced by both floor variants for a convolutional workload. */
    static List<String> expandFloor(Workload wl, List<String> impls) {
        List<String> out = new ArrayList<>();
        for (String impl : impls) {
            if (impl.trim().equals("nd4j") && wl.convolutional()) {
                out.addAll(CNN_FLOORS);
            } else {
                out.add(impl.trim());
            }
        }
        return out;
    }

    /**
     * For a row with both floor variants: adds the faster as {@code nd4j} (in place of the two) and returns a line
     * naming both; null when the row has no variants.
     */
    static String pickFloor(Workload wl, Map<String, Measurement> row) {
        Measurement a = row.get(CNN_FLOORS.get(0));
        Measurement b = row.get(CNN_FLOORS.get(1));
        if (a == null || b == null) {
            return null;
        }
        Measurement faster = a.medianMs() <= b.medianMs() ? a : b;
        row.remove(CNN_FLOORS.get(0));
        row.remove(CNN_FLOORS.get(1));
        row.put("nd4j", new Measurement("nd4j", faster.medianMs(), faster.samplesPerSecond(), faster.peakBytes(), faster.steps(),
                faster.lastLoss()));
        return String.format(Locale.ROOT, "- %s floor: hand-written im2col + GEMM %.2f ms, ND4J's conv2d op %.2f ms; the nd4j column is %s",
                wl.name(), a.medianMs(), b.medianMs(), faster.impl());
    }

    static TrainingStep create(String impl, Workload wl, float lr, Device device) {
        return switch (impl) {
            case "wengert" -> new WengertStep(wl, lr, device);
            case "nd4j" -> {
                if (wl.convolutional()) {
                    throw new IllegalArgumentException("the floor of " + wl.name() + " is nd4j-im2col or nd4j-conv2d");
                }
                yield new Nd4jFloorStep(wl, lr);
            }
            case "nd4j-im2col" -> new Nd4jCnnFloorStep(wl, lr, Nd4jCnnFloorStep.Mode.IM2COL);
            case "nd4j-conv2d" -> new Nd4jCnnFloorStep(wl, lr, Nd4jCnnFloorStep.Mode.NATIVE);
            case "samediff" -> new SameDiffStep(wl, lr);
            default -> throw new IllegalArgumentException("unknown implementation '" + impl
                    + "': use wengert, nd4j, samediff (or, for a CNN, nd4j-im2col or nd4j-conv2d)");
        };
    }

    /**
     * All implementations of a workload are built side by side, each warmed up (at least {@code warmup}
     * steps and 2 s, within half the budget), then timed in rounds of one step each, so that whatever
     * else the machine is doing slows them alike: the ratios are what this runner is for. Stops after
     * {@code steps} rounds or when the implementations' time budgets ({@code seconds} each) are spent,
     * but times at least 3 rounds.
     */
    static Map<String, Measurement> measureInterleaved(Workload wl, List<String> impls, float lr, Device device,
                                                      int warmup, int steps, double seconds) {
        Map<String, TrainingStep> built = new LinkedHashMap<>();
        Map<String, List<Double>> times = new LinkedHashMap<>();
        Map<String, Double> loss = new LinkedHashMap<>();
        try {
            for (String impl : impls) {
                built.put(impl.trim(), create(impl.trim(), wl, lr, device));
                times.put(impl.trim(), new ArrayList<>());
            }
            long budget = (long) (seconds * 1e9);
            for (var e : built.entrySet()) {
                long start = System.nanoTime();
                for (int i = 0; (i < warmup || System.nanoTime() - start < 2_000_000_000L) && System.nanoTime() - start < budget / 2; i++) {
                    loss.put(e.getKey(), e.getValue().step());
                }
            }
            long t0 = System.nanoTime();
            for (int round = 0; round < steps && (round < 3 || System.nanoTime() - t0 < budget * built.size()); round++) {
                for (var e : built.entrySet()) {
                    long a = System.nanoTime();
                    loss.put(e.getKey(), e.getValue().step());
                    times.get(e.getKey()).add((System.nanoTime() - a) / 1e6);
                }
            }
            Map<String, Measurement> row = new LinkedHashMap<>();
            for (var e : built.entrySet()) {
                List<Double> ts = times.get(e.getKey());
                double median = median(ts);
                row.put(e.getKey(), new Measurement(e.getKey(), median, wl.batch() / (median / 1e3), e.getValue().peakBytes(),
                        ts.size(), loss.get(e.getKey())));
            }
            return row;
        } finally {
            built.values().forEach(TrainingStep::close);
        }
    }

    static double median(List<Double> xs) {
        double[] a = xs.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
    }

    static String markdown(Map<Workload, Map<String, Measurement>> results, List<String> impls, String title) {
        StringBuilder sb = new StringBuilder("**").append(title).append("** (median ms per step; ratio = ours / theirs, below 1 is faster)\n\n");
        String ours = impls.get(0).trim();
        sb.append("| workload | ").append(ours).append(" ms | samples/s | peak MB |");
        for (String impl : impls.subList(1, impls.size())) {
            sb.append(' ').append(impl.trim()).append(" ms | ratio |");
        }
        sb.append("\n|---|---|---|---|");
        sb.append("---|---|".repeat(impls.size() - 1)).append('\n');
        for (var e : results.entrySet()) {
            Measurement m = e.getValue().get(ours);
            sb.append(String.format(Locale.ROOT, "| %s (%s) | %.2f | %,.0f | %s |", e.getKey().name(), e.getKey().describe(),
                    m.medianMs(), m.samplesPerSecond(), m.peakBytes() < 0 ? "n/a" : String.format(Locale.ROOT, "%.1f", m.peakBytes() / 1e6)));
            for (String impl : impls.subList(1, impls.size())) {
                Measurement t = e.getValue().get(impl.trim());
                sb.append(String.format(Locale.ROOT, " %.2f | %.2fx |", t.medianMs(), m.medianMs() / t.medianMs()));
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    static Map<String, String> parse(String[] args) {
        Map<String, String> opt = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                throw new IllegalArgumentException("usage: ThroughputRunner [--workloads a,b] [--impls wengert,nd4j,samediff] "
                        + "[--device cpu] [--warmup N] [--steps N] [--seconds S] [--reference pytorch.json] [--markdown FILE] "
                        + "[--png FILE]; bad argument: " + args[i]);
            }
            opt.put(args[i].substring(2), args[++i]);
        }
        return opt;
    }
}
