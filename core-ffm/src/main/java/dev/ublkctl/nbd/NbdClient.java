package dev.ublkctl.nbd;

import dev.ublkctl.sys.Errno;
import dev.ublkctl.ublk.BlockDevice;
import dev.ublkctl.ublk.BlockIoException;
import dev.ublkctl.ublk.IoCallback;
import dev.ublkctl.ublk.IoOp;

import java.io.EOFException;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Logger;

/**
 * A remote NBD export as a {@link BlockDevice}: what the nbd target stacks on. Several
 * connections when the server advertises multi-conn (its flush then covers every connection),
 * else one. Requests are sent by a sender thread per connection and matched to replies by
 * cookie on a receiver thread; the callback runs there.
 *
 * <p>When a connection breaks (the server went away, a reply that breaks the protocol, no reply
 * within {@link #IO_TIMEOUT_MS}), its requests stay pending while it reconnects, up to
 * {@link #RETRIES} attempts; they are sent again on the new connection, or fail with EIO when
 * it gives up. None is dropped silently. A dead client tries again on a later request, at most
 * every {@link #RETRY_AFTER_MS}.
 */
public final class NbdClient implements BlockDevice, AutoCloseable {
    private static final Logger LOG = Logger.getLogger(NbdClient.class.getName());
    public static final int RETRIES = 5;
    public static final long IO_TIMEOUT_MS = 30_000, CONNECT_TIMEOUT_MS = 10_000, RETRY_AFTER_MS = 5_000;
    /** Requests in flight per connection. */
    public static final int DEPTH = 128;

    private final NbdUri uri;
    private final Handshake first;
    private final Conn[] conns;
    private final AtomicLong cookies = new AtomicLong(1);
    private final AtomicInteger next = new AtomicInteger();
    private final Thread watchdog;
    private volatile boolean closed;
    private volatile String problem;
    private final int retries;

    /** What negotiation learned. */
    record Handshake(long size, int flags, int minBlock, int preferredBlock, int maxBlock) {
        boolean has(int f) { return (flags & f) != 0; }
    }

    private NbdClient(NbdUri uri, Handshake first, int n, int retries) {
        this.retries = retries;
        this.uri = uri;
        this.first = first;
        this.conns = new Conn[n];
        this.watchdog = Thread.ofPlatform().daemon(true).name("nbd-watchdog").unstarted(this::watch);
    }

    /**
     * Connects to {@code uri} with up to {@code connections} connections (one unless the server
     * allows multi-conn).
     * @throws NbdException the server is unreachable or refuses the export, with the reason
     */
    public static NbdClient open(NbdUri uri, int connections) { return open(uri, connections, RETRIES); }

    /** {@link #open(NbdUri, int)} with {@code retries} reconnection attempts (0: a broken connection fails its I/O at once). */
    public static NbdClient open(NbdUri uri, int connections, int retries) {
        if (retries < 0) throw new IllegalArgumentException("retries must be >= 0");
        Session s0 = Session.connect(uri, -1);
        Handshake h = s0.hs;
        int n = h.has(Nbd.TF_CAN_MULTI_CONN) ? Math.max(1, connections) : 1;
        NbdClient c = new NbdClient(uri, h, n, retries);
        try {
            for (int i = 0; i < n; i++) {
                Session s = i == 0 ? s0 : Session.connect(uri, h.size());
                c.conns[i] = c.new Conn(i);
                c.conns[i].start(s);
            }
        } catch (RuntimeException e) {
            s0.close();
            c.close();
            throw e;
        }
        c.watchdog.start();
        return c;
    }

    public NbdUri uri() { return uri; }
    public int connections() { return conns.length; }
    public boolean readOnly() { return first.has(Nbd.TF_READ_ONLY); }
    public boolean multiConn() { return first.has(Nbd.TF_CAN_MULTI_CONN); }
    /** What is wrong now (reconnecting, given up), or empty. */
    public Optional<String> problem() { return Optional.ofNullable(problem); }

    @Override public long size() { return first.size(); }
    @Override public int logicalBlockSize() { return Math.max(512, first.minBlock()); }
    @Override public int nrQueues() { return conns.length; }
    @Override public int queueDepth() { return DEPTH; }
    @Override public int maxIoBytes() { return first.maxBlock(); }

    @Override
    public int submit(int queue, IoOp op, long offset, int length, MemorySegment buf, IoCallback cb, long cookie, boolean block)
            throws InterruptedException {
        if (closed) return -Errno.ENODEV;
        int lbs = logicalBlockSize();
        if (op != IoOp.FLUSH) {
            if (offset < 0 || length <= 0 || offset % lbs != 0 || length % lbs != 0) return -Errno.EINVAL;
            if (offset + length > size()) return -Errno.EIO;
            if (op.hasData() && (buf == null || buf.byteSize() < length)) return -Errno.EINVAL;
            if (op.hasData() && length > first.maxBlock()) return -Errno.EINVAL;
        }
        int cmd;
        switch (op) {
            case READ -> cmd = Nbd.CMD_READ;
            case WRITE -> cmd = Nbd.CMD_WRITE;
            case FLUSH -> {
                if (!first.has(Nbd.TF_SEND_FLUSH)) { cb.done(cookie, 0); return 0; }   // nothing volatile to flush
                cmd = Nbd.CMD_FLUSH;
            }
            case DISCARD -> {
                if (!first.has(Nbd.TF_SEND_TRIM)) { cb.done(cookie, length); return 0; }   // discard is advisory
                cmd = Nbd.CMD_TRIM;
            }
            case WRITE_ZEROES -> {
                if (!first.has(Nbd.TF_SEND_WRITE_ZEROES)) return -Errno.EOPNOTSUPP;
                cmd = Nbd.CMD_WRITE_ZEROES;
            }
            default -> { return -Errno.EOPNOTSUPP; }
        }
        if (readOnly() && cmd != Nbd.CMD_READ && cmd != Nbd.CMD_FLUSH) return -Errno.EROFS;
        Conn c = pick(queue);
        if (c == null) return -Errno.EIO;
        if (!c.slots.tryAcquire()) {
            if (!block) return FULL;
            c.slots.acquire();
        }
        Req r = new Req(cookies.getAndIncrement(), cmd, op == IoOp.FLUSH ? 0 : offset, op == IoOp.FLUSH ? 0 : length,
                op.hasData() ? buf : null, cb, cookie);
        if (!c.add(r)) {
            c.slots.release();
            return -Errno.EIO;
        }
        return 0;
    }

    /** A live or reconnecting connection, preferring the queue's own; null when all gave up (for now). */
    private Conn pick(int queue) {
        int n = conns.length;
        int start = queue >= 0 ? queue % n : Math.floorMod(next.getAndIncrement(), n);
        Conn found = null;
        for (int i = 0; i < n && found == null; i++) {
            Conn c = conns[(start + i) % n];
            if (c.state != State.DEAD) found = c;
            else c.retryIfDue();   // a connection that gave up tries again now and then, while the others serve
        }
        return found;
    }

    @Override
    public CompletableFuture<Integer> io(IoOp op, long offset, long length, MemorySegment buf) {
        CompletableFuture<Integer> f = new CompletableFuture<>();
        if (length > Integer.MAX_VALUE) {
            f.completeExceptionally(new BlockIoException(op, offset, length, Errno.EINVAL, "longer than 2 GiB"));
            return f;
        }
        try {
            int r = submit(-1, op, offset, (int) length, buf, (ck, res) -> {
                if (res < 0) f.completeExceptionally(new BlockIoException(op, offset, length, res, uri.toString()));
                else f.complete(res);
            }, 0, true);
            if (r != 0) f.completeExceptionally(new BlockIoException(op, offset, length, r, uri.toString()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            f.completeExceptionally(e);
        }
        return f;
    }

    /** Fails whatever a connection still holds, with ENODEV, and stops its threads. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        watchdog.interrupt();
        for (Conn c : conns) if (c != null) c.shutdown();
    }

    private void watch() {
        while (!closed) {
            try { Thread.sleep(1000); } catch (InterruptedException e) { return; }
            long now = System.nanoTime();
            for (Conn c : conns) c.checkTimeout(now);
        }
    }

    /** One request from submission to callback. */
    private static final class Req {
        final long handle;
        final int cmd, length;
        final long offset;
        final MemorySegment buf;
        final IoCallback cb;
        final long cookie;
        volatile long sentAt;
        /** Times sent again after a reconnect: a server that breaks on this request every time cannot keep it forever. */
        int resent;
        Req(long handle, int cmd, long offset, int length, MemorySegment buf, IoCallback cb, long cookie) {
            this.handle = handle;
            this.cmd = cmd;
            this.offset = offset;
            this.length = length;
            this.buf = buf;
            this.cb = cb;
            this.cookie = cookie;
        }
        int success() { return cmd == Nbd.CMD_FLUSH ? 0 : length; }
    }

    private enum State { UP, RECONNECTING, DEAD }

    private static final Req STOP = new Req(0, -1, 0, 0, null, null, 0);

    /** One connection's requests, across the sessions that reconnecting makes. */
    private final class Conn {
        final int index;
        final Semaphore slots = new Semaphore(DEPTH);
        final ConcurrentHashMap<Long, Req> pending = new ConcurrentHashMap<>();
        volatile State state = State.UP;
        Session session;
        LinkedBlockingQueue<Req> out;
        Thread sender, receiver;
        long deadSince;

        Conn(int index) { this.index = index; }

        synchronized void start(Session s) {
            session = s;
            out = new LinkedBlockingQueue<>();
            state = State.UP;
            LinkedBlockingQueue<Req> q = out;
            sender = Thread.ofVirtual().name("nbd-send-" + index).start(() -> sendLoop(s, q));
            receiver = Thread.ofVirtual().name("nbd-recv-" + index).start(() -> receiveLoop(s));
        }

        /** Takes a request; false when the connection gave up. */
        synchronized boolean add(Req r) {
            if (state == State.DEAD || closed) return false;
            pending.put(r.handle, r);
            if (state == State.UP) out.add(r);   // reconnecting: sent once the new session is up
            return true;
        }

        private void sendLoop(Session s, LinkedBlockingQueue<Req> q) {
            ByteBuffer h = ByteBuffer.allocate(Nbd.REQUEST_BYTES).order(ByteOrder.BIG_ENDIAN);
            try {
                for (;;) {
                    Req r = q.take();
                    if (r == STOP) return;
                    h.clear().putInt(Nbd.REQUEST_MAGIC).putShort((short) 0).putShort((short) r.cmd).putLong(r.handle)
                            .putLong(r.offset).putInt(r.length).flip();
                    r.sentAt = System.nanoTime();
                    if (r.cmd == Nbd.CMD_WRITE) s.write(h, r.buf.asSlice(0, r.length).asByteBuffer());
                    else s.write(h);
                }
            } catch (InterruptedException e) {
                // shut down
            } catch (IOException e) {
                broken(s, "sending: " + e.getMessage());
            }
        }

        private void receiveLoop(Session s) {
            ByteBuffer h = ByteBuffer.allocate(Nbd.SIMPLE_REPLY_BYTES).order(ByteOrder.BIG_ENDIAN);
            try {
                for (;;) {
                    h.clear();
                    s.readInto(h);
                    h.flip();
                    int magic = h.getInt();
                    if (magic != Nbd.SIMPLE_REPLY_MAGIC)
                        throw new NbdException("reply with bad magic 0x" + Integer.toHexString(magic)
                                + (magic == Nbd.STRUCTURED_REPLY_MAGIC ? " (a structured reply, never negotiated)" : ""));
                    int err = h.getInt();
                    long handle = h.getLong();
                    Req r = pending.get(handle);
                    if (r == null) throw new NbdException("reply for unknown cookie " + Long.toUnsignedString(handle));
                    // the data is read before the request leaves pending: a break halfway sends it again
                    if (err == 0 && r.cmd == Nbd.CMD_READ) s.readInto(r.buf.asSlice(0, r.length).asByteBuffer());
                    if (pending.remove(handle) == null) continue;
                    slots.release();
                    if (problem != null && state == State.UP) problem = null;   // serving again
                    r.cb.done(r.cookie, err == 0 ? r.success() : -wireErrno(err));
                }
            } catch (NbdException e) {
                broken(s, e.getMessage());
            } catch (IOException e) {
                broken(s, e instanceof EOFException ? "the server closed the connection" : e.getMessage());
            }
        }

        private int wireErrno(int err) { return err > 0 && err < 4096 ? err : Errno.EIO; }

        void checkTimeout(long now) {
            Session s;
            synchronized (this) {
                if (state != State.UP) return;
                s = session;
            }
            for (Req r : pending.values()) {
                long t = r.sentAt;
                if (t != 0 && now - t > IO_TIMEOUT_MS * 1_000_000L) {
                    broken(s, "no reply in " + IO_TIMEOUT_MS / 1000 + " s");
                    return;
                }
            }
        }

        /** A session failed: close it (once) and reconnect on a fresh thread. */
        private void broken(Session s, String why) {
            synchronized (this) {
                if (session != s || state != State.UP || closed) return;
                state = State.RECONNECTING;
                out.add(STOP);
            }
            s.close();
            problem = uri + ": connection " + index + ": " + why + "; reconnecting";
            LOG.warning(problem);
            Thread.ofVirtual().name("nbd-reconnect-" + index).start(() -> reconnect(s, why));
        }

        private void reconnect(Session old, String why) {
            join(sender);
            join(receiver);
            String last = why;
            for (int attempt = 1; attempt <= retries && !closed; attempt++) {
                try {
                    Thread.sleep(Math.min(2000, 100L << attempt));
                } catch (InterruptedException e) {
                    break;
                }
                try {
                    Session s = Session.connect(uri, first.size());
                    List<Req> failed = new ArrayList<>();
                    synchronized (this) {
                        if (closed) { s.close(); return; }
                        start(s);
                        List<Req> again = new ArrayList<>(pending.values());
                        again.sort(Comparator.comparingLong(r -> r.handle));
                        for (Req r : again) {
                            if (++r.resent > retries) {   // broke the connection every time it was sent
                                pending.remove(r.handle);
                                failed.add(r);
                                continue;
                            }
                            r.sentAt = 0;
                            out.add(r);
                        }
                    }
                    if (!failed.isEmpty()) {
                        problem = uri + ": connection " + index + ": " + why + " each time " + failed.size()
                                + " request(s) were sent (" + retries + " retries); they fail with EIO";
                        LOG.warning(problem);
                    }
                    for (Req r : failed) {
                        slots.release();
                        r.cb.done(r.cookie, -Errno.EIO);
                    }
                    if (!failed.isEmpty()) return;
                    problem = null;
                    LOG.info(uri + ": connection " + index + " back after " + attempt + " attempt(s)");
                    return;
                } catch (NbdException e) {
                    last = e.getMessage();
                    if (e instanceof SizeChanged) break;   // retrying cannot fix it
                }
            }
            giveUp(last);
        }

        private void giveUp(String why) {
            List<Req> lost;
            synchronized (this) {
                state = State.DEAD;
                deadSince = System.nanoTime();
                lost = new ArrayList<>(pending.values());
                pending.clear();
            }
            problem = (why.startsWith(uri.toString()) ? why : uri + ": " + why) + (closed ? "" : " (gave up after " + retries + " attempt(s); I/O fails with EIO)");
            if (!closed) LOG.warning(problem + "; failing " + lost.size() + " request(s)");
            for (Req r : lost) {
                slots.release();
                r.cb.done(r.cookie, closed ? -Errno.ENODEV : -Errno.EIO);
            }
        }

        /** A dead connection tries again, in the background, at most every RETRY_AFTER_MS. */
        void retryIfDue() {
            synchronized (this) {
                if (state != State.DEAD || closed || System.nanoTime() - deadSince < RETRY_AFTER_MS * 1_000_000L) return;
                state = State.RECONNECTING;
                deadSince = System.nanoTime();
            }
            Thread.ofVirtual().name("nbd-retry-" + index).start(() -> reconnect(null, "retrying"));
        }

        void shutdown() {
            Session s;
            synchronized (this) {
                s = session;
                if (out != null) out.add(STOP);
            }
            if (s != null) s.close();
            join(sender);
            join(receiver);
            giveUp("closed");
        }

        private static void join(Thread t) {
            if (t == null) return;
            try { t.join(); } catch (InterruptedException e) { Thread.currentThread().interrupt(); }
        }
    }

    /** The export's size differs from the one the device was made with. */
    static final class SizeChanged extends NbdException {
        SizeChanged(String m) { super(m); }
    }

    /** One socket after a successful negotiation. */
    static final class Session {
        final SocketChannel ch;
        final Handshake hs;

        private Session(SocketChannel ch, Handshake hs) {
            this.ch = ch;
            this.hs = hs;
        }

        /** Connects and negotiates; {@code size} >= 0 must be the export's size. */
        static Session connect(NbdUri uri, long size) {
            SocketChannel ch;
            try {
                if (uri.socket() != null) {
                    ch = SocketChannel.open(StandardProtocolFamily.UNIX);
                    ch.connect(uri.address());
                } else {
                    ch = SocketChannel.open();
                    ch.socket().connect(new InetSocketAddress(uri.host(), uri.port()), (int) CONNECT_TIMEOUT_MS);
                    ch.socket().setTcpNoDelay(true);
                }
            } catch (IOException | RuntimeException e) {
                throw new NbdException(uri + ": cannot connect: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
            }
            // a server that accepts and never answers: the negotiation has a deadline
            java.util.concurrent.atomic.AtomicBoolean settled = new java.util.concurrent.atomic.AtomicBoolean();
            Thread guard = Thread.ofVirtual().start(() -> {
                try {
                    Thread.sleep(CONNECT_TIMEOUT_MS);
                } catch (InterruptedException e) {
                    return;
                }
                if (settled.compareAndSet(false, true)) close(ch);
            });
            try {
                Handshake h = negotiate(ch, uri);
                if (!settled.compareAndSet(false, true)) throw new EOFException();   // the guard closed it just now
                guard.interrupt();
                if (size >= 0 && h.size() != size)
                    throw new SizeChanged(uri + ": export size changed from " + size + " to " + h.size() + " bytes");
                return new Session(ch, h);
            } catch (IOException e) {
                boolean timedOut = !settled.compareAndSet(false, true);
                guard.interrupt();
                close(ch);
                throw new NbdException(uri + ": negotiation failed: " + (timedOut ? "no answer in " + CONNECT_TIMEOUT_MS / 1000 + " s"
                        : e instanceof EOFException ? "the server closed the connection" : e.getMessage()));
            } catch (RuntimeException e) {
                settled.set(true);
                guard.interrupt();
                close(ch);
                throw e;
            }
        }

        private static Handshake negotiate(SocketChannel ch, NbdUri uri) throws IOException {
            ByteBuffer b = read(ch, 18);
            long magic = b.getLong();
            if (magic != Nbd.NBDMAGIC) throw new NbdException(uri + ": not an NBD server (greeting 0x" + Long.toHexString(magic) + ")");
            long style = b.getLong();
            if (style != Nbd.IHAVEOPT) throw new NbdException(uri + ": the server speaks the old-style protocol, which is not supported");
            int sflags = Short.toUnsignedInt(b.getShort());
            if ((sflags & Nbd.FLAG_FIXED_NEWSTYLE) == 0) throw new NbdException(uri + ": the server does not speak fixed newstyle");
            boolean noZeroes = (sflags & Nbd.FLAG_NO_ZEROES) != 0;
            write(ch, be(4).putInt(Nbd.FLAG_C_FIXED_NEWSTYLE | (noZeroes ? Nbd.FLAG_C_NO_ZEROES : 0)).flip());
            byte[] name = uri.name().getBytes(StandardCharsets.UTF_8);
            ByteBuffer go = be(16 + 4 + name.length + 2 + 2).putLong(Nbd.IHAVEOPT).putInt(Nbd.OPT_GO).putInt(4 + name.length + 4)
                    .putInt(name.length).put(name).putShort((short) 1).putShort((short) Nbd.INFO_BLOCK_SIZE).flip();
            write(ch, go);
            long size = -1;
            int flags = 0, min = 1, pref = 4096, max = Nbd.MAX_PAYLOAD;
            for (;;) {
                ByteBuffer h = read(ch, 20);
                long m = h.getLong();
                if (m != Nbd.OPT_REPLY_MAGIC) throw new NbdException(uri + ": bad option reply magic 0x" + Long.toHexString(m));
                int opt = h.getInt(), type = h.getInt();
                long len = Integer.toUnsignedLong(h.getInt());
                if (opt != Nbd.OPT_GO) throw new NbdException(uri + ": reply to option " + opt + ", expected NBD_OPT_GO");
                if (len > Nbd.MAX_OPTION_BYTES) throw new NbdException(uri + ": option reply of " + len + " bytes (at most " + Nbd.MAX_OPTION_BYTES + ")");
                ByteBuffer d = read(ch, (int) len);
                if (type == Nbd.REP_ACK) break;
                if (type == Nbd.REP_INFO) {
                    if (len < 2) throw new NbdException(uri + ": information reply too short");
                    int info = Short.toUnsignedInt(d.getShort());
                    if (info == Nbd.INFO_EXPORT) {
                        if (len != 12) throw new NbdException(uri + ": export information of " + len + " bytes, expected 12");
                        size = d.getLong();
                        flags = Short.toUnsignedInt(d.getShort());
                    } else if (info == Nbd.INFO_BLOCK_SIZE) {
                        if (len != 14) throw new NbdException(uri + ": block size information of " + len + " bytes, expected 14");
                        min = d.getInt();
                        pref = d.getInt();
                        max = d.getInt();
                    }
                    continue;
                }
                String msg = StandardCharsets.UTF_8.decode(d).toString();
                if (type == Nbd.REP_ERR_UNSUP) return exportName(ch, uri, name, noZeroes);
                if (type == Nbd.REP_ERR_UNKNOWN)
                    throw new NbdException(uri + ": the server has no export '" + uri.name() + "'" + (msg.isBlank() ? "" : " (" + msg + ")"));
                if (Nbd.isError(type))
                    throw new NbdException(uri + ": the server refused the export (error " + (type & 0x7fffffff) + (msg.isBlank() ? "" : ": " + msg) + ")");
                // other reply types are for options not asked: ignore
            }
            if (size < 0) throw new NbdException(uri + ": the server did not say the export's size");
            return check(uri, new Handshake(size, flags, min, pref, max));
        }

        /** Servers without NBD_OPT_GO: the original way, which ends negotiation at once. */
        private static Handshake exportName(SocketChannel ch, NbdUri uri, byte[] name, boolean noZeroes) throws IOException {
            write(ch, be(16 + name.length).putLong(Nbd.IHAVEOPT).putInt(Nbd.OPT_EXPORT_NAME).putInt(name.length).put(name).flip());
            ByteBuffer b = read(ch, noZeroes ? 10 : 134);
            return check(uri, new Handshake(b.getLong(), Short.toUnsignedInt(b.getShort()), 1, 4096, Nbd.MAX_PAYLOAD));
        }

        private static Handshake check(NbdUri uri, Handshake h) {
            if (h.size() <= 0) throw new NbdException(uri + ": export size " + h.size() + " is not usable");
            if (h.minBlock() < 1 || h.minBlock() > 65536 || Integer.bitCount(h.minBlock()) != 1)
                throw new NbdException(uri + ": minimum block size " + Integer.toUnsignedString(h.minBlock()) + " is not a power of two up to 64 KiB");
            if (Integer.compareUnsigned(h.maxBlock(), Math.max(4096, h.minBlock())) < 0)
                throw new NbdException(uri + ": maximum block size " + Integer.toUnsignedString(h.maxBlock()) + " is below 4 KiB");
            int max = Integer.compareUnsigned(h.maxBlock(), Nbd.MAX_PAYLOAD) > 0 ? Nbd.MAX_PAYLOAD : h.maxBlock();
            return new Handshake(h.size(), h.flags(), h.minBlock(), h.preferredBlock(), max);
        }

        void write(ByteBuffer... bs) throws IOException {
            long left = 0;
            for (ByteBuffer b : bs) left += b.remaining();
            while (left > 0) left -= ch.write(bs);
        }

        void readInto(ByteBuffer b) throws IOException { fill(ch, b); }

        void close() { close(ch); }

        private static void close(SocketChannel ch) {
            try { ch.close(); } catch (IOException ignored) { }
        }

        private static ByteBuffer be(int n) { return ByteBuffer.allocate(n).order(ByteOrder.BIG_ENDIAN); }

        private static ByteBuffer read(SocketChannel ch, int n) throws IOException {
            ByteBuffer b = be(n);
            fill(ch, b);
            return b.flip();
        }

        private static void fill(SocketChannel ch, ByteBuffer b) throws IOException {
            while (b.hasRemaining()) if (ch.read(b) < 0) throw new EOFException();
        }

        private static void write(SocketChannel ch, ByteBuffer b) throws IOException {
            while (b.hasRemaining()) ch.write(b);
        }
    }
}
