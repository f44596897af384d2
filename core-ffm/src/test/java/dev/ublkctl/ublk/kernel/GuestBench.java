package dev.ublkctl.ublk.kernel;

import dev.ublkctl.engine.Device;
import dev.ublkctl.engine.DeviceConfig;
import dev.ublkctl.engine.Engine;
import dev.ublkctl.target.TargetConfig;
import dev.ublkctl.ublk.DeviceInfo;
import dev.ublkctl.ublk.DeviceParams;

import java.io.IOException;
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
 * loop, and one served by the engine. Recorded, never asserted: run by
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

        StringBuilder md = new StringBuilder();
        md.append(String.format("fio randread 4 KiB, iodepth 64, io_uring, O_DIRECT, %d s, guest %s%n%n",
                seconds, Files.readString(Path.of("/proc/sys/kernel/osrelease")).trim()));
        md.append("| device | IOPS | mean latency | vs null_blk |\n|---|---|---|---|\n");
        double ref = rows.isEmpty() ? 0 : rows.getFirst().iops();
        for (Row r : rows)
            md.append(String.format("| %s | %.0f | %.0f us | %.2f |%n", r.what(), r.iops(), r.meanLatUs(), ref == 0 ? 0 : r.iops() / ref));
        System.out.print(md);
        if (out != null) Files.writeString(out, md);
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
