package dev.ublkctl.ublk;

import dev.ublkctl.uring.IoUring;

import java.lang.foreign.MemorySegment;

/**
 * One hardware queue of a device as its server thread sees it: the kernel's per-queue fetch /
 * commit protocol. Every method except {@link #wake()} belongs to the single thread that serves
 * the queue (the kernel requires the FETCH/COMMIT commands to come from one task) — except
 * {@link #commit} of a request taken by a {@link SubmitHook}, which any thread may call.
 *
 * <p>The queue has an io_uring ({@link #ring()}); the server may put its own target I/O on it
 * with a user_data that has {@link #SERVER_UD} set: such completions come back through
 * {@link Handler#onServerCompletion}. That is how kublk runs target I/O on the same ring as
 * the ublk commands, and it lets one thread wait for both.
 */
public interface UblkQueue extends AutoCloseable {
    /** user_data bit reserved for the server's own SQEs on {@link #ring()}. */
    long SERVER_UD = 1L << 63;

    /** What the queue delivers to its server thread. */
    interface Handler {
        /** A new request was fetched at {@code tag}; its descriptor is in {@link #descriptors()}. */
        void onRequest(int tag);

        /** A CQE for one of the server's own SQEs (user_data has {@link #SERVER_UD}). */
        void onServerCompletion(long userData, int res, int flags);

        /** Whether the server still has its own SQEs in flight (the queue must not exit before they end). */
        boolean serverBusy();
    }

    int queueId();

    int depth();

    /** The descriptor array: {@code depth} {@code ublksrv_io_desc} entries indexed by tag (read-only use). */
    MemorySegment descriptors();

    /** The data buffer of a tag ({@code maxIoBufBytes} long): holds WRITE data, receives READ data. */
    MemorySegment ioBuffer(int tag);

    /** The queue's io_uring, shared with the server's own I/O. */
    IoUring ring();

    /**
     * Submits pending commits and the server's SQEs, then delivers what is ready: new requests
     * and server completions. With {@code wait}, blocks until at least one event arrives (or
     * {@link #wake()}). Returns false once the queue is aborted (device stopped) and the handler
     * is no longer {@linkplain Handler#serverBusy() busy}: the serving loop then ends.
     */
    boolean processEvents(Handler h, boolean wait);

    /**
     * Completes the request at {@code tag} with {@code result} (bytes, or -errno) and re-arms the
     * tag for the next request (kernel: {@code COMMIT_AND_FETCH_REQ}). Committing an aborted tag
     * is ignored.
     */
    void commit(int tag, int result);

    /**
     * For a thread that serves several queues and blocks on one eventfd registered on all their
     * rings ({@link IoUring#registerEventFd}): after {@code processEvents(h, false)} found nothing,
     * arranges that any new event (request, server completion, {@link #wake()}) posts a CQE on
     * {@link #ring()}, and submits what is prepared. Returns false if an event is pending already
     * (do not block then). Follow with {@link #endWait()} after blocking, or at once on false.
     */
    boolean prepareWait();

    /** Ends a wait begun with {@link #prepareWait()}. */
    void endWait();

    /**
     * Installs the code the driver runs in the submitter's context for each new request (the RFC's
     * {@code queue_rq} hook), or removes it with null; serving thread, before or between
     * {@link #processEvents} calls. Returns false if this driver has no such context (the kernel
     * driver without the RFC: every request reaches the serving thread). A request the hook takes is
     * committed with {@link #commit} from whatever thread finishes it, not only the serving thread.
     */
    default boolean setSubmitHook(SubmitHook hook) { return false; }

    /** Makes a blocked {@link #processEvents} return soon; any thread. */
    void wake();

    /** Releases the queue's ring, buffers and descriptors; after its loop ended. */
    @Override
    void close();
}
