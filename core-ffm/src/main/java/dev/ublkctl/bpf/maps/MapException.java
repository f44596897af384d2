package dev.ublkctl.bpf.maps;

import dev.ublkctl.sys.Errno;

/** A map operation refused with the errno the kernel would return. */
public final class MapException extends Exception {
    private final int errno;

    public MapException(String map, String op, int errno) {
        super(op + " on map " + map + ": " + Errno.name(errno));
        this.errno = errno;
    }

    /** Positive errno (ENOENT, EEXIST, E2BIG, EINVAL, ...). */
    public int errno() { return errno; }
}
