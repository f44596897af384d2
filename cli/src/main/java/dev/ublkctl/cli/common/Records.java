package dev.ublkctl.cli.common;

import dev.ublkctl.daemon.DeviceRecord;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

/** Human form of a device record. */
public final class Records {
    private Records() {}

    public static void print(PrintWriter out, Style st, DeviceRecord r) {
        List<String[]> kv = new ArrayList<>();
        kv.add(new String[]{"device", Integer.toString(r.id())});
        kv.add(new String[]{"state", st.state(r.state())});
        kv.add(new String[]{"target", String.valueOf(r.target())});
        kv.add(new String[]{"backend", String.valueOf(r.backend())});
        kv.add(new String[]{"size", Sizes.format(r.size()) + " (" + r.size() + " bytes)"});
        kv.add(new String[]{"block size", Integer.toString(r.blockSize())});
        kv.add(new String[]{"queues", r.queues() + " x depth " + r.depth()});
        if (!r.files().isEmpty()) kv.add(new String[]{"files", String.join(", ", r.files())});
        if (r.chunk() > 0) kv.add(new String[]{"chunk", Sizes.format(r.chunk())});
        kv.add(new String[]{"program", r.program() == null ? "none (all I/O in the Java target)"
                : r.program() + (r.programPath() == null ? "" : " (" + r.programPath() + ")")
                        + (r.engine() == null ? "" : ", on the " + ("jit".equals(r.engine()) ? "JIT" : "interpreter"))});
        if (r.blockDevice() != null) kv.add(new String[]{"block device", r.blockDevice()});
        if (r.export() != null) kv.add(new String[]{"nbd export", r.export().uri() + (r.export().readOnly() ? " (read-only)" : "")});
        kv.add(new String[]{"daemon pid", Long.toString(r.daemonPid())});
        Table.keyValues(out, st, kv);
    }
}
