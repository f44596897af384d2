package dev.ublkctl.ublk.kernel;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class KernelSupportTest {

    /** A minimal BTF blob: header, no types, the given strings. */
    static byte[] btf(String... strings) {
        StringBuilder sb = new StringBuilder("\0");
        for (String s : strings) sb.append(s).append('\0');
        byte[] str = sb.toString().getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(24 + str.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putShort((short) 0xeB9F).put((byte) 1).put((byte) 0).putInt(24)
                .putInt(0).putInt(0).putInt(0).putInt(str.length).put(str);
        return b.array();
    }

    @Test
    void btfStringTableLookupMatchesWholeNamesOnly() {
        byte[] b = btf("int", "ublk_bpf_ops_extra", "ublk_bpf_ops", "task_struct");
        assertTrue(BtfStrings.contains(b, "ublk_bpf_ops"));
        assertTrue(BtfStrings.contains(b, "int"));
        assertFalse(BtfStrings.contains(btf("ublk_bpf_ops_extra", "xublk_bpf_ops"), "ublk_bpf_ops"));
        assertThrows(IllegalArgumentException.class, () -> BtfStrings.contains(new byte[30], "x"));
        byte[] cut = btf("ublk_bpf_ops");
        ByteBuffer.wrap(cut).order(ByteOrder.LITTLE_ENDIAN).putInt(20, 1000);
        assertThrows(IllegalArgumentException.class, () -> BtfStrings.contains(cut, "x"));
    }

    @Test
    void rfcDetectedOnlyFromBtf(@TempDir Path dir) throws IOException {
        Path btfDir = Files.createDirectories(dir.resolve("sys/kernel/btf"));
        assertFalse(KernelSupport.rfc(btfDir).ok(), "no vmlinux BTF: cannot tell");
        assertTrue(KernelSupport.rfc(btfDir).reason().contains("no BTF"));
        Files.write(btfDir.resolve("vmlinux"), btf("int", "bpf_struct_ops"));
        KernelSupport.Check c = KernelSupport.rfc(btfDir);
        assertFalse(c.ok());
        assertTrue(c.reason().contains("lacks the ublk-bpf RFC"), c.reason());
        // the RFC type in the module's split BTF
        Files.write(btfDir.resolve("ublk_drv"), btf("ublk_bpf_ops", "ublk_bpf_io"));
        c = KernelSupport.rfc(btfDir);
        assertTrue(c.ok(), c.reason());
        assertTrue(c.reason().contains("ublk_drv"), c.reason());
    }

    @Test
    void fakeTreeWithoutUblk(@TempDir Path root) throws IOException {
        Files.createDirectories(root.resolve("proc/sys/kernel"));
        Files.writeString(root.resolve("proc/sys/kernel/osrelease"), "6.99.0-test\n");
        Files.createDirectories(root.resolve("lib/modules/6.99.0-test"));
        Files.writeString(root.resolve("lib/modules/6.99.0-test/modules.dep"), "kernel/fs/ext4/ext4.ko:\n");
        KernelSupport.Report r = KernelSupport.probe(root);
        assertFalse(r.kernelBackend());
        assertFalse(r.module().ok());
        assertTrue(r.module().reason().contains("has no ublk_drv"), r.module().reason());
        assertTrue(r.control().reason().contains("/dev/ublk-control does not exist"), r.control().reason());
        Files.writeString(root.resolve("lib/modules/6.99.0-test/modules.dep"),
                "kernel/drivers/block/ublk_drv.ko.xz:\n");
        r = KernelSupport.probe(root);
        assertTrue(r.module().ok());
        assertTrue(r.control().reason().contains("modprobe ublk_drv"), r.control().reason());
    }

    @Test
    void thisHost() {
        KernelSupport.Report r = KernelSupport.probe();
        System.out.println("this host: control: " + r.control().reason() + "; module: " + r.module().reason()
                + "; features: " + r.features().reason() + "; rfc: " + r.rfc().reason());
        assertFalse(r.kernelRelease().isEmpty());
        if (Files.exists(Path.of("/sys/kernel/btf/vmlinux"))) {
            // a mainline kernel: the RFC type is never there
            assumeTrue(!r.rfc().ok(), "this kernel has the RFC: " + r.rfc().reason());
            assertTrue(r.rfc().reason().contains("ublk_bpf_ops"));
        }
        if (!Files.exists(Path.of(UblkControl.CONTROL_PATH))) {
            assertFalse(r.kernelBackend());
            assertTrue(r.control().reason().contains(UblkControl.CONTROL_PATH), r.control().reason());
        }
    }
}
