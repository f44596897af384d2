package dev.ublkctl.bpf.kernel;

import dev.ublkctl.bpf.maps.MapType;
import dev.ublkctl.sys.Libc;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A kernel BPF_MAP_TYPE_RINGBUF read as libbpf's {@code ring_buffer} reads it: the consumer page mapped
 * read-write at offset 0 of the map fd, the producer page and the data area (mapped twice by the kernel, so
 * records that wrap read in one piece) read-only at one page.
 */
public final class KernelRingBuffer implements AutoCloseable {
    private static final int PAGE = 4096;
    private final MemorySegment consumer, producer;
    private final int size;

    public KernelRingBuffer(KernelMap map) {
        if (map.type() != MapType.RINGBUF) throw new IllegalArgumentException("map " + map.name() + " is not a ring buffer");
        size = map.maxEntries();
        consumer = Libc.mmap(MemorySegment.NULL, PAGE, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_SHARED, map.fd(), 0);
        try {
            producer = Libc.mmap(MemorySegment.NULL, PAGE + 2L * size, Libc.PROT_READ, Libc.MAP_SHARED, map.fd(), PAGE);
        } catch (RuntimeException e) {
            Libc.munmap(consumer);
            throw e;
        }
    }

    public long consumerPosition() { return consumer.get(ValueLayout.JAVA_LONG, 0); }
    public long producerPosition() { return producer.get(ValueLayout.JAVA_LONG, 0); }
    /** Moves the consumer position (what a reader does after it has read records). */
    public void setConsumerPosition(long pos) { consumer.set(ValueLayout.JAVA_LONG, 0, pos); }

    /** A copy of the data area ({@code max_entries} bytes, headers included). */
    public byte[] data() { return producer.asSlice(PAGE, size).toArray(ValueLayout.JAVA_BYTE); }

    @Override
    public void close() {
        Libc.munmap(producer);
        Libc.munmap(consumer);
    }
}
