package dev.ublkctl.cli.common;

import picocli.CommandLine.Option;

/** The required {@code -n ID} of commands that work on one device. */
public final class DeviceId {
    @Option(names = {"-n", "--number"}, required = true, paramLabel = "ID",
            completionCandidates = DeviceIds.class, description = "Device id (see 'ublkctl list').")
    public int id;
}
