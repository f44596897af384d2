package dev.ublkctl.engine;

import dev.ublkctl.sys.Errno;
import dev.ublkctl.ublk.IoOp;

/**
 * kublk's null server on a device with a program: an I/O the program redirected is sent back to it
 * with -EAGAIN, after the server marks it in the program's {@code io_map} (or ublkctl's
 * {@code bounce}) so that the program completes it on the second call; one in every {@code every}
 * is served as usual. kublk picks by tag ({@code tag % 4 != 0} bounces); here the choice counts the
 * redirected I/Os of each queue instead, because the emulated driver reuses the lowest free tag and a
 * tag rule would almost never fire there. I/O that reaches the server without a program is never
 * bounced. Runs on the queue threads; each counts in its own slot.
 */
public final class BounceHook implements ServerHook {
    /** What kublk's null server uses: 3 of every 4 redirected I/Os go back. */
    public static final int KUBLK_EVERY = 4;

    private final Device device;
    private final int every;
    private final long[] seen;

    public BounceHook(Device device, int every) {
        if (every < 1) throw new IllegalArgumentException("bounce modulus must be at least 1, got " + every);
        this.device = device;
        this.every = every;
        this.seen = new long[device.nrQueues()];
    }

    public int every() { return every; }

    @Override
    public int onServe(int queue, int tag, IoOp op, long offset, int length, boolean redirectedByProgram) {
        if (!redirectedByProgram) return 0;
        if (seen[queue]++ % every == 0) return 0;
        UblkProgram p = device.program().orElse(null);
        if (p == null) return 0;
        KublkMaps.markBounced(p, device.id(), queue, tag);
        return -Errno.EAGAIN;
    }
}
