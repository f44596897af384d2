package dev.ublkctl.cli.cmd;

import dev.ublkctl.daemon.VerifyView;
import dev.ublkctl.cli.common.Cmd;
import dev.ublkctl.cli.common.DeviceId;
import dev.ublkctl.cli.common.ExitCode;
import dev.ublkctl.daemon.DaemonClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import dev.ublkctl.cli.common.CliException;
import dev.ublkctl.cli.common.Sizes;
import dev.ublkctl.daemon.VerifyRequest;

import java.time.Duration;

@Command(name = "verify",
        description = {"Check a device's data path end to end.",
                "Writes patterns through the device (and its program), reads them back and compares. "
                        + "Exit 1 if any block differs."},
        footerHeading = "%nExamples:%n",
        footer = {"  ublkctl verify -n 0", "  ublkctl verify -n 0 --offset 1G --length 64M --json"})
public final class VerifyCmd extends Cmd {
    @Mixin DeviceId dev;

    @Option(names = "--offset", paramLabel = "SIZE", defaultValue = "0", converter = Sizes.Converter.class,
            description = "Where to start (default 0).")
    long offset;

    @Option(names = "--length", paramLabel = "SIZE", defaultValue = "0", converter = Sizes.Converter.class,
            description = "How much to check (default: 256M or up to the end).")
    long length;

    @Option(names = "--bs", paramLabel = "SIZE", defaultValue = "4k", converter = Sizes.Converter.class,
            description = "Verify block size (default ${DEFAULT-VALUE}).")
    long bs;

    @Override
    protected int run() {
        Progress pr = new Progress(err(), style());
        try (DaemonClient c = connect()) {
            if (bs < 512 || bs > (1 << 20)) throw CliException.usage("--bs must be 512..1M");
            VerifyView r = c.verify(dev.id, new VerifyRequest(offset, length, (int) bs), Duration.ofMinutes(10), pr::show);
            pr.done();
            if (json()) printJson(r);
            else {
                var st = style();
                boolean ok = r.ok();
                out().printf(java.util.Locale.ROOT, "%s: %d blocks of %s (%s from offset %d) in %.2f s%n",
                        ok ? st.green("ok") : st.red("MISMATCH"), r.blocks(), Sizes.format(r.blockSize()),
                        Sizes.format(r.blocks() * r.blockSize()), r.offset(), r.elapsedSec());
                VerifyView.Mismatch m = r.mismatch();
                if (!ok && m != null) {
                    out().printf("  first mismatch at device offset %d (byte %d of the block at %d): expected 0x%02x, got 0x%02x: %s%n",
                            m.deviceOffset(), m.byteInBlock(), m.blockOffset(), m.expected(), m.actual(), m.reason());
                }
                out().flush();
            }
            return r.ok() ? ExitCode.OK : ExitCode.ERROR;
        }
    }
}
