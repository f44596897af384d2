package dev.ublkctl.bpf.insn;

import dev.ublkctl.bpf.insn.Instruction.*;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Prints instructions the way {@code bpftool prog dump xlated} does, e.g.
 * {@code 0: (b7) r0 = 0}, {@code 1: (61) r1 = *(u32 *)(r1 +4)}, {@code 2: (25) if r1 > 0x10 goto pc+3},
 * {@code 3: (85) call bpf_map_lookup_elem#1}, {@code 4: (db) lock *(u64 *)(r10 -8) += r1}.
 * With {@link SourceLines}, each new source line is printed as {@code ; line} before its instructions.
 */
public final class Disassembler {

    private static final Map<Integer, String> HELPERS = Map.ofEntries(
            Map.entry(1, "bpf_map_lookup_elem"), Map.entry(2, "bpf_map_update_elem"),
            Map.entry(3, "bpf_map_delete_elem"), Map.entry(4, "bpf_probe_read"),
            Map.entry(5, "bpf_ktime_get_ns"), Map.entry(6, "bpf_trace_printk"),
            Map.entry(7, "bpf_get_prandom_u32"), Map.entry(8, "bpf_get_smp_processor_id"),
            Map.entry(12, "bpf_tail_call"), Map.entry(14, "bpf_get_current_pid_tgid"),
            Map.entry(15, "bpf_get_current_uid_gid"), Map.entry(16, "bpf_get_current_comm"),
            Map.entry(25, "bpf_perf_event_output"), Map.entry(51, "bpf_redirect_map"),
            Map.entry(87, "bpf_map_push_elem"), Map.entry(88, "bpf_map_pop_elem"), Map.entry(89, "bpf_map_peek_elem"),
            Map.entry(113, "bpf_probe_read_kernel"), Map.entry(125, "bpf_ktime_get_boot_ns"),
            Map.entry(130, "bpf_ringbuf_output"), Map.entry(131, "bpf_ringbuf_reserve"),
            Map.entry(132, "bpf_ringbuf_submit"), Map.entry(133, "bpf_ringbuf_discard"),
            Map.entry(181, "bpf_loop"), Map.entry(195, "bpf_map_lookup_percpu_elem"));

    /** Kernel name of a helper id, or {@code unknown}. */
    public static String helperName(int id) { return HELPERS.getOrDefault(id, "unknown"); }

    private final SourceLines sourceLines;
    private final List<String> kfuncNames;
    private final List<String> mapNames;

    public Disassembler() { this(SourceLines.NONE, List.of(), List.of()); }

    /**
     * @param sourceLines C source per instruction (may be {@link SourceLines#NONE})
     * @param kfuncNames  names for kfunc calls, by the call's imm (index)
     * @param mapNames    names for map references, by map index
     */
    public Disassembler(SourceLines sourceLines, List<String> kfuncNames, List<String> mapNames) {
        this.sourceLines = Objects.requireNonNull(sourceLines);
        this.kfuncNames = List.copyOf(kfuncNames);
        this.mapNames = List.copyOf(mapNames);
    }

    public Disassembler withSourceLines(SourceLines lines) { return new Disassembler(lines, kfuncNames, mapNames); }

    /** A full listing, one instruction per line, each prefixed with its slot index. */
    public String dump(byte[] code) { return dump(Decoder.slots(code)); }

    public String dump(long[] slots) {
        StringBuilder sb = new StringBuilder();
        String lastLine = null;
        for (int i = 0; i < slots.length; ) {
            Instruction insn = Decoder.decode(slots, i);
            String line = sourceLines.lineFor(i);
            if (line != null && !line.equals(lastLine)) {
                sb.append("; ").append(line.strip()).append('\n');
                lastLine = line;
            }
            sb.append(String.format("%4d: ", i)).append(format(insn)).append('\n');
            i += insn.slots();
        }
        return sb.toString();
    }

    /** One instruction as {@code (op) text}, without the index. */
    public String format(Instruction insn) {
        return String.format("(%02x) ", insn.opcode()) + text(insn);
    }

    /** One instruction's text, without opcode byte and index. */
    public String text(Instruction insn) {
        return switch (insn) {
            case Alu a -> alu(a);
            case ByteSwap s -> s.kind() == SwapKind.BSWAP
                    ? "r" + s.dst() + " = bswap" + s.width() + " r" + s.dst()
                    : "r" + s.dst() + " = " + (s.kind() == SwapKind.BE ? "be" : "le") + s.width() + " r" + s.dst();
            case Jump j -> {
                char r = j.wide() ? 'r' : 'w';
                String rhs = j.regSource() ? r + "" + j.src() : String.format("0x%x", j.imm());
                yield "if " + r + j.dst() + " " + j.op().symbol + " " + rhs + " goto pc" + signed(j.off());
            }
            case Goto g -> (g.longJump() ? "gotol pc" : "goto pc") + signed(g.offset());
            case LoadImm64 l -> "r" + l.dst() + " = " + switch (l.kind()) {
                case VALUE -> String.format("0x%x", l.imm());
                case MAP -> "map[" + mapName(l.mapIndex()) + "]";
                case MAP_VALUE -> "map[" + mapName(l.mapIndex()) + "][0]+" + l.valueOffset();
                case FUNC -> "func pc" + signed(l.funcOffset());
            };
            case Load l -> "r" + l.dst() + " = *(" + (l.signExtend() ? "s" + l.size().bytes * 8 : l.size().cType)
                    + " *)(r" + l.src() + " " + signed(l.off()) + ")";
            case Store s -> "*(" + s.size().cType + " *)(r" + s.dst() + " " + signed(s.off()) + ") = "
                    + (s.regSource() ? "r" + s.src() : Integer.toString(s.imm()));
            case Atomic a -> atomic(a);
            case Call c -> switch (c.kind()) {
                case HELPER -> "call " + helperName(c.imm()) + "#" + c.imm();
                case LOCAL -> "call pc" + signed(c.imm());
                case KFUNC -> "call " + (c.imm() >= 0 && c.imm() < kfuncNames.size()
                        ? kfuncNames.get(c.imm()) : "kfunc") + "#" + c.imm();
            };
            case Exit e -> "exit";
            case Unknown u -> "invalid: " + u.reason();
        };
    }

    private String mapName(int index) {
        return index >= 0 && index < mapNames.size() ? mapNames.get(index) : "idx:" + index;
    }

    private static String alu(Alu a) {
        char r = a.wide() ? 'r' : 'w';
        String d = r + "" + a.dst();
        String s = a.regSource() ? r + "" + a.src() : Integer.toString(a.imm());
        return switch (a.op()) {
            case NEG -> d + " = -" + d;
            case MOVSX -> d + " = (s" + a.off() + ")" + r + a.src();
            default -> d + " " + a.op().symbol + " " + s;
        };
    }

    private static String atomic(Atomic a) {
        String t = a.size().cType;
        String mem = "(" + t + " *)(r" + a.dst() + " " + signed(a.off()) + ")";
        String w = a.size() == Instruction.Size.DW ? "64" : "";
        return switch (a.op()) {
            case ADD, OR, AND, XOR -> "lock *" + mem + " " + a.op().text + " r" + a.src();
            case FETCH_ADD, FETCH_OR, FETCH_AND, FETCH_XOR ->
                    "r" + a.src() + " = atomic" + w + "_fetch_" + a.op().text + "(" + mem + ", r" + a.src() + ")";
            case XCHG -> "r" + a.src() + " = atomic" + w + "_xchg(" + mem + ", r" + a.src() + ")";
            case CMPXCHG -> "r0 = atomic" + w + "_cmpxchg(" + mem + ", r0, r" + a.src() + ")";
            // load-acquire reads like LDX: dst = *(src + off)
            case LOAD_ACQUIRE -> "r" + a.dst() + " = load_acquire((" + t + " *)(r" + a.src() + " " + signed(a.off()) + "))";
            case STORE_RELEASE -> "store_release(" + mem + ", r" + a.src() + ")";
        };
    }

    private static String signed(int v) { return v < 0 ? Integer.toString(v) : "+" + v; }
}
