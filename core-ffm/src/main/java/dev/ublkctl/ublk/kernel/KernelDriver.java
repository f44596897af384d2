package dev.ublkctl.ublk.kernel;

import dev.ublkctl.sys.Errno;
import dev.ublkctl.ublk.Backend;
import dev.ublkctl.ublk.BlockDevice;
import dev.ublkctl.ublk.DeviceInfo;
import dev.ublkctl.ublk.DeviceParams;
import dev.ublkctl.ublk.RecoveredDevice;
import dev.ublkctl.ublk.UblkDriver;
import dev.ublkctl.ublk.UblkQueue;
import dev.ublkctl.ublk.uapi.DevInfo;
import dev.ublkctl.ublk.uapi.UblkFeature;
import dev.ublkctl.ublk.uapi.UblkParams;
import dev.ublkctl.ublk.uapi.UblkUapi;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@link UblkDriver} on the real ublk driver: {@code /dev/ublk-control} for the control
 * commands, {@code /dev/ublkcN} for the queues, {@code /dev/ublkbN} for everybody else.
 *
 * <p>Kernel rules the callers must keep (the emulated driver is more forgiving):
 * {@link #openQueue} must run on the thread that will serve the queue (the kernel binds a
 * queue to the task of its first FETCH_REQ); {@link #startDevice} must come from another
 * thread once every queue is open; {@link #deleteDevice} needs the queues closed (it throws
 * rather than letting DEL_DEV hang).
 *
 * <p>The BPF param ({@code bpfOpsId}) is not sent: in the {@code kernel} backend the program runs
 * in the server, and mainline kernels reuse the RFC's param bit for something else.
 */
public final class KernelDriver implements UblkDriver {
    private final UblkControl ctl;
    private final Map<Integer, KernelDevice> devices = new ConcurrentHashMap<>();
    private final Map<Integer, DeviceParams> params = new ConcurrentHashMap<>();
    private final Map<Integer, KernelBlockDevice> blocks = new ConcurrentHashMap<>();

    private KernelDriver(UblkControl ctl) { this.ctl = ctl; }

    /** Opens {@code /dev/ublk-control}; throws with the reason when ublk is not usable here. */
    public static KernelDriver open() { return new KernelDriver(UblkControl.open()); }

    public UblkControl control() { return ctl; }

    @Override
    public Backend backend() { return Backend.KERNEL; }

    @Override
    public DeviceInfo addDevice(DeviceInfo req) {
        KernelDevice d = KernelDevice.create(ctl, DevInfo.request(req.devId(), req.nrQueues(), req.queueDepth(),
                req.maxIoBufBytes(), req.flags()));
        devices.put(d.id(), d);
        return toInfo(d.info());
    }

    private static DeviceInfo toInfo(DevInfo i) {
        return new DeviceInfo(i.devId(), i.nrHwQueues(), i.queueDepth(), i.maxIoBufBytes(), i.flags());
    }

    @Override
    public void setParams(int devId, DeviceParams p) {
        // a volatile write cache, so that flushes (fsync on /dev/ublkbN) reach the target
        UblkParams.Basic b = new UblkParams.Basic(UblkUapi.ATTR_VOLATILE_CACHE, p.logicalBlockShift(),
                p.physicalBlockShift(), p.physicalBlockShift(), p.logicalBlockShift(), p.maxSectors(), 0,
                p.devSectors(), 0);
        UblkParams up = UblkParams.basic(b);
        if (p.discard()) {
            int gran = 1 << p.physicalBlockShift();
            up = up.withDiscard(new UblkParams.Discard(0, gran, UblkParams.MAX_DISCARD_SECTORS,
                    UblkParams.MAX_DISCARD_SECTORS, 1));
        }
        dev(devId).setParams(up);
        params.put(devId, p);
    }

    @Override
    public UblkQueue openQueue(int devId, int q) { return dev(devId).openQueue(q); }

    @Override
    public void startDevice(int devId) { dev(devId).start(); }

    /** STOP_DEV, then closes this process's handle on {@code /dev/ublkbN} (its pending I/O fails). */
    @Override
    public void stopDevice(int devId) {
        try {
            dev(devId).stop();
        } finally {
            closeBlock(devId);
        }
    }

    private void closeBlock(int devId) {
        KernelBlockDevice b = blocks.remove(devId);
        if (b != null) b.close();
    }

    @Override
    public void deleteDevice(int devId) {
        closeBlock(devId);
        params.remove(devId);
        KernelDevice d = devices.get(devId);
        if (d != null) {
            d.delete();
            devices.remove(devId);
        } else {
            // a device this process did not create (e.g. left by a dead server)
            ctl.delDev(devId);
        }
    }

    @Override
    public long recoveryFlags() {
        long f = 0;
        if (ctl.has(UblkFeature.USER_RECOVERY)) {
            f = UblkFeature.USER_RECOVERY.mask();
            // reissue: requests in flight when the server died are served again by the new one
            if (ctl.has(UblkFeature.USER_RECOVERY_REISSUE)) f |= UblkFeature.USER_RECOVERY_REISSUE.mask();
        }
        return f;
    }

    /**
     * Takes over a device whose server died (it must have been added with
     * {@code UBLK_F_USER_RECOVERY}): waits up to {@code waitMillis} for the kernel to quiesce it,
     * sends START_USER_RECOVERY and opens its char device. Then open every queue on its serving
     * thread ({@link #openQueue}) and call {@link #endRecovery}.
     */
    @Override
    public RecoveredDevice beginRecovery(int devId, long waitMillis) throws InterruptedException {
        if (devices.containsKey(devId)) throw new IllegalStateException("ublk device " + devId + " is served by this driver");
        long deadline = System.currentTimeMillis() + waitMillis;
        while (true) {
            DevInfo i = ctl.getDevInfo(devId);
            if (!i.has(UblkFeature.USER_RECOVERY))
                throw new IllegalStateException("ublk device " + devId + " was not added with USER_RECOVERY: it cannot be recovered, only deleted");
            if (i.state() == UblkUapi.S_DEV_QUIESCED || i.state() == UblkUapi.S_DEV_FAIL_IO) {
                try {
                    ctl.startUserRecovery(devId);
                    break;
                } catch (UblkCommandException e) {
                    // EBUSY until the dead server's char device is released
                    if (e.errno() != Errno.EBUSY || System.currentTimeMillis() > deadline) throw e;
                }
            } else if (System.currentTimeMillis() > deadline) {
                throw new IllegalStateException("ublk device " + devId + " is " + i.stateName()
                        + ", not QUIESCED: is its server (pid " + i.serverPid() + ") still running?");
            }
            Thread.sleep(20);
        }
        KernelDevice d = KernelDevice.attach(ctl, devId);
        DeviceParams p = toParams(ctl.getParams(devId));
        devices.put(devId, d);
        params.put(devId, p);
        return new RecoveredDevice(toInfo(d.info()), p);
    }

    /** The parts of the kernel's params the engine uses (what {@link #setParams} sent). */
    private static DeviceParams toParams(UblkParams up) {
        UblkParams.Basic b = up.basic();
        if (b == null) throw new IllegalStateException("the kernel returned no basic params");
        return new DeviceParams(b.logicalBsShift(), Math.max(b.logicalBsShift(), b.physicalBsShift()), b.devSectors(),
                b.maxSectors(), up.discard() != null, -1);
    }

    /** END_USER_RECOVERY, once every queue is open again: the device is LIVE with this process as server. */
    @Override
    public void endRecovery(int devId) { dev(devId).endRecovery(); }

    @Override
    public Optional<DeviceInfo> deviceInfo(int devId) {
        try {
            return Optional.of(toInfo(ctl.getDevInfo(devId)));
        } catch (UblkCommandException e) {
            if (e.errno() == Errno.ENODEV || e.errno() == Errno.ENOENT) return Optional.empty();
            throw e;
        }
    }

    /** The kernel's view: state, server pid and flags of a device. */
    public Optional<DevInfo> kernelInfo(int devId) {
        try {
            return Optional.of(ctl.getDevInfo(devId));
        } catch (UblkCommandException e) {
            if (e.errno() == Errno.ENODEV || e.errno() == Errno.ENOENT) return Optional.empty();
            throw e;
        }
    }

    /** Every ublk device the kernel has, this process's or not. */
    @Override
    public List<Integer> deviceIds() { return UblkControl.deviceIds(); }

    /**
     * In-process I/O on a started device through its {@code /dev/ublkbN} (O_DIRECT, io_uring),
     * opened on first use and closed by {@link #stopDevice}. Empty while the device is not live
     * or was not added by this driver.
     */
    @Override
    public synchronized Optional<BlockDevice> blockDevice(int devId) {
        KernelDevice d = devices.get(devId);
        DeviceParams p = params.get(devId);
        if (d == null || p == null || !d.started()) return Optional.empty();
        KernelBlockDevice b = blocks.get(devId);
        if (b == null) {
            b = new KernelBlockDevice(d.blockDevPath(), p.sizeBytes(), p.logicalBlockSize(), d.info().nrHwQueues(),
                    d.info().queueDepth(), d.info().maxIoBufBytes());
            blocks.put(devId, b);
        }
        return Optional.of(b);
    }

    /** The path of a device's block node. */
    public String blockDevPath(int devId) { return "/dev/ublkb" + devId; }

    private KernelDevice dev(int devId) {
        KernelDevice d = devices.get(devId);
        if (d == null) throw new IllegalArgumentException("ublk device " + devId + " was not added by this driver");
        return d;
    }

    /** Stops and deletes this driver's devices (their queues must have ended), then closes the control device. */
    @Override
    public void close() {
        RuntimeException first = null;
        for (KernelDevice d : List.copyOf(devices.values())) {
            try {
                closeBlock(d.id());
                d.close();
            } catch (RuntimeException e) {
                if (first == null) first = e; else first.addSuppressed(e);
            }
            devices.remove(d.id());
        }
        ctl.close();
        if (first != null) throw first;
    }
}
