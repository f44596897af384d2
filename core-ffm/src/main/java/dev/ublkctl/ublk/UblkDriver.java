package dev.ublkctl.ublk;

import java.util.List;
import java.util.Optional;

/**
 * The ublk driver as a server sees it, shaped after the kernel's control commands
 * ({@code ADD_DEV}, {@code SET_PARAMS}, {@code START_DEV}, {@code STOP_DEV}, {@code DEL_DEV}) and
 * its per-queue I/O protocol ({@link UblkQueue}). Implemented by the kernel driver
 * ({@code /dev/ublk-control}) and by {@code EmulatedDriver} (in-process model).
 *
 * <p>Order: {@link #addDevice} → {@link #openQueue} for every queue (each on its serving
 * thread or before it starts) and {@link #setParams} → {@link #startDevice} → I/O →
 * {@link #stopDevice} (pending and in-flight requests are aborted; queues return false from
 * {@link UblkQueue#processEvents}) → close the queues → {@link #deleteDevice}.
 */
public interface UblkDriver extends AutoCloseable {
    /** {@link Backend#KERNEL} or {@link Backend#EMULATED}. */
    Backend backend();

    /** ADD_DEV: creates the device; returns the negotiated info with the id assigned. */
    DeviceInfo addDevice(DeviceInfo requested);

    /** SET_PARAMS: allowed until the device is started. */
    void setParams(int devId, DeviceParams params);

    /** Opens queue {@code q} of a device for serving (kernel: mmap descriptors, ring, FETCH every tag). */
    UblkQueue openQueue(int devId, int q);

    /** START_DEV: the block device appears; every queue must be open. */
    void startDevice(int devId);

    /** STOP_DEV: the block device goes away; queued and in-flight requests fail, queues abort. */
    void stopDevice(int devId);

    /** DEL_DEV: forgets the device; its queues must be closed. */
    void deleteDevice(int devId);

    /** The info of a device, or empty. */
    Optional<DeviceInfo> deviceInfo(int devId);

    /** Ids of the devices the driver knows. */
    List<Integer> deviceIds();

    /**
     * The block side of a started device, for in-process I/O (bench, verify, tests). The emulated
     * driver always has it; a kernel driver may offer {@code /dev/ublkbN} through io_uring.
     */
    Optional<BlockDevice> blockDevice(int devId);

    /**
     * The ADD_DEV flags that make a device recoverable after its server dies (the kernel's
     * {@code UBLK_F_USER_RECOVERY}, with {@code _REISSUE} where present), or 0 where devices
     * cannot be recovered (the emulated driver: its devices die with the process).
     */
    default long recoveryFlags() { return 0; }

    /**
     * Takes over a device whose server died: waits up to {@code waitMillis} for the driver to
     * quiesce it, then START_USER_RECOVERY. Open every queue next (as for a new device) and finish
     * with {@link #endRecovery} instead of {@link #startDevice}.
     */
    default RecoveredDevice beginRecovery(int devId, long waitMillis) throws InterruptedException {
        throw new UnsupportedOperationException("the " + backend() + " driver cannot recover devices");
    }

    /** END_USER_RECOVERY: every queue is open again; the device is live with this process as its server. */
    default void endRecovery(int devId) {
        throw new UnsupportedOperationException("the " + backend() + " driver cannot recover devices");
    }

    /** Stops and deletes what is left. */
    @Override
    void close();
}
