package dev.ublkctl.engine;

import dev.ublkctl.bpf.vm.FunctionRegistry;
import dev.ublkctl.bpf.vm.VmContext;
import dev.ublkctl.bpf.vm.VmFault;

/**
 * The ublk and bpf aio kfuncs of the RFC. Each call goes to the {@link BpfQueue.Runner} (the queue
 * as seen from the thread the program runs on): the host of its {@link VmContext} (a field read, where
 * a thread-local cost a map lookup per call).
 */
final class UblkKfuncs {
    private UblkKfuncs() {}

    private static BpfQueue.Runner q(VmContext c, String fn) throws VmFault {
        if (c.host() instanceof BpfQueue.Runner q) return q;
        throw VmFault.helper(fn + " called outside an I/O context (only queue callbacks may use it)");
    }

    static void registerAll(FunctionRegistry r) {
        r.register("ublk_bpf_get_iod", (c, io, a, b, d, e) -> q(c, "ublk_bpf_get_iod").getIod(io));
        r.register("ublk_bpf_get_io_tag", (c, io, a, b, d, e) -> q(c, "ublk_bpf_get_io_tag").tag(io));
        r.register("ublk_bpf_get_queue_id", (c, io, a, b, d, e) -> q(c, "ublk_bpf_get_queue_id").queueIdOf(io));
        r.register("ublk_bpf_get_dev_id", (c, io, a, b, d, e) -> q(c, "ublk_bpf_get_dev_id").devIdOf(io));
        r.register("ublk_bpf_complete_io", (c, io, res, b, d, e) -> {
            q(c, "ublk_bpf_complete_io").completeIoKfunc(io, (int) res);
            return 0;
        });
        r.register("ublk_bpf_attach_and_prep_aio", (c, io, off, bytes, aio, e) ->
                q(c, "ublk_bpf_attach_and_prep_aio").attachAio(io, (int) off, (int) bytes, aio));
        r.register("ublk_bpf_dettach_and_complete_aio", (c, aio, a, b, d, e) -> {
            q(c, "ublk_bpf_dettach_and_complete_aio").detachAio(aio);
            return 0;
        });
        r.register("ublk_bpf_acquire_io_from_aio", (c, aio, a, b, d, e) -> q(c, "ublk_bpf_acquire_io_from_aio").ioOfAio(aio));
        r.register("ublk_bpf_release_io_from_aio", (c, io, a, b, d, e) -> {
            q(c, "ublk_bpf_release_io_from_aio"); // pairs with acquire; nothing to drop (as in the RFC)
            return 0;
        });
        r.register("bpf_aio_alloc", (c, op, flags, b, d, e) -> q(c, "bpf_aio_alloc").allocAio((int) op, (int) flags));
        r.register("bpf_aio_alloc_sleepable", (c, op, flags, b, d, e) -> q(c, "bpf_aio_alloc_sleepable").allocAio((int) op, (int) flags));
        r.register("bpf_aio_release", (c, aio, a, b, d, e) -> {
            q(c, "bpf_aio_release").releaseAio(aio);
            return 0;
        });
        r.register("bpf_aio_submit", (c, aio, fd, pos, bytes, flags) ->
                q(c, "bpf_aio_submit").submitAio(aio, (int) fd, pos, (int) bytes, (int) flags));
    }
}
