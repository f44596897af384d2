package dev.ublkctl.cli.cmd;

import java.util.List;
import dev.ublkctl.daemon.Json;
import dev.ublkctl.daemon.MapView;
import dev.ublkctl.cli.common.Cmd;
import dev.ublkctl.cli.common.DeviceId;
import dev.ublkctl.cli.common.ExitCode;
import dev.ublkctl.cli.common.JsonText;
import dev.ublkctl.daemon.DaemonClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

@Command(name = "map",
        description = "Show, dump and update a device's BPF maps.",
        subcommands = {MapCmd.Show.class, MapCmd.Dump.class, MapCmd.Update.class},
        footerHeading = "%nExamples:%n",
        footer = {"  ublkctl map show -n 0", "  ublkctl map dump -n 0 stats_map", "  ublkctl map update -n 0 cfg 0 1"})
public final class MapCmd extends Cmd {
    @Override
    protected int run() {
        spec.commandLine().usage(err());
        return ExitCode.USAGE;
    }

    /** Candidates for NAME: map names of any device are only known to the daemon, so none here. */
    @Command(name = "show", aliases = "list",
            description = "List the maps of a device's program: name, type, key/value sizes, entries.",
            footerHeading = "%nExamples:%n", footer = {"  ublkctl map show -n 0"})
    public static final class Show extends Cmd {
        @Mixin DeviceId dev;

        @Override
        protected int run() {
            try (DaemonClient c = connect()) {
                List<MapView> maps = c.maps(dev.id);
                if (json()) printJson(maps);
                else JsonText.print(out(), style(), Json.mapper().valueToTree(maps));
            }
            return ExitCode.OK;
        }
    }

    @Command(name = "dump",
            description = "Dump every entry of a map, formatted with the map's BTF types where known.",
            footerHeading = "%nExamples:%n", footer = {"  ublkctl map dump -n 0 qstats", "  ublkctl map dump -n 0 qstats --pretty"})
    public static final class Dump extends Cmd {
        @Mixin DeviceId dev;

        @Parameters(paramLabel = "NAME", description = "Map name (see 'ublkctl map show -n ID').")
        String name;

        @Override
        protected int run() {
            try (DaemonClient c = connect()) {
                List<MapView.Entry> d = c.dumpMap(dev.id, name);
                if (json()) printJson(d);
                else JsonText.print(out(), style(), Json.mapper().valueToTree(d));
            }
            return ExitCode.OK;
        }
    }

    @Command(name = "update",
            description = {"Set one entry of a map.",
                    "KEY and VALUE are integers (decimal or 0x hex, stored little-endian in the key/value size) "
                            + "or hex bytes like 'hex:01 00 00 00'."},
            footerHeading = "%nExamples:%n", footer = {"  ublkctl map update -n 0 cfg 0 4096", "  ublkctl map update -n 0 cfg 0 'hex:00 10 00 00'"})
    public static final class Update extends Cmd {
        @Mixin DeviceId dev;

        @Parameters(index = "0", paramLabel = "NAME", description = "Map name.")
        String name;

        @Parameters(index = "1", paramLabel = "KEY", description = "Key: integer or hex:BYTES.")
        String key;

        @Parameters(index = "2", paramLabel = "VALUE", description = "Value: integer or hex:BYTES.")
        String value;

        @Override
        protected int run() {
            try (DaemonClient c = connect()) {
                MapView.Update r = c.updateMap(dev.id, name, key, value);
                if (json()) printJson(r);
                else JsonText.print(out(), style(), Json.mapper().valueToTree(r));
            }
            return ExitCode.OK;
        }
    }
}
