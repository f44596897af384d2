package dev.ublkctl.daemon;

import java.util.List;

/** The answer of {@code daemon.info}. */
public record DaemonInfo(long pid, long start, String version, String runDir, String log, List<Integer> devices) {
    public DaemonInfo { devices = devices == null ? List.of() : List.copyOf(devices); }
}
