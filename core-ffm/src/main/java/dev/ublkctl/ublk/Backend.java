package dev.ublkctl.ublk;

import java.util.Arrays;
import java.util.Locale;

/**
 * Where a device's I/O comes from and where its BPF program runs, by the names the command line,
 * the RPC and the device records use ({@link #toString()}). A device runs on one of the last three;
 * {@link #AUTO} is only asked for: the first of them that works here.
 */
public enum Backend {
    AUTO("auto"),
    /** Real /dev/ublkbN, the program in the kernel as struct_ops (needs the ublk-bpf RFC). */
    KERNEL_BPF("kernel-bpf"),
    /** Real /dev/ublkbN from ublk_drv, the program in ublkctl's VM. */
    KERNEL("kernel"),
    /** ublkctl's in-process model of the driver, the program in ublkctl's VM. */
    EMULATED("emulated");

    private final String label;

    Backend(String label) { this.label = label; }

    @Override public String toString() { return label; }

    /** The backend a name (any case) stands for. */
    public static Backend of(String name) {
        if (name != null) {
            for (Backend b : values()) if (b.label.equals(name.toLowerCase(Locale.ROOT))) return b;
        }
        throw new IllegalArgumentException("unknown backend '" + name + "' (" + names() + ")");
    }

    /** "auto, kernel-bpf, kernel, emulated". */
    public static String names() {
        return String.join(", ", Arrays.stream(values()).map(Backend::toString).toList());
    }
}
