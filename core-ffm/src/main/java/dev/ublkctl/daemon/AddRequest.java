package dev.ublkctl.daemon;

import dev.ublkctl.bpf.jit.EngineKind;
import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.ublkctl.engine.DeviceConfig;
import dev.ublkctl.target.TargetType;
import dev.ublkctl.ublk.Backend;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The params of {@code device.add} (and {@code device.recover}). Paths are absolute (the client
 * resolves them: the daemon runs elsewhere). A field left out of the JSON takes the default the
 * command line shows. {@link #deviceConfig()} checks a request against the engine's limits: the
 * command line calls it before it starts a daemon and the daemon calls it on every request, so
 * both refuse the same requests with the same messages.
 *
 * @param id         wanted device id, or {@link #AUTO_ID} for the lowest free one
 * @param target     null, loop or stripe
 * @param queues     number of queues (1..{@value #MAX_QUEUES})
 * @param depth      queue depth (1..{@value #MAX_DEPTH})
 * @param size       capacity in bytes; 0 means the backing files' size (loop/stripe) or 250 GiB (null, as kublk)
 * @param blockSize  logical block size: 512, 1024, 2048 or 4096
 * @param files      backing files, or NBD URLs ({@code nbd://...}, {@code nbd+unix://...}) for the nbd and stripe targets
 * @param chunk      stripe chunk size in bytes (0: default)
 * @param bpf        bundled program name or object file path, or null for none
 * @param ops        which {@code struct ublk_bpf_ops} of {@code bpf}: variable name or {@code .id}; null for the first
 * @param backend    auto, kernel-bpf, kernel or emulated
 * @param noRecovery do not ask the driver to keep the device for recovery if the daemon dies
 * @param threads    serving threads, 0 for one per queue (kublk's --nthreads)
 * @param fault      fault_inject's spec ({@code delay=200us,every=7,errno=EIO}), or null
 * @param engine     what runs the program: jit or interp (null: the default, jit)
 * @param maps       entries the program's maps get before it attaches ({@code --map})
 * @param bounce     0, or N: of every N I/Os the program redirects (per queue), N-1 go back to it with
 *                   -EAGAIN, as kublk's null server does with 4 ({@code --bounce}, {@link dev.ublkctl.engine.BounceHook})
 */
public record AddRequest(int id, TargetType target, int queues, int depth, long size, int blockSize,
                         List<String> files, long chunk, String bpf, String ops, Backend backend, boolean noRecovery,
                         int threads, String fault, EngineKind engine, List<MapSetting> maps, int bounce) {
    public static final int AUTO_ID = -1;
    /** The engine's limits, for the command line's help and checks. */
    public static final int MAX_QUEUES = DeviceConfig.MAX_QUEUES, MAX_DEPTH = DeviceConfig.MAX_DEPTH,
            MAX_ID = DeviceConfig.MAX_ID;
    /** What a request that leaves a field out gets. */
    public static final int DEFAULT_QUEUES = 2, DEFAULT_DEPTH = DeviceConfig.DEFAULT_DEPTH,
            DEFAULT_BLOCK_SIZE = DeviceConfig.DEFAULT_LBS;

    public AddRequest {
        files = files == null ? List.of() : List.copyOf(files);
        maps = maps == null ? List.of() : List.copyOf(maps);
        if (backend == null) backend = Backend.AUTO;
        if (engine == null) engine = EngineKind.DEFAULT;
    }

    /** A request without map entries or bounce. */
    public AddRequest(int id, TargetType target, int queues, int depth, long size, int blockSize, List<String> files,
                      long chunk, String bpf, String ops, Backend backend, boolean noRecovery, int threads, String fault,
                      EngineKind engine) {
        this(id, target, queues, depth, size, blockSize, files, chunk, bpf, ops, backend, noRecovery, threads, fault, engine,
                List.of(), 0);
    }

    /** A request for any target but fault_inject (no fault spec), on the default engine. */
    public AddRequest(int id, TargetType target, int queues, int depth, long size, int blockSize, List<String> files,
                      long chunk, String bpf, String ops, Backend backend, boolean noRecovery, int threads) {
        this(id, target, queues, depth, size, blockSize, files, chunk, bpf, ops, backend, noRecovery, threads, null, null);
    }


    /** The JSON form: every field but {@code target} may be left out. */
    @JsonCreator
    static AddRequest fromJson(@JsonProperty("id") Integer id, @JsonProperty("target") TargetType target,
                               @JsonProperty("queues") Integer queues, @JsonProperty("depth") Integer depth,
                               @JsonProperty("size") Long size, @JsonProperty("blockSize") Integer blockSize,
                               @JsonProperty("files") List<String> files, @JsonProperty("chunk") Long chunk,
                               @JsonProperty("bpf") String bpf, @JsonProperty("ops") String ops,
                               @JsonProperty("backend") Backend backend, @JsonProperty("noRecovery") Boolean noRecovery,
                               @JsonProperty("threads") Integer threads, @JsonProperty("fault") String fault,
                               @JsonProperty("engine") EngineKind engine, @JsonProperty("maps") List<MapSetting> maps,
                               @JsonProperty("bounce") Integer bounce) {
        return new AddRequest(id == null ? AUTO_ID : id, target, queues == null ? DEFAULT_QUEUES : queues,
                depth == null ? DEFAULT_DEPTH : depth, size == null ? 0 : size,
                blockSize == null ? DEFAULT_BLOCK_SIZE : blockSize, files, chunk == null ? 0 : chunk, bpf, ops, backend,
                noRecovery != null && noRecovery, threads == null ? 0 : threads, fault, engine, maps,
                bounce == null ? 0 : bounce);
    }

    /**
     * The device this request asks for, or why it cannot be one.
     * @throws IllegalArgumentException a value out of the engine's limits, a missing file, a
     *         target that does not take these files
     */
    public DeviceConfig deviceConfig() {
        if (target == null) throw new IllegalArgumentException("a device needs a target (" + TargetType.names() + ")");
        if (files.stream().anyMatch(dev.ublkctl.target.TargetConfig::isNbdUrl)) {
            if (!files.stream().allMatch(dev.ublkctl.target.TargetConfig::isNbdUrl))
                throw new IllegalArgumentException("backing files and NBD URLs cannot be mixed: " + files);
            if (fault != null) throw new IllegalArgumentException("a fault spec is for the fault_inject target");
            if (ops != null && bpf == null) throw new IllegalArgumentException("ops names a struct_ops of a program: give the program too");
            return DeviceConfig.of(target.nbdConfig(files, chunk)).withId(id).withQueues(queues).withDepth(depth)
                    .withLogicalBlockSize(blockSize).withSize(size).withRecovery(!noRecovery).withThreads(threads);
        }
        List<Path> paths = new ArrayList<>();
        for (String f : files) {
            Path p = Path.of(f);
            if (!p.isAbsolute() && dev.ublkctl.target.TargetConfig.ublkDevice(p) < 0) throw new IllegalArgumentException("backing file paths must be absolute: " + f);
            paths.add(p);
        }
        if (ops != null && bpf == null) throw new IllegalArgumentException("ops names a struct_ops of a program: give the program too");
        if (!maps.isEmpty() && bpf == null) throw new IllegalArgumentException("--map sets a program's maps: give the program too (--bpf)");
        if (bounce < 0) throw new IllegalArgumentException("--bounce must be a positive count, got " + bounce);
        if (bounce > 0 && bpf == null) throw new IllegalArgumentException("--bounce sends redirected I/O back to a program: give the program too (--bpf)");
        return DeviceConfig.of(target.config(paths, size, chunk, fault)).withId(id).withQueues(queues).withDepth(depth)
                .withLogicalBlockSize(blockSize).withSize(size).withRecovery(!noRecovery).withThreads(threads);
    }
}
