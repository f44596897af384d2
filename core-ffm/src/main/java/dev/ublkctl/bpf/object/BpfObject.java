package dev.ublkctl.bpf.object;

import dev.ublkctl.bpf.btf.Btf;
import dev.ublkctl.bpf.btf.BtfException;
import dev.ublkctl.bpf.btf.BtfExt;
import dev.ublkctl.bpf.elf.ElfException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * A parsed BPF object file (cilium/ebpf's CollectionSpec): programs, maps, struct_ops variables,
 * license and BTF. Plain data; nothing is loaded into a kernel or VM.
 *
 * <p>Opening an object throws {@link ElfException} (not a valid ELF file), {@link BtfException}
 * (bad .BTF/.BTF.ext) or {@link ObjectException} (valid ELF, unusable as a BPF object); each message
 * starts with the object's name.
 *
 * @param btf    the object's BTF with DATASEC sizes and offsets fixed up, null if it has no .BTF
 * @param btfExt the object's .BTF.ext, empty if it has none
 */
public record BpfObject(String name, String license, List<ProgramSpec> programs, List<MapSpec> maps,
                        List<StructOpsSpec> structOps, Btf btf, BtfExt btfExt) {
    /** Largest object file accepted by {@link #load(Path)}. */
    public static final long MAX_FILE_SIZE = 256L << 20;

    public BpfObject {
        programs = List.copyOf(programs);
        maps = List.copyOf(maps);
        structOps = List.copyOf(structOps);
    }

    /** Reads and parses the object file at {@code path}; its name is the file name without ".o". */
    public static BpfObject load(Path path) throws IOException {
        long size = Files.size(path);
        if (size > MAX_FILE_SIZE) throw new ObjectException(path + ": " + size + " bytes, larger than the " + MAX_FILE_SIZE + " byte limit");
        String file = path.getFileName().toString();
        return parse(Files.readAllBytes(path), file.endsWith(".o") ? file.substring(0, file.length() - 2) : file);
    }

    /** Where the bpf-objects module puts its programs on the class path ("/bpf/null.o", ...). */
    public static final String RESOURCE_DIR = "/bpf/";

    /**
     * A program bundled with ublkctl ("null", "loop", "stripe", "test/xdp", ...), read from the class
     * path resource {@code /bpf/<name>.o} through {@code loader}; empty if there is no such resource.
     */
    public static Optional<BpfObject> bundled(String name, ClassLoader loader) throws IOException {
        if (name.isEmpty() || name.contains("..") || name.startsWith("/"))
            throw new IllegalArgumentException("bad bundled program name \"" + name + "\"");
        try (var in = loader.getResourceAsStream(RESOURCE_DIR.substring(1) + name + ".o")) {
            if (in == null) return Optional.empty();
            byte[] data = in.readNBytes((int) MAX_FILE_SIZE + 1);
            if (data.length > MAX_FILE_SIZE) throw new ObjectException(name + ": larger than the " + MAX_FILE_SIZE + " byte limit");
            return Optional.of(parse(data, name));
        }
    }

    /** {@link #bundled(String, ClassLoader)} with this class's loader. */
    public static Optional<BpfObject> bundled(String name) throws IOException {
        return bundled(name, BpfObject.class.getClassLoader());
    }

    /** The programs ublkctl ships, by the names a user gives them. */
    public static final List<String> BUNDLED = List.of("null", "loop", "stripe", "qcow2");

    /** True if {@code program} names a shipped program whose object is on the class path. */
    public static boolean isBundled(String program) {
        return BUNDLED.contains(program)
                && BpfObject.class.getClassLoader().getResource(RESOURCE_DIR.substring(1) + program + ".o") != null;
    }

    /**
     * What a PROGRAM argument names: a shipped program's name as is, or an existing object file's
     * absolute path.
     * @throws IllegalArgumentException neither, in words a user can act on
     */
    public static String resolve(String program) {
        if (isBundled(program)) return program;
        Path p = Path.of(program);
        if (Files.isRegularFile(p)) return p.toAbsolutePath().normalize().toString();
        if (!program.contains("/") && !program.endsWith(".o")) {
            List<String> present = BUNDLED.stream().filter(BpfObject::isBundled).toList();
            throw new IllegalArgumentException("unknown BPF program '" + program + "': not bundled (bundled: "
                    + (present.isEmpty() ? "none in this build" : String.join(", ", present)) + ") and no such file");
        }
        throw new IllegalArgumentException("no such object file: " + program);
    }

    /**
     * Opens what a PROGRAM argument names ({@link #resolve}).
     * @throws IllegalArgumentException no such program, an unreadable file, or not a usable BPF object
     */
    public static BpfObject open(String program) {
        String resolved = resolve(program);
        try {
            if (isBundled(resolved)) return bundled(resolved).orElseThrow();
            return load(Path.of(resolved));
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + resolved + ": " + e.getMessage(), e);
        } catch (ElfException | BtfException | ObjectException e) {
            throw new IllegalArgumentException("not a usable BPF object: " + e.getMessage(), e);
        }
    }

    /** Parses object bytes; {@code name} is used in messages and as the object's name. */
    public static BpfObject parse(byte[] data, String name) {
        try {
            return new ObjectReader(data, name).read();
        } catch (ElfException e) {
            throw new ElfException(name + ": " + e.getMessage());
        } catch (BtfException e) {
            throw new BtfException(name + ": " + e.getMessage());
        }
    }

    public Optional<ProgramSpec> program(String programName) {
        return programs.stream().filter(p -> p.name().equals(programName)).findFirst();
    }

    public Optional<MapSpec> map(String mapName) {
        return maps.stream().filter(m -> m.name().equals(mapName)).findFirst();
    }

    /** The index of a map in {@link #maps()} (what ld_imm64 immediates refer to), or -1. */
    public int mapIndex(String mapName) {
        for (int i = 0; i < maps.size(); i++) if (maps.get(i).name().equals(mapName)) return i;
        return -1;
    }

    public Optional<StructOpsSpec> structOps(String variable) {
        return structOps.stream().filter(s -> s.name().equals(variable)).findFirst();
    }

}
