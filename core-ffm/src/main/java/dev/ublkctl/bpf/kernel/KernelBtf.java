package dev.ublkctl.bpf.kernel;

import dev.ublkctl.bpf.btf.Btf;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The running kernel's BTF ({@code /sys/kernel/btf/vmlinux}), parsed once per process (about a second). */
public final class KernelBtf {
    private KernelBtf() {}

    public static final Path VMLINUX = Path.of("/sys/kernel/btf/vmlinux");
    private static Btf vmlinux;

    /** The kernel's BTF; type ids are the kernel's own. */
    public static synchronized Btf vmlinux() {
        if (vmlinux == null) {
            try {
                vmlinux = Btf.parse(Files.readAllBytes(VMLINUX));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read the kernel's BTF (" + VMLINUX + "): " + e.getMessage(), e);
            }
        }
        return vmlinux;
    }
}
