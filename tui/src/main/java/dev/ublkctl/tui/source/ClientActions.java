package dev.ublkctl.tui.source;

import dev.ublkctl.daemon.DaemonClient;
import dev.ublkctl.daemon.DeviceRecord;
import dev.ublkctl.daemon.ProgramView;
import dev.ublkctl.daemon.RunDir;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** {@link MonitorActions} over the daemon's JSON-RPC, one short connection per action. */
public class ClientActions implements MonitorActions {
    private final RunDir dir;
    /** What a device ran before it was detached here ({@code OBJECT:OPS}), to attach it again. */
    private final Map<Integer, String> detached = new ConcurrentHashMap<>();

    public ClientActions(RunDir dir) { this.dir = dir; }

    @Override
    public String toggleProgram(int id) {
        try (DaemonClient c = DaemonClient.connect(dir)) {
            DeviceRecord r = c.device(id);
            if (r.program() != null) {
                if (r.bpf() != null) detached.put(id, r.bpf());
                c.detach(id);
                return "ublkb" + id + ": detached " + r.program() + " (a attaches it again)";
            }
            String spec = detached.get(id);
            String program, ops = null;
            if (spec != null) {
                int colon = spec.lastIndexOf(':');
                program = colon > 0 ? spec.substring(0, colon) : spec;
                ops = colon > 0 ? spec.substring(colon + 1) : null;
            } else {
                program = r.target() == null ? null : r.target().toString();   // the bundled program of the same name
            }
            DeviceRecord after = c.attach(id, program, ops);
            return "ublkb" + id + ": attached " + after.program() + (after.engine() == null ? "" : " (" + after.engine() + ")");
        }
    }

    @Override
    public List<String> listing(int id) {
        try (DaemonClient c = DaemonClient.connect(dir)) {
            ProgramView pv = c.program(id);
            List<String> out = new ArrayList<>();
            out.add("ublkb" + id + ": " + (pv == null ? "no program attached" : pv.name() + " (" + pv.object() + ")"));
            if (pv == null) return out;
            for (ProgramView.Listing l : c.dumpProgram(id)) {
                out.add("");
                out.add(l.callback() + ": " + l.name() + "  [" + l.section() + "]  " + l.insns() + " instructions");
                out.addAll(l.lines());
            }
            return out;
        }
    }
}
