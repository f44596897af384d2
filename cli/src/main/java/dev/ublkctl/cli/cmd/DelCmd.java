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
        // a stopped daemon accepts connections and answers nothing: say so now, not after a timeout
        for (DeviceRecord r : which.all ? store.readAll() : store.read(which.id).map(List::of).orElse(List.of())) {
            if (DeviceRecord.LIVE.equals(r.state()) && dev.ublkctl.daemon.Daemons.stopped(r.daemonPid()))
                throw new CliException(ExitCode.DAEMON, "device " + r.id() + " is live, but its daemon (pid " + r.daemonPid()
                        + ") is stopped and cannot delete it; 'kill -CONT " + r.daemonPid() + "' resumes it");
        }
        if (which.all) {
            DaemonUnavailableException unreachable = null;
            try (DaemonClient c = session().connect()) {
                for (int id : c.deleteAll()) done.add(entry(id, "deleted"));
            } catch (DaemonUnavailableException e) {
                unreachable = e;   // no daemon, or one that does not answer: the records say which
            }
            List<String> stillLive = new ArrayList<>();
            for (DeviceRecord r : store.readAll()) {
                if (DeviceRecord.DEAD.equals(r.state())) done.add(entry(r.id(), removeDead(store, r)));
                else if (r.isBroken()) {
                    store.delete(r.id());
                    done.add(entry(r.id(), "removed broken record"));
                } else if (DeviceRecord.LIVE.equals(r.state())) {   // readAll says dead if its daemon is gone
                    stillLive.add("device " + r.id() + " (daemon pid " + r.daemonPid()
                            + (dev.ublkctl.daemon.Daemons.stopped(r.daemonPid()) ? ", stopped: 'kill -CONT " + r.daemonPid() + "' resumes it" : "")
                            + ")");
                }
            }
            // never say "no devices" while one is still live: its daemon is stopped, hung or busy
            if (!stillLive.isEmpty())
                throw new CliException(ExitCode.DAEMON, String.join(", ", stillLive) + " still live, its daemon does not answer"
                        + (unreachable != null ? " (" + unreachable.getMessage() + ")" : "")
                        + (done.isEmpty() ? "" : "; removed " + done.size() + " other"));
        } else {
            int id = which.id;
            Optional<DeviceRecord> rec = store.read(id);
            if (rec.isPresent() && DeviceRecord.DEAD.equals(rec.get().state())) {
                done.add(entry(id, removeDead(store, rec.get())));
            } else if (rec.isPresent() && rec.get().isBroken()) {
                // a live daemon may still serve the device behind a damaged record: let it delete first
                String result = "removed broken record";
                try (DaemonClient c = session().connect()) {
                    c.delete(id);
                    result = "deleted";
                } catch (DaemonUnavailableException | dev.ublkctl.daemon.RpcException e) {
                    // nobody serves it: the file is all there is
                }
                store.delete(id);
                done.add(entry(id, result));
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
            for (var e : done) out().println("device " + e.get("id") + ": " + dev.ublkctl.cli.common.TerminalText.safe(String.valueOf(e.get("result"))));
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
