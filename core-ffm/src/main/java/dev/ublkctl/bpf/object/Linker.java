package dev.ublkctl.bpf.object;

import dev.ublkctl.bpf.elf.ElfFile;
import dev.ublkctl.bpf.elf.Relocation;
import dev.ublkctl.bpf.elf.Section;
import dev.ublkctl.bpf.elf.Symbol;
import dev.ublkctl.bpf.insn.Decoder;
import dev.ublkctl.bpf.insn.Encoder;
import dev.ublkctl.bpf.insn.Instruction;
import dev.ublkctl.bpf.insn.Instruction.CallKind;
import dev.ublkctl.bpf.insn.Instruction.ImmKind;
import dev.ublkctl.bpf.insn.Opcodes;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * Lays out one program: its entry function, then every function it calls or takes the address of
 * (in first-reference order, each once, as libbpf appends subprograms), and applies the ELF
 * relocations through the instruction decoder and encoder: an {@code ld_imm64} of a map becomes
 * {@link ImmKind#MAP} with the map's index, of global data {@link ImmKind#MAP_VALUE}, of a
 * function {@link ImmKind#FUNC}; a call becomes {@link CallKind#LOCAL} with its pc-relative target
 * or {@link CallKind#KFUNC} with an index into the program's kfunc list. The reader
 * ({@link ObjectReader}) finds the functions, maps and global data; this class only links.
 */
final class Linker {

    /** One function symbol's code (raw slots) with its relocations by slot index. */
    record Fn(String name, boolean global, Section section, long start, long[] code, Map<Integer, Relocation> relocs) {
        int insnCount() { return code.length; }
    }

    /** A linked program: its slots, the kfuncs its calls name, and where each function landed. */
    record Linked(long[] code, List<String> kfuncs, Map<Fn, Integer> base) { }

    private final ElfFile elf;
    /** (section index, byte offset) -> function */
    private final Map<Integer, TreeMap<Long, Fn>> functions;
    /** .maps symbol offset -> map index */
    private final Map<Long, Integer> btfMapByOffset;
    /** global data section index -> map index */
    private final Map<Integer, Integer> dataMapBySection;
    /** functions declared {@code extern ... __ksym} */
    private final Set<String> ksyms;
    private final Function<String, ObjectException> fail;

    Linker(ElfFile elf, Map<Integer, TreeMap<Long, Fn>> functions, Map<Long, Integer> btfMapByOffset,
           Map<Integer, Integer> dataMapBySection, Set<String> ksyms, Function<String, ObjectException> fail) {
        this.elf = elf;
        this.functions = functions;
        this.btfMapByOffset = btfMapByOffset;
        this.dataMapBySection = dataMapBySection;
        this.ksyms = ksyms;
        this.fail = fail;
    }

    Linked link(Fn entry) {
        List<Fn> order = new ArrayList<>();
        Map<Fn, Integer> base = new LinkedHashMap<>();
        order.add(entry);
        base.put(entry, 0);
        int total = entry.insnCount();
        for (int i = 0; i < order.size(); i++) {
            Fn fn = order.get(i);
            for (int k = 0; k < fn.insnCount(); k += width(fn, k)) {
                Fn target = callTarget(fn, k);
                if (target != null && !base.containsKey(target)) {
                    base.put(target, total);
                    total += target.insnCount();
                    order.add(target);
                }
            }
        }
        long[] out = new long[total];
        List<String> kfuncs = new ArrayList<>();
        for (Fn fn : order) {
            int b = base.get(fn);
            System.arraycopy(fn.code(), 0, out, b, fn.insnCount());
            for (int k = 0; k < fn.insnCount(); k += width(fn, k)) relocate(fn, k, out, b + k, base, kfuncs);
        }
        return new Linked(out, List.copyOf(kfuncs), base);
    }

    /** Slots of the instruction at k: an ld_imm64 takes two (its second slot is never an instruction). */
    private static int width(Fn fn, int k) {
        return Opcodes.opcode(fn.code()[k]) == Opcodes.LDDW ? 2 : 1;
    }

    /** The function that instruction k of fn calls or takes the address of, or null. */
    private Fn callTarget(Fn fn, int k) {
        long raw = fn.code()[k];
        int op = Opcodes.opcode(raw), imm = Opcodes.imm(raw);
        Relocation r = fn.relocs().get(k);
        String at = "instruction " + k + " of " + fn.name();
        if (op == (Opcodes.JMP | Opcodes.CALL)) {
            if (r != null) {
                Symbol sym = r.symbol();
                if (sym.isUndefined()) return null; // kfunc
                Section s = sectionOf(sym, at);
                if (!s.isExecutable()) throw fail.apply(at + ": call to " + symName(sym) + ", which is not code (section " + s.name() + ")");
                long target = sym.value() + (imm + 1L) * 8;
                return functionAt(s.index(), target, at + ": call to " + symName(sym));
            }
            if (Opcodes.src(raw) == CallKind.LOCAL.src) {
                long target = fn.start() + (k + 1L + imm) * 8;
                return functionAt(fn.section().index(), target, at + ": bpf-to-bpf call");
            }
            return null;
        }
        if (op == Opcodes.LDDW && r != null && !r.symbol().isUndefined()) {
            Section s = sectionOf(r.symbol(), at);
            if (s.isExecutable()) return functionAt(s.index(), r.symbol().value() + imm, at + ": address of " + symName(r.symbol()));
        }
        return null;
    }

    private void relocate(Fn fn, int k, long[] out, int at, Map<Fn, Integer> base, List<String> kfuncs) {
        long raw = fn.code()[k];
        int op = Opcodes.opcode(raw);
        Relocation r = fn.relocs().get(k);
        String where = "instruction " + k + " of " + fn.name() + " (" + fn.section().name() + ")";
        if (op == Opcodes.LDDW) {
            if (k + 1 >= fn.insnCount()) throw fail.apply(where + ": ld_imm64 without its second slot");
            if (Opcodes.opcode(fn.code()[k + 1]) != 0)
                throw fail.apply(where + ": ld_imm64 second slot has opcode 0x" + Integer.toHexString(Opcodes.opcode(fn.code()[k + 1])) + ", expected 0");
            if (fn.relocs().containsKey(k + 1)) throw fail.apply(where + ": relocation on the second slot of ld_imm64");
            if (r == null) {
                if (Opcodes.src(raw) != 0) throw fail.apply(where + ": ld_imm64 with src_reg " + Opcodes.src(raw) + " but no relocation");
                return;
            }
            if (r.type() != Relocation.R_BPF_64_64)
                throw fail.apply(where + ": ld_imm64 has relocation " + Relocation.typeName(r.type()) + ", expected R_BPF_64_64");
            if (!(Decoder.decode(fn.code(), k) instanceof Instruction.LoadImm64 ld))
                throw fail.apply(where + ": not a valid ld_imm64: " + Decoder.decode(fn.code(), k));
            Symbol sym = r.symbol();
            if (sym.isUndefined())
                throw fail.apply(where + ": reference to undefined symbol " + symName(sym) + " (extern variables / __ksym variables are not supported)");
            Section s = sectionOf(sym, where);
            int addend = Opcodes.imm(raw);
            long off = sym.value() + addend;
            Instruction.LoadImm64 linked;
            if (s.name().equals(".maps")) {
                Integer idx = btfMapByOffset.get(sym.value());
                if (idx == null || addend != 0)
                    throw fail.apply(where + ": reference to " + symName(sym) + " in .maps at offset " + off + ", which is not a map definition");
                linked = new Instruction.LoadImm64(ld.dst(), ImmKind.MAP, idx);
            } else if (dataMapBySection.containsKey(s.index())) {
                if (off < 0 || off > s.size())
                    throw fail.apply(where + ": reference to " + symName(sym) + "+" + addend + " outside " + s.name() + " (size " + s.size() + ")");
                linked = new Instruction.LoadImm64(ld.dst(), ImmKind.MAP_VALUE,
                        (dataMapBySection.get(s.index()) & 0xffffffffL) | off << 32);
            } else if (s.isExecutable()) {
                Fn target = functionAt(s.index(), off, where + ": address of " + symName(sym));
                linked = new Instruction.LoadImm64(ld.dst(), ImmKind.FUNC, (base.get(target) - (at + 1)) & 0xffffffffL);
            } else {
                throw fail.apply(where + ": reference to " + symName(sym) + " in section " + s.name()
                        + ", which is neither a map, global data nor code");
            }
            put(out, at, linked);
            return;
        }
        if (op == (Opcodes.JMP | Opcodes.CALL)) {
            int src = Opcodes.src(raw);
            if (r != null) {
                if (r.type() != Relocation.R_BPF_64_32)
                    throw fail.apply(where + ": call has relocation " + Relocation.typeName(r.type()) + ", expected R_BPF_64_32");
                Symbol sym = r.symbol();
                if (sym.isUndefined()) {
                    if (sym.name().isEmpty()) throw fail.apply(where + ": call to an unnamed undefined symbol");
                    if (!ksyms.contains(sym.name()))
                        throw fail.apply(where + ": call to undefined function " + sym.name()
                                + " (a kfunc must be declared extern ... __ksym, which puts it in the BTF .ksyms section)");
                    int idx = kfuncs.indexOf(sym.name());
                    if (idx < 0) {
                        idx = kfuncs.size();
                        kfuncs.add(sym.name());
                    }
                    put(out, at, new Instruction.Call(CallKind.KFUNC, idx));
                    return;
                }
                put(out, at, new Instruction.Call(CallKind.LOCAL, base.get(callTarget(fn, k)) - (at + 1)));
                return;
            }
            if (src == CallKind.LOCAL.src) {
                put(out, at, new Instruction.Call(CallKind.LOCAL, base.get(callTarget(fn, k)) - (at + 1)));
                return;
            }
            if (src != CallKind.HELPER.src) throw fail.apply(where + ": call with src_reg " + src + " but no relocation");
            return;
        }
        if (r != null)
            throw fail.apply(where + ": relocation " + Relocation.typeName(r.type()) + " against " + symName(r.symbol())
                    + " on opcode 0x" + Integer.toHexString(op) + ", which is neither ld_imm64 nor call");
    }

    private static void put(long[] out, int at, Instruction insn) {
        long[] s = Encoder.encode(insn);
        System.arraycopy(s, 0, out, at, s.length);
    }

    /** A call or function reference target: a function starting exactly at {@code offset} in {@code sectionIndex}. */
    private Fn functionAt(int sectionIndex, long offset, String context) {
        TreeMap<Long, Fn> fns = functions.get(sectionIndex);
        Fn fn = fns == null ? null : fns.get(offset);
        if (fn == null) {
            String sec = sectionIndex >= 0 && sectionIndex < elf.sections().size() ? elf.section(sectionIndex).name() : "#" + sectionIndex;
            throw fail.apply(context + ": target offset " + offset + " in section " + sec + " is not the start of a function");
        }
        return fn;
    }

    private Section sectionOf(Symbol sym, String where) {
        int idx = sym.shndx();
        if (idx <= 0 || idx >= elf.sections().size())
            throw fail.apply(where + ": symbol " + symName(sym) + " has section index " + idx + ", which is not a section of this object");
        return elf.section(idx);
    }

    static String symName(Symbol s) { return s.name().isEmpty() ? "symbol #" + s.index() : s.name(); }
}
