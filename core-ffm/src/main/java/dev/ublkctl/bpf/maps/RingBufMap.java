package dev.ublkctl.bpf.maps;


import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * BPF_MAP_TYPE_RINGBUF as the kernel lays it out ({@code kernel/bpf/ringbuf.c}): a data area of
 * {@code max_entries} bytes (a power of two, whole pages), a consumer and a producer position that only
 * grow (the offset in the area is {@code pos & (size - 1)}), and records of an 8-byte header
 * ({@code u32 len} with the {@link #BUSY_BIT} while reserved and the {@link #DISCARD_BIT} once discarded,
 * {@code u32 pg_off}) followed by the sample, the whole rounded up to 8 bytes. A reservation fails when the
 * producer would get {@code size} bytes or more ahead of the consumer or of the oldest record still busy.
 * Records are committed in any order; a reader stops at the first busy one.
 * <p>The data area's bytes are the kernel's (a test compares them with a kernel map read through mmap),
 * {@code pg_off} included: the page of the header counted from the start of the kernel's {@code struct
 * bpf_ringbuf}, whose data begins on its fourth page.
 */
public final class RingBufMap extends VmMap {
    public static final int PAGE_SIZE = 4096;
    public static final int HDR_SIZE = 8;
    public static final int BUSY_BIT = 1 << 31, DISCARD_BIT = 1 << 30;
    /** {@code bpf_ringbuf_query} flags. */
    public static final int RB_AVAIL_DATA = 0, RB_RING_SIZE = 1, RB_CONS_POS = 2, RB_PROD_POS = 3;
    /** Wake-up flags output and submit accept. */
    public static final long RB_NO_WAKEUP = 1, RB_FORCE_WAKEUP = 2;
    /** Largest sample the kernel reserves (RINGBUF_MAX_RECORD_SZ: UINT_MAX / 4). */
    public static final long MAX_RECORD = 0xffffffffL / 4;
    /** Pages of the kernel's struct bpf_ringbuf before its data (header, consumer and producer pages). */
    private static final int DATA_PAGE = 3;

    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle LEN = U32.varHandle();

    private final MemorySegment data;
    private final long mask;
    private volatile long consumerPos, producerPos;
    private long pendingPos;   // under the lock, as in the kernel

    RingBufMap(MapDef def) {
        super(def, 1);
        data = MemorySegment.ofArray(new long[def.maxEntries() / 8]);
        mask = def.maxEntries() - 1;
    }

    /** The data area (its records' bytes). */
    public MemorySegment data() { return data; }
    public int size() { return (int) (mask + 1); }
    public long consumerPosition() { return consumerPos; }
    public long producerPosition() { return producerPos; }

    /** Offset in {@link #data()} of position {@code pos}. */
    public int offset(long pos) { return (int) (pos & mask); }

    /**
     * Reserves a record for {@code size} sample bytes: writes its header (busy) and returns the position of
     * the header, or -1 when it does not fit (as the kernel's {@code __bpf_ringbuf_reserve}).
     */
    public synchronized long reserve(long size) {
        if (size < 0 || size > MAX_RECORD) return -1;
        long len = (size + HDR_SIZE + 7) & ~7L;
        if (len > mask + 1) return -1;
        long cons = consumerPos;
        long pend = pendingPos, prod = producerPos;
        while (pend < prod) {   // skip records committed since: they no longer hold the producer back
            int hlen = (int) LEN.getAcquire(data, (long) offset(pend));
            if ((hlen & BUSY_BIT) != 0) break;
            pend += ((hlen & ~DISCARD_BIT) + HDR_SIZE + 7) & ~7L;
        }
        pendingPos = pend;
        long next = prod + len;
        if (next - cons > mask || next - pend > mask) return -1;
        int off = offset(prod);
        data.set(U32, off + 4, DATA_PAGE + off / PAGE_SIZE);
        LEN.setRelease(data, (long) off, (int) size | BUSY_BIT);
        producerPos = next;
        return prod;
    }

    /** Whether the sample of the record at {@code pos} lies in one piece in the data area (else it wraps). */
    public boolean contiguous(long pos, long size) { return offset(pos) + HDR_SIZE + size <= mask + 1; }

    /** Copies {@code sample} into the record at {@code pos}, wrapping at the end of the area. */
    public void write(long pos, MemorySegment sample) {
        long n = sample.byteSize();
        long at = offset(pos) + HDR_SIZE & mask;
        long first = Math.min(n, mask + 1 - at);
        MemorySegment.copy(sample, 0, data, at, first);
        if (first < n) MemorySegment.copy(sample, first, data, 0, n - first);
    }

    /** Copies the sample bytes of the record at {@code pos} (whatever the area holds there) into {@code dst}. */
    public void read(long pos, MemorySegment dst) {
        long n = dst.byteSize();
        long at = offset(pos) + HDR_SIZE & mask;
        long first = Math.min(n, mask + 1 - at);
        MemorySegment.copy(data, at, dst, 0, first);
        if (first < n) MemorySegment.copy(data, 0, dst, first, n - first);
    }

    /** Commits the record at {@code pos} (clears busy; sets discard if {@code discard}). */
    public void commit(long pos, boolean discard) {
        int off = offset(pos);
        int len = (int) LEN.getAcquire(data, (long) off);
        int nlen = (len & ~BUSY_BIT) | (discard ? DISCARD_BIT : 0);
        LEN.getAndSet(data, (long) off, nlen);
    }

    /** {@code bpf_ringbuf_query}: available data, ring size, consumer or producer position; 0 for other flags. */
    public long query(long flags) {
        return switch ((int) flags == flags ? (int) flags : -1) {
            case RB_AVAIL_DATA -> producerPos - consumerPos;
            case RB_RING_SIZE -> mask + 1;
            case RB_CONS_POS -> consumerPos;
            case RB_PROD_POS -> producerPos;
            default -> 0;
        };
    }

    /** One committed record: its position, sample bytes and whether it was discarded. */
    public record Record(long position, byte[] sample, boolean discarded) {}

    /** Committed records from the consumer position on, up to the first busy one; consumes nothing. */
    public List<Record> peek() { return read(false); }

    /** The records {@link #peek} gives, consumed: the consumer position moves past them. */
    public synchronized List<Record> consume() { return read(true); }

    private List<Record> read(boolean advance) {
        List<Record> out = new ArrayList<>();
        long pos = consumerPos, prod = producerPos;
        while (pos < prod) {
            int hlen = (int) LEN.getAcquire(data, (long) offset(pos));
            if ((hlen & BUSY_BIT) != 0) break;
            int n = hlen & ~DISCARD_BIT;
            byte[] sample = new byte[n];
            long at = offset(pos) + HDR_SIZE & mask;
            long first = Math.min(n, mask + 1 - at);
            MemorySegment.copy(data, ValueLayout.JAVA_BYTE, at, sample, 0, (int) first);
            if (first < n) MemorySegment.copy(data, ValueLayout.JAVA_BYTE, 0, sample, (int) first, (int) (n - first));
            out.add(new Record(pos, sample, (hlen & DISCARD_BIT) != 0));
            pos += (n + HDR_SIZE + 7) & ~7L;
        }
        if (advance) consumerPos = pos;
        return out;
    }

    // A ring buffer has no keys: the kernel answers lookups, updates and deletes with ENOTSUPP.
    private static final int ENOTSUPP = 524;

    @Override public int findSlot(MemorySegment keySeg, long keyOff) { return -1; }
    @Override public int updateFromVm(MemorySegment keySeg, long keyOff, MemorySegment valSeg, long valOff, long flags, int cpu) { return -ENOTSUPP; }
    @Override public int deleteFromVm(MemorySegment keySeg, long keyOff) { return -ENOTSUPP; }
    @Override public byte[] lookup(byte[] key) { return null; }
    @Override public void update(byte[] key, byte[] value, long flags) throws MapException { throw new MapException(name(), "update", ENOTSUPP); }
    @Override public void delete(byte[] key) throws MapException { throw new MapException(name(), "delete", ENOTSUPP); }
    @Override public byte[] nextKey(byte[] key) { return null; }
    /** Committed records waiting for the reader. */
    @Override public int count() { return (int) Math.min(Integer.MAX_VALUE, peek().stream().filter(r -> !r.discarded()).count()); }

}
