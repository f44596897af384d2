package dev.ublkctl.ublk.emulated;

import dev.ublkctl.ublk.Backend;
import dev.ublkctl.ublk.BlockDevice;
import dev.ublkctl.ublk.DeviceInfo;
import dev.ublkctl.ublk.DeviceParams;
import dev.ublkctl.ublk.UblkDriver;
import dev.ublkctl.ublk.UblkQueue;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * An in-process model of the kernel ublk driver: devices with tags, descriptor arrays and
 * request buffers per queue, a block front ({@link #blockDevice}) that checks, splits and
 * queues requests with back-pressure at the queue depth, and STOP_DEV aborting what is queued
 * or in flight with -ENODEV. Needs no kernel support beyond io_uring and eventfd.
 */
public final class EmulatedDriver implements UblkDriver {
    /** Upper bound of device ids, as the kernel's ublk minor space (kublk lists 0..254). */
    public static final int MAX_DEVICES = 1 << 20;

    enum State { ADDED, LIVE, STOPPED }

    static final class Dev {
        final DeviceInfo info;
        final EmulatedQueue[] queues;
        volatile DeviceParams params;
        volatile State state = State.ADDED;
        volatile EmulatedBlockDevice front;

        Dev(DeviceInfo info) {
            this.info = info;
            this.queues = new EmulatedQueue[info.nrQueues()];
        }
    }

    private final ConcurrentHashMap<Integer, Dev> devs = new ConcurrentHashMap<>();
    private boolean closed;
    /** Spin iterations of new queues before they sleep (tests set 0 to force the sleep/wake path). */
    volatile long queueSpinMaxNanos = EmulatedQueue.SPIN_MAX_NS;

    @Override public Backend backend() { return Backend.EMULATED; }

    private Dev dev(int id) {
        Dev d = devs.get(id);
        if (d == null) throw new IllegalArgumentException("no emulated ublk device " + id);
        return d;
    }

    @Override
    public synchronized DeviceInfo addDevice(DeviceInfo req) {
        if (closed) throw new IllegalStateException("driver closed");
        int id = req.devId();
        if (id >= 0) {
            if (devs.containsKey(id)) throw new IllegalArgumentException("device " + id + " already exists (EEXIST)");
        } else {
            id = 0;
            while (devs.containsKey(id)) id++;
        }
        if (id >= MAX_DEVICES) throw new IllegalArgumentException("device id " + id + " too large");
        DeviceInfo info = req.withDevId(id);
        devs.put(id, new Dev(info));
        return info;
    }

    @Override
    public synchronized void setParams(int devId, DeviceParams params) {
        Dev d = dev(devId);
        if (d.state != State.ADDED) throw new IllegalStateException("device " + devId + " already started (EACCES)");
        d.params = params;
    }

    @Override
    public synchronized UblkQueue openQueue(int devId, int q) {
        Dev d = dev(devId);
        if (q < 0 || q >= d.queues.length) throw new IllegalArgumentException("queue " + q + " out of range");
        if (d.state != State.ADDED) throw new IllegalStateException("device " + devId + " is " + d.state);
        if (d.queues[q] != null && !d.queues[q].closed()) throw new IllegalStateException("queue " + q + " already open");
        EmulatedQueue eq = new EmulatedQueue(q, d.info.queueDepth(), d.info.maxIoBufBytes(), queueSpinMaxNanos);
        d.queues[q] = eq;
        return eq;
    }

    @Override
    public synchronized void startDevice(int devId) {
        Dev d = dev(devId);
        if (d.state != State.ADDED) throw new IllegalStateException("device " + devId + " is " + d.state);
        if (d.params == null) throw new IllegalStateException("device " + devId + " has no parameters (SET_PARAMS first)");
        for (int q = 0; q < d.queues.length; q++)
            if (d.queues[q] == null) throw new IllegalStateException("queue " + q + " of device " + devId + " is not open");
        d.front = new EmulatedBlockDevice(d);
        d.state = State.LIVE;
    }

    @Override
    public void stopDevice(int devId) {
        Dev d;
        synchronized (this) {
            d = dev(devId);
            if (d.state == State.STOPPED) return;
            d.state = State.STOPPED;
        }
        for (EmulatedQueue q : d.queues) if (q != null) q.abort();
    }

    @Override
    public synchronized void deleteDevice(int devId) {
        Dev d = dev(devId);
        if (d.state == State.LIVE) throw new IllegalStateException("device " + devId + " is live: stop it first");
        for (EmulatedQueue q : d.queues)
            if (q != null && !q.closed()) throw new IllegalStateException("queue " + q.queueId() + " of device " + devId + " is still open");
        devs.remove(devId);
    }

    @Override
    public Optional<DeviceInfo> deviceInfo(int devId) {
        Dev d = devs.get(devId);
        return d == null ? Optional.empty() : Optional.of(d.info);
    }

    @Override
    public List<Integer> deviceIds() { return new ArrayList<>(new java.util.TreeSet<>(devs.keySet())); }

    @Override
    public Optional<BlockDevice> blockDevice(int devId) {
        Dev d = devs.get(devId);
        return d == null || d.front == null ? Optional.empty() : Optional.of(d.front);
    }

    @Override
    public synchronized void close() {
        closed = true;
        for (int id : deviceIds()) {
            Dev d = devs.get(id);
            stopDevice(id);
            for (EmulatedQueue q : d.queues) if (q != null) q.close();
            devs.remove(id);
        }
    }
}
