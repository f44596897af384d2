package dev.ublkctl.ublk.kernel;

import dev.ublkctl.engine.OpsRef;
import dev.ublkctl.bpf.object.BpfObject;
import dev.ublkctl.sys.Errno;
import dev.ublkctl.sys.Libc;
import dev.ublkctl.engine.load.Bench;
import dev.ublkctl.engine.load.BenchResult;
import dev.ublkctl.engine.load.BenchSpec;
import dev.ublkctl.engine.Device;
import dev.ublkctl.engine.load.Pattern;
import dev.ublkctl.engine.UblkProgram;
import dev.ublkctl.engine.load.Verifier;
import dev.ublkctl.engine.load.VerifyResult;
import dev.ublkctl.engine.load.VerifySpec;
import dev.ublkctl.engine.DeviceConfig;
import dev.ublkctl.engine.stats.DeviceStats;
import dev.ublkctl.engine.Engine;
import dev.ublkctl.engine.stats.QueueStats;
import dev.ublkctl.target.TargetConfig;
import dev.ublkctl.ublk.DeviceInfo;
import dev.ublkctl.ublk.DeviceParams;
import dev.ublkctl.ublk.IoOp;
import dev.ublkctl.ublk.uapi.DevInfo;
import dev.ublkctl.ublk.uapi.UblkFeature;
import dev.ublkctl.ublk.uapi.UblkParams;
import dev.ublkctl.ublk.uapi.UblkUapi;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * The kernel-backend tests, run in ONE JVM inside the QEMU guest by {@code scripts/ublk-vm-test}
 * (the real ublk driver is needed; the host has none). A plain main, not JUnit: each JVM start
 * in the TCG guest costs seconds. Prints one {@code ### name: ok|FAILED} line per case and
 * {@code N passed, M failed}; exits 0 only if every case passed, 77 if there is no ublk here.
 */
public final class GuestSuite {
    private static final long CASE_TIMEOUT_S = 360;   // the command-line case starts several JVMs under TCG

    private record Case(String name, Body body) {}

    @FunctionalInterface
    private interface Body { void run(UblkControl ctl) throws Exception; }

    public static void main(String[] args) throws Exception {
        if (args.length == 3 && args[0].equals("--daemon")) {
            daemon(Path.of(args[1]), Path.of(args[2]));
            return;
        }
        KernelSupport.Report r = KernelSupport.probe();
        System.out.println("kernel " + r.kernelRelease() + ": control " + r.control().reason() + "; " + r.features().reason()
                + " " + r.featureNames() + "; rfc: " + r.rfc().reason());
        if (!r.kernelBackend()) {
            System.out.println("SKIP: no usable ublk here: " + r.control().reason());
            System.exit(77);
        }
        List<Case> cases = List.of(
                new Case("features and detection", GuestSuite::features),
                new Case("control commands round trip", GuestSuite::controlRoundTrip),
                new Case("bad parameters are rejected with command and errno", GuestSuite::badParameters),
                new Case("null device: O_DIRECT write/read, counters agree", GuestSuite::nullDevice),
                new Case("ram device, 2 queues: O_DIRECT write, read back, verify", c -> ramDevice(c, 0)),
                new Case("ram device with NEED_GET_DATA: verify", c -> ramDevice(c, UblkFeature.NEED_GET_DATA.mask())),
                new Case("ram device with USER_COPY (pread/pwrite on the char device): verify", c -> ramDevice(c, UblkFeature.USER_COPY.mask())),
                new Case("engine on the kernel driver: null, loop, stripe; O_DIRECT verify, stats agree", GuestSuite::engineTargets),
                new Case("engine + BPF programs on the kernel driver: null, loop, stripe, each BPF only and mixed (BPF + server); kublk_loop, kublk_stripe", GuestSuite::engineBpf),
                new Case("engine verify and bench through the in-process block device (/dev/ublkbN)", GuestSuite::engineVerifyBench),
                new Case("engine loop device, 2 queues served by 1 thread (--nthreads): verify, both queues' rings on one eventfd", GuestSuite::engineSharedThread),
                new Case("engine loop device with the loop BPF program: mkfs.ext4, mount, write, umount, fsck -n, mount, read back", GuestSuite::engineExt4),
                new Case("engine qcow2 device with the qcow2 BPF program: mkfs.ext4, mount, write, umount, fsck -n, mount, read back; qemu-img check", GuestSuite::engineQcow2Ext4),
                new Case("server killed with I/O in flight: recovered, acknowledged writes kept", GuestSuite::recovery),
                new Case("ublkctl on the kernel backend: add --bpf loop, bench, daemon killed, list, recover, killed again, del", GuestSuite::cliKernel),
                new Case("loop device: mkfs.ext4, mount, write, umount, fsck -n, mount, read back", GuestSuite::loopExt4),
                new Case("NBD export of an emulated loop device with its program, through the kernel's nbd-client: mkfs.ext4, mount, write, fsck, read back", GuestSuite::nbdKernelClient));
        List<String> only = new ArrayList<>();
        Path reportDir = null;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--report") && i + 1 < args.length) reportDir = Path.of(args[++i]);
            else only.add(args[i]);
        }
        List<Result> results = new ArrayList<>();
        int pass = 0, fail = 0;
        try (UblkControl ctl = UblkControl.open()) {
            for (Case c : cases) {
                if (!only.isEmpty() && only.stream().noneMatch(c.name()::contains)) continue;
                long t0 = System.nanoTime();
                Throwable err = runWithTimeout(c, ctl);
                long ms = (System.nanoTime() - t0) / 1_000_000;
                results.add(new Result(c.name(), ms, err));
                if (err == null) {
                    pass++;
                    System.out.println("### " + c.name() + ": ok (" + ms + " ms)");
                } else {
                    fail++;
                    System.out.println("### " + c.name() + ": FAILED (" + ms + " ms): " + err);
                    err.printStackTrace(System.out);
                }
            }
        }
        System.out.println(pass + " passed, " + fail + " failed");
        if (reportDir != null) writeReport(reportDir, results);
        System.exit(fail == 0 ? 0 : 1);
    }

    private record Result(String name, long millis, Throwable error) {}

    /** A surefire-style XML report, so the project's test summary counts the guest cases. */
    private static void writeReport(Path dir, List<Result> results) throws IOException {
        Files.createDirectories(dir);
        long failures = results.stream().filter(r -> r.error() != null).count();
        double total = results.stream().mapToLong(Result::millis).sum() / 1000.0;
        StringBuilder x = new StringBuilder("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        x.append(String.format(java.util.Locale.ROOT,
                "<testsuite name=\"%s\" tests=\"%d\" failures=\"%d\" errors=\"0\" skipped=\"0\" time=\"%.3f\">%n",
                GuestSuite.class.getName(), results.size(), failures, total));
        for (Result r : results) {
            x.append(String.format(java.util.Locale.ROOT, "  <testcase classname=\"%s\" name=\"%s\" time=\"%.3f\"",
                    GuestSuite.class.getName(), xml(r.name()), r.millis() / 1000.0));
            if (r.error() == null) {
                x.append("/>\n");
            } else {
                java.io.StringWriter sw = new java.io.StringWriter();
                r.error().printStackTrace(new java.io.PrintWriter(sw));
                x.append(">\n    <failure message=\"").append(xml(String.valueOf(r.error().getMessage())))
                        .append("\">").append(xml(sw.toString())).append("</failure>\n  </testcase>\n");
            }
        }
        x.append("</testsuite>\n");
        Files.writeString(dir.resolve("TEST-" + GuestSuite.class.getName() + ".xml"), x);
    }

    private static String xml(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    /** Runs a case on its own thread; a case that hangs (a kernel wait) ends the JVM with a thread dump. */
    private static Throwable runWithTimeout(Case c, UblkControl ctl) throws InterruptedException {
        Throwable[] err = new Throwable[1];
        Thread t = Thread.ofPlatform().name("case").start(() -> {
            try {
                c.body().run(ctl);
            } catch (Throwable e) {
                err[0] = e;
            }
        });
        t.join(TimeUnit.SECONDS.toMillis(CASE_TIMEOUT_S));
        if (t.isAlive()) {
            System.out.println("### " + c.name() + ": FAILED: still running after " + CASE_TIMEOUT_S + " s; threads:");
            for (Map.Entry<Thread, StackTraceElement[]> e : Thread.getAllStackTraces().entrySet()) {
                System.out.println("  " + e.getKey().getName());
                for (StackTraceElement s : e.getValue()) System.out.println("    at " + s);
            }
            System.out.flush();
            Runtime.getRuntime().halt(3);
        }
        return err[0];
    }

    // ------------------------------------------------------------------ cases

    static void features(UblkControl ctl) {
        check(ctl.featuresKnown(), "GET_FEATURES answered");
        check(ctl.has(UblkFeature.CMD_IOCTL_ENCODE), "6.4+ kernels report CMD_IOCTL_ENCODE");
        check(ctl.ioctlEncode(), "commands go out ioctl-encoded");
        KernelSupport.Report r = KernelSupport.probe();
        check(r.kernelBackend(), "kernel backend available: " + r.control().reason());
        check(r.module().ok(), "module: " + r.module().reason());
        check(r.featureMask() == ctl.features(), "probe and control agree on the mask");
        check(r.featureNames().contains("USER_RECOVERY"), "names decoded: " + r.featureNames());
        // Debian's 6.12 is mainline: the RFC type must not be there
        check(!r.rfc().ok(), "rfc: " + r.rfc().reason());
        System.out.println("  features 0x" + Long.toHexString(ctl.features()) + " = " + UblkFeature.names(ctl.features()));
        System.out.println("  rfc: " + r.rfc().reason());
    }

    static void controlRoundTrip(UblkControl ctl) throws InterruptedException {
        DevInfo info = ctl.addDev(DevInfo.request(-1, 1, 16, 64 << 10, 0));
        try {
            check(info.devId() >= 0, "kernel picked an id: " + info);
            check(info.queueDepth() == 16 && info.nrHwQueues() == 1, "negotiated " + info);
            check(info.state() == UblkUapi.S_DEV_DEAD, "a new device is DEAD, not " + info.stateName());
            DevInfo again = ctl.getDevInfo(info.devId());
            check(again.devId() == info.devId() && again.queueDepth() == 16, "GET_DEV_INFO " + again);
            DevInfo two = ctl.getDevInfo2(info.devId());
            check(two.equals(again), "GET_DEV_INFO2 " + two + " equals GET_DEV_INFO " + again);
            UblkParams p = UblkParams.basic(UblkParams.Basic.of(8192, 12, 128))
                    .withDiscard(new UblkParams.Discard(0, 4096, 8192, 8192, 1));
            ctl.setParams(info.devId(), p);
            UblkParams got = ctl.getParams(info.devId());
            check(got.basic().devSectors() == 8192 && got.basic().logicalBsShift() == 12, "GET_PARAMS basic " + got.basic());
            check(got.discard() != null && got.discard().maxDiscardSectors() == 8192, "GET_PARAMS discard " + got.discard());
            check(Files.exists(Path.of(info.charDevPath())), info.charDevPath() + " exists");
        } finally {
            ctl.delDev(info.devId());
        }
        expectErrno(() -> ctl.getDevInfo(info.devId()), "UBLK_U_CMD_GET_DEV_INFO", Errno.ENODEV);
        // DEL_DEV_ASYNC (6.9+): returns without waiting for the last reference
        DevInfo other = ctl.addDev(DevInfo.request(-1, 1, 4, 64 << 10, 0));
        ctl.delDevAsync(other.devId());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            try {
                ctl.getDevInfo(other.devId());
            } catch (UblkCommandException e) {
                check(e.errno() == Errno.ENODEV, "after DEL_DEV_ASYNC: " + e.getMessage());
                break;
            }
            check(System.nanoTime() < deadline, "device " + other.devId() + " still there 10 s after DEL_DEV_ASYNC");
            Thread.sleep(10);
        }
    }

    static void badParameters(UblkControl ctl) {
        expectErrno(() -> ctl.addDev(DevInfo.request(-1, 1, UblkUapi.MAX_QUEUE_DEPTH + 1, 64 << 10, 0)),
                "UBLK_U_CMD_ADD_DEV", Errno.EINVAL);
        expectErrno(() -> ctl.delDev(999_999), "UBLK_U_CMD_DEL_DEV", Errno.ENODEV);
        expectErrno(() -> ctl.stopDev(999_999), "UBLK_U_CMD_STOP_DEV", Errno.ENODEV);
        DevInfo info = ctl.addDev(DevInfo.request(-1, 1, 8, 64 << 10, 0));
        try {
            // logical block larger than a page
            expectErrno(() -> ctl.setParams(info.devId(), UblkParams.basic(UblkParams.Basic.of(8192, 13, 128))),
                    "UBLK_U_CMD_SET_PARAMS", Errno.EINVAL);
            // a server pid of 0 is refused before START_DEV waits for anything
            expectErrno(() -> ctl.startDev(info.devId(), 0), "UBLK_U_CMD_START_DEV", Errno.EINVAL);
            // recovery of a device that was not added with USER_RECOVERY
            expectErrno(() -> ctl.startUserRecovery(info.devId()), "UBLK_U_CMD_START_USER_RECOVERY", Errno.EINVAL);
            // ADD_DEV with an id that exists
            expectErrno(() -> ctl.addDev(DevInfo.request(info.devId(), 1, 8, 64 << 10, 0)),
                    "UBLK_U_CMD_ADD_DEV", Errno.EEXIST);
        } finally {
            ctl.delDev(info.devId());
        }
    }

    static void nullDevice(UblkControl ctl) throws Exception {
        long size = 32L << 20;
        try (KernelDriver drv = KernelDriver.open()) {
            DeviceInfo info = drv.addDevice(new DeviceInfo(-1, 1, 32, 256 << 10, 0));
            drv.setParams(info.devId(), new DeviceParams(9, 9, size >> 9, 512, false, -1));
            GuestServer srv = new GuestServer(drv, info.devId(), info.nrQueues(), new GuestServer.NullTarget());
            try {
                srv.start();
                DevInfo live = ctl.getDevInfo(info.devId());
                check(live.state() == UblkUapi.S_DEV_LIVE, "LIVE after START_DEV, got " + live.stateName());
                check(live.serverPid() == Libc.getpid(), "server pid recorded: " + live.serverPid());
                long w0 = srv.writeBytes.get(), r0 = srv.readBytes.get();
                int chunk = 64 << 10, n = 64;
                try (Arena a = Arena.ofConfined()) {
                    MemorySegment buf = a.allocate(chunk, 4096);
                    fill(buf, 7);
                    int fd = openBlock(drv.blockDevPath(info.devId()));
                    try {
                        for (int i = 0; i < n; i++) check(Libc.pwrite(fd, buf, chunk, (long) i * chunk) == chunk, "full write");
                        long written = srv.writeBytes.get() - w0;
                        check(written == (long) n * chunk, "server saw " + written + " bytes written, client wrote " + (long) n * chunk);
                        for (int i = 0; i < n; i++) {
                            check(Libc.pread(fd, buf, chunk, (long) i * chunk) == chunk, "full read");
                            check(isZero(buf), "null reads zeros");
                        }
                        long read = srv.readBytes.get() - r0;
                        check(read == (long) n * chunk, "server saw " + read + " bytes read, client read " + (long) n * chunk);
                    } finally {
                        Libc.close(fd);
                    }
                }
                check(srv.errors.get() == 0, "no I/O errors");
            } finally {
                srv.close();
            }
            check(srv.failure() == null, "queue threads ended cleanly: " + srv.failure());
            check(srv.queueErrors().isEmpty(), "no command errors: " + srv.queueErrors());
            drv.deleteDevice(info.devId());
            check(drv.deviceInfo(info.devId()).isEmpty(), "device gone after deleteDevice");
        }
    }

    static void ramDevice(UblkControl ctl, long flags) throws Exception {
        long size = 16L << 20;
        try (KernelDriver drv = KernelDriver.open()) {
            DeviceInfo info = drv.addDevice(new DeviceInfo(-1, 2, 16, 128 << 10, flags));
            if (flags != 0)
                check((info.flags() & flags) == flags, "kernel kept " + UblkFeature.names(flags) + ": " + UblkFeature.names(info.flags()));
            check(info.nrQueues() == 2, "2 queues on a 2-CPU guest: " + info);
            drv.setParams(info.devId(), new DeviceParams(9, 9, size >> 9, 256, false, -1));
            GuestServer srv = new GuestServer(drv, info.devId(), info.nrQueues(), new GuestServer.RamTarget(size));
            try {
                srv.start();
                Random rnd = new Random(42);
                try (Arena a = Arena.ofConfined()) {
                    MemorySegment all = a.allocate(size, 4096);
                    byte[] pattern = new byte[(int) size];
                    rnd.nextBytes(pattern);
                    MemorySegment.copy(pattern, 0, all, ValueLayout.JAVA_BYTE, 0, pattern.length);
                    int fd = openBlock(drv.blockDevPath(info.devId()));
                    try {
                        // sizes from one sector to 1 MiB (split by the kernel into 128 KiB requests)
                        long off = 0;
                        while (off < size) {
                            int len = (int) Math.min(size - off, 512L << rnd.nextInt(12));
                            check(Libc.pwrite(fd, all.asSlice(off, len), len, off) == len, "write at " + off);
                            off += len;
                        }
                        Libc.fsync(fd);
                        MemorySegment back = a.allocate(size, 4096);
                        off = 0;
                        while (off < size) {
                            int len = (int) Math.min(size - off, 4096L << rnd.nextInt(8));
                            check(Libc.pread(fd, back.asSlice(off, len), len, off) == len, "read at " + off);
                            off += len;
                        }
                        long mismatch = all.mismatch(back);
                        check(mismatch == -1, "data read back differs at byte " + mismatch);
                    } finally {
                        Libc.close(fd);
                    }
                }
                check(srv.errors.get() == 0, "no I/O errors");
                check(srv.writeBytes.get() == size, "server wrote " + srv.writeBytes.get() + " bytes for " + size);
            } finally {
                srv.close();
            }
            check(srv.failure() == null, "queue threads ended cleanly: " + srv.failure());
            check(srv.queueErrors().isEmpty(), "no command errors: " + srv.queueErrors());
            drv.deleteDevice(info.devId());
        }
    }

    static void loopExt4(UblkControl ctl) throws Exception {
        long size = 64L << 20;
        Path backing = Files.createTempFile("ublk-loop", ".img");
        Path mnt = Files.createTempDirectory("ublk-mnt");
        // KernelDriver declares a volatile cache, so the kernel sends FLUSH (fsync of the backing file)
        try (KernelDriver drv = KernelDriver.open()) {
            DeviceInfo info = drv.addDevice(new DeviceInfo(-1, 1, 32, 512 << 10, 0));
            drv.setParams(info.devId(), new DeviceParams(9, 12, size >> 9, 1024, true, -1));
            GuestServer srv = new GuestServer(drv, info.devId(), info.nrQueues(),
                    new GuestServer.LoopTarget(backing.toString(), size));
            try {
                srv.start();
                String bdev = drv.blockDevPath(info.devId());
                ext4RoundTrip(bdev, mnt);
                check(srv.errors.get() == 0, "no I/O errors");
                check(srv.flushes.get() > 0, "ext4 sent flushes");
                System.out.println("  loop: " + srv.reads.get() + " reads, " + srv.writes.get() + " writes, "
                        + srv.flushes.get() + " flushes, " + srv.discards.get() + " discards");
            } finally {
                srv.close();
            }
            check(srv.failure() == null, "queue threads ended cleanly: " + srv.failure());
            drv.deleteDevice(info.devId());
        } finally {
            Files.deleteIfExists(backing);
            Files.deleteIfExists(mnt);
        }
    }

    /**
     * The engine's dispatcher and targets serving real /dev/ublkbN devices (server only: the
     * BPF program attach is not public in the engine yet).
     */
    static void engineTargets(UblkControl ctl) throws Exception {
        long size = 16L << 20;
        Path loopFile = sizedFile("ublk-engine-loop", size);
        Path s0 = sizedFile("ublk-engine-s0", size / 2), s1 = sizedFile("ublk-engine-s1", size / 2);
        try (Engine engine = Engine.on(KernelDriver.open())) {
            check(engine.backend() == dev.ublkctl.ublk.Backend.KERNEL, "backend " + engine.backend());
            for (TargetConfig tc : List.of(new TargetConfig.Null(size), new TargetConfig.Loop(loopFile),
                    new TargetConfig.Stripe(List.of(s0, s1), 64 << 10))) {
                Device d = engine.add(DeviceConfig.of(tc).withQueues(2).withDepth(32).withMaxIoBytes(256 << 10));
                try {
                    check(d.size() == size, tc.type() + ": size " + d.size());
                    DeviceStats before = d.stats();
                    int chunk = 64 << 10, n = 64;
                    try (Arena a = Arena.ofConfined()) {
                        MemorySegment data = a.allocate((long) chunk * n, 4096);
                        fill(data, tc.type().toString().length());
                        MemorySegment back = a.allocate((long) chunk * n, 4096);
                        int fd = openBlock("/dev/ublkb" + d.id());
                        try {
                            for (int i = 0; i < n; i++)
                                check(Libc.pwrite(fd, data.asSlice((long) i * chunk, chunk), chunk, (long) i * chunk * 3) == chunk, "write");
                            for (int i = 0; i < n; i++)
                                check(Libc.pread(fd, back.asSlice((long) i * chunk, chunk), chunk, (long) i * chunk * 3) == chunk, "read");
                        } finally {
                            Libc.close(fd);
                        }
                        if (!(tc instanceof TargetConfig.Null))
                            check(back.mismatch(data) == -1, tc.type() + ": data read back differs at " + back.mismatch(data));
                    }
                    QueueStats t = d.stats().minus(before).total();
                    long bytes = (long) chunk * n;
                    check(t.op(IoOp.WRITE).bytes() == bytes, tc.type() + ": engine counted " + t.op(IoOp.WRITE).bytes() + " bytes written of " + bytes);
                    check(t.op(IoOp.READ).bytes() == bytes, tc.type() + ": engine counted " + t.op(IoOp.READ).bytes() + " bytes read of " + bytes);
                    check(t.errorCount() == 0, tc.type() + ": errors " + t.errors());
                    check(d.failure().isEmpty(), tc.type() + ": device failure " + d.failure());
                    System.out.println("  " + tc.type() + ": " + t.ios() + " I/Os, p50 " + t.latency().p50() / 1000 + " us");
                } finally {
                    d.delete();
                }
                check(!Files.exists(Path.of("/dev/ublkc" + d.id())), "device " + d.id() + " gone after delete");
            }
        } finally {
            Files.deleteIfExists(loopFile);
            Files.deleteIfExists(s0);
            Files.deleteIfExists(s1);
        }
    }

    /** Where scripts/ublk-vm-tests built the bundled BPF objects. */
    static Path bpfObject(String name) {
        Path p = Path.of(System.getProperty("ublkctl.bpf.dir", "bpf-objects/target/classes/bpf"), name + ".o");
        check(Files.isRegularFile(p), "BPF object " + p.toAbsolutePath() + " not built (mvn -pl bpf-objects generate-resources)");
        return p;
    }

    private record BpfCase(String label, TargetConfig target, String object, int opsId, boolean mixed, boolean data) {}

    /**
     * The same compiled BPF objects the emulated backend runs, now in front of real /dev/ublkbN
     * devices (the {@code kernel} backend: the program runs in the server's eBPF VM).
     */
    static void engineBpf(UblkControl ctl) throws Exception {
        long size = 16L << 20;
        Path loopFile = sizedFile("ublk-bpf-loop", size);
        Path s0 = sizedFile("ublk-bpf-s0", size / 2), s1 = sizedFile("ublk-bpf-s1", size / 2);
        List<BpfCase> cases = List.of(
                new BpfCase("null, BPF only", new TargetConfig.Null(size), "null", 0, false, false),
                new BpfCase("null, mixed (even tags to the server)", new TargetConfig.Null(size), "null", 2, true, false),
                new BpfCase("loop, BPF aio", new TargetConfig.Loop(loopFile), "loop", 16, false, true),
                new BpfCase("loop, mixed (writes to the server, the rest via BPF aio)", new TargetConfig.Loop(loopFile), "loop", 16, true, true),
                new BpfCase("stripe, BPF aio", new TargetConfig.Stripe(List.of(s0, s1), 64 << 10), "stripe", 32, false, true),
                new BpfCase("stripe, mixed (writes to the server, the rest via BPF aio)", new TargetConfig.Stripe(List.of(s0, s1), 64 << 10), "stripe", 32, true, true),
                // the RFC selftests' conventions: kublk's fd_map / stripe_map filled by the engine, kublk's stripe layout
                new BpfCase("kublk_loop, BPF aio on fd_map's descriptor", new TargetConfig.Loop(loopFile), "kublk/kublk_loop", 16, false, true),
                new BpfCase("kublk_stripe, mixed (writes to the server on kublk's layout, reads via BPF aio)",
                        new TargetConfig.Stripe(List.of(s0, s1), 4096), "kublk/kublk_stripe", 32, true, true));
        try (Engine engine = Engine.on(KernelDriver.open())) {
            for (BpfCase c : cases) {
                UblkProgram prog = UblkProgram.load(BpfObject.load(bpfObject(c.object())), OpsRef.id(c.opsId()));
                if (c.mixed() && c.object().equals("null")) // null_cfg {split_bytes, redirect_ops, redirect_modulo, pad}: tags % 2 == 0 go to the server
                    prog.map("null_cfg").orElseThrow().update(le32(0), le32(0, 0, 2, 0), dev.ublkctl.bpf.maps.VmMap.BPF_ANY);
                else if (c.mixed() && c.object().startsWith("kublk/")) // kublk_stripe's mix: a u32 of op bits
                    prog.map("mix").orElseThrow().update(le32(0), le32(1 << 1), dev.ublkctl.bpf.maps.VmMap.BPF_ANY);
                else if (c.mixed()) // mix {redirect_ops, pad}: WRITE (op 1) to the server's Java target
                    prog.map("mix").orElseThrow().update(le32(0), le32(1 << 1, 0), dev.ublkctl.bpf.maps.VmMap.BPF_ANY);
                Device d = engine.create(DeviceConfig.of(c.target()).withQueues(2).withDepth(32).withMaxIoBytes(256 << 10));
                try {
                    d.attach(prog);
                    d.start();
                    DeviceStats before = d.stats();
                    int chunk = 64 << 10, n = 32;
                    try (Arena a = Arena.ofConfined()) {
                        MemorySegment data = a.allocate((long) chunk * n, 4096);
                        fill(data, c.opsId() + 3);
                        MemorySegment back = a.allocate((long) chunk * n, 4096);
                        int fd = openBlock("/dev/ublkb" + d.id());
                        try {
                            for (int i = 0; i < n; i++)
                                check(Libc.pwrite(fd, data.asSlice((long) i * chunk, chunk), chunk, (long) i * chunk * 5) == chunk, "write");
                            // a kernel FLUSH carries start_sector (u64)-1: the program must still fsync
                            Libc.fsync(fd);
                            for (int i = 0; i < n; i++)
                                check(Libc.pread(fd, back.asSlice((long) i * chunk, chunk), chunk, (long) i * chunk * 5) == chunk, "read");
                        } finally {
                            Libc.close(fd);
                        }
                        if (c.data()) check(back.mismatch(data) == -1, c.label() + ": data read back differs at " + back.mismatch(data));
                    }
                    QueueStats t = d.stats().minus(before).total();
                    long bytes = (long) chunk * n;
                    check(t.op(IoOp.WRITE).bytes() == bytes && t.op(IoOp.READ).bytes() == bytes,
                            c.label() + ": engine counted " + t.op(IoOp.WRITE).bytes() + "/" + t.op(IoOp.READ).bytes() + " bytes written/read of " + bytes);
                    check(t.errorCount() == 0, c.label() + ": errors " + t.errors());
                    check(t.progRuns() > 0, c.label() + ": the program ran");
                    if (c.mixed()) {
                        check(t.redirected() > 0 && t.bpfHandled() > 0, c.label() + ": both paths used: " + t.bpfHandled() + " in BPF, " + t.redirected() + " redirected");
                    } else {
                        check(t.redirected() == 0 && t.bpfHandled() == t.ios(), c.label() + ": all in BPF: " + t.bpfHandled() + " of " + t.ios());
                    }
                    if (c.data()) check(t.aioSubmitted() > 0 && t.aioSubmitted() == t.aioCompleted(),
                            c.label() + ": bpf aio " + t.aioSubmitted() + " submitted, " + t.aioCompleted() + " completed");
                    System.out.printf("  %s: %d I/Os, %d in BPF, %d redirected, %d aio%n", c.label(), t.ios(), t.bpfHandled(), t.redirected(), t.aioSubmitted());
                } finally {
                    d.delete();
                }
            }
        } finally {
            Files.deleteIfExists(loopFile);
            Files.deleteIfExists(s0);
            Files.deleteIfExists(s1);
        }
    }

    private static byte[] le32(int... v) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(4 * v.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (int x : v) b.putInt(x);
        return b.array();
    }

    /** Two queues on one serving thread (QueueGroup) in front of the real driver: verify, then stop and delete. */
    static void engineSharedThread(UblkControl ctl) throws Exception {
        Path backing = sizedFile("ublk-shared", 8L << 20);
        try (Engine engine = Engine.on(KernelDriver.open())) {
            Device d = engine.add(DeviceConfig.of(new TargetConfig.Loop(backing)).withQueues(2).withDepth(16).withThreads(1));
            try {
                check(d.nrQueues() == 2 && d.nrThreads() == 1, "2 queues on 1 thread: " + d.nrQueues() + " / " + d.nrThreads());
                VerifyResult v = Verifier.run(d, new VerifySpec(0, 0, 4096, 16, 11, false), null);
                check(v.ok(), "verify on a shared thread: " + v.firstMismatch());
                // the kernel picks the queue by CPU: write from a thread per CPU so both queues see I/O
                int fd = openBlock("/dev/ublkb" + d.id());
                try {
                    List<Thread> ts = new ArrayList<>();
                    for (int c = 0; c < 2; c++) {
                        int part = c;
                        ts.add(Thread.ofPlatform().start(() -> {
                            try (Arena a = Arena.ofConfined()) {
                                MemorySegment buf = a.allocate(4096, 4096);
                                fill(buf, part);
                                for (int i = 0; i < 200; i++) Libc.pwrite(fd, buf, 4096, (part * 200L + i) * 4096);
                            }
                        }));
                    }
                    for (Thread t : ts) t.join(60_000);
                } finally {
                    Libc.close(fd);
                }
                DeviceStats s = d.stats();
                check(s.total().errorCount() == 0, "no errors: " + s.total().errors());
                System.out.println("  per-queue I/Os on one thread: " + s.queues().stream().map(q -> q.queue() + ":" + q.ios()).toList());
            } finally {
                d.delete();
            }
        } finally {
            Files.deleteIfExists(backing);
        }
    }

    /** The engine's verifier and bench on a stripe device, through KernelDriver.blockDevice (O_DIRECT io_uring). */
    static void engineVerifyBench(UblkControl ctl) throws Exception {
        long size = 8L << 20;
        Path s0 = sizedFile("ublk-vb-s0", size / 2), s1 = sizedFile("ublk-vb-s1", size / 2);
        try (Engine engine = Engine.on(KernelDriver.open())) {
            Device d = engine.add(DeviceConfig.of(new TargetConfig.Stripe(List.of(s0, s1), 16 << 10))
                    .withQueues(2).withDepth(32).withMaxIoBytes(128 << 10));
            try {
                VerifyResult v = Verifier.run(d, new VerifySpec(0, size, 16 << 10, 16, 7), p -> {});
                check(v.ok(), "verify: " + v.firstMismatch());
                check(v.bytes() >= size, "verified " + v.bytes() + " bytes, device has " + size);
                DeviceStats before = d.stats();
                BenchResult b = Bench.run(d, BenchSpec.of(Pattern.RANDREAD).withBlockSize(4096).withIoDepth(16)
                        .withIoCount(1000).withRuntime(java.time.Duration.ofSeconds(60)), p -> {});
                check(b.errors() == 0 && b.readIos() == 1000, "bench: " + b);
                // the block layer may merge adjacent reads: compare bytes, not requests
                long served = d.stats().minus(before).total().op(IoOp.READ).bytes();
                check(served == 1000L * 4096, "the server read " + served + " bytes for 1000 × 4 KiB submitted");
                System.out.printf("  verify %d blocks in %d ms; randread 4k qd16: %.0f IOPS in the guest%n",
                        v.blocks(), v.elapsed().toMillis(), b.iops());
                // I/O after stop is refused, not hung
                var blk = d.block();
                d.stop();
                try (Arena a = Arena.ofConfined()) {
                    MemorySegment buf = a.allocate(4096, 4096);
                    var f = blk.read(0, buf);
                    try {
                        f.get(30, TimeUnit.SECONDS);
                        throw new AssertionError("read after stop succeeded");
                    } catch (java.util.concurrent.ExecutionException e) {
                        check(e.getCause() instanceof dev.ublkctl.ublk.BlockIoException, "fails with BlockIoException: " + e.getCause());
                    }
                }
            } finally {
                d.delete();
            }
        } finally {
            Files.deleteIfExists(s0);
            Files.deleteIfExists(s1);
        }
    }

    /** The RFC selftest's last case, on the engine's loop target. */
    static void engineExt4(UblkControl ctl) throws Exception {
        // The backing file lives on ext4 (a kernel loop mount), not on the guest's tmpfs: tmpfs
        // has no FALLOC_FL_ZERO_RANGE, which the engine's loop target uses for WRITE_ZEROES.
        Path fsImage = sizedFile("ublk-backing-fs", 96L << 20);
        Path fsMnt = Files.createTempDirectory("ublk-backing");
        run("mkfs.ext4", "-q", "-F", fsImage.toString());
        run("mount", "-o", "loop", fsImage.toString(), fsMnt.toString());
        Path backing = fsMnt.resolve("engine-loop.img");
        Files.createFile(backing);
        try (var ch = java.nio.channels.FileChannel.open(backing, java.nio.file.StandardOpenOption.WRITE)) {
            ch.truncate(64L << 20);
            ch.write(java.nio.ByteBuffer.wrap(new byte[1]), (64L << 20) - 1);
        }
        Path mnt = Files.createTempDirectory("ublk-mnt");
        try (Engine engine = Engine.on(KernelDriver.open())) {
            // With the loop BPF program attached: reads, writes and flushes go through bpf aio
            // (the RFC selftest's last case); what the program redirects the Java target serves.
            Device d = engine.create(DeviceConfig.of(new TargetConfig.Loop(backing)).withQueues(1).withDepth(32));
            try {
                d.attach(UblkProgram.load(BpfObject.load(bpfObject("loop")), OpsRef.id(16)));
                d.start();
                ext4RoundTrip("/dev/ublkb" + d.id(), mnt);
                QueueStats t = d.stats().total();
                check(t.errorCount() == 0, "errors " + t.errors());
                check(t.op(IoOp.FLUSH).ios() > 0, "ext4's flushes reached the engine");
                check(t.bpfHandled() > 0 && t.progRuns() > 0, "the loop program handled I/O: " + t.bpfHandled());
                System.out.println("  engine loop: " + t.op(IoOp.READ).ios() + " reads, " + t.op(IoOp.WRITE).ios() + " writes, "
                        + t.op(IoOp.FLUSH).ios() + " flushes, " + t.op(IoOp.DISCARD).ios() + " discards");
            } finally {
                d.delete();
            }
        } finally {
            Files.deleteIfExists(backing);
            Files.deleteIfExists(mnt);
            run("umount", fsMnt.toString());
            Files.deleteIfExists(fsMnt);
            Files.deleteIfExists(fsImage);
        }
    }

    /**
     * A qcow2 image made by the project's own code, served on the real driver with the qcow2
     * program (mapped clusters by bpf aio, the rest by the Java target): ext4 round trip, then
     * QEMU's checker on the image, where qemu-img is installed.
     */
    static void engineQcow2Ext4(UblkControl ctl) throws Exception {
        Path dir = Files.createTempDirectory("ublk-qcow2");
        Path img = dir.resolve("disk.qcow2");
        dev.ublkctl.target.qcow2.Qcow2Image.create(img, 64L << 20, 16);
        Path mnt = Files.createTempDirectory("ublk-mnt");
        try (Engine engine = Engine.on(KernelDriver.open())) {
            Device d = engine.create(DeviceConfig.of(new TargetConfig.Qcow2(img)).withQueues(1).withDepth(32));
            try {
                d.attach(UblkProgram.load(BpfObject.load(bpfObject("qcow2")), OpsRef.id(48)));
                d.start();
                ext4RoundTrip("/dev/ublkb" + d.id(), mnt);
                QueueStats t = d.stats().total();
                check(t.errorCount() == 0, "errors " + t.errors());
                check(t.redirected() > 0, "misses went to the qcow2 target");
                check(t.bpfHandled() > 0, "the qcow2 program served mapped clusters: " + t.bpfHandled());
                System.out.println("  engine qcow2: " + t.ios() + " I/Os, " + t.bpfHandled() + " in BPF, " + t.redirected() + " redirected");
            } finally {
                d.delete();
            }
            boolean qemuImg = java.util.Arrays.stream(System.getenv().getOrDefault("PATH", "/usr/bin").split(":"))
                    .anyMatch(x -> Files.isExecutable(Path.of(x, "qemu-img")));
            if (qemuImg) run("qemu-img", "check", img.toString());
            else System.out.println("  qemu-img is not installed in the guest: image check skipped");
        } finally {
            Files.deleteIfExists(mnt);
            Files.deleteIfExists(img);
            Files.deleteIfExists(dir);
        }
    }

    /**
     * The kernel's own NBD client on an export of an emulated device (no ublk involved on that
     * side: the device lives in this JVM): {@code /dev/nbd0} carries a whole ext4 round trip, and
     * every request went through the device's queues and program.
     */
    static void nbdKernelClient(UblkControl ctl) throws Exception {
        Path client = Path.of("/usr/sbin/nbd-client");
        if (!Files.isDirectory(Path.of("/sys/module/nbd")) || !Files.isExecutable(client)) {
            // the case cannot run: say so plainly rather than pass
            throw new AssertionError("cannot run: " + (Files.isExecutable(client) ? "no nbd module in the guest kernel"
                    : "nbd-client not installed on the host (Debian package nbd-client)"));
        }
        Path fsImage = sizedFile("nbd-backing-fs", 96L << 20);
        Path fsMnt = Files.createTempDirectory("nbd-backing");
        run("mkfs.ext4", "-q", "-F", fsImage.toString());
        run("mount", "-o", "loop", fsImage.toString(), fsMnt.toString());
        Path backing = fsMnt.resolve("exported.img");
        try (var ch = java.nio.channels.FileChannel.open(backing, java.nio.file.StandardOpenOption.CREATE,
                java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(new byte[1]), (64L << 20) - 1);
        }
        Path mnt = Files.createTempDirectory("nbd-mnt");
        Path sock = fsMnt.resolve("nbd.sock");
        boolean connected = false;
        try (Engine engine = Engine.emulated()) {
            Device d = engine.create(DeviceConfig.of(new TargetConfig.Loop(backing)).withQueues(2));
            d.attach(UblkProgram.load(BpfObject.load(bpfObject("loop")), OpsRef.id(16)));
            d.start();
            try (var server = dev.ublkctl.nbd.NbdServer.start(java.net.UnixDomainSocketAddress.of(sock),
                    new dev.ublkctl.nbd.NbdServer.Export("disk", d.block(), false, null), System.out::println)) {
                run(client.toString(), "-unix", sock.toString(), "/dev/nbd0", "-N", "disk");
                connected = true;
                ext4RoundTrip("/dev/nbd0", mnt);
                run(client.toString(), "-d", "/dev/nbd0");
                connected = false;
                QueueStats t = d.stats().total();
                check(t.errorCount() == 0, "errors " + t.errors());
                check(t.op(IoOp.WRITE).ios() > 0 && t.op(IoOp.FLUSH).ios() > 0, "the kernel's writes and flushes reached the device");
                check(t.bpfHandled() > 0, "the loop program handled I/O: " + t.bpfHandled());
                check(server.connectionsServed() >= 1, "nbd-client connected");
                System.out.println("  nbd export: " + t.op(IoOp.READ).ios() + " reads, " + t.op(IoOp.WRITE).ios() + " writes, "
                        + t.op(IoOp.FLUSH).ios() + " flushes, " + t.op(IoOp.DISCARD).ios() + " discards, "
                        + t.op(IoOp.WRITE_ZEROES).ios() + " write-zeroes");
            } finally {
                if (connected) run(client.toString(), "-d", "/dev/nbd0");
            }
        } finally {
            Files.deleteIfExists(mnt);
            Files.deleteIfExists(backing);
            run("umount", fsMnt.toString());
            Files.deleteIfExists(fsMnt);
            Files.deleteIfExists(fsImage);
        }
    }

    private static Path sizedFile(String prefix, long size) throws IOException {
        Path p = Files.createTempFile(prefix, ".img");
        try (var ch = java.nio.channels.FileChannel.open(p, java.nio.file.StandardOpenOption.WRITE)) {
            ch.truncate(0);
            ch.write(java.nio.ByteBuffer.wrap(new byte[1]), size - 1);
        }
        return p;
    }

    static final long RECOVERY_SIZE = 16L << 20;

    /** The child server of {@link #recovery}: serves a loop device until it is killed. */
    static void daemon(Path backing, Path ready) throws Exception {
        KernelDriver drv = KernelDriver.open();
        long flags = UblkFeature.USER_RECOVERY.mask() | UblkFeature.USER_RECOVERY_REISSUE.mask();
        DeviceInfo info = drv.addDevice(new DeviceInfo(-1, 1, 16, 128 << 10, flags));
        drv.setParams(info.devId(), new DeviceParams(9, 9, RECOVERY_SIZE >> 9, 256, false, -1));
        GuestServer srv = new GuestServer(drv, info.devId(), info.nrQueues(), new GuestServer.LoopTarget(backing.toString(), RECOVERY_SIZE));
        srv.start();
        Files.writeString(ready, Integer.toString(info.devId()));
        Thread.sleep(Long.MAX_VALUE);   // serve until SIGKILL
    }

    static void recovery(UblkControl ctl) throws Exception {
        check(ctl.has(UblkFeature.USER_RECOVERY) && ctl.has(UblkFeature.USER_RECOVERY_REISSUE), "kernel has USER_RECOVERY(_REISSUE)");
        Path backing = Files.createTempFile("ublk-recover", ".img");
        Path ready = Files.createTempFile("ublk-recover", ".id");
        Files.writeString(ready, "");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process child = new ProcessBuilder(java, "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), GuestSuite.class.getName(), "--daemon", backing.toString(), ready.toString())
                .inheritIO().start();
        int devId = -1;
        KernelDriver drv = null;
        GuestServer srv = null;
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (Files.readString(ready).isBlank()) {
                check(child.isAlive(), "the child server died on its own, exit " + (child.isAlive() ? "" : child.exitValue()));
                check(System.nanoTime() < deadline, "the child server did not start in 120 s");
                Thread.sleep(50);
            }
            devId = Integer.parseInt(Files.readString(ready).trim());
            int fd = openBlock("/dev/ublkb" + devId);
            try (Arena a = Arena.ofShared()) {
                MemorySegment marker = a.allocate(4096, 4096);
                fill(marker, 99);
                check(Libc.pwrite(fd, marker, 4096, 0) == 4096, "marker written");
                Libc.fsync(fd);                           // acknowledged before the kill
                int blocks = 512;
                MemorySegment pattern = a.allocate(4096L * blocks, 4096);
                fill(pattern, 5);
                Writer writer = Writer.start(fd, pattern, 1L << 20, 16);
                child.destroyForcibly();
                check(child.waitFor(60, TimeUnit.SECONDS), "the child server is gone after SIGKILL");
                long atKill = writer.done();
                System.out.println("  killed the server after " + atKill + " of " + blocks + " writes");

                drv = KernelDriver.open();
                DeviceInfo info = drv.beginRecovery(devId, 30_000).info();
                check(drv.kernelInfo(devId).orElseThrow().state() == UblkUapi.S_DEV_QUIESCED, "QUIESCED during recovery");
                srv = new GuestServer(drv, devId, info.nrQueues(), new GuestServer.LoopTarget(backing.toString(), RECOVERY_SIZE));
                drv.endRecovery(devId);
                srv.adoptStarted();
                DevInfo live = drv.kernelInfo(devId).orElseThrow();
                check(live.state() == UblkUapi.S_DEV_LIVE && live.serverPid() == Libc.getpid(), "LIVE again, served by us: " + live);

                writer.finish("recovery", a, marker, 0);
            } finally {
                Libc.close(fd);
            }
            srv.close();
            srv = null;
            drv.deleteDevice(devId);
        } finally {
            if (child.isAlive()) child.destroyForcibly();
            if (srv != null) srv.close();
            if (drv != null) drv.close();
            else if (devId >= 0) ctl.delDev(devId);    // not recovered: remove what the dead server left
            Files.deleteIfExists(backing);
            Files.deleteIfExists(ready);
        }
    }

    /**
     * The command line against the real driver: {@code bin/ublkctl} (the launcher, which spawns the
     * daemon) adds a loop device with the loop program, bench runs through the daemon, the daemon is
     * SIGKILLed with writes in flight, {@code recover} brings the device back with acknowledged writes
     * kept; the new daemon is killed as well and {@code del} removes the device from the kernel.
     */
    static void cliKernel(UblkControl ctl) throws Exception {
        String home = System.getProperty("ublkctl.home");
        check(home != null && Files.isRegularFile(Path.of(home, "cli/target/ublkctl.jar")),
                "-Dublkctl.home names a built tree (cli/target/ublkctl.jar): " + home);
        Path runDir = Files.createTempDirectory("ublkctl-run");
        Path backing = sizedFile("ublk-cli", 32L << 20);
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        Cli cli = new Cli(Path.of(home, "bin/ublkctl"), runDir);
        int id = -1;
        try {
            var rec = json.readTree(cli.ok("add", "-t", "loop", "-f", backing.toString(), "--bpf", "loop", "--backend", "kernel",
                    "-q", "1", "-d", "32", "--json"));
            id = rec.get("id").asInt();
            check(rec.get("backend").asText().equals("kernel") && rec.get("blockDevice").asText().equals("/dev/ublkb" + id),
                    "add: a kernel device with its block node: " + rec);
            check(rec.get("recoverable").asBoolean(), "add: recoverable by default (the kernel has USER_RECOVERY): " + rec);
            long pid1 = rec.get("daemonPid").asLong();
            DevInfo k = ctl.getDevInfo(id);
            check(k.state() == UblkUapi.S_DEV_LIVE && k.serverPid() == pid1, "the kernel says LIVE, served by the daemon " + pid1 + ": " + k);

            var bench = json.readTree(cli.ok("bench", "-n", "" + id, "--rw", "randrw", "--bs", "4k", "--iodepth", "8",
                    "--runtime", "1", "--json"));
            check(bench.get("iops").asDouble() > 0, "bench through the daemon did I/O: " + bench);

            int fd = openBlock("/dev/ublkb" + id);
            try (Arena a = Arena.ofShared()) {
                MemorySegment marker = a.allocate(4096, 4096);
                fill(marker, 42);
                check(Libc.pwrite(fd, marker, 4096, 8192) == 4096, "marker written");
                Libc.fsync(fd);
                // kill -9 at a random point of a run of writes + fsync, recover, again: every write that
                // was acknowledged (and everything fsynced before a kill) must be there, in every region
                long seed = Long.getLong("guest.seed", System.nanoTime());
                Random rnd = new Random(seed);
                System.out.println("  kill points from seed " + seed + " (-Dguest.seed=" + seed + " replays them)");
                int blocks = 256, rounds = 3;
                long pid = pid1;
                List<long[]> regions = new ArrayList<>();
                List<MemorySegment> patterns = new ArrayList<>();
                for (int round = 0; round < rounds; round++) {
                    MemorySegment pattern = a.allocate(4096L * blocks, 4096);
                    fill(pattern, 9 + round);
                    long at = (4L + 2L * round) << 20;
                    int first = 1 + rnd.nextInt(blocks / 2);
                    Writer writer = Writer.start(fd, pattern, at, first);
                    long victim = pid;
                    ProcessHandle daemon = ProcessHandle.of(victim).orElseThrow(() -> new AssertionError("daemon " + victim + " not running"));
                    daemon.destroyForcibly();
                    daemon.onExit().get(60, TimeUnit.SECONDS);
                    System.out.println("  round " + round + ": killed the daemon after " + writer.done() + " of " + blocks + " writes");

                    var dead = json.readTree(cli.ok("list", "-n", "" + id, "--json"));
                    check(dead.get("state").asText().equals("dead") && dead.get("recoverable").asBoolean(), "list: dead, recoverable: " + dead);
                    var back = json.readTree(cli.ok("recover", "-n", "" + id, "--json"));
                    long pid2 = back.get("daemonPid").asLong();
                    check(back.get("state").asText().equals("live") && pid2 != victim && "loop_ops".equals(back.get("program").asText()),
                            "recover: live again under a new daemon, same program: " + back);
                    DevInfo k2 = ctl.getDevInfo(id);
                    check(k2.state() == UblkUapi.S_DEV_LIVE && k2.serverPid() == pid2, "the kernel says LIVE, served by " + pid2 + ": " + k2);
                    writer.finish("recover (round " + round + ")", a, marker, 8192);
                    regions.add(new long[]{at});
                    patterns.add(pattern);
                    pid = pid2;
                }
                // the model: every region written and fsynced in an earlier round is still intact
                MemorySegment back = a.allocate(4096L * blocks, 4096);
                for (int r = 0; r < regions.size(); r++) {
                    check(Libc.pread(fd, back, back.byteSize(), regions.get(r)[0]) == back.byteSize(), "region " + r + " read");
                    check(back.mismatch(patterns.get(r)) == -1, "region " + r + " intact after " + rounds + " kills (seed " + seed + ")");
                }
            } finally {
                Libc.close(fd);
            }
            // stacking on the kernel backend: a loop device whose backing file is /dev/ublkbN of the first
            var upper = json.readTree(cli.ok("add", "-t", "loop", "-f", "/dev/ublkb" + id, "--backend", "kernel",
                    "-q", "1", "-d", "16", "--json"));
            int upperId = upper.get("id").asInt();
            check(upper.get("size").asLong() == 32L << 20, "the upper device has the lower one's size (BLKGETSIZE64): " + upper);
            String verify = cli.ok("verify", "-n", "" + upperId, "--length", "1m", "--json");
            check(verify.contains("\"ok\":true"), "verify through a loop device over /dev/ublkb" + id + ": " + verify);
            cli.ok("del", "-n", "" + upperId);
            // the new daemon dies too: del removes the device from the kernel, then its record
            ProcessHandle d2 = ProcessHandle.of(ctl.getDevInfo(id).serverPid()).orElseThrow();
            d2.destroyForcibly();
            d2.onExit().get(60, TimeUnit.SECONDS);
            String del = cli.ok("del", "-n", "" + id, "--json");
            check(del.contains("deleted (daemon had died"), "del of a dead daemon's device: " + del);
            check(!UblkControl.deviceIds().contains(id), "del: the dead daemon's kernel device is gone");
            check(cli.run("list", "-n", "" + id).exit() == 3, "no record left");
            id = -1;
        } catch (Throwable t) {
            System.out.println("  daemon log:\n" + cli.logTail());
            throw t;
        } finally {
            if (id >= 0) {
                try { cli.run("del", "-n", "" + id); } catch (Exception ignored) { }
            }
            for (var p : ProcessHandle.allProcesses().filter(p -> p.info().arguments().map(a -> String.join(" ", a).contains(runDir.toString())).orElse(false)).toList())
                p.destroyForcibly();
            Files.deleteIfExists(backing);
        }
    }

    /** Runs {@code bin/ublkctl} with its own run dir, bounded in time. */
    private record Cli(Path launcher, Path runDir) {
        record Out(int exit, String out, String err) {}

        Out run(String... args) throws IOException, InterruptedException {
            List<String> cmd = new ArrayList<>(List.of(launcher.toString()));
            cmd.addAll(List.of(args));
            ProcessBuilder pb = new ProcessBuilder(cmd);
            pb.environment().put("UBLKCTL_RUN_DIR", runDir.toString());
            pb.environment().put("UBLKCTL_NO_BUILD", "1");    // built on the host
            pb.environment().put("UBLKCTL_CDS", "0");         // class-data archive: slower than none under TCG
            // the daemon's start-up dominates under TCG: C1 only, as for the test JVM
            pb.environment().put("UBLKCTL_DAEMON_JAVA_OPTS", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC");
            Path err = Files.createTempFile("ublkctl-err", ".txt");
            pb.redirectError(err.toFile());
            long t0 = System.nanoTime();
            Process p = pb.start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(180, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("ublkctl " + String.join(" ", args) + " did not finish in 180 s");
            }
            String e = Files.readString(err);
            Files.deleteIfExists(err);
            System.out.println("  ublkctl " + String.join(" ", args) + ": exit " + p.exitValue() + " ("
                    + (System.nanoTime() - t0) / 1_000_000 + " ms)");
            return new Out(p.exitValue(), out, e);
        }

        String ok(String... args) throws IOException, InterruptedException {
            Out o = run(args);
            if (o.exit() != 0) throw new AssertionError("ublkctl " + String.join(" ", args) + " exited " + o.exit() + ": " + o.err() + o.out());
            return o.out();
        }

        String logTail() {
            try {
                List<String> l = Files.readAllLines(runDir.resolve("daemon.log"));
                return String.join("\n", l.subList(Math.max(0, l.size() - 30), l.size()));
            } catch (IOException e) {
                return "(no daemon log: " + e.getMessage() + ")";
            }
        }
    }

    /**
     * O_DIRECT writes of {@code pattern}, 4 KiB at a time from {@code at}, then an fsync, on a
     * thread of their own: the I/O in flight while a server is killed.
     */
    private static final class Writer {
        private final Thread thread;
        private final int fd;
        private final MemorySegment pattern;
        private final long at;
        private volatile long done;
        private volatile Throwable error;

        private Writer(int fd, MemorySegment pattern, long at) {
            this.fd = fd;
            this.pattern = pattern;
            this.at = at;
            long blocks = pattern.byteSize() / 4096;
            thread = Thread.ofPlatform().name("writer").unstarted(() -> {
                try {
                    for (int i = 0; i < blocks; i++) {
                        Libc.pwrite(fd, pattern.asSlice(4096L * i, 4096), 4096, at + 4096L * i);
                        done = i + 1;
                    }
                    Libc.fsync(fd);
                } catch (Throwable t) {
                    error = t;
                }
            });
        }

        /** Starts the writes and returns once {@code first} of them are done (or the writer ended). */
        static Writer start(int fd, MemorySegment pattern, long at, int first) throws InterruptedException {
            Writer w = new Writer(fd, pattern, at);
            w.thread.start();
            while (w.done < first && w.thread.isAlive()) Thread.sleep(5);
            return w;
        }

        long done() { return done; }

        /**
         * Waits (bounded) for the rest: it must end, without an error, once the server is back;
         * then the 4 KiB {@code marker} acknowledged before the kill and every pattern write read back.
         */
        void finish(String after, Arena a, MemorySegment marker, long markerAt) throws InterruptedException {
            thread.join(TimeUnit.SECONDS.toMillis(60));
            check(!thread.isAlive(), "the writer finished after " + after + " (no hang)");
            check(error == null, "no write failed across the kill: " + error);
            MemorySegment back = a.allocate(pattern.byteSize(), 4096);
            check(Libc.pread(fd, back.asSlice(0, 4096), 4096, markerAt) == 4096, "marker read");
            check(back.asSlice(0, 4096).mismatch(marker) == -1, "the write acknowledged before the kill is there");
            check(Libc.pread(fd, back, pattern.byteSize(), at) == pattern.byteSize(), "pattern read");
            check(back.mismatch(pattern) == -1, "writes in flight at the kill were reissued: data matches");
        }
    }

    /** mkfs.ext4, mount, write files, sync, umount, fsck -n, mount read-only, read back, umount. */
    static void ext4RoundTrip(String bdev, Path mnt) throws Exception {
        run("mkfs.ext4", "-q", "-F", "-E", "lazy_itable_init=0,lazy_journal_init=0", bdev);
        run("mount", "-t", "ext4", bdev, mnt.toString());
        Map<String, byte[]> files = new java.util.LinkedHashMap<>();
        Random rnd = new Random(7);
        for (int i = 0; i < 8; i++) {
            byte[] b = new byte[4096 * (1 + rnd.nextInt(64)) + rnd.nextInt(4096)];
            rnd.nextBytes(b);
            files.put("file-" + i + ".bin", b);
        }
        files.put("hello.txt", "hello from ublkctl\n".getBytes(StandardCharsets.UTF_8));
        for (var e : files.entrySet()) Files.write(mnt.resolve(e.getKey()), e.getValue());
        run("sync");
        run("umount", mnt.toString());
        run("fsck.ext4", "-n", "-f", bdev);
        run("mount", "-t", "ext4", "-o", "ro", bdev, mnt.toString());
        try {
            for (var e : files.entrySet()) {
                byte[] got = Files.readAllBytes(mnt.resolve(e.getKey()));
                check(java.util.Arrays.equals(got, e.getValue()), e.getKey() + " read back differs");
            }
        } finally {
            run("umount", mnt.toString());
        }
    }

    // ------------------------------------------------------------------ helpers

    private static int openBlock(String path) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!Files.exists(Path.of(path))) {
            if (System.nanoTime() > deadline) throw new IllegalStateException(path + " did not appear");
            Thread.sleep(20);
        }
        return Libc.open(path, Libc.O_RDWR | Libc.O_DIRECT | Libc.O_CLOEXEC);
    }

    private static void run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(String.join(" ", cmd) + " did not finish in 120 s");
        }
        if (p.exitValue() != 0)
            throw new AssertionError(String.join(" ", cmd) + " exited " + p.exitValue() + ":\n" + out);
    }

    private static void expectErrno(Runnable r, String command, int errno) {
        try {
            r.run();
        } catch (UblkCommandException e) {
            check(e.command().equals(command), "expected " + command + " to fail, but " + e.command() + " did: " + e.getMessage());
            check(e.errno() == errno, command + ": expected " + Errno.name(errno) + ", got " + e.getMessage());
            check(e.getMessage().contains(command) && e.getMessage().contains(Errno.name(errno)),
                    "message names command and errno: " + e.getMessage());
            System.out.println("  refused as expected: " + e.getMessage());
            return;
        }
        throw new AssertionError(command + " should have failed with " + Errno.name(errno));
    }

    private static void fill(MemorySegment s, int seed) {
        for (long i = 0; i < s.byteSize(); i++) s.set(ValueLayout.JAVA_BYTE, i, (byte) (i * 31 + seed));
    }

    private static boolean isZero(MemorySegment s) {
        for (long i = 0; i < s.byteSize(); i += 8) if (s.get(ValueLayout.JAVA_LONG, i) != 0) return false;
        return true;
    }

    private static void check(boolean ok, String what) {
        if (!ok) throw new AssertionError(what);
    }
}
