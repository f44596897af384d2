package dev.ublkctl.daemon;

import dev.ublkctl.engine.stats.DeviceCounters;
import dev.ublkctl.engine.stats.QueueCounters;
import dev.ublkctl.ublk.IoOp;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.DataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FleetMetricsTest {

    /** Every recorded value is counted in the first Prometheus bucket at or above it, never below. */
    @Test
    void engineBucketsFoldIntoBoundsWithoutUndercounting() {
        long[] values = {0, 999, 1000, 1001, 2_400, 2_600, 49_000, 51_000, 999_999, 3_000_000, 20_000_000_000L};
        var q = new QueueCounters(0);
        for (long v : values) q.get().completed(0, 512, 0, v);
        var c = new DeviceCounters(0, 1);
        q.addTo(c, 0);
        HistogramSnapshot.HistogramDataPointSnapshot h = FleetMetrics.histogram(c.finish(), Labels.of("device", "0"));
        assertEquals(values.length, h.getCount());
        double sum = 0;
        for (long v : values) sum += v / 1e9;
        assertEquals(sum, h.getSum(), 1e-12);
        var b = h.getClassicBuckets();
        long cumulative = 0;
        for (int i = 0; i < b.size(); i++) {
            cumulative += b.getCount(i);
            double le = b.getUpperBound(i);
            long atOrBelow = 0;
            for (long v : values) if (v / 1e9 <= le) atOrBelow++;
            // an engine bucket straddling a bound counts above it: never more than the true count
            assertTrue(cumulative <= atOrBelow, "le=" + le + ": " + cumulative + " > " + atOrBelow);
        }
        assertEquals(values.length, cumulative);
    }

    @Test
    void boundIndexPicksTheFirstBoundAtOrAboveTheBucketsEnd() {
        assertEquals(0, FleetMetrics.boundIndex(0));
        assertEquals(0, FleetMetrics.boundIndex(1000));
        assertEquals(1, FleetMetrics.boundIndex(1001));
        assertEquals(FleetMetrics.LATENCY_BOUNDS.length - 1, FleetMetrics.boundIndex(Long.MAX_VALUE));
    }

    static DeviceRecord record(int id, int queues) {
        return new DeviceRecord(id, DeviceRecord.LIVE, dev.ublkctl.target.TargetType.NULL, dev.ublkctl.ublk.Backend.EMULATED,
                queues, 16, 1L << 30, 512, List.of(), 0, "null_ops", null, null, 1, 0, null, null, false, queues, "jit", null);
    }

    /** Devices 0..devices-1 of `queues` queues; queue q of device d served 3q+d reads and q bpf-handled I/Os, the rest zero. */
    static List<FleetMetrics.Device> fleet(int devices, int queues) {
        List<FleetMetrics.Device> out = new ArrayList<>();
        for (int d = devices - 1; d >= 0; d--) {   // in no particular order
            QueueCounters[] qs = new QueueCounters[queues];
            var c = new DeviceCounters(d, queues);
            for (int q = 0; q < queues; q++) {
                qs[q] = new QueueCounters(q);
                for (int i = 0; i < 3 * q + d; i++) { qs[q].get().started(); qs[q].get().completed(IoOp.READ.code, 4096, 0, 1000 + i); }
                for (int i = 0; i < q; i++) qs[q].get().bpfHandled();
                qs[q].addTo(c, q);
            }
            out.add(new FleetMetrics.Device(record(d, queues), c.finish(), null));
        }
        out.add(new FleetMetrics.Device(record(devices, queues), null, "gone"));
        return out;
    }

    static Map<String, Double> points(MetricSnapshots ms, String name) {
        Map<String, Double> out = new TreeMap<>();
        for (MetricSnapshot m : ms) {
            if (!m.getMetadata().getName().equals(name)) continue;
            for (DataPointSnapshot p : m.getDataPoints()) {
                double v = p instanceof CounterSnapshot.CounterDataPointSnapshot c ? c.getValue()
                        : ((GaugeSnapshot.GaugeDataPointSnapshot) p).getValue();
                out.put(p.getLabels().toString(), v);
            }
        }
        return out;
    }

    /**
     * Every (queue, op), (queue, path) and queue series is there, zeros included (a known label set
     * is exported before its counter first moves), with the counters' values; a device whose
     * counters could not be read has only its info and its error gauge.
     */
    @Test
    void everyQueueSeriesIsExportedWithItsValue() {
        int devices = 3, queues = 12;
        MetricSnapshots ms = FleetMetrics.snapshots(fleet(devices, queues));
        Map<String, Double> ios = points(ms, "ublk_io"), paths = points(ms, "ublk_io_path"), inflight = points(ms, "ublk_io_in_flight");
        assertEquals(devices * queues * 5, ios.size());
        assertEquals(devices * queues * 3, paths.size());
        assertEquals(devices * queues, inflight.size());
        for (int d = 0; d < devices; d++)
            for (int q = 0; q < queues; q++) {
                String dq = "{device=\"" + d + "\",";
                assertEquals(3.0 * q + d, ios.get(dq + "op=\"read\",queue=\"" + q + "\"}"));
                assertEquals(0.0, ios.get(dq + "op=\"write_zeroes\",queue=\"" + q + "\"}"));
                assertEquals((double) q, paths.get(dq + "path=\"bpf\",queue=\"" + q + "\"}"));
                assertEquals(0.0, paths.get(dq + "path=\"split\",queue=\"" + q + "\"}"));
                assertEquals(0.0, inflight.get(dq + "queue=\"" + q + "\"}"));
            }
        Map<String, Double> errs = points(ms, "ublk_device_stats_error");
        assertEquals(devices + 1, errs.size());
        assertEquals(1.0, errs.get("{device=\"" + devices + "\"}"));
        assertEquals(0.0, errs.get("{device=\"0\"}"));
        Map<String, Double> bytes = points(ms, "ublk_io_bytes");
        long reads = 0;
        for (int q = 0; q < queues; q++) reads += 3L * q + 1;
        assertEquals(4096.0 * reads, bytes.get("{device=\"1\",op=\"read\"}"));
        for (MetricSnapshot m : ms)
            if (m instanceof HistogramSnapshot h) {
                assertEquals(devices, h.getDataPoints().size());
                assertEquals(reads, h.getDataPoints().stream().filter(p -> p.getLabels().get("device").equals("1"))
                        .findFirst().orElseThrow().getCount());
            }
    }

    /** The data points are made in the order the client sorts them into (so its sort is one pass): the same text either way. */
    @Test
    void dataPointsComeInTheClientsOrder() throws Exception {
        MetricSnapshots ms = FleetMetrics.snapshots(fleet(12, 11));
        for (MetricSnapshot m : ms) {
            List<? extends DataPointSnapshot> p = m.getDataPoints();
            for (int i = 1; i < p.size(); i++)
                assertTrue(p.get(i - 1).getLabels().compareTo(p.get(i).getLabels()) < 0, m.getMetadata().getName() + " at " + i);
        }
        int[] order = FleetMetrics.queueOrder(12);
        for (int i = 1; i < order.length; i++)
            assertTrue(Integer.toString(order[i - 1]).compareTo(Integer.toString(order[i])) < 0);
        var out = new ByteArrayOutputStream();
        PrometheusTextFormatWriter.create().write(out, ms, EscapingScheme.DEFAULT);
        String text = out.toString();
        assertTrue(text.contains("ublk_io_total{device=\"10\",op=\"discard\",queue=\"10\"} 0.0\n"), text);
        assertTrue(text.contains("ublk_io_latency_seconds_count{device=\"3\"}"), text);
    }
}
