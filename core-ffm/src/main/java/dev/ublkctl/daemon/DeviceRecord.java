package dev.ublkctl.daemon;

import java.util.List;

/**
 * What the run dir says about one device: written by the daemon that owns it
 * ({@code devices/ID.json}) and read by {@code list} without asking the daemon, so a daemon
 * that died is reported with its devices instead of hanging. Field names are stable: they are
 * the JSON of {@code list --json} and of the RPC methods.
 *
 * @param id          device id (the N of /dev/ublkbN on the kernel backends)
 * @param state       {@code live}, or {@code dead} when the owning daemon is gone
 * @param target      null, loop or stripe
 * @param backend     the backend that runs it: kernel-bpf, kernel or emulated
 * @param queues      number of queues
 * @param depth       queue depth
 * @param size        capacity in bytes
 * @param blockSize   logical block size in bytes
 * @param files       backing files (loop: one, stripe: several)
 * @param chunk       stripe chunk size in bytes (0 otherwise)
 * @param program     name of the attached BPF program (bundled name or file name), or null
 * @param programPath where the program's object came from (resource or file), or null
 * @param blockDevice {@code /dev/ublkbN} on the kernel backends, null when emulated
 * @param daemonPid   pid of the daemon that owns the device
 * @param daemonStart start time of that daemon (epoch ms), to tell a reused pid from it
 * @param created     when the device was added (ISO-8601)
 * @param bpf         what loads the attached program again ({@code OBJECT:OPS}), or null
 * @param recoverable whether the driver keeps the device for {@code recover} if its daemon dies
 *                    (kernel backend with {@code UBLK_F_USER_RECOVERY})
 * @param threads     serving threads when fewer than the queues ({@code add --nthreads}), else 0
 * @param engine      what runs the attached program: "jit" or "interp" (null without a program)
 */
public record DeviceRecord(int id, String state, String target, String backend, int queues, int depth,
                           long size, int blockSize, List<String> files, long chunk, String program,
                           String programPath, String blockDevice, long daemonPid, long daemonStart,
                           String created, String bpf, boolean recoverable, int threads, String engine) {

    public static final String LIVE = "live", DEAD = "dead";

    /** A record without an engine (no program, or written before engines were recorded). */
    public DeviceRecord(int id, String state, String target, String backend, int queues, int depth,
                        long size, int blockSize, List<String> files, long chunk, String program,
                        String programPath, String blockDevice, long daemonPid, long daemonStart,
                        String created, String bpf, boolean recoverable, int threads) {
        this(id, state, target, backend, queues, depth, size, blockSize, files, chunk, program, programPath,
                blockDevice, daemonPid, daemonStart, created, bpf, recoverable, threads, null);
    }

    /** A record with one serving thread per queue. */
    public DeviceRecord(int id, String state, String target, String backend, int queues, int depth,
                        long size, int blockSize, List<String> files, long chunk, String program,
                        String programPath, String blockDevice, long daemonPid, long daemonStart,
                        String created, String bpf, boolean recoverable) {
        this(id, state, target, backend, queues, depth, size, blockSize, files, chunk, program, programPath,
                blockDevice, daemonPid, daemonStart, created, bpf, recoverable, 0);
    }

    public DeviceRecord {
        files = files == null ? List.of() : List.copyOf(files);
    }

    public DeviceRecord withState(String s) {
        return new DeviceRecord(id, s, target, backend, queues, depth, size, blockSize, files, chunk,
                program, programPath, blockDevice, daemonPid, daemonStart, created, bpf, recoverable, threads, engine);
    }

    public DeviceRecord withProgram(String name, String path, String spec) {
        return withProgram(name, path, spec, name == null ? null : engine);
    }

    /** With another program, run by {@code engine} ("jit", "interp"; null without a program). */
    public DeviceRecord withProgram(String name, String path, String spec, String engine) {
        return new DeviceRecord(id, state, target, backend, queues, depth, size, blockSize, files, chunk,
                name, path, blockDevice, daemonPid, daemonStart, created, spec, recoverable, threads, engine);
    }

    /** True if the daemon named in this record is still the process running under its pid. */
    public boolean daemonAlive() {
        return Daemons.alive(daemonPid, daemonStart);
    }
}
