package dev.ublkctl.cli.cmd;

import dev.ublkctl.daemon.ProgramView;
import dev.ublkctl.bpf.insn.Disassembler;
import dev.ublkctl.bpf.insn.SourceLines;
import dev.ublkctl.bpf.object.BpfObject;
import dev.ublkctl.bpf.object.MapSpec;
import dev.ublkctl.bpf.object.ProgramSpec;
import dev.ublkctl.bpf.object.StructOpsSpec;
import dev.ublkctl.cli.common.CliException;
import dev.ublkctl.cli.common.Cmd;
import dev.ublkctl.cli.common.DeviceIds;
import dev.ublkctl.cli.common.ExitCode;
import dev.ublkctl.daemon.DaemonClient;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

@Command(name = "dump",
        description = {"Disassemble the programs of an object file (or of a device's program).",
                "bpftool-style listing; --source interleaves the C lines from the object's BTF line info."},
        footerHeading = "%nExamples:%n",
        footer = {"  ublkctl prog dump loop --source", "  ublkctl prog dump ./my_prog.o --prog my_queue_io_cmd",
                "  ublkctl prog dump -n 0 --json"})
public final class ProgDumpCmd extends Cmd {

    static final class Which {
        @Parameters(paramLabel = "OBJECT.o", description = "Object file, or a bundled program name (null, loop, stripe).")
        String object;

        @Option(names = {"-n", "--number"}, paramLabel = "ID", completionCandidates = DeviceIds.class,
                description = "The program attached to this device.")
        Integer id;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Which which;

    @Option(names = "--prog", paramLabel = "NAME", description = "Only this program (function name).")
    String prog;

    @Option(names = "--source", description = "Interleave the C source lines.")
    boolean source;

    /** A program's listing, as --json prints it. */
    public record Listing(String name, String section, String type, boolean sleepable, int insns, List<String> kfuncs,
                          List<String> lines) { }

    @Override
    protected int run() {
        if (which.id != null) {
            try (DaemonClient c = connect()) {
                List<ProgramView.Listing> d = c.dumpProgram(which.id);
                if (json()) printJson(d);
                else {
                    var st = style();
                    for (ProgramView.Listing cb : d) {
                        out().println(st.bold(cb.callback() + ": " + cb.name()) + "  section " + cb.section() + "  "
                                + cb.insns() + " insns");
                        for (String l : cb.lines()) {
                            if (l.startsWith(";") && !source) continue;
                            out().println(l.startsWith(";") ? st.dim(l) : l);
                        }
                        out().println();
                    }
                    out().flush();
                }
            }
            return ExitCode.OK;
        }
        BpfObject obj;
        try {
            obj = BpfObject.open(which.object);
        } catch (IllegalArgumentException e) {
            throw CliException.usage(e.getMessage());
        }
        List<String> mapNames = obj.maps().stream().map(MapSpec::name).toList();
        List<Listing> out = new ArrayList<>();
        for (ProgramSpec p : obj.programs()) {
            if (prog != null && !p.name().equals(prog)) continue;
            SourceLines lines = source ? i -> p.lineAt(i).filter(l -> l.insn() == i).map(l -> l.sourceLine().strip()).filter(l -> !l.isEmpty()).orElse(null)
                    : SourceLines.NONE;
            String text = new Disassembler(lines, p.kfuncs(), mapNames).dump(p.insns());
            out.add(new Listing(p.name(), p.section(), String.valueOf(p.type()), p.sleepable(), p.insnCount(),
                    p.kfuncs(), text.lines().toList()));
        }
        if (out.isEmpty()) {
            if (prog != null) throw CliException.notFound("no program '" + prog + "' in " + which.object);
            throw CliException.notFound(which.object + " has no programs");
        }
        if (json()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("object", obj.name());
            m.put("license", obj.license());
            m.put("maps", mapNames);
            List<Map<String, Object>> ops = new ArrayList<>();
            for (StructOpsSpec s : obj.structOps()) {
                Map<String, Object> o = new LinkedHashMap<>();
                o.put("name", s.name());
                o.put("type", s.typeName());
                o.put("id", s.id().isPresent() ? s.id().getAsLong() : null);
                o.put("programs", s.programs());
                ops.add(o);
            }
            m.put("structOps", ops);
            m.put("programs", out);
            printJson(m);
            return ExitCode.OK;
        }
        var st = style();
        for (StructOpsSpec s : obj.structOps()) {
            out().println(st.bold("struct " + s.typeName() + " " + s.name()) + (s.id().isPresent() ? " id " + s.id().getAsLong() : "")
                    + ": " + s.programs());
        }
        for (Listing l : out) {
            out().println();
            out().println(st.bold(l.name()) + "  section " + l.section() + "  type " + l.type().toLowerCase()
                    + (l.sleepable() ? " (sleepable)" : "") + "  " + l.insns() + " insns"
                    + (l.kfuncs().isEmpty() ? "" : "  kfuncs " + String.join(", ", l.kfuncs())));
            for (String line : l.lines()) out().println(line.startsWith(";") ? st.dim(line) : line);
        }
        out().flush();
        return ExitCode.OK;
    }
}
