package dev.ublkctl.tui.model;

import java.util.List;

/**
 * One device at one moment: what it is (from its record) and its per-queue counters.
 *
 * @param id       device id
 * @param target   null, loop, stripe
 * @param backend  kernel-bpf, kernel, emulated
 * @param state    the daemon's state word (live, ...)
 * @param queues   number of queues
 * @param depth    queue depth
 * @param size     bytes
 * @param program  attached program name, or null
 * @param counters per-queue counters (empty if the stats could not be read)
 * @param maps     the program's maps, only filled for the device the monitor focuses on
 * @param error    why the stats could not be read, or null
 * @param engine   what runs the program ("jit", "interp"), or null if not known
 * @param total    the device's counters summed by the daemon (queue -1), or null: then the sum of
 *                 {@code counters}; the source may send only this for devices not in detail
 * @param trace    the program's last bpf_printk lines, only for the device the monitor focuses on
 */
public record DeviceSnapshot(int id, String target, String backend, String state, int queues, int depth, long size,
                             String program, List<QueueCounters> counters, List<MapSnapshot> maps, String error,
                             String engine, QueueCounters total, List<String> trace) {
    public DeviceSnapshot(int id, String target, String backend, String state, int queues, int depth, long size,
                          String program, List<QueueCounters> counters, List<MapSnapshot> maps, String error,
                          String engine, QueueCounters total) {
        this(id, target, backend, state, queues, depth, size, program, counters, maps, error, engine, total, null);
    }

    public DeviceSnapshot(int id, String target, String backend, String state, int queues, int depth, long size,
                          String program, List<QueueCounters> counters, List<MapSnapshot> maps, String error,
                          String engine, List<String> trace) {
        this(id, target, backend, state, queues, depth, size, program, counters, maps, error, engine, null, trace);
    }

    public DeviceSnapshot(int id, String target, String backend, String state, int queues, int depth, long size,
                          String program, List<QueueCounters> counters, List<MapSnapshot> maps, String error, String engine) {
        this(id, target, backend, state, queues, depth, size, program, counters, maps, error, engine, (QueueCounters) null, null);
    }

    public DeviceSnapshot(int id, String target, String backend, String state, int queues, int depth, long size,
                          String program, List<QueueCounters> counters, List<MapSnapshot> maps, String error) {
        this(id, target, backend, state, queues, depth, size, program, counters, maps, error, null, (QueueCounters) null, null);
    }

    public DeviceSnapshot {
        counters = counters == null ? List.of() : List.copyOf(counters);
        maps = maps == null ? List.of() : List.copyOf(maps);
        trace = trace == null ? List.of() : List.copyOf(trace);
    }

    public DeviceSnapshot withMaps(List<MapSnapshot> m) {
        return new DeviceSnapshot(id, target, backend, state, queues, depth, size, program, counters, m, error, engine, total, trace);
    }

    public DeviceSnapshot withTrace(List<String> t) {
        return new DeviceSnapshot(id, target, backend, state, queues, depth, size, program, counters, maps, error, engine, total, t);
    }
}
