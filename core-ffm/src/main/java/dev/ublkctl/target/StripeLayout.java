package dev.ublkctl.target;

/**
 * Where a stripe device's bytes live on its files. The server side must place data exactly as
 * the attached program does, or a redirected I/O reads what BPF never wrote there.
 */
public enum StripeLayout {
    /** ublkctl's: chunk {@code c} on file {@code c % n} at file chunk {@code c / n} (RAID 0). */
    RAID0,
    /**
     * kublk's (the RFC selftests' {@code ublk_stripe.c} and {@code kublk_stripe.c}): the device is
     * cut into units of {@code n} chunks; chunk {@code i} of a unit goes to file {@code i} at
     * {@code unit_start / n + i * chunk}, so file {@code i} starts {@code i} chunks in. The unit is
     * found with a mask, so the layout is defined for 1, 2 or 4 files only.
     */
    KUBLK;

    /** Whether {@code files} files can be laid out this way. */
    public boolean supports(int files) {
        return this == RAID0 ? files >= 1 : files == 1 || files == 2 || files == 4;
    }

    /** The file that holds device byte {@code pos}. */
    public int file(long pos, int files, int chunk) {
        long c = pos / chunk;
        return (int) (c % files);
    }

    /** The offset in its file of device byte {@code pos}. */
    public long fileOffset(long pos, int files, int chunk) {
        long c = pos / chunk, within = pos % chunk;
        return switch (this) {
            case RAID0 -> (c / files) * chunk + within;
            // (pos & ~(n * chunk - 1)) / n + i * chunk + within, as kublk computes it, for n = 1, 2, 4
            case KUBLK -> (c / files) * chunk + (c % files) * chunk + within;
        };
    }
}
