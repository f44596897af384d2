package dev.ublkctl.engine;

/**
 * The per-queue runtime of an attached program, driven by the queue thread: runs the
 * QUEUED/REDIRECT/CONTINUE loop for a request and owns the program's aio on the queue ring.
 */
interface ProgramQueue {
    /** user_data bit (with SERVER_UD) marking a program's aio on the queue ring. */
    long AIO_UD = 1L << 62;

    /**
     * Runs the program for the request at {@code tag} from offset 0. The request stays open
     * while the program holds it ({@link QueueWorker#programHold}); a REDIRECT hands the rest to
     * {@link QueueWorker#serve}. {@code bounce}: second round after the server committed -EAGAIN.
     */
    void dispatch(int tag, boolean bounce);

    /** A CQE of one of the program's aio. */
    void onAioCompletion(long userData, int res);

    /** aio in flight. */
    int inFlight();

    /** Fails and frees what the program still holds (device stopping). */
    void abort();
}
