package dev.ublkctl.nbd;

import dev.ublkctl.sys.Errno;
import dev.ublkctl.ublk.BlockDevice;
import dev.ublkctl.ublk.IoCallback;
import dev.ublkctl.ublk.IoOp;

import java.io.EOFException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.Consumer;

/**
 * One client of an {@link NbdServer}: negotiation, then requests read on this connection's thread
 * and submitted to the device, replies written by a second thread in completion order (NBD
 * replies may come in any order; the cookie matches them). At most {@link #MAX_IN_FLIGHT}
 * requests are in the device at once: the reader waits for a free slot, which is the back-pressure
 * a client sees.
 */
final class NbdConnection implements IoCallback {
    static final int MAX_IN_FLIGHT = 64;
    /** Requests up to this size use the slot's own buffer; larger ones get one of their own. */
    private static final int SLOT_BYTES = 256 << 10;
    /** The preferred block size advertised (what the page cache and most tools use). */
    private static final int PREFERRED = 4096;

    private final SocketChannel ch;
    private final NbdServer.Export export;
    private final BlockDevice dev;
    private final Consumer<String> log;
    private final String who;
    private final Slot[] slots = new Slot[MAX_IN_FLIGHT];
    private final ArrayBlockingQueue<Slot> free = new ArrayBlockingQueue<>(MAX_IN_FLIGHT);
    private final LinkedBlockingQueue<Slot> done = new LinkedBlockingQueue<>();
    private final Arena arena = Arena.ofShared();
    private final int lbs;
    private boolean structured;
    private volatile boolean aborted;

    /** One request from reading to its reply. */
    private static final class Slot {
        final int index;
        MemorySegment own;      // SLOT_BYTES, made on first use
        MemorySegment buf;      // this request's data (own, or a larger one of its own)
        long cookie, offset;
        int cmd, length, flags;
        IoOp op;
        volatile int result;    // bytes (>= 0) or -errno
        boolean flushing;       // FUA: the write is done, its flush is running
        int wireError = -1;     // >= 0: answered without the device
        Slot(int index) { this.index = index; }
    }

    NbdConnection(SocketChannel ch, NbdServer.Export export, Consumer<String> log, long n) {
        this.ch = ch;
        this.export = export;
        this.dev = export.device();
        this.log = log;
        this.who = "nbd export '" + export.name() + "' connection " + n;
        this.lbs = dev.logicalBlockSize();
        for (int i = 0; i < MAX_IN_FLIGHT; i++) {
            slots[i] = new Slot(i);
            free.add(slots[i]);
        }
    }

    /** Closes the socket: the reader and writer stop at their next read or write. */
    void abort() {
        aborted = true;
        try { ch.close(); } catch (IOException ignored) { }
    }

    void run() {
        Thread writer = null;
        try {
            if (!negotiate()) return;
            writer = Thread.ofVirtual().name(Thread.currentThread().getName() + "-w").start(this::writeLoop);
            readLoop();
        } catch (ProtocolException e) {
            log.accept(who + ": " + e.getMessage() + "; closing it");
        } catch (EOFException e) {
            // the client went away
        } catch (IOException e) {
            if (!aborted && ch.isOpen()) log.accept(who + ": " + e.getMessage());
        } finally {
            finish(writer);
        }
    }

    /** Waits until every request in the device has called back, then stops the writer and frees the buffers. */
    private void finish(Thread writer) {
        boolean interrupted = false;
        try {
            for (int i = 0; i < MAX_IN_FLIGHT; i++) {
                for (;;) {
                    try {
                        free.take();
                        break;
                    } catch (InterruptedException e) {
                        interrupted = true;
                    }
                }
            }
        } finally {
            if (writer != null) {
                done.add(STOP);
                try { writer.join(); } catch (InterruptedException e) { interrupted = true; }
            }
            try { ch.close(); } catch (IOException ignored) { }
            arena.close();
            if (interrupted) Thread.currentThread().interrupt();
        }
    }

    private static final Slot STOP = new Slot(-1);

    static final class ProtocolException extends IOException {
        ProtocolException(String m) { super(m); }
    }

    // ---- negotiation ----

    private int transmissionFlags() {
        int f = Nbd.TF_HAS_FLAGS | Nbd.TF_SEND_FLUSH | Nbd.TF_SEND_FUA | Nbd.TF_SEND_TRIM | Nbd.TF_SEND_WRITE_ZEROES
                | Nbd.TF_CAN_MULTI_CONN;
        if (export.readOnly()) f |= Nbd.TF_READ_ONLY;
        return f;
    }

    /** @return true when the client chose the export and transmission starts; false when it left */
    private boolean negotiate() throws IOException {
        ByteBuffer hello = be(18).putLong(Nbd.NBDMAGIC).putLong(Nbd.IHAVEOPT)
                .putShort((short) (Nbd.FLAG_FIXED_NEWSTYLE | Nbd.FLAG_NO_ZEROES)).flip();
        writeFully(hello);
        int cflags = readFully(4).getInt();
        if ((cflags & ~(Nbd.FLAG_C_FIXED_NEWSTYLE | Nbd.FLAG_C_NO_ZEROES)) != 0)
            throw new ProtocolException("unknown client flags 0x" + Integer.toHexString(cflags));
        boolean noZeroes = (cflags & Nbd.FLAG_C_NO_ZEROES) != 0;
        for (;;) {
            ByteBuffer h = readFully(16);
            long magic = h.getLong();
            if (magic != Nbd.IHAVEOPT) throw new ProtocolException("bad option magic 0x" + Long.toHexString(magic));
            int opt = h.getInt();
            long len = Integer.toUnsignedLong(h.getInt());
            if (len > Nbd.MAX_OPTION_BYTES) {
                throw new ProtocolException("option " + opt + " of " + len + " bytes (at most " + Nbd.MAX_OPTION_BYTES + ")");
            }
            ByteBuffer data = readFully((int) len);
            switch (opt) {
                case Nbd.OPT_EXPORT_NAME -> {
                    String name = StandardCharsets.UTF_8.decode(data).toString();
                    if (!matches(name)) throw new ProtocolException("NBD_OPT_EXPORT_NAME for unknown export '" + name + "'");
                    ByteBuffer r = be(noZeroes ? 10 : 134).putLong(dev.size()).putShort((short) transmissionFlags());
                    writeFully(r.position(r.limit()).flip());
                    return true;
                }
                case Nbd.OPT_ABORT -> {
                    optReply(opt, Nbd.REP_ACK, null);
                    return false;
                }
                case Nbd.OPT_LIST -> {
                    if (len != 0) {
                        optError(opt, Nbd.REP_ERR_INVALID, "NBD_OPT_LIST takes no data");
                        continue;
                    }
                    byte[] n = export.name().getBytes(StandardCharsets.UTF_8);
                    optReply(opt, Nbd.REP_SERVER, be(4 + n.length).putInt(n.length).put(n).flip());
                    optReply(opt, Nbd.REP_ACK, null);
                }
                case Nbd.OPT_STRUCTURED_REPLY -> {
                    if (len != 0) optError(opt, Nbd.REP_ERR_INVALID, "NBD_OPT_STRUCTURED_REPLY takes no data");
                    else {
                        structured = true;
                        optReply(opt, Nbd.REP_ACK, null);
                    }
                }
                case Nbd.OPT_INFO, Nbd.OPT_GO -> {
                    if (infoOrGo(opt, data)) return true;
                }
                case Nbd.OPT_STARTTLS -> optError(opt, Nbd.REP_ERR_POLICY, "this server does not offer TLS");
                default -> optError(opt, Nbd.REP_ERR_UNSUP, "option " + opt + " is not supported");
            }
        }
    }

    private boolean matches(String name) { return name.equals(export.name()) || name.isEmpty(); }

    /** NBD_OPT_INFO and NBD_OPT_GO: the export's size, flags and block sizes; GO then starts transmission. */
    private boolean infoOrGo(int opt, ByteBuffer data) throws IOException {
        if (data.remaining() < 6) return optError(opt, Nbd.REP_ERR_INVALID, "option too short");
        long nlen = Integer.toUnsignedLong(data.getInt());
        if (nlen > data.remaining() - 2) return optError(opt, Nbd.REP_ERR_INVALID, "name length past the option");
        byte[] nb = new byte[(int) nlen];
        data.get(nb);
        int nreq = Short.toUnsignedInt(data.getShort());
        if (data.remaining() != nreq * 2) return optError(opt, Nbd.REP_ERR_INVALID, "information request count does not match the option length");
        boolean wantName = false, wantDesc = false;
        for (int i = 0; i < nreq; i++) {
            int t = Short.toUnsignedInt(data.getShort());
            if (t == Nbd.INFO_NAME) wantName = true;
            if (t == Nbd.INFO_DESCRIPTION) wantDesc = true;
        }
        String name = new String(nb, StandardCharsets.UTF_8);
        if (!matches(name)) return optError(opt, Nbd.REP_ERR_UNKNOWN, "no export '" + name + "' (this server has '" + export.name() + "')");
        optReply(opt, Nbd.REP_INFO, be(12).putShort((short) Nbd.INFO_EXPORT).putLong(dev.size())
                .putShort((short) transmissionFlags()).flip());
        if (wantName) {
            byte[] n = export.name().getBytes(StandardCharsets.UTF_8);
            optReply(opt, Nbd.REP_INFO, be(2 + n.length).putShort((short) Nbd.INFO_NAME).put(n).flip());
        }
        if (wantDesc && export.description() != null) {
            byte[] d = export.description().getBytes(StandardCharsets.UTF_8);
            optReply(opt, Nbd.REP_INFO, be(2 + d.length).putShort((short) Nbd.INFO_DESCRIPTION).put(d).flip());
        }
        // always sent: requests must be aligned to the device's logical block size
        optReply(opt, Nbd.REP_INFO, be(14).putShort((short) Nbd.INFO_BLOCK_SIZE).putInt(lbs)
                .putInt(Math.max(PREFERRED, lbs)).putInt(Nbd.MAX_PAYLOAD).flip());
        optReply(opt, Nbd.REP_ACK, null);
        return opt == Nbd.OPT_GO;
    }

    private void optReply(int opt, int type, ByteBuffer payload) throws IOException {
        int n = payload == null ? 0 : payload.remaining();
        ByteBuffer h = be(20 + n).putLong(Nbd.OPT_REPLY_MAGIC).putInt(opt).putInt(type).putInt(n);
        if (payload != null) h.put(payload);
        writeFully(h.flip());
    }

    /** An error reply with a message for the client's log; negotiation goes on. */
    private boolean optError(int opt, int type, String message) throws IOException {
        optReply(opt, type, ByteBuffer.wrap(message.getBytes(StandardCharsets.UTF_8)));
        return false;
    }

    // ---- transmission ----

    private void readLoop() throws IOException {
        ByteBuffer h = be(Nbd.REQUEST_BYTES);
        long size = dev.size();
        for (;;) {
            h.clear();
            readInto(h);
            h.flip();
            int magic = h.getInt();
            if (magic != Nbd.REQUEST_MAGIC) throw new ProtocolException("bad request magic 0x" + Integer.toHexString(magic));
            int flags = Short.toUnsignedInt(h.getShort());
            int type = Short.toUnsignedInt(h.getShort());
            long cookie = h.getLong();
            long offset = h.getLong();
            long length = Integer.toUnsignedLong(h.getInt());
            if (type == Nbd.CMD_DISC) return;
            if (type == Nbd.CMD_WRITE && length > Nbd.MAX_PAYLOAD)
                throw new ProtocolException("write of " + length + " bytes (at most " + Nbd.MAX_PAYLOAD + ")");
            Slot s = takeSlot();
            s.cookie = cookie;
            s.offset = offset;
            s.cmd = type;
            s.flags = flags;
            s.length = (int) Math.min(length, Integer.MAX_VALUE);
            s.flushing = false;
            s.wireError = -1;
            s.op = switch (type) {
                case Nbd.CMD_READ -> IoOp.READ;
                case Nbd.CMD_WRITE -> IoOp.WRITE;
                case Nbd.CMD_FLUSH -> IoOp.FLUSH;
                case Nbd.CMD_TRIM -> IoOp.DISCARD;
                case Nbd.CMD_WRITE_ZEROES -> IoOp.WRITE_ZEROES;
                default -> null;
            };
            if (type == Nbd.CMD_WRITE) {
                s.buf = buffer(s, s.length);
                readInto(s.buf.asByteBuffer());   // the payload comes even for a request refused below
            } else if (type == Nbd.CMD_READ && length <= Nbd.MAX_PAYLOAD) {
                s.buf = buffer(s, s.length);
            } else {
                s.buf = null;
            }
            int err = check(s, length, size);
            if (err >= 0) {
                s.wireError = err;
                done.add(s);
                continue;
            }
            submit(s, s.op, s.op == IoOp.FLUSH ? 0 : s.offset, s.op == IoOp.FLUSH ? 0 : s.length);
        }
    }

    /** The wire error a request gets without reaching the device, or -1 to submit it. */
    private int check(Slot s, long length, long size) {
        if (s.op == null) return Nbd.EINVAL;   // unknown command (or BLOCK_STATUS, never negotiated)
        boolean writes = s.op != IoOp.READ && s.op != IoOp.FLUSH;
        if (writes && export.readOnly()) return Nbd.EPERM;
        if (s.op == IoOp.FLUSH) return -1;
        if (s.op == IoOp.READ && length > Nbd.MAX_PAYLOAD) return Nbd.EINVAL;
        if (s.offset < 0 || s.offset % lbs != 0 || length % lbs != 0) return Nbd.EINVAL;
        if (s.offset + length > size || s.offset + length < 0) return writes ? Nbd.ENOSPC : Nbd.EINVAL;
        if (length == 0) return 0;
        if (length > Integer.MAX_VALUE - lbs) return Nbd.EINVAL;   // trim/zeroes of 2 GiB and more: a client splits them
        return -1;
    }

    private void submit(Slot s, IoOp op, long off, int len) {
        int r;
        try {
            r = dev.submit(-1, op, off, len, op.hasData() ? s.buf : null, this, s.index, true);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            r = -Errno.EINTR;
        }
        if (r != 0) {
            s.result = r == BlockDevice.FULL ? -Errno.EAGAIN : r;
            done.add(s);
        }
    }

    /** A device completion, on a driver thread: hand it to the writer. */
    @Override
    public void done(long cookie, int result) {
        Slot s = slots[(int) cookie];
        s.result = result;
        done.add(s);
    }

    private Slot takeSlot() throws IOException {
        try {
            return free.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted");
        }
    }

    private MemorySegment buffer(Slot s, int len) {
        if (len <= SLOT_BYTES) {
            if (s.own == null) s.own = arena.allocate(SLOT_BYTES, 4096);
            return s.own.asSlice(0, len);
        }
        // rare large requests: memory the garbage collector frees
        return Arena.ofAuto().allocate(len, 4096);
    }

    private void writeLoop() {
        boolean broken = false;
        for (;;) {
            Slot s;
            try {
                s = done.take();
            } catch (InterruptedException e) {
                continue;   // only STOP ends the writer: every slot must come back
            }
            if (s == STOP) return;
            if (s.wireError < 0 && s.result >= 0 && !s.flushing && (s.flags & Nbd.CMD_FLAG_FUA) != 0 && s.op != IoOp.READ
                    && s.op != IoOp.FLUSH) {
                s.flushing = true;   // FUA: the data reaches stable storage before the reply
                submit(s, IoOp.FLUSH, 0, 0);
                continue;
            }
            int err = s.wireError >= 0 ? s.wireError : s.result >= 0 ? 0 : Nbd.wireError(s.result);
            if (err == Nbd.ENOTSUP && s.op == IoOp.DISCARD) err = 0;   // trim is advisory
            if (!broken && !aborted) {
                try {
                    reply(s, err);
                } catch (IOException e) {
                    broken = true;   // the client is gone; the reader notices too
                    abort();
                }
            }
            s.buf = null;
            free.add(s);
        }
    }

    private void reply(Slot s, int err) throws IOException {
        boolean data = err == 0 && s.cmd == Nbd.CMD_READ && s.length > 0;
        if (!structured) {
            ByteBuffer h = be(Nbd.SIMPLE_REPLY_BYTES).putInt(Nbd.SIMPLE_REPLY_MAGIC).putInt(err).putLong(s.cookie).flip();
            if (data) writeFully(h, s.buf.asByteBuffer());
            else writeFully(h);
            return;
        }
        if (data) {
            ByteBuffer h = be(Nbd.STRUCTURED_REPLY_BYTES + 8).putInt(Nbd.STRUCTURED_REPLY_MAGIC)
                    .putShort((short) Nbd.REPLY_FLAG_DONE).putShort((short) Nbd.REPLY_TYPE_OFFSET_DATA)
                    .putLong(s.cookie).putInt(8 + s.length).putLong(s.offset).flip();
            writeFully(h, s.buf.asByteBuffer());
        } else if (err == 0) {
            writeFully(be(Nbd.STRUCTURED_REPLY_BYTES).putInt(Nbd.STRUCTURED_REPLY_MAGIC).putShort((short) Nbd.REPLY_FLAG_DONE)
                    .putShort((short) Nbd.REPLY_TYPE_NONE).putLong(s.cookie).putInt(0).flip());
        } else {
            writeFully(be(Nbd.STRUCTURED_REPLY_BYTES + 6).putInt(Nbd.STRUCTURED_REPLY_MAGIC).putShort((short) Nbd.REPLY_FLAG_DONE)
                    .putShort((short) Nbd.REPLY_TYPE_ERROR).putLong(s.cookie).putInt(6).putInt(err).putShort((short) 0).flip());
        }
    }

    // ---- socket helpers ----

    private static ByteBuffer be(int n) { return ByteBuffer.allocate(n).order(ByteOrder.BIG_ENDIAN); }

    private ByteBuffer readFully(int n) throws IOException {
        ByteBuffer b = be(n);
        readInto(b);
        return b.flip();
    }

    private void readInto(ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            if (ch.read(b) < 0) throw new EOFException();
        }
    }

    private void writeFully(ByteBuffer... bs) throws IOException {
        long left = 0;
        for (ByteBuffer b : bs) left += b.remaining();
        while (left > 0) left -= ch.write(bs);
    }
}
