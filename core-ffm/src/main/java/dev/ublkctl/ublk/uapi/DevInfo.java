package dev.ublkctl.ublk.uapi;

import java.lang.foreign.MemorySegment;

import static dev.ublkctl.ublk.uapi.UblkLayouts.CTRL_DEV_INFO;
import static dev.ublkctl.ublk.uapi.UblkLayouts.off;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * {@code struct ublksrv_ctrl_dev_info} as plain data: what ADD_DEV asks for and what the
 * kernel answers (negotiated queue count, depth, buffer size, flags; the id it picked).
 *
 * @param devId          device id, or -1 for the kernel to choose
 * @param nrHwQueues     hardware queues
 * @param queueDepth     tags per queue
 * @param state          {@code UBLK_S_DEV_*} (kernel output)
 * @param maxIoBufBytes  largest request per tag
 * @param serverPid      pid of the server that started the device (kernel output), or -1
 * @param flags          {@code UBLK_F_*}
 * @param serverFlags    opaque to the kernel, kept for the server
 * @param ownerUid       set by the kernel
 * @param ownerGid       set by the kernel
 */
public record DevInfo(int devId, int nrHwQueues, int queueDepth, int state, int maxIoBufBytes, int serverPid,
                      long flags, long serverFlags, int ownerUid, int ownerGid) {

    /** A request for ADD_DEV. */
    public static DevInfo request(int devId, int nrHwQueues, int queueDepth, int maxIoBufBytes, long flags) {
        return new DevInfo(devId, nrHwQueues, queueDepth, 0, maxIoBufBytes, -1, flags, 0, 0, 0);
    }

    private static final long NR_HW_QUEUES = off(CTRL_DEV_INFO, "nr_hw_queues"),
            QUEUE_DEPTH = off(CTRL_DEV_INFO, "queue_depth"), STATE = off(CTRL_DEV_INFO, "state"),
            MAX_IO = off(CTRL_DEV_INFO, "max_io_buf_bytes"), DEV_ID = off(CTRL_DEV_INFO, "dev_id"),
            PID = off(CTRL_DEV_INFO, "ublksrv_pid"), FLAGS = off(CTRL_DEV_INFO, "flags"),
            SRV_FLAGS = off(CTRL_DEV_INFO, "ublksrv_flags"), UID = off(CTRL_DEV_INFO, "owner_uid"),
            GID = off(CTRL_DEV_INFO, "owner_gid");

    /** Writes this info into a zeroed {@link UblkLayouts#CTRL_DEV_INFO}-sized segment. */
    public void writeTo(MemorySegment s) {
        s.asSlice(0, CTRL_DEV_INFO.byteSize()).fill((byte) 0);
        s.set(JAVA_SHORT, NR_HW_QUEUES, (short) nrHwQueues);
        s.set(JAVA_SHORT, QUEUE_DEPTH, (short) queueDepth);
        s.set(JAVA_SHORT, STATE, (short) state);
        s.set(JAVA_INT, MAX_IO, maxIoBufBytes);
        s.set(JAVA_INT, DEV_ID, devId);
        s.set(JAVA_INT, PID, serverPid);
        s.set(JAVA_LONG, FLAGS, flags);
        s.set(JAVA_LONG, SRV_FLAGS, serverFlags);
    }

    public static DevInfo readFrom(MemorySegment s) {
        return new DevInfo(s.get(JAVA_INT, DEV_ID), Short.toUnsignedInt(s.get(JAVA_SHORT, NR_HW_QUEUES)),
                Short.toUnsignedInt(s.get(JAVA_SHORT, QUEUE_DEPTH)), Short.toUnsignedInt(s.get(JAVA_SHORT, STATE)),
                s.get(JAVA_INT, MAX_IO), s.get(JAVA_INT, PID), s.get(JAVA_LONG, FLAGS), s.get(JAVA_LONG, SRV_FLAGS),
                s.get(JAVA_INT, UID), s.get(JAVA_INT, GID));
    }

    public String stateName() { return UblkUapi.stateName(state); }

    public boolean has(UblkFeature f) { return f.in(flags); }

    public String charDevPath() { return "/dev/ublkc" + devId; }

    public String blockDevPath() { return "/dev/ublkb" + devId; }
}
