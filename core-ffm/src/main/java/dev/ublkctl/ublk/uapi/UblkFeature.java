package dev.ublkctl.ublk.uapi;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * {@code UBLK_F_*} feature flags: what GET_FEATURES reports and what ADD_DEV asks for in
 * {@code dev_info.flags}. Decoding keeps bits this list does not know, by number.
 */
public enum UblkFeature {
    SUPPORT_ZERO_COPY(0, "6.0"),
    URING_CMD_COMP_IN_TASK(1, "6.0"),
    NEED_GET_DATA(2, "6.0"),
    USER_RECOVERY(3, "6.1"),
    USER_RECOVERY_REISSUE(4, "6.1"),
    UNPRIVILEGED_DEV(5, "6.3"),
    CMD_IOCTL_ENCODE(6, "6.4"),
    USER_COPY(7, "6.5"),
    ZONED(8, "6.6"),
    USER_RECOVERY_FAIL_IO(9, "6.13"),
    /** Mainline's bit 10 since 6.16; the never-merged ublk-bpf RFC used the same bit for UBLK_F_BPF. */
    UPDATE_SIZE(10, "6.16"),
    AUTO_BUF_REG(11, "6.16"),
    QUIESCE(12, "6.16"),
    PER_IO_DAEMON(13, "6.16"),
    BUF_REG_OFF_DAEMON(14, "6.17"),
    BATCH_IO(15, "7.0"),
    INTEGRITY(16, "7.0"),
    SAFE_STOP_DEV(17, "7.0"),
    NO_AUTO_PART_SCAN(18, "7.0"),
    SHMEM_ZC(19, "7.1");

    public final int bit;
    /** The first mainline release that has the flag. */
    public final String since;

    UblkFeature(int bit, String since) {
        this.bit = bit;
        this.since = since;
    }

    public long mask() { return 1L << bit; }

    public boolean in(long flags) { return (flags & mask()) != 0; }

    public static long maskOf(Set<UblkFeature> fs) {
        long m = 0;
        for (UblkFeature f : fs) m |= f.mask();
        return m;
    }

    /** The known flags set in {@code flags}. */
    public static Set<UblkFeature> decode(long flags) {
        EnumSet<UblkFeature> s = EnumSet.noneOf(UblkFeature.class);
        for (UblkFeature f : values()) if (f.in(flags)) s.add(f);
        return s;
    }

    /** Bits set in {@code flags} that no constant here names. */
    public static long unknownBits(long flags) {
        long known = 0;
        for (UblkFeature f : values()) known |= f.mask();
        return flags & ~known;
    }

    /** Names of every set bit, unknown ones as {@code bit N}. */
    public static List<String> names(long flags) {
        List<String> out = new ArrayList<>();
        for (UblkFeature f : decode(flags)) out.add(f.name());
        long u = unknownBits(flags);
        while (u != 0) {
            int b = Long.numberOfTrailingZeros(u);
            out.add("bit " + b);
            u &= u - 1;
        }
        return out;
    }
}
