package dev.ublkctl.cli.cmd;

import dev.ublkctl.cli.common.Cmd;
import dev.ublkctl.cli.common.ExitCode;
import dev.ublkctl.cli.common.Table;
import dev.ublkctl.cli.common.Style;
import dev.ublkctl.daemon.HostSupport;
import picocli.CommandLine.Command;


@Command(name = "features",
        description = {"Show the backends available here, and why not the others.",
                "Checks the ublk driver, the ublk-bpf RFC in the kernel BTF, bpf(2), io_uring and privileges, "
                        + "and decodes the ublk driver's feature bits by name."},
        footerHeading = "%nExamples:%n",
        footer = {"  ublkctl features", "  ublkctl features --json"})
public final class FeaturesCmd extends Cmd {
    @Override
    protected int run() {
        HostSupport f = HostSupport.probe();
        if (json()) {
            printJson(f);
            return ExitCode.OK;
        }
        Style st = style();
        out().println(st.bold("Checks:"));
        Table t = new Table("CHECK", "RESULT", "DETAIL");
        for (HostSupport.Check c : f.checks()) t.row(c.name(), st.state(c.ok() ? "yes" : "no"), c.detail());
        t.print(out(), st);
        out().println();
        out().println(st.bold("Backends:"));
        Table b = new Table("BACKEND", "AVAILABLE", "WHY");
        for (HostSupport.BackendState x : f.backends()) b.row(String.valueOf(x.name()), st.state(x.available() ? "yes" : "no"), x.reason());
        b.print(out(), st);
        out().println();
        out().println("auto picks: " + st.bold(f.autoBackend() == null ? "none" : f.autoBackend().toString()));
        if (f.ublkFeatures() != null) {
            out().println();
            out().printf("ublk_drv features: 0x%x%n", f.ublkFeatures().mask());
            for (HostSupport.Flag fl : f.ublkFeatures().flags()) out().printf("  0x%-16x %s%n", fl.value(), fl.name());
        }
        out().flush();
        return ExitCode.OK;
    }
}
