package dev.ublkctl.engine;

import dev.ublkctl.target.StackedTarget;
import dev.ublkctl.target.Target;
import dev.ublkctl.ublk.Backend;
import dev.ublkctl.ublk.DeviceInfo;
import dev.ublkctl.ublk.DeviceParams;
import dev.ublkctl.ublk.RecoveredDevice;
import dev.ublkctl.ublk.UblkDriver;
import dev.ublkctl.ublk.emulated.EmulatedDriver;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentSkipListMap;

/** Owns a driver and the devices created on it. */
public final class Engine implements AutoCloseable {
    private final UblkDriver driver;
    private final ConcurrentSkipListMap<Integer, Device> devices = new ConcurrentSkipListMap<>();
    private volatile boolean closed;

    private Engine(UblkDriver driver) { this.driver = driver; }

    /** An engine on a fresh {@link EmulatedDriver}. */
    public static Engine emulated() { return new Engine(new EmulatedDriver()); }

    /** An engine on the given driver (the engine closes it). */
    public static Engine on(UblkDriver driver) { return new Engine(driver); }

    public Backend backend() { return driver.backend(); }

    public UblkDriver driver() { return driver; }

    /** ADD_DEV + SET_PARAMS: the device exists, not started. */
    public Device create(DeviceConfig cfg) {
        if (closed) throw new IllegalStateException("engine closed");
        Target target = Target.open(cfg.target(), this::lowerBlock);
        try {
            long size = cfg.size() == 0 ? target.size() / cfg.logicalBlockSize() * cfg.logicalBlockSize() : cfg.size();
            if (size > target.size())
                throw new IllegalArgumentException("size " + size + " exceeds the " + target.type() + " target's " + target.size() + " bytes");
            if (size == 0) throw new IllegalArgumentException("the " + target.type() + " target is smaller than one block");
            long flags = cfg.recovery() ? driver.recoveryFlags() : 0;
            DeviceInfo info = driver.addDevice(new DeviceInfo(cfg.id(), cfg.queues(), cfg.depth(), cfg.maxIoBytes(), flags));
            try {
                int lbShift = Integer.numberOfTrailingZeros(cfg.logicalBlockSize());
                DeviceParams params = new DeviceParams(lbShift, Math.max(lbShift, 12), size >>> 9,
                        info.maxIoBufBytes() >>> 9, target.supportsDiscard(), -1);
                driver.setParams(info.devId(), params);
                Device d = new Device(this, driver, info, params, cfg, target);
                devices.put(info.devId(), d);
                return d;
            } catch (RuntimeException e) {
                driver.deleteDevice(info.devId());
                throw e;
            }
        } catch (RuntimeException e) {
            target.close();
            throw e;
        }
    }

    /** {@link #create} and {@link Device#start}. */
    public Device add(DeviceConfig cfg) {
        Device d = create(cfg);
        try {
            d.start();
        } catch (RuntimeException e) {
            d.delete();
            throw e;
        }
        return d;
    }

    /**
     * Takes over device {@code devId}, whose server died, and serves it with {@code cfg}'s target
     * (the same target it had: the driver keeps the device's size and queues, not what backs it).
     * The device comes back not yet live: attach its program, then {@link Device#startRecovered}.
     * Waits up to {@code waitMillis} for the driver to notice that the old server is gone.
     */
    public Device recover(int devId, DeviceConfig cfg, long waitMillis) throws InterruptedException {
        if (closed) throw new IllegalStateException("engine closed");
        if (devices.containsKey(devId)) throw new IllegalStateException("device " + devId + " is served by this engine");
        if (driver.recoveryFlags() == 0) throw new UnsupportedOperationException("the " + driver.backend() + " backend cannot recover devices");
        Target target = Target.open(cfg.target());
        try {
            RecoveredDevice r = driver.beginRecovery(devId, waitMillis);
            if (r.params().sizeBytes() > target.size())
                throw new IllegalArgumentException("device " + devId + " has " + r.params().sizeBytes() + " bytes but its "
                        + target.type() + " target only " + target.size() + ": not the target it was created with?");
            Device d = new Device(this, driver, r.info(), r.params(), cfg.withId(devId)
                    .withQueues(r.info().nrQueues()).withDepth(r.info().queueDepth())
                    .withLogicalBlockSize(r.params().logicalBlockSize()).withSize(r.params().sizeBytes()), target);
            devices.put(devId, d);
            return d;
        } catch (RuntimeException | InterruptedException e) {
            target.close();
            throw e;
        }
    }

    /** A live device's block side for a device stacked on it ({@code ublk:N}), or null. */
    private dev.ublkctl.ublk.BlockDevice lowerBlock(int id) {
        Device d = devices.get(id);
        if (d == null || d.state() != DeviceState.LIVE) return null;
        return d.block();
    }

    /** Devices (not deleted) whose target is stacked on {@code d}. */
    List<Device> upperOf(Device d) {
        List<Device> l = new ArrayList<>();
        for (Device u : devices.values())
            if (u != d && u.target instanceof StackedTarget st && st.lowerDevices().contains(d.id())
                    && u.state() != DeviceState.DELETED) l.add(u);
        return l;
    }

    public Optional<Device> device(int id) { return Optional.ofNullable(devices.get(id)); }

    /** Devices by id. */
    public List<Device> devices() { return new ArrayList<>(devices.values()); }

    void forget(Device d) { devices.remove(d.id(), d); }

    /** Stops and deletes every device, then closes the driver. */
    @Override
    public void close() {
        closed = true;
        RuntimeException first = null;
        // upper devices before the devices they are stacked on
        List<Device> left = devices();
        while (!left.isEmpty()) {
            List<Device> next = new ArrayList<>();
            for (Device d : left) {
                if (!upperOf(d).isEmpty()) {
                    next.add(d);
                    continue;
                }
                try {
                    d.delete();
                } catch (RuntimeException e) {
                    if (first == null) first = e;
                }
            }
            if (next.size() == left.size()) break; // cannot happen (stacking has no cycles); do not spin
            left = next;
        }
        driver.close();
        if (first != null) throw first;
    }
}
