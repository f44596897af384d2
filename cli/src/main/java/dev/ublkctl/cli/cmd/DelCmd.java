package dev.ublkctl.cli.cmd;

import dev.ublkctl.cli.common.CliException;
import dev.ublkctl.cli.common.Cmd;
import dev.ublkctl.cli.common.DeviceIds;
import dev.ublkctl.cli.common.ExitCode;
import dev.ublkctl.daemon.DaemonClient;
import dev.ublkctl.daemon.DaemonUnavailableException;
import dev.ublkctl.daemon.DeadDevices;
import dev.ublkctl.daemon.DeviceRecord;
import dev.ublkctl.daemon.DeviceRecords;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

@Command(name = "del", aliases = "rm",
        description = {"Delete a device, or all of them.", "Stops its queues, detaches its program and releases its files.",
                "The daemon exits when its last device is deleted. A device whose daemon died is removed too: "
                        + "on the kernel backend with DEL_DEV (its held I/O fails), then its record."},
        footerHeading = "%nExamples:%n",
        footer = {"  ublkctl del -n 0", "  ublkctl del -a"})
public final class DelCmd extends Cmd {

    static final class Which {
        @Option(names = {"-n", "--number"}, paramLabel = "ID", required = true, completionCandidates = DeviceIds.class,
                description = "The device to delete.")
        Integer id;

        @Option(names = {"-a", "--all"}, required = true, description = "Delete every device.")
        boolean all;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Which which;

    @Override
    protected int run() {
        DeviceRecords store = new DeviceRecords(session().runDir());
        List<Map<String, Object>> done = new ArrayList<>();
        if (which.all) {
            try (DaemonClient c = session().connect()) {
                for (int id : c.deleteAll()) done.add(entry(id, "deleted"));
            } catch (DaemonUnavailableException e) {
                // no daemon: only records of dead ones can be left
            }
            for (DeviceRecord r : store.readAll()) {
                if (DeviceRecord.DEAD.equals(r.state())) done.add(entry(r.id(), removeDead(store, r)));
            }
        } else {
            int id = which.id;
            Optional<DeviceRecord> rec = store.read(id);
            if (rec.isPresent() && DeviceRecord.DEAD.equals(rec.get().state())) {
                done.add(entry(id, removeDead(store, rec.get())));
            } else {
                try (DaemonClient c = session().connect()) {
                    c.delete(id);
                    done.add(entry(id, "deleted"));
                } catch (DaemonUnavailableException e) {
                    if (rec.isEmpty()) throw new CliException(ExitCode.NOT_FOUND, "no device " + id);
                    throw e;
                }
            }
        }
        if (json()) {
            printJson(done);
        } else if (done.isEmpty()) {
            out().println("no devices");
        } else {
            for (var e : done) out().println("device " + e.get("id") + ": " + e.get("result"));
        }
        out().flush();
        return ExitCode.OK;
    }

    private static String removeDead(DeviceRecords store, DeviceRecord r) {
        try {
            return DeadDevices.remove(store, r);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException(ExitCode.INTERRUPTED, "interrupted while deleting device " + r.id());
        } catch (IllegalStateException e) {
            throw new CliException(ExitCode.ERROR, e.getMessage());
        }
    }

    private static Map<String, Object> entry(int id, String result) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", id);
        m.put("result", result);
        return m;
    }
}
