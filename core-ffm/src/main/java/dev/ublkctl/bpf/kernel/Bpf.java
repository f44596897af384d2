package dev.ublkctl.bpf.kernel;

import dev.ublkctl.bpf.maps.MapType;
import dev.ublkctl.bpf.object.ProgramType;
import dev.ublkctl.sys.Errno;
import dev.ublkctl.sys.Libc;
import dev.ublkctl.sys.Syscalls;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

import static dev.ublkctl.bpf.kernel.BpfAttr.off;

/**
 * The bpf(2) system call, command by command, as cilium/ebpf's {@code internal/sys} does it:
 * fill the command's member of {@code union bpf_attr}, call, turn a failure into a
 * {@link BpfException} naming the command. Higher-level handles are {@link KernelMap} and
 * {@link KernelProgram}.
 */
public final class Bpf {
    private Bpf() {}

    static final int MAP_CREATE = 0, MAP_LOOKUP_ELEM = 1, MAP_UPDATE_ELEM = 2, MAP_DELETE_ELEM = 3,
            MAP_GET_NEXT_KEY = 4, PROG_LOAD = 5, OBJ_PIN = 6, OBJ_GET = 7, PROG_TEST_RUN = 10,
            OBJ_GET_INFO_BY_FD = 15, BTF_LOAD = 18, LINK_CREATE = 28, ENABLE_STATS = 32;

    /** Update flags for map elements. */
    public static final long BPF_ANY = 0, BPF_NOEXIST = 1, BPF_EXIST = 2;

    /** prog_flags: the program may sleep (required for BPF_PROG_TYPE_SYSCALL). */
    public static final int BPF_F_SLEEPABLE = 1 << 4;

    private static final String[] NAMES = new String[33];
    static {
        NAMES[MAP_CREATE] = "BPF_MAP_CREATE"; NAMES[MAP_LOOKUP_ELEM] = "BPF_MAP_LOOKUP_ELEM";
        NAMES[MAP_UPDATE_ELEM] = "BPF_MAP_UPDATE_ELEM"; NAMES[MAP_DELETE_ELEM] = "BPF_MAP_DELETE_ELEM";
        NAMES[MAP_GET_NEXT_KEY] = "BPF_MAP_GET_NEXT_KEY"; NAMES[PROG_LOAD] = "BPF_PROG_LOAD";
        NAMES[OBJ_PIN] = "BPF_OBJ_PIN"; NAMES[OBJ_GET] = "BPF_OBJ_GET"; NAMES[PROG_TEST_RUN] = "BPF_PROG_TEST_RUN";
        NAMES[OBJ_GET_INFO_BY_FD] = "BPF_OBJ_GET_INFO_BY_FD"; NAMES[BTF_LOAD] = "BPF_BTF_LOAD";
        NAMES[ENABLE_STATS] = "BPF_ENABLE_STATS"; NAMES[LINK_CREATE] = "BPF_LINK_CREATE";
    }

    /** Raw bpf(2): returns the result or the negated errno. */
    static long call(int cmd, MemorySegment attr) {
        return Libc.syscall(Syscalls.BPF, cmd, attr.address(), BpfAttr.SIZE, 0, 0, 0);
    }

    /** bpf(2) that throws on failure. */
    static long check(int cmd, MemorySegment attr, String args) {
        long r = call(cmd, attr);
        if (r < 0) throw new BpfException(NAMES[cmd], args, (int) -r, null);
        return r;
    }

    static MemorySegment attr(Arena a) { return a.allocate(BpfAttr.SIZE, 8); }

    static void putInt(MemorySegment attr, StructLayout l, String field, int v) { attr.set(ValueLayout.JAVA_INT, off(l, field), v); }

    static void putLong(MemorySegment attr, StructLayout l, String field, long v) { attr.set(ValueLayout.JAVA_LONG, off(l, field), v); }

    static int getInt(MemorySegment attr, StructLayout l, String field) { return attr.get(ValueLayout.JAVA_INT, off(l, field)); }

    static void putName(MemorySegment attr, StructLayout l, String field, String name) {
        if (name == null) return;
        byte[] b = name.getBytes(StandardCharsets.US_ASCII);
        // The kernel accepts [A-Za-z0-9_.], at most 15 characters plus NUL.
        StringBuilder clean = new StringBuilder();
        for (byte c : b) {
            if (clean.length() == 15) break;
            clean.append(Character.isLetterOrDigit(c) || c == '_' || c == '.' ? (char) c : '_');
        }
        MemorySegment.copy(clean.toString().getBytes(StandardCharsets.US_ASCII), 0, attr, ValueLayout.JAVA_BYTE,
                off(l, field), clean.length());
    }

    /** Creates a map in the kernel. */
    public static KernelMap createMap(MapType type, String name, int keySize, int valueSize, int maxEntries, int flags) {
        return createMap(type, name, keySize, valueSize, maxEntries, flags, 0, 0, 0);
    }

    /**
     * Creates a map whose key and value types are described by BTF ({@code btfFd} from {@link #loadBtf}):
     * what the kernel needs for values holding a {@code struct bpf_spin_lock}. Type ids 0 leave the map untyped.
     */
    public static KernelMap createMap(MapType type, String name, int keySize, int valueSize, int maxEntries, int flags,
                                      int btfFd, int btfKeyTypeId, int btfValueTypeId) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment attr = attr(a);
            StructLayout l = BpfAttr.MAP_CREATE;
            putInt(attr, l, "map_type", type.kernelId);
            putInt(attr, l, "key_size", keySize);
            putInt(attr, l, "value_size", valueSize);
            putInt(attr, l, "max_entries", maxEntries);
            putInt(attr, l, "map_flags", flags);
            putName(attr, l, "map_name", name);
            if (btfValueTypeId != 0) {
                putInt(attr, l, "btf_fd", btfFd);
                putInt(attr, l, "btf_key_type_id", btfKeyTypeId);
                putInt(attr, l, "btf_value_type_id", btfValueTypeId);
            }
            int fd = (int) check(MAP_CREATE, attr, type + " \"" + name + "\" key " + keySize + " value " + valueSize
                    + " max_entries " + maxEntries);
            return new KernelMap(fd, type, name, keySize, valueSize, maxEntries);
        }
    }

    /** map_flags of a struct_ops map registered through a link ({@code SEC(".struct_ops.link")}). */
    public static final int BPF_F_LINK = 1 << 13;

    /**
     * Creates a BPF_MAP_TYPE_STRUCT_OPS map: one value of the kernel's {@code struct bpf_struct_ops_<type>}
     * ({@code vmlinuxValueTypeId} in the kernel's BTF), {@code btfFd} the object's BTF, as libbpf does.
     */
    public static KernelMap createStructOpsMap(String name, int valueSize, int flags, int btfFd, int vmlinuxValueTypeId) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment attr = attr(a);
            StructLayout l = BpfAttr.MAP_CREATE;
            putInt(attr, l, "map_type", MapType.STRUCT_OPS.kernelId);
            putInt(attr, l, "key_size", 4);
            putInt(attr, l, "value_size", valueSize);
            putInt(attr, l, "max_entries", 1);
            putInt(attr, l, "map_flags", flags);
            putName(attr, l, "map_name", name);
            putInt(attr, l, "btf_fd", btfFd);
            putInt(attr, l, "btf_vmlinux_value_type_id", vmlinuxValueTypeId);
            int fd = (int) check(MAP_CREATE, attr, "STRUCT_OPS \"" + name + "\" value " + valueSize + " vmlinux type " + vmlinuxValueTypeId);
            return new KernelMap(fd, MapType.STRUCT_OPS, name, 4, valueSize, 1);
        }
    }

    /** BPF_LINK_CREATE of {@code fd} (a program, or a struct_ops map) as {@code attachType}; returns the link fd. */
    public static int linkCreate(int fd, int targetFd, int attachType, int flags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment attr = attr(a);
            StructLayout l = BpfAttr.LINK_CREATE;
            putInt(attr, l, "prog_fd", fd);
            putInt(attr, l, "target_fd", targetFd);
            putInt(attr, l, "attach_type", attachType);
            putInt(attr, l, "flags", flags);
            return (int) check(LINK_CREATE, attr, "fd " + fd + ", attach type " + attachType);
        }
    }

    /** Loads raw BTF; returns its fd. A rejected blob carries the kernel's BTF log. */
    public static int loadBtf(byte[] btf) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment blob = a.allocateFrom(ValueLayout.JAVA_BYTE, btf);
            MemorySegment attr = attr(a);
            StructLayout l = BpfAttr.BTF_LOAD;
            putLong(attr, l, "btf", blob.address());
            putInt(attr, l, "btf_size", btf.length);
            long r = call(BTF_LOAD, attr);
            if (r >= 0) return (int) r;
            // Retry with a log, as libbpf does, so the error says why.
            int logSize = 1 << 20;
            MemorySegment log = a.allocate(logSize);
            attr.fill((byte) 0);
            putLong(attr, l, "btf", blob.address());
            putInt(attr, l, "btf_size", btf.length);
            putLong(attr, l, "btf_log_buf", log.address());
            putInt(attr, l, "btf_log_size", logSize);
            putInt(attr, l, "btf_log_level", 1);
            long r2 = call(BTF_LOAD, attr);
            if (r2 >= 0) return (int) r2;
            throw new BpfException("BPF_BTF_LOAD", btf.length + " bytes", (int) -r2, log.getString(0));
        }
    }

    /**
     * What to load: the program's type, instructions (8-byte slots), license and name; optionally the
     * program's BTF ({@code progBtfFd} with {@code funcInfo}: {@code struct bpf_func_info} records, u32
     * insn_off and u32 type_id each, which the verifier requires of programs with callbacks) and what it
     * attaches to ({@code attachBtfId} in the kernel's BTF, with {@code expectedAttachType}, for struct_ops).
     */
    public record ProgramLoad(ProgramType type, byte[] insns, String license, String name, int expectedAttachType,
                              int logLevel, int progFlags, int progBtfFd, byte[] funcInfo, int attachBtfId) {
        public ProgramLoad {
            if (insns.length == 0 || insns.length % 8 != 0)
                throw new IllegalArgumentException("instructions must be a non-empty multiple of 8 bytes, got " + insns.length);
            if (funcInfo != null && funcInfo.length % FUNC_INFO_SIZE != 0)
                throw new IllegalArgumentException("func info must be whole " + FUNC_INFO_SIZE + "-byte records, got " + funcInfo.length);
        }

        public ProgramLoad(ProgramType type, byte[] insns, String license, String name) {
            this(type, insns, license, name, 0, 0, 0, 0, null, 0);
        }

        /** The same load with {@code prog_flags} (e.g. {@link Bpf#BPF_F_SLEEPABLE}). */
        public ProgramLoad withFlags(int flags) {
            return new ProgramLoad(type, insns, license, name, expectedAttachType, logLevel, progFlags | flags, progBtfFd,
                    funcInfo, attachBtfId);
        }

        /** The same load with the program's BTF and its func info records. */
        public ProgramLoad withBtf(int btfFd, byte[] funcInfoRecords) {
            return new ProgramLoad(type, insns, license, name, expectedAttachType, logLevel, progFlags, btfFd,
                    funcInfoRecords, attachBtfId);
        }

        /** The same load attached to kernel BTF type {@code btfId} as {@code attachType} (struct_ops: the member index). */
        public ProgramLoad withAttach(int btfId, int attachType) {
            return new ProgramLoad(type, insns, license, name, attachType, logLevel, progFlags, progBtfFd, funcInfo, btfId);
        }
    }

    /** Size of one {@code struct bpf_func_info}. */
    public static final int FUNC_INFO_SIZE = 8;

    /**
     * Loads a program. On failure the load is repeated with the verifier log enabled, and the
     * {@link BpfException} carries that log.
     */
    public static KernelProgram loadProgram(ProgramLoad p) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment insns = a.allocateFrom(ValueLayout.JAVA_BYTE, p.insns());
            MemorySegment license = a.allocateFrom(p.license() == null ? "GPL" : p.license());
            MemorySegment funcInfo = p.funcInfo() == null || p.funcInfo().length == 0 ? MemorySegment.NULL
                    : a.allocateFrom(ValueLayout.JAVA_BYTE, p.funcInfo());
            MemorySegment attr = attr(a);
            int logSize = p.logLevel() > 0 ? 1 << 20 : 0;
            MemorySegment log = logSize > 0 ? a.allocate(logSize) : MemorySegment.NULL;
            long r = progLoad(attr, p, insns, license, funcInfo, log, logSize, p.logLevel());
            if (r < 0 && logSize == 0 && r != -Errno.EPERM) {
                logSize = 1 << 22;
                log = a.allocate(logSize);
                r = progLoad(attr, p, insns, license, funcInfo, log, logSize, 1);
            }
            if (r < 0) {
                String text = logSize > 0 ? log.getString(0) : "";
                throw new BpfException("BPF_PROG_LOAD", p.type() + " \"" + p.name() + "\", " + (p.insns().length / 8)
                        + " insns", (int) -r, text);
            }
            String verifierLog = p.logLevel() > 0 ? log.getString(0) : "";
            return new KernelProgram((int) r, p.type(), p.name(), verifierLog);
        }
    }

    private static long progLoad(MemorySegment attr, ProgramLoad p, MemorySegment insns, MemorySegment license,
                                 MemorySegment funcInfo, MemorySegment log, int logSize, int logLevel) {
        attr.fill((byte) 0);
        StructLayout l = BpfAttr.PROG_LOAD;
        putInt(attr, l, "prog_type", p.type().kernelId);
        putInt(attr, l, "insn_cnt", p.insns().length / 8);
        putLong(attr, l, "insns", insns.address());
        putLong(attr, l, "license", license.address());
        putInt(attr, l, "expected_attach_type", p.expectedAttachType());
        putInt(attr, l, "prog_flags", p.progFlags());
        putName(attr, l, "prog_name", p.name());
        putInt(attr, l, "attach_btf_id", p.attachBtfId());
        if (p.funcInfo() != null && p.funcInfo().length > 0) {
            putInt(attr, l, "prog_btf_fd", p.progBtfFd());
            putInt(attr, l, "func_info_rec_size", FUNC_INFO_SIZE);
            putLong(attr, l, "func_info", funcInfo.address());
            putInt(attr, l, "func_info_cnt", p.funcInfo().length / FUNC_INFO_SIZE);
        }
        if (logSize > 0) {
            putInt(attr, l, "log_level", logLevel);
            putInt(attr, l, "log_size", logSize);
            putLong(attr, l, "log_buf", log.address());
        }
        return call(PROG_LOAD, attr);
    }

    /** Pins an object (map or program fd) at a path in a bpffs mount. */
    public static void pin(int fd, String path) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment attr = attr(a);
            putLong(attr, BpfAttr.OBJ, "pathname", a.allocateFrom(path).address());
            putInt(attr, BpfAttr.OBJ, "bpf_fd", fd);
            check(OBJ_PIN, attr, "fd " + fd + ", \"" + path + "\"");
        }
    }

    /** Opens a pinned object; returns a new fd. */
    public static int getPinned(String path) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment attr = attr(a);
            putLong(attr, BpfAttr.OBJ, "pathname", a.allocateFrom(path).address());
            return (int) check(OBJ_GET, attr, "\"" + path + "\"");
        }
    }

    /**
     * Turns on kernel run-time statistics (run_cnt / run_time_ns in prog info) for as long as
     * the returned fd stays open.
     */
    public static int enableStats() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment attr = attr(a);
            putInt(attr, BpfAttr.ENABLE_STATS, "type", 0 /* BPF_STATS_RUN_TIME */);
            return (int) check(ENABLE_STATS, attr, "BPF_STATS_RUN_TIME");
        }
    }

    /** Fills {@code info} (of {@code layout}) for an object fd. */
    static void objInfo(int fd, MemorySegment info, Arena a) {
        MemorySegment attr = attr(a);
        putInt(attr, BpfAttr.INFO, "bpf_fd", fd);
        putInt(attr, BpfAttr.INFO, "info_len", (int) info.byteSize());
        putLong(attr, BpfAttr.INFO, "info", info.address());
        check(OBJ_GET_INFO_BY_FD, attr, "fd " + fd);
    }

    /** Whether bpf(2) is usable here (exists and permitted); the reason if not. */
    public static String unavailableReason() {
        try {
            KernelMap m = createMap(MapType.ARRAY, "probe", 4, 4, 1, 0);
            m.close();
            return null;
        } catch (BpfException e) {
            return e.getMessage();
        } catch (RuntimeException | LinkageError e) {
            return "bpf(2) unavailable: " + e.getMessage();
        }
    }

    static String cstring(MemorySegment s, long off, int max) {
        byte[] b = s.asSlice(off, max).toArray(ValueLayout.JAVA_BYTE);
        int n = 0;
        while (n < b.length && b[n] != 0) n++;
        return new String(b, 0, n, StandardCharsets.US_ASCII);
    }
}
