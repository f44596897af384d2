package dev.ublkctl.cli.common;

import dev.ublkctl.daemon.DeviceRecords;
import dev.ublkctl.daemon.RunDir;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/** Completion candidates for device ids: the records in the run dir, no daemon round trip. */
public final class DeviceIds implements Iterable<String> {
    @Override
    public Iterator<String> iterator() {
        List<String> ids = new ArrayList<>();
        for (int id : new DeviceRecords(RunDir.resolve()).ids()) ids.add(Integer.toString(id));
        return ids.iterator();
    }
}
