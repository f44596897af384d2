package dev.ublkctl.ublk;

/**
 * The server's code that a driver runs in the submitting task, as the ublk-bpf RFC runs
 * {@code ->queue_io_cmd()} from {@code ublk_queue_rq}: the request's descriptor is set and its tag
 * is held, nothing has been queued for the serving thread yet.
 *
 * <p>Runs on the submitter's thread, concurrently with other submitters of the same queue and with
 * the serving thread (each on other tags). It must not block.
 */
@FunctionalInterface
public interface SubmitHook {
    /**
     * @return true if the hook took the request: it will be {@linkplain UblkQueue#commit committed}
     *         exactly once, from this or any other thread; false to queue it to the serving thread
     *         as usual ({@link UblkQueue.Handler#onRequest})
     */
    boolean onSubmit(int tag);
}
