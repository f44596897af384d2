package dev.ublkctl.ublk.kernel;

import dev.ublkctl.sys.Errno;
import dev.ublkctl.sys.Libc;
import dev.ublkctl.sys.SyscallException;
import dev.ublkctl.ublk.uapi.UblkFeature;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What this machine's kernel offers the {@code kernel} and {@code kernel-bpf} backends, each
 * answer with a reason a user can act on: is {@code /dev/ublk-control} there (or could
 * {@code ublk_drv} be loaded), which {@code UBLK_F_*} features GET_FEATURES reports, and
 * whether the kernel has the ublk-bpf RFC ({@code ublk_bpf_ops} in the BTF string table;
 * never inferred from feature bits, whose numbers mainline reused).
 */
public final class KernelSupport {
    private KernelSupport() {}

    /** The RFC's struct_ops type name. */
    public static final String RFC_TYPE = "ublk_bpf_ops";

    /** One yes/no answer and why. */
    public record Check(boolean ok, String reason) {}

    /**
     * @param control   {@code /dev/ublk-control} usable
     * @param module    ublk_drv loaded, built in, or at least installed for this kernel
     * @param features  GET_FEATURES answered
     * @param featureMask  the mask (0 when unknown)
     * @param featureNames names of the set bits
     * @param rfc       the kernel has {@code struct ublk_bpf_ops}
     */
    public record Report(String kernelRelease, Check control, Check module, Check features, long featureMask,
                         List<String> featureNames, Check rfc) {
        /** The {@code kernel} backend can run: a usable control device and features read. */
        public boolean kernelBackend() { return control.ok() && features.ok(); }

    }

    /** Probes this machine; opens {@code /dev/ublk-control} (needs root) for GET_FEATURES. */
    public static Report probe() {
        return probe(Path.of("/"));
    }

    /** Probes with every path under {@code root} (tests point it at a fake tree for the file checks). */
    static Report probe(Path root) {
        String release = readTrim(root.resolve("proc/sys/kernel/osrelease"));
        Check module = module(root, release);
        Path ctl = root.resolve(UblkControl.CONTROL_PATH.substring(1));
        Check control;
        Check features;
        long mask = 0;
        List<String> names = List.of();
        if (!Files.exists(ctl)) {
            control = new Check(false, UblkControl.CONTROL_PATH + " does not exist"
                    + (module.ok() ? " (ublk_drv is available: modprobe ublk_drv)" : ": " + module.reason()));
            features = new Check(false, "no control device to ask");
        } else if (!root.equals(Path.of("/"))) {
            control = new Check(true, ctl + " exists");
            features = new Check(false, "not asked (probe of a directory tree)");
        } else {
            try (UblkControl c = UblkControl.open()) {
                control = new Check(true, UblkControl.CONTROL_PATH + " opened");
                if (c.featuresKnown()) {
                    mask = c.features();
                    names = UblkFeature.names(mask);
                    features = new Check(true, String.format("GET_FEATURES: 0x%x", mask));
                } else {
                    features = new Check(false, "the kernel has no GET_FEATURES (older than 6.5)");
                }
            } catch (SyscallException e) {
                String why = e.errno() == Errno.EACCES || e.errno() == Errno.EPERM
                        ? UblkControl.CONTROL_PATH + " needs root (CAP_SYS_ADMIN): " + e.getMessage()
                        : e.getMessage();
                control = new Check(false, why);
                features = new Check(false, "no control device to ask");
            }
        }
        return new Report(release, control, module, features, mask, names, rfc(root.resolve("sys/kernel/btf")));
    }

    static Check module(Path root, String release) {
        if (Files.isDirectory(root.resolve("sys/module/ublk_drv")))
            return new Check(true, "ublk_drv is loaded");
        if (release.isEmpty()) return new Check(false, "cannot read the kernel release");
        Path mods = root.resolve("lib/modules").resolve(release);
        if (grep(mods.resolve("modules.builtin"), "/ublk_drv.ko"))
            return new Check(true, "ublk_drv is built into " + release);
        if (grep(mods.resolve("modules.dep"), "/ublk_drv.ko"))
            return new Check(true, "ublk_drv is installed for " + release + " but not loaded");
        if (!Files.isDirectory(mods))
            return new Check(false, "kernel " + release + " has no modules in /lib/modules/" + release
                    + " and ublk_drv is not loaded");
        return new Check(false, "kernel " + release + " has no ublk_drv (CONFIG_BLK_DEV_UBLK not set)");
    }

    /**
     * Looks for {@link #RFC_TYPE} in vmlinux's BTF, and in ublk_drv's module BTF (the RFC's type
     * lives in the module when ublk is built as one).
     */
    static Check rfc(Path btfDir) {
        Path vmlinux = btfDir.resolve("vmlinux");
        if (!Files.isReadable(vmlinux))
            return new Check(false, vmlinux + " is missing: the kernel has no BTF (CONFIG_DEBUG_INFO_BTF), so the RFC cannot be detected");
        List<String> looked = new ArrayList<>();
        for (Path p : List.of(vmlinux, btfDir.resolve("ublk_drv"))) {
            if (!Files.isReadable(p)) continue;
            looked.add(p.toString());
            try {
                if (BtfStrings.contains(p, RFC_TYPE))
                    return new Check(true, "struct " + RFC_TYPE + " found in " + p + ": the kernel has the ublk-bpf RFC");
            } catch (IOException | IllegalArgumentException e) {
                return new Check(false, "cannot read " + p + ": " + e.getMessage());
            }
        }
        return new Check(false, "no struct " + RFC_TYPE + " in " + String.join(" or ", looked)
                + ": this kernel lacks the ublk-bpf RFC (never merged into mainline)");
    }

    private static boolean grep(Path f, String needle) {
        try {
            if (!Files.isReadable(f)) return false;
            try (var lines = Files.lines(f)) {
                return lines.anyMatch(l -> l.contains(needle));
            }
        } catch (IOException | java.io.UncheckedIOException e) {
            return false;
        }
    }

    private static String readTrim(Path f) {
        try {
            return Files.readString(f).trim();
        } catch (IOException e) {
            return "";
        }
    }

    /** Whether this process runs as root (needed for the kernel backend). */
    public static boolean root() { return Libc.geteuid() == 0; }
}
