package dev.ublkctl.target;

import dev.ublkctl.nbd.NbdClient;
import dev.ublkctl.nbd.NbdUri;
import dev.ublkctl.sys.Errno;
import dev.ublkctl.sys.Libc;
import dev.ublkctl.ublk.BlockDevice;
import dev.ublkctl.ublk.IoCallback;
import dev.ublkctl.ublk.IoOp;
import dev.ublkctl.uring.IoUring;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

/**
 * Loop or stripe over other devices of the same engine ({@code -f ublk:N}): the RFC's first
 * motivation, a ublk device stacked on ublk devices. A range goes to the lower device's
 * {@link BlockDevice#submit} in process — no system call, and no copy: the lower device gets the
 * upper request's buffer (itself the submitter's, zero copy), so every layer works on the same memory.
 *
 * <p>Lower completions that run on this queue's serving thread (the lower program completed the I/O
 * in its submitter context, which is this thread) finish the part at once. Those that run on another
 * thread (the lower device's serving thread) go on a lock-free list, and the first one after this
 * thread last looked writes an eventfd whose read is armed on this queue's ring: one wake-up per
 * batch, and the serving thread drains the list when that read completes.
 */
public final class StackedTarget implements Target {
    /** user_data "tag" of the armed eventfd read (no real tag is this large). */
    private static final int WAKE_TAG = 0xffff, WAKE_PART = 0xffff;
    private static final MemorySegment ONE = Arena.global().allocateFrom(ValueLayout.JAVA_LONG, 1L);

    private final TargetType name;
    private final List<Integer> ids;
    private final BlockDevice[] lower;
    private final int chunk;
    private final long size;
    private final List<Integer> eventFds = new CopyOnWriteArrayList<>();
    /** NBD clients this target opened (and closes); empty when stacked on devices of the engine. */
    private final List<NbdClient> remotes;
    private volatile boolean closed;

    private StackedTarget(TargetType name, List<Integer> ids, BlockDevice[] lower, int chunk, long size) {
        this(name, ids, lower, chunk, size, List.of());
    }

    private StackedTarget(TargetType name, List<Integer> ids, BlockDevice[] lower, int chunk, long size, List<NbdClient> remotes) {
        this.remotes = List.copyOf(remotes);
        this.name = name;
        this.ids = List.copyOf(ids);
        this.lower = lower;
        this.chunk = chunk;
        this.size = size;
    }

    static StackedTarget open(TargetType name, List<Integer> ids, int chunk, IntFunction<BlockDevice> resolve) {
        BlockDevice[] lower = new BlockDevice[ids.size()];
        long min = Long.MAX_VALUE;
        boolean discard = true;
        for (int i = 0; i < lower.length; i++) {
            lower[i] = resolve.apply(ids.get(i));
            if (lower[i] == null) throw new IllegalArgumentException(name + ": no live device " + ids.get(i) + " to stack on (ublk:" + ids.get(i) + ")");
            min = Math.min(min, lower[i].size());
        }
        if (ids.stream().distinct().count() != ids.size()) throw new IllegalArgumentException(name + ": a device is named twice: " + ids);
        long unit = chunk == Integer.MAX_VALUE ? 4096 : chunk;
        long per = min / unit * unit;
        if (per == 0) throw new IllegalArgumentException(name + ": lower devices smaller than " + unit + " bytes: " + ids);
        return new StackedTarget(name, ids, lower, chunk, per * lower.length);
    }

    /**
     * The nbd target (one export) or a stripe over exports: the same stacking, with the remote
     * exports as the lower devices, through ublkctl's NBD client.
     */
    static StackedTarget overNbd(TargetConfig.Nbd cfg) {
        List<NbdClient> clients = new ArrayList<>();
        try {
            for (String u : cfg.urls()) clients.add(NbdClient.open(NbdUri.parse(u), cfg.connections()));
            long min = Long.MAX_VALUE;
            for (NbdClient c : clients) min = Math.min(min, c.size());
            long unit = cfg.chunkSize() == Integer.MAX_VALUE ? 4096 : cfg.chunkSize();
            long per = min / unit * unit;
            if (per == 0) throw new IllegalArgumentException(cfg.type() + ": NBD exports smaller than " + unit + " bytes: " + cfg.urls());
            for (NbdClient c : clients) {
                if (c.logicalBlockSize() > 4096)
                    throw new IllegalArgumentException(c.uri() + ": the export's minimum block size " + c.logicalBlockSize() + " is above 4096");
            }
            return new StackedTarget(cfg.type(), List.of(), clients.toArray(BlockDevice[]::new), cfg.chunkSize(), per * clients.size(), clients);
        } catch (RuntimeException e) {
            for (NbdClient c : clients) c.close();
            throw e;
        }
    }

    /** The NBD exports under this target, in stripe order (empty when stacked on devices). */
    public List<String> remoteExports() { return remotes.stream().map(c -> c.uri().toString()).toList(); }

    /** A remote export reconnecting or given up. */
    @Override
    public java.util.Optional<String> problem() {
        for (NbdClient c : remotes) {
            var p = c.problem();
            if (p.isPresent()) return p;
        }
        return java.util.Optional.empty();
    }

    @Override public TargetType type() { return name; }
    @Override public long size() { return size; }
    /** No file descriptors: programs cannot submit bpf aio against a device (use the Java target). */
    @Override public List<Integer> fds() { return List.of(); }
    @Override public boolean supportsDiscard() { return true; }
    /** The lower devices' ids, in stripe order. */
    public List<Integer> lowerDevices() { return ids; }
    /** Stripe chunk in bytes (loop: {@link Integer#MAX_VALUE}). */
    public int chunkSize() { return chunk; }

    @Override
    public TargetQueue openQueue(IoUring ring, int depth, int maxIoBytes, PartCompleter done) {
        if (closed) throw new IllegalStateException(name + " target closed");
        int maxParts = Math.max(lower.length, chunk == Integer.MAX_VALUE ? 1 : maxIoBytes / chunk + 2);
        int efd = Libc.eventfd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK);
        eventFds.add(efd);
        return new Queue(ring, depth, maxParts, done, efd);
    }

    @Override
    public void close() {
        closed = true;
        for (NbdClient c : remotes) c.close();
        for (int fd : eventFds) {
            try {
                Libc.close(fd);
            } catch (RuntimeException ignored) {
                // already closed
            }
        }
        eventFds.clear();
    }

    private final class Queue implements TargetQueue, IoCallback {
        private static final VarHandle ARMED;
        static {
            try {
                ARMED = MethodHandles.lookup().findVarHandle(Queue.class, "armed", int.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }
        private final IoUring ring;
        private final int maxParts;
        private final PartCompleter done;
        private final int efd;
        private final Thread server = Thread.currentThread();
        // per tag
        private final byte[] op;
        private final int[] remaining, error, total;
        // per (tag, part): slot = tag * maxParts + part
        private final int[] pDev, pLen, pRes, pNext;
        private final long[] pOff, pBuf;
        private final AtomicInteger doneHead = new AtomicInteger(-1);
        /** 1 while this thread waits for the eventfd: the first foreign completion clears it and writes. */
        @SuppressWarnings("unused") private volatile int armed;
        private int inFlight;

        Queue(IoUring ring, int depth, int maxParts, PartCompleter done, int efd) {
            this.ring = ring;
            this.maxParts = maxParts;
            this.done = done;
            this.efd = efd;
            op = new byte[depth];
            remaining = new int[depth];
            error = new int[depth];
            total = new int[depth];
            int n = depth * maxParts;
            pDev = new int[n];
            pLen = new int[n];
            pRes = new int[n];
            pNext = new int[n];
            pOff = new long[n];
            pBuf = new long[n];
            arm();
        }

        private void arm() {
            ring.sqe().prepRead(efd, IoUring.DISCARD_8, 8, 0).userData(TargetQueue.userData(WAKE_TAG, WAKE_PART));
            ARMED.setVolatile(this, 1);
        }

        @Override
        public void submit(int tag, IoOp o, long devOffset, int len, long bufAddr) {
            op[tag] = (byte) o.code;
            error[tag] = 0;
            total[tag] = o == IoOp.FLUSH ? 0 : len;
            int base = tag * maxParts, parts = 0;
            if (o == IoOp.FLUSH) {
                for (int d = 0; d < lower.length; d++) {
                    pDev[base + d] = d;
                    pOff[base + d] = 0;
                    pLen[base + d] = 0;
                    pBuf[base + d] = 0;
                }
                parts = lower.length;
            } else if (chunk == Integer.MAX_VALUE) {
                pDev[base] = 0;
                pOff[base] = devOffset;
                pLen[base] = len;
                pBuf[base] = bufAddr;
                parts = 1;
            } else {
                long pos = devOffset, buf = bufAddr;
                int left = len;
                while (left > 0) {
                    long c = pos / chunk;
                    int within = (int) (pos % chunk);
                    int n = Math.min(left, chunk - within);
                    int s = base + parts++;
                    pDev[s] = (int) (c % lower.length);
                    pOff[s] = (c / lower.length) * chunk + within;
                    pLen[s] = n;
                    pBuf[s] = buf;
                    pos += n;
                    buf += n;
                    left -= n;
                }
            }
            remaining[tag] = parts; // before issuing: a part may complete inline
            for (int p = 0; p < parts; p++) issue(tag, p);
        }

        private void issue(int tag, int part) {
            int s = tag * maxParts + part;
            IoOp o = IoOp.ofCode(op[tag]);
            MemorySegment buf = o.hasData() ? MemorySegment.ofAddress(pBuf[s]).reinterpret(pLen[s]) : null;
            BlockDevice dev = lower[pDev[s]];
            inFlight++;
            int r;
            try {
                r = dev.submit(-1, o, pOff[s], pLen[s], buf, this, s, true);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                r = -Errno.EINTR;
            }
            if (r != 0) finishPart(s, r == BlockDevice.FULL ? -Errno.EAGAIN : r); // refused (e.g. the lower device stopped: ENODEV)
        }

        /** Lower completion, on any thread. */
        @Override
        public void done(long slot, int result) {
            int s = (int) slot;
            if (Thread.currentThread() == server) {
                finishPart(s, result);
                return;
            }
            pRes[s] = result;
            int h;
            do {
                h = doneHead.get();
                pNext[s] = h;
            } while (!doneHead.compareAndSet(h, s));
            if ((int) ARMED.getVolatile(this) != 0 && ARMED.compareAndSet(this, 1, 0)) {
                try {
                    Libc.write(efd, ONE, 8);
                } catch (RuntimeException ignored) {
                    // closed: the device is gone
                }
            }
        }

        private void finishPart(int s, int res) {
            inFlight--;
            int tag = s / maxParts;
            if (res < 0 && error[tag] == 0) error[tag] = res;
            if (--remaining[tag] == 0) done.partDone(tag, error[tag] != 0 ? error[tag] : total[tag]);
        }

        @Override
        public void onCompletion(long userData, int res) {
            if (TargetQueue.tagOf(userData) != WAKE_TAG) throw new IllegalStateException("stacked target has no SQEs of its own, got 0x" + Long.toHexString(userData));
            drain();
            arm();
            // a completion pushed after the drain but before arm() saw no flag and wrote nothing: look again
            while (doneHead.get() != -1 && ARMED.compareAndSet(this, 1, 0)) {
                drain();
                ARMED.setVolatile(this, 1);
            }
        }

        private void drain() {
            int h = doneHead.getAndSet(-1);
            // oldest first is not needed: parts are independent
            for (int s = h; s != -1; ) {
                int nx = pNext[s];
                finishPart(s, pRes[s]);
                s = nx;
            }
        }

        @Override public int inFlight() { return inFlight; }
    }

    @Override
    public String toString() { return name + " over " + new ArrayList<>(ids); }
}
