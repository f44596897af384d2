package dev.ublkctl.cli;

import dev.ublkctl.bpf.kernel.Bpf;
import dev.ublkctl.daemon.RunDir;
import dev.ublkctl.sys.Libc;
import dev.ublkctl.uring.IoUring;
import dev.ublkctl.uring.UringConstants;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What this machine offers, for {@code ublkctl features}: each check with its detail, the
 * backends with the reason they work or not, and the ublk driver's feature bits by name.
 */
public record Features(List<Check> checks, List<Backend> backends, String autoBackend, UblkFeatures ublkFeatures) {

    public record Check(String name, boolean ok, String detail) { }
    public record Backend(String name, boolean available, String reason) { }
    public record Flag(int bit, long value, String name) { }
    public record UblkFeatures(long mask, List<Flag> flags) { }

    /** UBLK_F_* names by bit (include/uapi/linux/ublk_cmd.h). Bit 10 was UBLK_F_BPF in the RFC. */
    static final String[] FLAG_NAMES = {
            "SUPPORT_ZERO_COPY", "URING_CMD_COMP_IN_TASK", "NEED_GET_DATA", "USER_RECOVERY",
            "USER_RECOVERY_REISSUE", "UNPRIVILEGED_DEV", "CMD_IOCTL_ENCODE", "USER_COPY", "ZONED",
            "USER_RECOVERY_FAIL_IO", "UPDATE_SIZE", "AUTO_BUF_REG", "QUIESCE", "PER_IO_DAEMON",
            "BUF_REG_OFF_DAEMON", "BATCH_IO", "INTEGRITY", "SAFE_STOP_DEV", "NO_AUTO_PART_SCAN", "SHMEM_ZC",
            "IO_DESC_SIZE"};

    public static List<Flag> decode(long mask) {
        List<Flag> l = new ArrayList<>();
        for (int b = 0; b < 64; b++) {
            if ((mask & (1L << b)) == 0) continue;
            l.add(new Flag(b, 1L << b, b < FLAG_NAMES.length ? FLAG_NAMES[b] : "unknown"));
        }
        return l;
    }

    public static Features probe() {
        List<Check> checks = new ArrayList<>();
        boolean root = RunDir.currentUid() == 0;
        checks.add(new Check("root", root, root ? "uid 0" : "uid " + RunDir.currentUid() + " (kernel backends need root)"));

        String uring = null;
        try (IoUring r = IoUring.create(4)) {
            uring = "features 0x" + Integer.toHexString(r.features());
        } catch (RuntimeException | LinkageError e) {
            checks.add(new Check("io_uring", false, msg(e)));
        }
        if (uring != null) checks.add(new Check("io_uring", true, uring));

        String bpfWhy = Bpf.unavailableReason();
        checks.add(new Check("bpf(2)", bpfWhy == null, bpfWhy == null ? "map create works" : bpfWhy));

        Path ctl = Path.of("/dev/ublk-control");
        boolean ublk = Files.exists(ctl);
        String ublkDetail = ublk ? ctl.toString()
                : Files.isDirectory(Path.of("/sys/module/ublk_drv")) ? "ublk_drv loaded but no /dev/ublk-control"
                : "no /dev/ublk-control (modprobe ublk_drv; needs CONFIG_BLK_DEV_UBLK)";
        checks.add(new Check("ublk driver", ublk, ublkDetail));

        String rfc = rfcInBtf();
        boolean hasRfc = rfc == null;
        checks.add(new Check("ublk-bpf RFC", hasRfc, hasRfc ? "struct ublk_bpf_ops in /sys/kernel/btf/vmlinux" : rfc));

        UblkFeatures feats = null;
        if (ublk && root) {
            try {
                long mask = getFeatures();
                feats = new UblkFeatures(mask, decode(mask));
                checks.add(new Check("ublk GET_FEATURES", true, "0x" + Long.toHexString(mask)));
            } catch (RuntimeException e) {
                checks.add(new Check("ublk GET_FEATURES", false, msg(e)));
            }
        }

        List<Backend> backends = new ArrayList<>();
        String kbpf = !ublk ? "no ublk driver" : !hasRfc ? "kernel lacks the ublk-bpf RFC (ublk_bpf_ops not in BTF)"
                : bpfWhy != null ? "bpf(2) unusable: " + bpfWhy : !root ? "needs root" : "ready";
        backends.add(new Backend("kernel-bpf", kbpf.equals("ready"), kbpf));
        String k = !ublk ? "no ublk driver" : uring == null ? "no io_uring" : !root ? "needs root" : "ready (BPF in ublkctl's VM)";
        backends.add(new Backend("kernel", k.startsWith("ready"), k));
        String e = uring == null ? "no io_uring (loop/stripe targets use it)" : "ready (in-process ublk model, BPF in ublkctl's VM)";
        backends.add(new Backend("emulated", uring != null, e));
        String auto = backends.stream().filter(Backend::available).map(Backend::name).findFirst().orElse("none");
        return new Features(checks, backends, auto, feats);
    }

    /** Null if the kernel BTF has {@code ublk_bpf_ops}, else why not. */
    static String rfcInBtf() {
        Path btf = Path.of("/sys/kernel/btf/vmlinux");
        if (!Files.isReadable(btf)) return "no readable /sys/kernel/btf/vmlinux";
        byte[] needle = "\0ublk_bpf_ops\0".getBytes(StandardCharsets.US_ASCII);
        try (InputStream in = Files.newInputStream(btf)) {
            byte[] data = in.readAllBytes();
            outer:
            for (int i = 0; i + needle.length <= data.length; i++) {
                for (int j = 0; j < needle.length; j++) if (data[i + j] != needle[j]) continue outer;
                return null;
            }
            return "kernel lacks it (no ublk_bpf_ops in BTF)";
        } catch (IOException ex) {
            return "cannot read kernel BTF: " + ex.getMessage();
        }
    }

    /** struct ublksrv_ctrl_cmd (32 bytes), the payload of ublk control commands. */
    static final StructLayout CTRL_CMD = MemoryLayout.structLayout(
            ValueLayout.JAVA_INT.withName("dev_id"), ValueLayout.JAVA_SHORT.withName("queue_id"),
            ValueLayout.JAVA_SHORT.withName("len"), ValueLayout.JAVA_LONG.withName("addr"),
            ValueLayout.JAVA_LONG.withName("data"), ValueLayout.JAVA_SHORT.withName("dev_path_len"),
            ValueLayout.JAVA_SHORT.withName("pad"), ValueLayout.JAVA_INT.withName("reserved"));
    /** UBLK_U_CMD_GET_FEATURES = _IOR('u', 0x13, struct ublksrv_ctrl_cmd). */
    static final int UBLK_U_CMD_GET_FEATURES = 0x80207513;

    /** GET_FEATURES on /dev/ublk-control (Linux ≥ 6.5). */
    static long getFeatures() {
        int fd = Libc.open("/dev/ublk-control", Libc.O_RDWR | Libc.O_CLOEXEC);
        try (Arena a = Arena.ofConfined();
             IoUring ring = IoUring.create(new IoUring.Params(4).withFlags(UringConstants.SETUP_SQE128))) {
            MemorySegment out = a.allocate(8, 8);
            MemorySegment cmd = a.allocate(CTRL_CMD);
            cmd.set(ValueLayout.JAVA_INT, CTRL_CMD.byteOffset(MemoryLayout.PathElement.groupElement("dev_id")), -1);
            cmd.set(ValueLayout.JAVA_SHORT, CTRL_CMD.byteOffset(MemoryLayout.PathElement.groupElement("queue_id")), (short) -1);
            cmd.set(ValueLayout.JAVA_SHORT, CTRL_CMD.byteOffset(MemoryLayout.PathElement.groupElement("len")), (short) 8);
            cmd.set(ValueLayout.JAVA_LONG, CTRL_CMD.byteOffset(MemoryLayout.PathElement.groupElement("addr")), out.address());
            ring.sqe().prepUringCmd(fd, UBLK_U_CMD_GET_FEATURES, cmd).userData(1);
            var cqes = ring.submitAndCollect(1);
            int res = cqes.getFirst().res();
            if (res < 0) throw new IllegalStateException("GET_FEATURES failed: " + Libc.strerror(-res));
            return out.get(ValueLayout.JAVA_LONG, 0);
        } finally {
            Libc.close(fd);
        }
    }

    private static String msg(Throwable e) {
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }
}
