package dev.ublkctl.bpf.vm;

import dev.ublkctl.bpf.object.ProgramType;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Runs XDP and socket-filter programs on a packet the way {@code BPF_PROG_TEST_RUN} does in the
 * kernel, so the same object gives the same r0 and output data in both: the context struct is
 * built from the packet, its pointer fields hold 32-bit packet addresses
 * ({@link VmContext#addPacketRegion}), and socket filters see the skb after the Ethernet header
 * was pulled (as {@code eth_type_trans} leaves it).
 */
public final class PacketRunner {
    /** sizeof(struct xdp_md) and sizeof(struct __sk_buff) in the UAPI this follows (6.x). */
    static final int XDP_MD_SIZE = 24, SK_BUFF_SIZE = 192;
    static final int XDP_DATA = 0, XDP_DATA_END = 4, XDP_DATA_META = 8, XDP_INGRESS_IFINDEX = 12, XDP_RX_QUEUE = 16;
    static final int SKB_LEN = 0, SKB_PKT_TYPE = 4, SKB_PROTOCOL = 16, SKB_IFINDEX = 40, SKB_DATA = 76, SKB_DATA_END = 80;
    static final int ETH_HLEN = 14, LOOPBACK_IFINDEX = 1;
    /** Helper id of bpf_skb_load_bytes. */
    public static final int BPF_FUNC_SKB_LOAD_BYTES = 26;

    /** What one run gives: r0 (as the kernel reports it, 32 bits), the packet afterwards, ns per run. */
    public record Result(long retval, byte[] dataOut, double nsPerRun) {}

    private final ExecutionEngine engine;
    private final VmContext ctx = new VmContext();
    /** The packet of the current run, for bpf_skb_load_bytes. */
    private MemorySegment packet;

    public PacketRunner(ExecutionEngine engine) { this.engine = engine; }

    /** Adds the packet helpers socket filters use to {@code registry} (before preparing the program). */
    public FunctionRegistry withPacketHelpers(FunctionRegistry registry) {
        return registry.registerHelper(BPF_FUNC_SKB_LOAD_BYTES, "bpf_skb_load_bytes", this::skbLoadBytes);
    }

    /** bpf_skb_load_bytes(skb, offset, to, len): copies from the network header on, as for an skb after eth_type_trans. */
    private long skbLoadBytes(VmContext c, long skb, long offset, long to, long len, long r5) throws VmFault {
        long avail = packet == null ? 0 : packet.byteSize() - ETH_HLEN;
        int off = (int) offset, n = (int) len;
        if (n <= 0 || off < 0 || (long) off + n > avail) return -14; // -EFAULT, and the kernel zeroes 'to'
        byte[] bytes = packet.asSlice(ETH_HLEN + off, n).toArray(ValueLayout.JAVA_BYTE);
        c.write(to, bytes);
        return 0;
    }

    /**
     * Runs {@code program} {@code repeat} times on one copy of {@code data} and returns the last
     * run's r0 and the packet afterwards. As in the kernel's test run, the context and packet are
     * built once and every repetition runs on the same buffer (changes accumulate), and the time is
     * the mean over the repetitions. With {@code repeat >= 1000}, warm-up runs on a scratch copy come
     * first (at least 50,000 and half a second) and are not timed (they do update the program's maps).
     */
    public Result run(VmProgram program, ProgramType type, byte[] data, int repeat) throws VmFault {
        if (type != ProgramType.XDP && type != ProgramType.SOCKET_FILTER)
            throw new IllegalArgumentException("packet runs are for XDP and socket-filter programs, not " + type);
        if (type == ProgramType.SOCKET_FILTER && data.length < ETH_HLEN)
            throw new IllegalArgumentException("a socket-filter run needs at least an Ethernet header (14 bytes), got " + data.length);
        if (type == ProgramType.XDP && data.length < ETH_HLEN)
            throw new IllegalArgumentException("an XDP run needs at least an Ethernet header (14 bytes), got " + data.length);
        if (type == ProgramType.SOCKET_FILTER) {
            // As the kernel's skb test run: an IP EtherType promises an IP header.
            int proto = (data[12] & 0xff) << 8 | (data[13] & 0xff);
            if (proto == 0x0800 && data.length < ETH_HLEN + 20 || proto == 0x86dd && data.length < ETH_HLEN + 40)
                throw new IllegalArgumentException("a socket-filter run with EtherType 0x" + Integer.toHexString(proto)
                        + " needs the IP header too: " + data.length + " bytes is too short");
        }
        int runs = Math.max(repeat, 1);
        // Timed runs should measure machine code (HotSpot's compilation of the interpreter, or of a JIT's
        // class), as the kernel's measure its JIT: warm up for at least 50,000 runs and half a second.
        if (runs >= 1000) {
            byte[] scratch = data.clone();
            long until = System.nanoTime() + 500_000_000L;
            int warmed = 0;
            do {
                runs(program, type, scratch, 10_000);
                warmed += 10_000;
            } while ((warmed < Math.min(runs, 50_000) || System.nanoTime() < until) && warmed < 5_000_000);
        }
        byte[] pkt = data.clone();
        long[] r0 = new long[1];
        long ns = runs(program, type, pkt, runs, r0);
        // For programs that do not see L2, the kernel hands back the Ethernet header zeroed.
        if (type == ProgramType.SOCKET_FILTER) java.util.Arrays.fill(pkt, 0, ETH_HLEN, (byte) 0);
        return new Result(r0[0] & 0xffffffffL, pkt, (double) ns / runs);
    }

    private void runs(VmProgram program, ProgramType type, byte[] pkt, int n) throws VmFault {
        runs(program, type, pkt, n, new long[1]);
    }

    /** Builds context and packet regions once, runs {@code n} times; returns the nanoseconds the runs took. */
    private long runs(VmProgram program, ProgramType type, byte[] pkt, int n, long[] r0) throws VmFault {
        int mark = ctx.mark();
        try {
            packet = MemorySegment.ofArray(pkt);
            long base = ctx.addPacketRegion(packet, true, "packet");
            MemorySegment c;
            if (type == ProgramType.XDP) {
                c = MemorySegment.ofArray(new byte[XDP_MD_SIZE]);
                c.set(U32, XDP_DATA, (int) base);
                c.set(U32, XDP_DATA_END, (int) (base + pkt.length));
                c.set(U32, XDP_DATA_META, (int) base);
                c.set(U32, XDP_INGRESS_IFINDEX, LOOPBACK_IFINDEX);
                c.set(U32, XDP_RX_QUEUE, 0);
            } else {
                c = MemorySegment.ofArray(new byte[SK_BUFF_SIZE]);
                c.set(U32, SKB_LEN, pkt.length - ETH_HLEN);
                // protocol is the Ethernet type in network byte order, stored as a __be16 in a u32
                c.set(U32, SKB_PROTOCOL, ((pkt[13] & 0xff) << 8 | (pkt[12] & 0xff)));
                c.set(U32, SKB_IFINDEX, LOOPBACK_IFINDEX);
                c.set(U32, SKB_DATA, (int) base + ETH_HLEN);
                c.set(U32, SKB_DATA_END, (int) (base + pkt.length));
            }
            long addr = ctx.addRegion(c, false, type == ProgramType.XDP ? "xdp_md" : "__sk_buff");
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) r0[0] = engine.run(program, ctx, addr, 0, 0, 0, 0);
            return System.nanoTime() - t0;
        } finally {
            packet = null;
            ctx.release(mark);
        }
    }

    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

}
