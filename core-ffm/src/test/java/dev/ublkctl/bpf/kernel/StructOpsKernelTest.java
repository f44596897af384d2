package dev.ublkctl.bpf.kernel;

import dev.ublkctl.bpf.object.BpfObject;
import dev.ublkctl.bpf.testing.BpfObjects;
import dev.ublkctl.sys.Libc;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The generic struct_ops path on the host kernel: {@code test/tcp_fixed.o}, a TCP congestion control, is
 * registered by ublkctl's own loader ({@link KernelStructOps}), chosen on a loopback TCP connection with
 * setsockopt(TCP_CONGESTION), carries data, counts its callbacks in its map, and is gone after close.
 */
class StructOpsKernelTest {
    static final Path AVAILABLE = Path.of("/proc/sys/net/ipv4/tcp_available_congestion_control");
    static final String NAME = "ublkctl_fixed";

    @BeforeAll
    static void needRootAndBtf() {
        String why = Libc.geteuid() != 0 ? "not root (registering a TCP congestion control needs CAP_BPF and CAP_NET_ADMIN)"
                : !Files.isReadable(KernelBtf.VMLINUX) ? "no kernel BTF at " + KernelBtf.VMLINUX
                : !Files.isReadable(AVAILABLE) ? "no " + AVAILABLE
                : Bpf.unavailableReason();
        if (why != null) System.out.println("SKIP struct_ops kernel test: " + why);
        assumeTrue(why == null, why);
    }

    static List<String> available() throws Exception {
        return List.of(Files.readString(AVAILABLE).trim().split("\\s+"));
    }

    static long counter(KernelMap m, int k) {
        byte[] key = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(k).array();
        return ByteBuffer.wrap(m.lookup(key)).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    static final int INIT = 0, RELEASE = 1, CONG_AVOID = 2, ACKED = 3;

    @Test
    void tcpCongestionControlRegistersCarriesDataAndUnregisters() throws Throwable {
        BpfObject obj = BpfObject.parse(BpfObjects.bundledBytes("test/tcp_fixed"), "tcp_fixed");
        assertFalse(available().contains(NAME), NAME + " is registered already");
        try (KernelObject ko = KernelObject.load(obj)) {
            KernelMap counters = ko.map("cc_counters");
            try (KernelStructOps ops = KernelStructOps.register(ko, NAME)) {
                assertEquals(5, ops.programs().size(), "init, release, cong_avoid, ssthresh, undo_cwnd");
                assertTrue(available().contains(NAME), "listed while registered: " + available());
                try (LoopbackTcp tcp = new LoopbackTcp(NAME)) {
                    assertEquals(NAME, LoopbackTcp.congestion(tcp.client));
                    long bytes = 64L << 20;
                    assertEquals(bytes, tcp.transfer(bytes));
                }
                assertEquals(1, counter(counters, INIT), "one socket chose it");
                assertTrue(counter(counters, CONG_AVOID) > 0, "cong_avoid ran on ACKs");
                assertTrue(counter(counters, ACKED) >= counter(counters, CONG_AVOID), "each cong_avoid call had segments acked");
                // the closed socket releases it once it is destroyed (after the FIN exchange)
                for (int i = 0; i < 500 && counter(counters, RELEASE) == 0; i++) Thread.sleep(10);
                assertEquals(1, counter(counters, RELEASE));
                System.out.printf("%s: init %d, release %d, cong_avoid %d, acked %d, ssthresh %d, undo_cwnd %d%n", NAME,
                        counter(counters, INIT), counter(counters, RELEASE), counter(counters, CONG_AVOID),
                        counter(counters, ACKED), counter(counters, 4), counter(counters, 5));
            }
            assertFalse(available().contains(NAME), "unregistered on close: " + available());
        }
        // and the name can be registered again by a new load
        try (KernelObject ko = KernelObject.load(obj); KernelStructOps ops = KernelStructOps.register(ko, NAME)) {
            assertTrue(available().contains(NAME));
        }
        assertFalse(available().contains(NAME));
    }

    @Test
    void structOpsWithoutALinkRegistersByTheMapUpdate() throws Throwable {
        BpfObject obj = BpfObject.parse(BpfObjects.bundledBytes("test/tcp_fixed"), "tcp_fixed");
        String name = "ublkctl_fixed_m";
        assertFalse(obj.structOps(name).orElseThrow().link());
        try (KernelObject ko = KernelObject.load(obj)) {
            try (KernelStructOps ops = KernelStructOps.register(ko, name)) {
                assertEquals(3, ops.programs().size(), "cong_avoid, ssthresh, undo_cwnd");
                assertTrue(available().contains(name), available().toString());
                try (LoopbackTcp tcp = new LoopbackTcp(name)) {
                    assertEquals(name, LoopbackTcp.congestion(tcp.client));
                    assertEquals(1L << 20, tcp.transfer(1L << 20));
                }
            }
            assertFalse(available().contains(name), "unregistered by deleting the map's value: " + available());
        }
    }
}
