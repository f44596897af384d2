package dev.ublkctl.ublk;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.CompletableFuture;

/**
 * The block side of a started device: what a filesystem or fio would see on {@code /dev/ublkbN}.
 * Offsets and lengths are bytes and must be multiples of the logical block size and inside the
 * device; requests larger than the device's max I/O size are split into several requests.
 *
 * <p>Two ways to submit: {@link #submit} is allocation-free and reports through an
 * {@link IoCallback}; the future-returning methods are for convenience. Both apply
 * back-pressure: a queue holds at most {@code queueDepth} requests.
 */
public interface BlockDevice {
    /** Return value of {@link #submit} when the queue is full and {@code block} was false. */
    int FULL = Integer.MIN_VALUE;

    long size();

    int logicalBlockSize();

    int nrQueues();

    int queueDepth();

    int maxIoBytes();

    /**
     * Submits one request. {@code buf} must hold at least {@code length} bytes for READ/WRITE
     * (it is read at submission for WRITE and written before the callback for READ); it is
     * ignored for the other ops. {@code queue} picks the hardware queue, or -1 for the
     * submitting thread's own queue (as blk-mq maps CPUs to queues).
     *
     * @return 0 when accepted (the callback will run exactly once), {@link #FULL} when the queue
     *         is full and {@code block} is false, or a negative errno when the request is refused
     *         (misaligned: -EINVAL, past the end: -EIO, device not live: -ENODEV); refused requests
     *         never call back
     * @throws InterruptedException if interrupted while waiting for a free tag
     */
    int submit(int queue, IoOp op, long offset, int length, MemorySegment buf, IoCallback cb, long cookie, boolean block)
            throws InterruptedException;

    /** A submitter's batch, as the block layer's {@code blk_start_plug}/{@code blk_finish_plug}. */
    interface Plug extends AutoCloseable {
        /** Ends the batch: the requests it held reach their queues now (a sleeping queue thread is woken once). */
        @Override
        void close();
    }

    /**
     * Starts a batch on the calling thread: until {@link Plug#close}, a submission that would wake a
     * sleeping queue thread leaves the wake-up to the end of the batch, so a burst of submissions
     * costs one wake-up, not one per request (a submitter that must wait for a tag inside the batch
     * flushes it first). Nests; allocation-free. The default does nothing.
     */
    default Plug plug() { return NO_PLUG; }

    /** The plug of a device that does not batch. */
    Plug NO_PLUG = () -> {};

    /**
     * One request as a future: completes with the byte count, or exceptionally with a
     * {@link BlockIoException} carrying the errno (refused at submission or failed). Each device
     * decides how a long range is split and how its failures are described.
     */
    CompletableFuture<Integer> io(IoOp op, long offset, long length, MemorySegment buf);

    /** Reads {@code buf.byteSize()} bytes at {@code offset}; completes with the byte count. */
    default CompletableFuture<Integer> read(long offset, MemorySegment buf) { return io(IoOp.READ, offset, buf.byteSize(), buf); }

    /** Writes {@code buf.byteSize()} bytes at {@code offset}; completes with the byte count. */
    default CompletableFuture<Integer> write(long offset, MemorySegment buf) { return io(IoOp.WRITE, offset, buf.byteSize(), buf); }

    default CompletableFuture<Integer> flush() { return io(IoOp.FLUSH, 0, 0, null); }

    default CompletableFuture<Integer> discard(long offset, long length) { return io(IoOp.DISCARD, offset, length, null); }

    default CompletableFuture<Integer> writeZeroes(long offset, long length) { return io(IoOp.WRITE_ZEROES, offset, length, null); }
}
