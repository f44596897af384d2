package dev.ublkctl.daemon;

import java.util.List;

/**
 * The answer of {@code prog.trace}: the attached program's {@code bpf_printk} lines from the
 * daemon's ring for the device. Ask again with {@code after = next} to follow it.
 *
 * @param program the attached program, or null (no lines then)
 * @param next    the number of the line after the last one returned
 * @param lost    lines asked for that had already left the ring
 */
public record TraceView(int device, String program, long next, List<String> lines, long lost) {
    /** Most lines one answer carries. */
    public static final int MAX_LINES = 1024;
}
