package dev.ublkctl.daemon;

import java.util.List;
import java.util.Map;

/**
 * The JSON of {@code prog.show}: the program attached to a device.
 *
 * @param callbacks struct_ops slot → program name
 * @param engine    the execution engine that runs it
 * @param runs      runs of its programs since the device started, and their time
 * @param compile   per callback, what the engine made of it (JIT compile time and size, or the interpreter)
 * @param fds       the device's backing file descriptors, as the program's maps name them for bpf aio
 */
public record ProgramView(int device, String name, String object, String source, int opsId, String aioOps,
                          Map<String, String> callbacks, List<String> maps, String engine, long runs, long runNanos,
                          String compile, List<Integer> fds) {
    public ProgramView {
        fds = fds == null ? List.of() : List.copyOf(fds);
    }


    /** One callback's instructions, as {@code prog.dump} answers (a list of these). */
    public record Listing(String callback, String name, String section, int insns, List<String> lines) { }
}
