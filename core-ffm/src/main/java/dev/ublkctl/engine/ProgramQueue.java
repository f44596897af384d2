package dev.ublkctl.engine;

/**
 * The per-queue runtime of an attached program: runs the QUEUED/REDIRECT/CONTINUE loop for a
 * request (in the submitter's thread or the serving thread) and owns the program's aio.
 */
interface ProgramQueue {
    /** user_data bit (with SERVER_UD) marking a program's aio on the queue ring. */
    long AIO_UD = 1L << 62;

    /** Dispatch modes: serving thread, queue_io_cmd then queue_io_cmd_daemon (no submitter context). */
    int FULL = 0;
    /** queue_io_cmd only, in the submitter's thread (the RFC's {@code ublk_queue_rq}). */
    int SUBMIT = 1;
    /** queue_io_cmd_daemon only, serving thread, after queue_io_cmd redirected in the submitter. */
    int DAEMON = 2;
    /** Second round after the server committed -EAGAIN (serving thread). */
    int BOUNCE = 3;

    /** {@link #dispatch} result: the program finished with the request (completed, failed, or holds it). */
    int DONE = -1;
    /** {@link #dispatch} result in {@link #SUBMIT} mode: queue_io_cmd redirected at offset 0; run the daemon callback. */
    int TO_DAEMON = -2;

    /**
     * Runs the program for the request at {@code tag} from offset 0, on the calling thread. The
     * request stays open while the program holds it ({@link QueueWorker#programHold}). Returns
     * {@link #DONE}, {@link #TO_DAEMON}, or the offset from which the Java target serves the rest.
     * {@code now}: a clock reading just taken (the request's start), or 0 to read the clock.
     */
    int dispatch(int tag, int mode, long now);

    /** Whether {@code queue_io_cmd} runs in submitters' threads (the driver offers that context). */
    boolean submitContext();

    /** A submitter starts a dispatch; false once the program is being replaced (use the serving thread then). */
    boolean tryEnter();

    /** A submitter's dispatch ended (after {@link #flushSubmitted}). */
    void exit();

    /** No new submitter dispatch may start: a new program replaces this one once it is idle. */
    void retire();

    /** A submitter issues the aio its dispatch submitted (after its last touch of the request). */
    void flushSubmitted();

    /** A CQE of one of the program's aio (serving thread). */
    void onAioCompletion(long userData, int res);

    /** aio in flight, requests held and submitter dispatches in progress. */
    int inFlight();

    /** Frees what the program's queue holds (device stopping, or replaced); only when idle. */
    void abort();
}
