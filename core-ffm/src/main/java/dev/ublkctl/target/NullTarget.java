package dev.ublkctl.target;

import dev.ublkctl.ublk.IoOp;
import dev.ublkctl.uring.IoUring;

import java.util.List;

/** kublk's null target: every I/O succeeds at once with its length. */
public final class NullTarget implements Target {
    private final long size;

    NullTarget(long size) { this.size = size; }

    @Override public TargetType type() { return TargetType.NULL; }
    @Override public long size() { return size; }
    @Override public List<Integer> fds() { return List.of(); }
    @Override public boolean supportsDiscard() { return true; }

    @Override
    public TargetQueue openQueue(IoUring ring, int depth, int maxIoBytes, PartCompleter done) {
        return new TargetQueue() {
            @Override public void submit(int tag, IoOp op, long devOffset, int len, long bufAddr) { done.partDone(tag, len); }
            @Override public void onCompletion(long userData, int res) {
                throw new IllegalStateException("null target has no SQEs, got user_data 0x" + Long.toHexString(userData));
            }
            @Override public int inFlight() { return 0; }
        };
    }

    @Override public void close() {}
}
