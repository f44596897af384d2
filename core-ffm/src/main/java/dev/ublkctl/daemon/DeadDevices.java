package dev.ublkctl.daemon;

import dev.ublkctl.sys.Errno;
import dev.ublkctl.sys.SyscallException;
import dev.ublkctl.ublk.Backend;
import dev.ublkctl.ublk.kernel.UblkCommandException;
import dev.ublkctl.ublk.kernel.UblkControl;
import dev.ublkctl.ublk.uapi.DevInfo;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * What is left of a device whose daemon died. An emulated device died with its daemon: only its
 * record remains. A kernel device outlives it: the kernel keeps {@code /dev/ublkcN} (held for
 * recovery, or stopped) until someone sends DEL_DEV.
 */
public final class DeadDevices {
    private DeadDevices() {}

    /** How long {@link #remove} waits for the kernel to drop a device after DEL_DEV_ASYNC. */
    static final long DELETE_WAIT_MS = 10_000;

    /** Whether a record is of a kernel-backend device that the kernel still has (it outlives its daemon). */
    public static boolean inKernel(DeviceRecord r) {
        return r.backend() == Backend.KERNEL && UblkControl.deviceIds().contains(r.id());
    }

    /** The kernel's view of a dead daemon's device, if the kernel still has it (and we may ask). */
    public static Optional<DevInfo> kernelState(DeviceRecord r) {
        if (!inKernel(r)) return Optional.empty();
        if (!Files.exists(Path.of(UblkControl.CONTROL_PATH))) return Optional.empty();
        try (UblkControl ctl = UblkControl.open()) {
            return Optional.of(ctl.getDevInfo(r.id()));
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    /**
     * Deletes the kernel device of a dead daemon's record (if the kernel still has it and no other
     * live server owns it now) and the record itself; returns what was done, for the user.
     * @throws IllegalStateException the kernel device could not be deleted (the record is kept)
     */
    public static String remove(DeviceRecords records, DeviceRecord r) throws InterruptedException {
        try {
            return remove0(records, r);
        } catch (SyscallException e) {
            throw new IllegalStateException("cannot delete ublk device " + r.id() + ": " + e.getMessage(), e);
        }
    }

    private static String remove0(DeviceRecords records, DeviceRecord r) throws InterruptedException {
        if (DeviceRecord.LIVE.equals(r.state())) throw new IllegalArgumentException("device " + r.id() + " has a live daemon");
        String done = "removed record (daemon had died)";
        if (inKernel(r)) {
            try (UblkControl ctl = UblkControl.open()) {
                DevInfo i = ctl.getDevInfo(r.id());
                // the id may have been taken by another server (not ublkctl's) since the daemon died
                if (i.serverPid() > 0 && i.serverPid() != r.daemonPid() && ProcessHandle.of(i.serverPid()).map(ProcessHandle::isAlive).orElse(false))
                    throw new IllegalStateException("ublk device " + r.id() + " is now served by pid " + i.serverPid()
                            + ", not by the dead daemon " + r.daemonPid() + "; left alone (record kept)");
                deleteKernelDevice(ctl, r.id());
                done = "deleted (daemon had died; the kernel device was " + i.stateName() + ")";
            }
        }
        records.delete(r.id());
        return done;
    }

    /** DEL_DEV_ASYNC, then waits (bounded) for the device to go; DEL_DEV where the async form is missing. */
    private static void deleteKernelDevice(UblkControl ctl, int id) throws InterruptedException {
        try {
            ctl.delDevAsync(id);
        } catch (UblkCommandException e) {
            if (e.errno() == Errno.ENODEV) return;
            if (e.errno() != Errno.EOPNOTSUPP && e.errno() != Errno.EINVAL) throw e;
            // an older kernel: DEL_DEV waits until nothing holds the device; the dead daemon holds nothing
            ctl.delDev(id);
            return;
        }
        long deadline = System.nanoTime() + DELETE_WAIT_MS * 1_000_000;
        while (UblkControl.deviceIds().contains(id)) {
            if (System.nanoTime() > deadline)
                throw new IllegalStateException("ublk device " + id + " is being deleted, but something still holds /dev/ublkb"
                        + id + " (mounted? open?): the kernel removes it once that is closed");
            Thread.sleep(20);
        }
    }
}
