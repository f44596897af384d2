package dev.ublkctl.daemon;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.ublkctl.target.TargetType;
import dev.ublkctl.ublk.Backend;

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
 * @param engine      what runs the attached program: jit or interp (null without a program)
 * @param problem     what is wrong, or null: why a {@code broken} record cannot be read, or what
 *                    happened to a live device's storage (a backing file deleted or truncated)
 * @param fds         the daemon's descriptors of the backing files, in {@code files} order (what a
 *                    program's map needs for bpf aio: {@code --map fd_map @dev=@fd0}); empty otherwise
 * @param export      the device's NBD export ({@code ublkctl export}), or null
 */
public record DeviceRecord(@JsonProperty(required = true) int id, String state, TargetType target, Backend backend,
                           int queues, int depth,
                           long size, int blockSize, List<String> files, long chunk, String program,
                           String programPath, String blockDevice, long daemonPid, long daemonStart,
                           String created, String bpf, boolean recoverable, int threads, String engine, String problem,
                           List<Integer> fds, ExportView export) {

    /** {@code broken}: the record file exists but cannot be read; {@code del -n ID} removes it. */
    public static final String LIVE = "live", DEAD = "dead", BROKEN = "broken";

    /** A record without backing descriptors or export (a stand-in, or a record file written before they were kept). */
    public DeviceRecord(int id, String state, TargetType target, Backend backend, int queues, int depth,
                        long size, int blockSize, List<String> files, long chunk, String program,
                        String programPath, String blockDevice, long daemonPid, long daemonStart,
                        String created, String bpf, boolean recoverable, int threads, String engine, String problem) {
        this(id, state, target, backend, queues, depth, size, blockSize, files, chunk, program, programPath,
                blockDevice, daemonPid, daemonStart, created, bpf, recoverable, threads, engine, problem, null, null);
    }

    /** A record with backing descriptors and no export. */
    public DeviceRecord(int id, String state, TargetType target, Backend backend, int queues, int depth,
                        long size, int blockSize, List<String> files, long chunk, String program,
                        String programPath, String blockDevice, long daemonPid, long daemonStart,
                        String created, String bpf, boolean recoverable, int threads, String engine, String problem,
                        List<Integer> fds) {
        this(id, state, target, backend, queues, depth, size, blockSize, files, chunk, program, programPath,
                blockDevice, daemonPid, daemonStart, created, bpf, recoverable, threads, engine, problem, fds, null);
    }

    /** A record with an export and no backing descriptors. */
    public DeviceRecord(int id, String state, TargetType target, Backend backend, int queues, int depth,
                        long size, int blockSize, List<String> files, long chunk, String program,
                        String programPath, String blockDevice, long daemonPid, long daemonStart,
                        String created, String bpf, boolean recoverable, int threads, String engine, String problem,
                        ExportView export) {
        this(id, state, target, backend, queues, depth, size, blockSize, files, chunk, program, programPath,
                blockDevice, daemonPid, daemonStart, created, bpf, recoverable, threads, engine, problem, null, export);
    }

    public DeviceRecord(int id, String state, TargetType target, Backend backend, int queues, int depth,
                        long size, int blockSize, List<String> files, long chunk, String program,
                        String programPath, String blockDevice, long daemonPid, long daemonStart,
                        String created, String bpf, boolean recoverable, int threads) {
        this(id, state, target, backend, queues, depth, size, blockSize, files, chunk, program, programPath,
                blockDevice, daemonPid, daemonStart, created, bpf, recoverable, threads, null, null, null, null);
    }

    /** The stand-in for a record file that cannot be read (empty, truncated, not JSON). */
    public static DeviceRecord broken(int id, String why) {
        return new DeviceRecord(id, BROKEN, null, null, 0, 0, 0, 0, List.of(), 0, null, null, null, 0, 0, null, null,
                false, 0, null, why);
    }

    @com.fasterxml.jackson.annotation.JsonIgnore
    public boolean isBroken() { return BROKEN.equals(state); }

    public DeviceRecord withProblem(String p) {
        return java.util.Objects.equals(p, problem) ? this
                : new DeviceRecord(id, state, target, backend, queues, depth, size, blockSize, files, chunk,
                program, programPath, blockDevice, daemonPid, daemonStart, created, bpf, recoverable, threads, engine, p, fds, export);
    }

    /** A record with one serving thread per queue. */
    public DeviceRecord(int id, String state, TargetType target, Backend backend, int queues, int depth,
                        long size, int blockSize, List<String> files, long chunk, String program,
                        String programPath, String blockDevice, long daemonPid, long daemonStart,
                        String created, String bpf, boolean recoverable) {
        this(id, state, target, backend, queues, depth, size, blockSize, files, chunk, program, programPath,
                blockDevice, daemonPid, daemonStart, created, bpf, recoverable, 0);
    }

    public DeviceRecord {
        files = files == null ? List.of() : List.copyOf(files);
        fds = fds == null ? List.of() : List.copyOf(fds);
    }

    public DeviceRecord withState(String s) {
        return new DeviceRecord(id, s, target, backend, queues, depth, size, blockSize, files, chunk,
                program, programPath, blockDevice, daemonPid, daemonStart, created, bpf, recoverable, threads, engine, problem, fds, export);
    }

    public DeviceRecord withProgram(String name, String path, String spec) {
        return withProgram(name, path, spec, null);
    }

    /** With another program, run by {@code engine} (jit, interp; null without a program). */
    public DeviceRecord withProgram(String name, String path, String spec, String engine) {
        return new DeviceRecord(id, state, target, backend, queues, depth, size, blockSize, files, chunk,
                name, path, blockDevice, daemonPid, daemonStart, created, spec, recoverable, threads, engine, problem, fds, export);
    }

    /** With another export (null: none). */
    public DeviceRecord withExport(ExportView e) {
        return new DeviceRecord(id, state, target, backend, queues, depth, size, blockSize, files, chunk,
                program, programPath, blockDevice, daemonPid, daemonStart, created, bpf, recoverable, threads, engine, problem, fds, e);
    }

    /** True if the daemon named in this record is still the process running under its pid. */
    public boolean daemonAlive() {
        return Daemons.alive(daemonPid, daemonStart);
    }
}
