package dev.ublkctl.cli.cmd;

import dev.ublkctl.cli.common.EngineOption;

import dev.ublkctl.bpf.vm.Conformance;
import dev.ublkctl.cli.common.Cmd;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

@Command(name = "conformance",
        description = {"bpf_conformance plugin: run one program in ublkctl's eBPF VM.",
                "Reads the program as hex (--program, or stdin), runs it with r1 = MEMORY and r2 = its length, "
                        + "prints r0 in hex. Exit 0 ran, 1 the program faulted, 2 bad input. Use it as "
                        + "'bpf_conformance_runner --plugin_path ublkctl --plugin_options \"prog conformance\"'."},
        footerHeading = "%nExamples:%n",
        footer = {"  echo b7000000070000009500000000000000 | ublkctl prog conformance",
                "  ublkctl prog conformance --program b7000000070000009500000000000000 0102"})
public final class ProgConformanceCmd extends Cmd {
    @Option(names = "--program", paramLabel = "HEX", description = "The program's instruction bytes in hex (default: stdin).")
    String program;

    @Parameters(paramLabel = "MEMORY", arity = "0..1", description = "Memory for r1, in hex.")
    String memory;

    @picocli.CommandLine.Mixin
    EngineOption engineOption = new EngineOption();

    @Override
    protected int run() throws Exception {
        List<String> args = new ArrayList<>();
        if (program != null) { args.add("--program"); args.add(program); }
        if (memory != null) args.add(memory);
        var buf = new ByteArrayOutputStream();
        int status;
        try (PrintStream ps = new PrintStream(buf, true, StandardCharsets.UTF_8)) {
            status = Conformance.run(args.toArray(String[]::new), System.in, ps, engineOption.kind().create());
        }
        out().print(buf.toString(StandardCharsets.UTF_8));
        out().flush();
        return status;
    }
}
