package dev.ublkctl.daemon;

import dev.ublkctl.bpf.kernel.Bpf;
import dev.ublkctl.sys.Libc;
import dev.ublkctl.ublk.Backend;
import dev.ublkctl.ublk.kernel.KernelSupport;
import dev.ublkctl.ublk.uapi.UblkFeature;
import dev.ublkctl.uring.IoUring;

import java.util.ArrayList;
import java.util.List;

/**
 * What this machine offers each backend, and why not: the one probe. {@code ublkctl features}
 * prints it; the daemon picks a device's backend from it, so what a user is shown is what
 * {@code add} does. The kernel side comes from {@link KernelSupport}; io_uring, bpf(2) and the
 * effective uid are probed here.
 *
 * @param checks       each prerequisite with its detail, in the order they are shown
 * @param backends     the three backends a device can run on, with why they can or cannot here
 * @param autoBackend  what {@link Backend#AUTO} picks here, or null if none works
 * @param ublkFeatures the driver's GET_FEATURES answer, or null where it was not asked (no root)
 */
public record HostSupport(List<Check> checks, List<BackendState> backends, Backend autoBackend,
                          UblkFeatures ublkFeatures) {

    public record Check(String name, boolean ok, String detail) { }

    public record BackendState(Backend name, boolean available, String reason) { }

    /** One {@code UBLK_F_*} bit; unknown bits are named {@code bit N}. */
    public record Flag(int bit, long value, String name) { }

    public record UblkFeatures(long mask, List<Flag> flags) { }

    /** Probes this machine (opens {@code /dev/ublk-control} where permitted, creates a ring and a map). */
    public static HostSupport probe() {
        List<Check> checks = new ArrayList<>();
        int uid = Libc.geteuid();
        checks.add(new Check("root", uid == 0, uid == 0 ? "uid 0" : "uid " + uid + " (kernel backends need root)"));

        String uringWhy = null;
        String uringDetail;
        try (IoUring r = IoUring.create(4)) {
            uringDetail = "features 0x" + Integer.toHexString(r.features());
        } catch (RuntimeException | LinkageError e) {
            uringWhy = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            uringDetail = uringWhy;
        }
        checks.add(new Check("io_uring", uringWhy == null, uringDetail));

        String bpfWhy = Bpf.unavailableReason();
        checks.add(new Check("bpf(2)", bpfWhy == null, bpfWhy == null ? "map create works" : bpfWhy));

        KernelSupport.Report k = KernelSupport.probe();
        checks.add(new Check("ublk driver", k.control().ok(), k.control().reason()));
        checks.add(new Check("ublk-bpf RFC", k.rfc().ok(), k.rfc().reason()));
        UblkFeatures feats = null;
        if (k.control().ok()) {
            checks.add(new Check("ublk GET_FEATURES", k.features().ok(), k.features().reason()));
            if (k.features().ok()) feats = features(k.featureMask());
        }

        List<BackendState> backends = new ArrayList<>();
        // struct_ops loading into the kernel is not built: kernel-bpf is never offered, but the
        // reason says what this machine lacks first, so the answer stays right once it is built
        String kbpf = !k.control().ok() ? k.control().reason()
                : !k.rfc().ok() ? k.rfc().reason()
                : bpfWhy != null ? "bpf(2) unusable: " + bpfWhy
                : "the kernel has the RFC, but this build runs programs in its VM (use --backend kernel)";
        backends.add(new BackendState(Backend.KERNEL_BPF, false, kbpf));
        boolean kernel = k.control().ok() && uringWhy == null;
        backends.add(new BackendState(Backend.KERNEL, kernel, !k.control().ok() ? "no ublk driver: " + k.control().reason()
                : uringWhy != null ? "no io_uring: " + uringWhy : "ready (BPF in ublkctl's VM)"));
        backends.add(new BackendState(Backend.EMULATED, uringWhy == null, uringWhy != null
                ? "no io_uring (loop/stripe targets use it): " + uringWhy
                : "ready (in-process ublk model, BPF in ublkctl's VM)"));
        Backend auto = backends.stream().filter(BackendState::available).map(BackendState::name).findFirst().orElse(null);
        return new HostSupport(checks, backends, auto, feats);
    }

    static UblkFeatures features(long mask) {
        List<Flag> flags = new ArrayList<>();
        for (int b = 0; b < 64; b++) {
            if ((mask & (1L << b)) == 0) continue;
            String name = "bit " + b;
            for (UblkFeature f : UblkFeature.values()) if (f.bit == b) name = f.name();
            flags.add(new Flag(b, 1L << b, name));
        }
        return new UblkFeatures(mask, flags);
    }

    /** The state of one backend ({@link Backend#AUTO}: of the one it picks). */
    public BackendState backend(Backend b) {
        Backend want = b != Backend.AUTO ? b : autoBackend != null ? autoBackend : Backend.EMULATED;
        return backends.stream().filter(s -> s.name() == want).findFirst().orElseThrow();
    }

    /**
     * The backend a request for {@code b} runs on here.
     * @throws UnsupportedOperationException why {@code b} cannot run here
     */
    public Backend choose(Backend b) {
        BackendState s = backend(b);
        if (!s.available()) {
            throw new UnsupportedOperationException(b == Backend.AUTO ? "no backend works here: " + s.reason()
                    : "backend " + b + " is not available: " + s.reason());
        }
        return s.name();
    }
}
