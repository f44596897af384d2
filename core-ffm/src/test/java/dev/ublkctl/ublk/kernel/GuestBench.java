package dev.ublkctl.ublk.kernel;

import dev.ublkctl.engine.Device;
import dev.ublkctl.sys.Libc;
import dev.ublkctl.engine.DeviceConfig;
import dev.ublkctl.engine.Engine;
import dev.ublkctl.target.TargetConfig;
import dev.ublkctl.ublk.DeviceInfo;
import dev.ublkctl.ublk.DeviceParams;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;

/**
 * fio 4 KiB randread at depth 64 in the guest, one device after the other: the kernel's
 * null_blk (no userspace at all), a ublk null device served by the bare {@link KernelQueue}
 * loop, and one served by the engine; then the reference C ramdisk server's own workload (64 MiB of
 * 1 MiB O_DIRECT writes, then reads + verify) on the C server and on Java servers. Recorded, never asserted: run by
 * {@code scripts/ublk-vm-bench}; under TCG the absolute numbers mean little, the ratios more.
 */
public final class GuestBench {
    private static final long SIZE = 1L << 30;

    record Row(String what, double iops, double meanLatUs) {}

    public static void main(String[] args) throws Exception {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        Path out = args.length > 1 ? Path.of(args[1]) : null;
        List<Row> rows = new ArrayList<>();
        if (Files.exists(Path.of("/dev/nullb0"))) rows.add(fio("kernel null_blk (/dev/nullb0)", "/dev/nullb0", seconds));

        try (KernelDriver drv = KernelDriver.open()) {
            DeviceInfo info = drv.addDevice(new DeviceInfo(-1, 1, 64, 512 << 10, 0));
            drv.setParams(info.devId(), new DeviceParams(9, 12, SIZE >> 9, 1024, false, -1));
            GuestServer srv = new GuestServer(drv, info.devId(), 1, new GuestServer.NullTarget());
            try {
                srv.start();
                rows.add(fio("ublk null, bare KernelQueue loop (1 queue)", drv.blockDevPath(info.devId()), seconds));
            } finally {
                srv.close();
            }
            drv.deleteDevice(info.devId());
        }

        try (Engine engine = Engine.on(KernelDriver.open())) {
            Device d = engine.add(DeviceConfig.of(new TargetConfig.Null(SIZE)).withQueues(1).withDepth(64));
            try {
                rows.add(fio("ublk null, engine dispatcher + null target (1 queue)", "/dev/ublkb" + d.id(), seconds));
            } finally {
                d.delete();
            }
        }

        // the reference C ramdisk server's own workload, then the same workload on Java servers
        List<SeqRow> seq = new ArrayList<>();
        String cServer = args.length > 2 ? args[2] : null;
        if (cServer != null && Files.isExecutable(Path.of(cServer))) {
            for (int round = 0; round < SEQ_ROUNDS; round++) {
                seq.add(cRamdisk(cServer));
                try (KernelDriver drv = KernelDriver.open()) {
                    DeviceInfo info = drv.addDevice(new DeviceInfo(-1, 1, 32, 512 << 10, 0));
                    drv.setParams(info.devId(), new DeviceParams(9, 12, SEQ_SIZE >> 9, 1024, false, -1));
                    GuestServer srv = new GuestServer(drv, info.devId(), 1, new GuestServer.RamTarget(SEQ_SIZE));
                    try {
                        srv.start();
                        seq.add(seqWriteRead("Java, bare KernelQueue loop + RAM target", drv.blockDevPath(info.devId())));
                    } finally {
                        srv.close();
                    }
                    drv.deleteDevice(info.devId());
                }
                Path backing = Files.createTempFile("seq", ".img");   // the guest's /tmp is tmpfs: RAM as well
                try (var f = new java.io.RandomAccessFile(backing.toFile(), "rw")) {
                    f.setLength(SEQ_SIZE);
                }
                try (Engine engine = Engine.on(KernelDriver.open())) {
                    Device d = engine.add(DeviceConfig.of(new TargetConfig.Loop(backing)).withQueues(1).withDepth(32));
                    try {
                        seq.add(seqWriteRead("Java, engine + loop target on a tmpfs file", "/dev/ublkb" + d.id()));
                    } finally {
                        d.delete();
                    }
                } finally {
                    Files.deleteIfExists(backing);
                }
            }
        } else {
            System.out.println("  (no C server binary given: the C ramdisk comparison is skipped)");
        }

        StringBuilder md = new StringBuilder();
        md.append(String.format("fio randread 4 KiB, iodepth 64, io_uring, O_DIRECT, %d s, guest %s%n%n",
                seconds, Files.readString(Path.of("/proc/sys/kernel/osrelease")).trim()));
        md.append("| device | IOPS | mean latency | vs null_blk |\n|---|---|---|---|\n");
        double ref = rows.isEmpty() ? 0 : rows.getFirst().iops();
        for (Row r : rows)
            md.append(String.format("| %s | %.0f | %.0f us | %.2f |%n", r.what(), r.iops(), r.meanLatUs(), ref == 0 ? 0 : r.iops() / ref));
        if (!seq.isEmpty()) {
            md.append(String.format("%n64 MiB sequential O_DIRECT, 1 MiB requests, one thread: write, then read "
                    + "(the reference C ramdisk server's own workload; its client fills and checks inside the timed loops, "
                    + "the Java client outside), %d rounds, C and Java alternating%n%n", SEQ_ROUNDS));
            md.append("| server | write MiB/s | read MiB/s | vs C (write / read) |\n|---|---|---|---|\n");
            SeqRow c = null;
            for (SeqRow r : seq) {
                if (r.what().startsWith("C ")) c = r;
                md.append(String.format("| %s | %.1f | %.1f | %s |%n", r.what(), r.writeMiBs(), r.readMiBs(),
                        c == null || r == c ? "—" : String.format("%.2f / %.2f", r.writeMiBs() / c.writeMiBs(), r.readMiBs() / c.readMiBs())));
            }
        }
        System.out.print(md);
        if (out != null) Files.writeString(out, md);
    }

    static final long SEQ_SIZE = 64L << 20;
    static final int SEQ_ROUNDS = 3;

    record SeqRow(String what, double writeMiBs, double readMiBs) {}

    /** Runs the reference server's ramdisk mode and takes the times it prints. */
    static SeqRow cRamdisk(String binary) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(binary, "ramdisk").redirectErrorStream(true).start();
        String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(300, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("the C ramdisk server did not finish");
        }
        Matcher m = java.util.regex.Pattern.compile("write (\\d+) MiB in ([0-9.]+) s, read\\+verify in ([0-9.]+) s: OK").matcher(text);
        if (p.exitValue() != 0 || !m.find()) throw new IllegalStateException("the C ramdisk server failed (exit " + p.exitValue() + "):\n" + text);
        double mib = Double.parseDouble(m.group(1));
        SeqRow r = new SeqRow("C reference ramdisk server (ublk_ctrl_test)", mib / Double.parseDouble(m.group(2)), mib / Double.parseDouble(m.group(3)));
        System.out.printf("  %s: write %.1f MiB/s, read+verify %.1f MiB/s%n", r.what(), r.writeMiBs(), r.readMiBs());
        return r;
    }

    /**
     * The C server's workload: each 8-byte word holds its own offset; 1 MiB O_DIRECT pwrites in order,
     * then preads in order, one thread. The pattern is made before the clock starts and checked after
     * it stops (the C client does both inside its timed loops: JIT-compiled fill and check loops under
     * TCG would otherwise weigh on the Java side's figures more than the server does).
     */
    static SeqRow seqWriteRead(String what, String path) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!Files.exists(Path.of(path))) {
            if (System.nanoTime() > deadline) throw new IllegalStateException(path + " did not appear");
            Thread.sleep(20);
        }
        int fd = Libc.open(path, Libc.O_RDWR | Libc.O_DIRECT | Libc.O_CLOEXEC);
        int chunk = 1 << 20;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment w = a.allocate(SEQ_SIZE, 4096), rd = a.allocate(SEQ_SIZE, 4096);
            for (long i = 0; i < SEQ_SIZE; i += 8) w.set(ValueLayout.JAVA_LONG, i, i);
            long t0 = System.nanoTime();
            for (long off = 0; off < SEQ_SIZE; off += chunk)
                if (Libc.pwrite(fd, w.asSlice(off, chunk), chunk, off) != chunk) throw new IllegalStateException("short write at " + off);
            long t1 = System.nanoTime();
            for (long off = 0; off < SEQ_SIZE; off += chunk)
                if (Libc.pread(fd, rd.asSlice(off, chunk), chunk, off) != chunk) throw new IllegalStateException("short read at " + off);
            long t2 = System.nanoTime();
            long bad = rd.mismatch(w);
            if (bad >= 0) throw new IllegalStateException("mismatch at " + bad);
            double mib = SEQ_SIZE / (double) (1 << 20);
            SeqRow r = new SeqRow(what, mib / ((t1 - t0) / 1e9), mib / ((t2 - t1) / 1e9));
            System.out.printf("  %s: write %.1f MiB/s, read %.1f MiB/s%n", what, r.writeMiBs(), r.readMiBs());
            return r;
        } finally {
            Libc.close(fd);
        }
    }

    static Row fio(String what, String dev, int seconds) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("fio", "--name=randread", "--filename=" + dev, "--rw=randread", "--bs=4k",
                "--iodepth=64", "--ioengine=io_uring", "--direct=1", "--runtime=" + seconds, "--time_based",
                "--ramp_time=1", "--numjobs=1", "--group_reporting", "--output-format=json")
                .redirectErrorStream(false).start();
        String json = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(seconds + 120L, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("fio on " + dev + " did not finish");
        }
        if (p.exitValue() != 0) throw new IllegalStateException("fio on " + dev + " exited " + p.exitValue() + ": " + err);
        // the read section's own fields come before its nested objects
        Matcher m = java.util.regex.Pattern.compile("\"read\"\\s*:\\s*\\{[^{}]*\"iops\"\\s*:\\s*([0-9.]+)").matcher(json);
        if (!m.find()) throw new IllegalStateException("no read iops in fio's output for " + dev);
        double iops = Double.parseDouble(m.group(1));
        Matcher l = java.util.regex.Pattern.compile("\"lat_ns\"\\s*:\\s*\\{[^{}]*\"mean\"\\s*:\\s*([0-9.]+)").matcher(json);
        double lat = l.find() ? Double.parseDouble(l.group(1)) / 1000 : Double.NaN;
        System.out.printf("  %s: %.0f IOPS%n", what, iops);
        return new Row(what, iops, lat);
    }
}
