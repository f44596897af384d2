package dev.ublkctl.engine;

import dev.ublkctl.sys.Libc;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * Several queues of a device served by one thread (kublk's {@code --nthreads} with fewer threads
 * than queues). Each queue is opened on this thread, as the kernel requires, with one eventfd
 * registered on every queue's ring: a pass over the queues never blocks, and when a whole pass saw
 * no event the thread blocks reading that eventfd, which any CQE on any of the rings signals.
 */
final class QueueGroup implements Runnable {
    private final List<QueueWorker> workers;

    QueueGroup(List<QueueWorker> workers) { this.workers = List.copyOf(workers); }

    @Override
    public void run() {
        int efd;
        try {
            efd = Libc.eventfd(0, Libc.EFD_CLOEXEC);
        } catch (RuntimeException e) {
            for (QueueWorker w : workers) {
                w.startFailure = e;
                w.ready.countDown();
            }
            return;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment counter = arena.allocate(8, 8);
            List<QueueWorker> live = new ArrayList<>();
            for (QueueWorker w : workers) if (w.open(efd)) live.add(w);
            while (!live.isEmpty()) {
                long before = events(live);
                for (int i = live.size() - 1; i >= 0; i--) {
                    QueueWorker w = live.get(i);
                    if (!w.step(false)) {
                        w.finish();
                        live.remove(i);
                    }
                }
                if (live.isEmpty() || events(live) != before) continue;
                // a pass without events: block until a CQE lands on one of the rings
                List<QueueWorker> waiting = new ArrayList<>(live.size());
                boolean block = true;
                for (QueueWorker w : live) {
                    if (!w.queue.prepareWait()) {
                        w.queue.endWait();
                        block = false;
                        break;
                    }
                    waiting.add(w);
                }
                if (block) Libc.read(efd, counter, 8);
                for (QueueWorker w : waiting) w.queue.endWait();
            }
        } finally {
            Libc.close(efd);
        }
    }

    private static long events(List<QueueWorker> ws) {
        long n = 0;
        for (QueueWorker w : ws) n += w.events;
        return n;
    }
}
