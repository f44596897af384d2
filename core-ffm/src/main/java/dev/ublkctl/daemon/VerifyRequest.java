package dev.ublkctl.daemon;

/**
 * The params of {@code device.verify}.
 *
 * @param offset first byte (a multiple of the logical block size)
 * @param length bytes to check; 0 means up to {@link #DEFAULT_LENGTH} from offset (or to the end)
 * @param bs     verify block size (0: 4096)
 */
public record VerifyRequest(long offset, long length, int bs) {
    /** Default region: 256 MiB, so that a 250 GiB null device verifies in seconds. */
    public static final long DEFAULT_LENGTH = 256L << 20;
}
