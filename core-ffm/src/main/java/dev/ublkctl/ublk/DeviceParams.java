package dev.ublkctl.ublk;

/**
 * What {@code SET_PARAMS} tells the driver ({@code struct ublk_param_basic} and whether discard
 * and write-zeroes are served), plus the BPF param of the RFC when a program is attached.
 *
 * @param logicalBlockShift  log2 of the logical block size (9..12)
 * @param physicalBlockShift log2 of the physical block size (>= logical)
 * @param devSectors         capacity in 512-byte sectors
 * @param maxSectors         largest request in 512-byte sectors
 * @param discard            whether DISCARD and WRITE_ZEROES are accepted
 * @param bpfOpsId           {@code ublk_param_bpf.ops_id} of the attached program, or -1 for none
 */
public record DeviceParams(int logicalBlockShift, int physicalBlockShift, long devSectors, int maxSectors,
                           boolean discard, int bpfOpsId) {
    public DeviceParams {
        if (logicalBlockShift < 9 || logicalBlockShift > 12)
            throw new IllegalArgumentException("logical block size must be 512..4096, got " + (1L << logicalBlockShift));
        if (physicalBlockShift < logicalBlockShift)
            throw new IllegalArgumentException("physical block size smaller than logical");
        long lbSectors = 1L << (logicalBlockShift - 9);
        if (devSectors <= 0 || devSectors % lbSectors != 0)
            throw new IllegalArgumentException("device size must be a positive multiple of the logical block size, got "
                    + devSectors + " sectors");
        if (maxSectors <= 0) throw new IllegalArgumentException("max sectors must be positive");
    }

    public int logicalBlockSize() { return 1 << logicalBlockShift; }

    public long sizeBytes() { return devSectors << 9; }
}
