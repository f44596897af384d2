package dev.ublkctl.ublk.kernel;

import dev.ublkctl.sys.Errno;
import dev.ublkctl.sys.Libc;
import dev.ublkctl.ublk.uapi.CtrlCommand;
import dev.ublkctl.ublk.uapi.DevInfo;
import dev.ublkctl.ublk.uapi.UblkFeature;
import dev.ublkctl.ublk.uapi.UblkLayouts;
import dev.ublkctl.ublk.uapi.UblkParams;
import dev.ublkctl.ublk.uapi.UblkUapi;
import dev.ublkctl.uring.IoUring;
import dev.ublkctl.uring.UringConstants;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;

import static dev.ublkctl.ublk.uapi.UblkLayouts.*;

/**
 * The control plane of the real ublk driver: commands to {@code /dev/ublk-control} as
 * {@code IORING_OP_URING_CMD} on an SQE128 ring, one at a time.
 *
 * <p>Features come from GET_FEATURES and are never assumed: a kernel without it (before 6.5)
 * gets the legacy opcodes and reports no features. Each failure is a
 * {@link UblkCommandException} naming the command, the device and the errno.
 *
 * <p>Beware: DEL_DEV blocks inside the kernel until every open file and mapping of
 * {@code /dev/ublkcN} is gone, and START_DEV until every queue has fetched all its tags.
 * Send them from a thread that does not serve a queue, after queues are closed / armed.
 */
public final class UblkControl implements AutoCloseable {
    public static final String CONTROL_PATH = "/dev/ublk-control";

    private final int fd;
    private final IoUring ring;
    private final long features;
    private final boolean featuresKnown;
    private final boolean ioctlEncode;
    private boolean closed;

    private UblkControl(int fd, IoUring ring) {
        this.fd = fd;
        this.ring = ring;
        long f = 0;
        boolean known;
        try {
            f = queryFeatures();
            known = true;
        } catch (UblkCommandException e) {
            // Before 6.5 the command does not exist (EINVAL/EOPNOTSUPP/ENOTTY): nothing is known.
            if (e.errno() != Errno.EINVAL && e.errno() != Errno.EOPNOTSUPP && e.errno() != Errno.ENOTTY) throw e;
            known = false;
        }
        features = f;
        featuresKnown = known;
        ioctlEncode = UblkFeature.CMD_IOCTL_ENCODE.in(f);
    }

    /** Opens the control device (root, ublk_drv loaded) and reads the kernel's features. */
    public static UblkControl open() {
        int fd = Libc.open(CONTROL_PATH, Libc.O_RDWR | Libc.O_CLOEXEC);
        IoUring ring;
        try {
            ring = IoUring.create(new IoUring.Params(4).withFlags(UringConstants.SETUP_SQE128));
        } catch (RuntimeException e) {
            Libc.close(fd);
            throw e;
        }
        try {
            return new UblkControl(fd, ring);
        } catch (RuntimeException e) {
            ring.close();
            Libc.close(fd);
            throw e;
        }
    }

    /** The {@code UBLK_F_*} mask GET_FEATURES returned (0 when the kernel predates it). */
    public long features() { return features; }

    /** Whether GET_FEATURES answered (6.5+). */
    public boolean featuresKnown() { return featuresKnown; }

    public boolean has(UblkFeature f) { return f.in(features); }

    /** Whether commands go out ioctl-encoded ({@code UBLK_F_CMD_IOCTL_ENCODE}). */
    public boolean ioctlEncode() { return ioctlEncode; }

    private long queryFeatures() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(UblkUapi.FEATURES_LEN, 8);
            // GET_FEATURES exists only ioctl-encoded
            exec(CtrlCommand.GET_FEATURES, true, -1, buf, UblkUapi.FEATURES_LEN, 0, 0, "");
            return buf.get(ValueLayout.JAVA_LONG, 0);
        }
    }

    /**
     * ADD_DEV: creates {@code /dev/ublkcN}. Use devId -1 for the kernel to pick the id. Returns
     * what the kernel negotiated (queues clamped to CPUs, flags masked and forced).
     */
    public DevInfo addDev(DevInfo request) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(CTRL_DEV_INFO);
            request.writeTo(buf);
            exec(CtrlCommand.ADD_DEV, ioctlEncode, request.devId(), buf, CTRL_DEV_INFO.byteSize(), 0, 0,
                    request.nrHwQueues() + " queues, depth " + request.queueDepth() + ", max_io_buf_bytes "
                            + request.maxIoBufBytes() + ", flags " + UblkFeature.names(request.flags()));
            return DevInfo.readFrom(buf);
        }
    }

    /** DEL_DEV: blocks until the device's char device is closed and unmapped everywhere. */
    public void delDev(int devId) { exec(CtrlCommand.DEL_DEV, ioctlEncode, devId, null, 0, 0, 0, ""); }

    /**
     * DEL_DEV_ASYNC (6.9+): removes the device without waiting for the last reference. Throws
     * with EOPNOTSUPP/EINVAL on kernels that lack it; {@link #delDev} is the fallback.
     */
    public void delDevAsync(int devId) { exec(CtrlCommand.DEL_DEV_ASYNC, true, devId, null, 0, 0, 0, ""); }

    /** GET_DEV_INFO. */
    public DevInfo getDevInfo(int devId) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(CTRL_DEV_INFO);
            exec(CtrlCommand.GET_DEV_INFO, ioctlEncode, devId, buf, CTRL_DEV_INFO.byteSize(), 0, 0, "");
            return DevInfo.readFrom(buf);
        }
    }

    /** GET_DEV_INFO2 (6.3+): the char device path goes first in the buffer, the info follows it. */
    public DevInfo getDevInfo2(int devId) {
        byte[] path = ("/dev/ublkc" + devId).getBytes(StandardCharsets.US_ASCII);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(path.length + CTRL_DEV_INFO.byteSize(), 8);
            MemorySegment.copy(path, 0, buf, ValueLayout.JAVA_BYTE, 0, path.length);
            exec(CtrlCommand.GET_DEV_INFO2, ioctlEncode, devId, buf, buf.byteSize(), 0, path.length, "");
            // the info follows the path unaligned: copy it to an aligned place to read it
            MemorySegment info = a.allocate(CTRL_DEV_INFO);
            MemorySegment.copy(buf, path.length, info, 0, CTRL_DEV_INFO.byteSize());
            return DevInfo.readFrom(info);
        }
    }

    /** SET_PARAMS: before START_DEV (EACCES once the disk exists). */
    public void setParams(int devId, UblkParams p) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(PARAMS);
            p.writeTo(buf);
            exec(CtrlCommand.SET_PARAMS, ioctlEncode, devId, buf, PARAMS.byteSize(), 0, 0,
                    p.basic().devSectors() + " sectors, logical block 2^" + p.basic().logicalBsShift()
                            + ", max_sectors " + p.basic().maxSectors());
        }
    }

    public UblkParams getParams(int devId) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(PARAMS);
            buf.set(ValueLayout.JAVA_INT, UblkLayouts.off(PARAMS, "len"), (int) PARAMS.byteSize());
            exec(CtrlCommand.GET_PARAMS, ioctlEncode, devId, buf, PARAMS.byteSize(), 0, 0, "");
            return UblkParams.readFrom(buf);
        }
    }

    /**
     * START_DEV: waits in the kernel until every queue fetched all its tags, then adds
     * {@code /dev/ublkbN} (its partition scan reads the disk: the queues must be serving).
     * {@code serverPid} is the process that opened {@code /dev/ublkcN}.
     */
    public void startDev(int devId, int serverPid) {
        exec(CtrlCommand.START_DEV, ioctlEncode, devId, null, 0, serverPid, 0, "server pid " + serverPid);
    }

    /** STOP_DEV: removes the disk; the queues' pending fetches complete with UBLK_IO_RES_ABORT. */
    public void stopDev(int devId) { exec(CtrlCommand.STOP_DEV, ioctlEncode, devId, null, 0, 0, 0, ""); }

    /** START_USER_RECOVERY: after the old server died, before a new one opens the queues. */
    public void startUserRecovery(int devId) {
        exec(CtrlCommand.START_USER_RECOVERY, ioctlEncode, devId, null, 0, 0, 0, "");
    }

    /** END_USER_RECOVERY: the new server (pid) has fetched every tag again. */
    public void endUserRecovery(int devId, int serverPid) {
        exec(CtrlCommand.END_USER_RECOVERY, ioctlEncode, devId, null, 0, serverPid, 0, "server pid " + serverPid);
    }

    /** Ids of the devices present, read from {@code /dev/ublkc*} (the driver has no list command). */
    public static List<Integer> deviceIds() {
        java.io.File[] fs = new java.io.File("/dev").listFiles((d, n) -> n.matches("ublkc\\d+"));
        if (fs == null) return List.of();
        return java.util.Arrays.stream(fs).map(f -> Integer.parseInt(f.getName().substring(5))).sorted().toList();
    }

    /** Sends one command and waits for its completion; returns the CQE result. */
    private synchronized int exec(CtrlCommand cmd, boolean encoded, int devId, MemorySegment buf, long len,
                                  long data, int devPathLen, String detail) {
        if (closed) throw new IllegalStateException("ublk control is closed");
        if (len > 0xffff) throw new IllegalArgumentException(cmd.uapiName() + ": buffer of " + len + " bytes too large");
        try (Arena a = Arena.ofConfined()) {
            MemorySegment hdr = a.allocate(CTRL_CMD);
            hdr.set(ValueLayout.JAVA_INT, CMD_DEV_ID, devId);
            hdr.set(ValueLayout.JAVA_SHORT, CMD_QUEUE_ID, (short) -1);
            hdr.set(ValueLayout.JAVA_SHORT, CMD_LEN, (short) len);
            hdr.set(ValueLayout.JAVA_LONG, CMD_ADDR, buf == null ? 0 : buf.address());
            hdr.set(ValueLayout.JAVA_LONG, CMD_DATA, data);
            hdr.set(ValueLayout.JAVA_SHORT, CMD_DEV_PATH_LEN, (short) devPathLen);
            ring.sqe().prepUringCmd(fd, cmd.opcode(encoded), hdr).userData(cmd.nr);
            IoUring.Cqe c = ring.submitAndCollect(1).getFirst();
            if (c.res() < 0) {
                String args = "dev " + devId + (detail.isEmpty() ? "" : ", " + detail);
                throw new UblkCommandException(cmd.uapiName(), args, -c.res());
            }
            return c.res();
        }
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        ring.close();
        Libc.close(fd);
    }
}
