package dev.ublkctl.daemon;

import java.util.List;

/**
 * The params of {@code device.add}. Paths are absolute (the client resolves them: the daemon
 * runs elsewhere).
 *
 * @param id        wanted device id, or -1 for the lowest free one
 * @param target    null, loop or stripe
 * @param queues    number of queues (1..32)
 * @param depth     queue depth (1..1024)
 * @param size      capacity in bytes; 0 means the backing files' size (loop/stripe) or 1 GiB (null)
 * @param blockSize 512 or 4096
 * @param files     backing files
 * @param chunk     stripe chunk size in bytes (0: default)
 * @param bpf       bundled program name, object file path, or null for none
 * @param backend   auto, kernel-bpf, kernel or emulated
 * @param noRecovery do not ask the driver to keep the device for recovery if the daemon dies
 * @param threads   serving threads, 0 for one per queue (kublk's --nthreads)
 * @param engine    what runs the program: "jit" or "interp" (null: the default, jit)
 */
public record AddRequest(int id, String target, int queues, int depth, long size, int blockSize,
                         List<String> files, long chunk, String bpf, String backend, boolean noRecovery, int threads,
                         String engine) {
    public AddRequest { files = files == null ? List.of() : List.copyOf(files); }

    public AddRequest(int id, String target, int queues, int depth, long size, int blockSize,
                      List<String> files, long chunk, String bpf, String backend, boolean noRecovery, int threads) {
        this(id, target, queues, depth, size, blockSize, files, chunk, bpf, backend, noRecovery, threads, null);
    }

    public AddRequest(int id, String target, int queues, int depth, long size, int blockSize,
                      List<String> files, long chunk, String bpf, String backend, boolean noRecovery) {
        this(id, target, queues, depth, size, blockSize, files, chunk, bpf, backend, noRecovery, 0);
    }
}
