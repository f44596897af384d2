package dev.ublkctl.bpf.object;

import dev.ublkctl.bpf.btf.Btf;
import dev.ublkctl.bpf.btf.BtfExt;
import dev.ublkctl.bpf.btf.BtfKind;
import dev.ublkctl.bpf.btf.BtfType;
import dev.ublkctl.bpf.elf.ElfFile;
import dev.ublkctl.bpf.elf.Relocation;
import dev.ublkctl.bpf.elf.Section;
import dev.ublkctl.bpf.elf.Symbol;
import dev.ublkctl.bpf.insn.Decoder;
import dev.ublkctl.bpf.object.Linker.Fn;
import dev.ublkctl.bpf.maps.MapType;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Turns an ELF file into a {@link BpfObject}: maps, global data, struct_ops, functions and their
 * BTF line/func info; the {@link Linker} lays out and relocates each program.
 */
final class ObjectReader {

    private final String objName;
    private final ElfFile elf;
    private Btf btf;
    private final BtfExt btfExt;
    private final List<MapSpec> maps = new ArrayList<>();
    /** .maps symbol offset -> map index */
    private final Map<Long, Integer> btfMapByOffset = new HashMap<>();
    /** global data section index -> map index */
    private final Map<Integer, Integer> dataMapBySection = new HashMap<>();
    /** (section index, byte offset) -> function */
    private final Map<Integer, TreeMap<Long, Fn>> functions = new HashMap<>();

    ObjectReader(byte[] data, String name) {
        this.objName = name;
        this.elf = ElfFile.parse(data);
        Optional<Section> btfSec = elf.section(".BTF");
        this.btf = btfSec.isPresent() ? Btf.parse(elf.contents(btfSec.get())) : null;
        Optional<Section> extSec = elf.section(".BTF.ext");
        this.btfExt = extSec.isPresent() && btf != null ? BtfExt.parse(elf.contents(extSec.get()), btf) : BtfExt.empty();
    }

    private ObjectException fail(String msg) { return new ObjectException(objName + ": " + msg); }

    BpfObject read() {
        String license = readLicense();
        if (elf.section("maps").isPresent()) throw fail("legacy 'maps' section (struct bpf_map_def) is not supported; use BTF-defined maps in .maps");
        readBtfMaps();
        readGlobalData();
        fixOtherDataSecs();
        readFunctions();
        Linker linker = new Linker(elf, functions, btfMapByOffset, dataMapBySection, ksymFunctions(), this::fail);
        List<ProgramSpec> programs = new ArrayList<>();
        for (Section s : elf.sections()) {
            if (!s.isExecutable() || s.size() == 0 || s.name().equals(".text")) continue;
            for (Fn entry : functions.getOrDefault(s.index(), new TreeMap<>()).values()) {
                if (!entry.global())
                    throw fail("program " + entry.name() + " in section '" + s.name() + "' is static; programs must be global functions (as libbpf requires)");
                programs.add(program(linker, entry, license));
            }
        }
        List<StructOpsSpec> structOps = readStructOps(programs);
        readMapValues(programs);
        return new BpfObject(objName, license, programs, maps, structOps, btf, btfExt);
    }

    // ---- license ----------------------------------------------------------------------------

    private String readLicense() {
        Optional<Section> s = elf.section("license");
        if (s.isEmpty()) return "";
        byte[] b = elf.contents(s.get());
        int end = 0;
        while (end < b.length && b[end] != 0) end++;
        return new String(b, 0, end, StandardCharsets.UTF_8);
    }

    // ---- .maps --------------------------------------------------------------------------------

    private void readBtfMaps() {
        Optional<Section> sec = elf.section(".maps");
        if (sec.isEmpty()) return;
        if (btf == null) throw fail(".maps section without .BTF: BTF-defined maps need BTF (compile with -g)");
        BtfType.DataSec ds = dataSec(".maps").orElseThrow(() -> fail(".maps section has no DATASEC in BTF"));
        record Def(long offset, String name, int type) {}
        List<Def> defs = new ArrayList<>();
        for (BtfType.VarSecInfo v : ds.vars()) {
            if (!(btf.type(v.type()) instanceof BtfType.Var var)) throw fail(".maps DATASEC entry " + v.type() + " is not a VAR");
            Symbol sym = symbolIn(sec.get(), var.name()).orElseThrow(() -> fail("map " + var.name() + " has no symbol in .maps"));
            defs.add(new Def(sym.value(), var.name(), var.type()));
        }
        defs.sort(Comparator.comparingLong(Def::offset));
        for (Def d : defs) {
            btfMapByOffset.put(d.offset(), maps.size());
            valuesAt = -1;
            maps.add(mapDefinition(d.name(), d.type()));
            if (valuesAt >= 0) mapValues.put(maps.size() - 1, d.offset() + valuesAt);
        }
    }

    /** Offset in its definition of the {@code values} member of the map being read, -1 if none. */
    private long valuesAt;
    /** Map index to the .maps offset of its {@code values} array (program arrays initialised in C). */
    private final Map<Integer, Long> mapValues = new java.util.HashMap<>();

    /**
     * {@code .values = { [i] = &prog }} of program arrays: the relocations in .maps that point into a map's
     * {@code values} array name the program of slot i (libbpf fills these slots once the programs are loaded).
     */
    private void readMapValues(List<ProgramSpec> programs) {
        if (mapValues.isEmpty()) return;
        Section sec = elf.section(".maps").orElseThrow();
        Map<Integer, Map<Integer, String>> slots = new java.util.HashMap<>();
        for (Relocation r : elf.relocations(sec)) {
            Integer owner = null;
            for (var e : mapValues.entrySet()) {
                long rel = r.offset() - e.getValue();
                if (rel >= 0 && rel % 8 == 0 && rel / 8 < maps.get(e.getKey()).maxEntries()) owner = e.getKey();
            }
            if (owner == null) throw fail("relocation at offset " + r.offset() + " of .maps is not in a map's 'values'");
            MapSpec m = maps.get(owner);
            Symbol target = r.symbol();
            if (!target.isFunction() || programs.stream().noneMatch(p -> p.name().equals(target.name())))
                throw fail("map " + m.name() + ": 'values' names " + Linker.symName(target) + ", which is not a program");
            slots.computeIfAbsent(owner, k -> new java.util.TreeMap<>()).put((int) ((r.offset() - mapValues.get(owner)) / 8), target.name());
        }
        slots.forEach((i, progs) -> maps.set(i, maps.get(i).withInitialPrograms(progs)));
    }

    private MapSpec mapDefinition(String name, int typeId) {
        if (!(btf.resolved(typeId) instanceof BtfType.Struct def) || def.union())
            throw fail("map " + name + ": definition is not a struct");
        Integer type = null, maxEntries = null, flags = 0, keySize = null, valueSize = null;
        int keyType = 0, valueType = 0;
        for (BtfType.Member m : def.members()) {
            switch (m.name()) {
                case "type" -> type = uintMember(name, m);
                case "max_entries" -> maxEntries = uintMember(name, m);
                case "map_flags" -> flags = uintMember(name, m);
                case "key_size" -> keySize = checkSize(name, "key", keySize, uintMember(name, m));
                case "value_size" -> valueSize = checkSize(name, "value", valueSize, uintMember(name, m));
                case "key" -> {
                    keyType = typeMember(name, m);
                    keySize = checkSize(name, "key", keySize, typeSize(name, keyType));
                }
                case "value" -> {
                    valueType = typeMember(name, m);
                    valueSize = checkSize(name, "value", valueSize, typeSize(name, valueType));
                }
                case "pinning", "numa_node", "map_extra" -> uintMember(name, m);
                case "values" -> valuesAt = m.bitOffset() / 8;
                default -> throw fail("map " + name + ": unknown map definition field '" + m.name() + "'");
            }
        }
        if (type == null) throw fail("map " + name + ": no 'type'");
        MapType mt;
        try {
            mt = MapType.ofKernelId(type);
        } catch (IllegalArgumentException e) {
            throw fail("map " + name + ": unsupported map type " + type);
        }
        if (maxEntries == null) throw fail("map " + name + ": no 'max_entries'");
        if (valuesAt >= 0 && valueSize == null) valueSize = 4;   // as libbpf: slots of a program array hold an fd
        if (keySize == null) keySize = mt == MapType.RINGBUF ? 0 : -1;
        if (valueSize == null) valueSize = mt == MapType.RINGBUF ? 0 : -1;
        if (keySize < 0 || valueSize < 0) throw fail("map " + name + ": key and value size must be given (__type or __uint(key_size/value_size))");
        if (valuesAt >= 0 && mt != MapType.PROG_ARRAY)
            throw fail("map " + name + ": initial 'values' are supported for PROG_ARRAY maps only, not " + mt);
        return new MapSpec(name, mt, keySize, valueSize, maxEntries, flags, keyType, valueType, ".maps", null);
    }

    private int typeSize(String map, int typeId) {
        long size = btf.sizeOf(typeId);
        if (size > Integer.MAX_VALUE) throw fail("map " + map + ": type " + btf.typeName(typeId) + " is " + size + " bytes");
        return (int) size;
    }

    private Integer checkSize(String map, String what, Integer old, int size) {
        if (old != null && old != size) throw fail("map " + map + ": " + what + " size " + size + " conflicts with " + old);
        return size;
    }

    /** __uint(name, N) is "int (*name)[N]": a pointer to an array of N elements. */
    private int uintMember(String map, BtfType.Member m) {
        if (btf.resolved(m.type()) instanceof BtfType.Ptr p && btf.resolved(p.target()) instanceof BtfType.Array a)
            return a.length();
        throw fail("map " + map + ": field '" + m.name() + "' is not an __uint() value");
    }

    /** __type(name, T) is "T *name". */
    private int typeMember(String map, BtfType.Member m) {
        if (btf.resolved(m.type()) instanceof BtfType.Ptr p) return p.target();
        throw fail("map " + map + ": field '" + m.name() + "' is not a __type() value");
    }

    // ---- global data --------------------------------------------------------------------------

    static boolean isGlobalData(Section s) {
        String n = s.name();
        boolean named = n.equals(".data") || n.equals(".rodata") || n.equals(".bss")
                || n.startsWith(".data.") || n.startsWith(".rodata.") || n.startsWith(".bss.");
        return named && (s.flags() & Section.SHF_ALLOC) != 0
                && (s.type() == Section.SHT_PROGBITS || s.type() == Section.SHT_NOBITS);
    }

    private void readGlobalData() {
        for (Section s : elf.sections()) {
            if (!isGlobalData(s) || s.size() == 0) continue;
            if (s.size() > Integer.MAX_VALUE - 8) throw fail("global data section " + s.name() + " too large");
            int valueType = fixDataSec(s);
            boolean ro = s.name().startsWith(".rodata");
            int flags = MapSpec.F_MMAPABLE | (ro ? MapSpec.F_RDONLY_PROG : 0);
            dataMapBySection.put(s.index(), maps.size());
            maps.add(new MapSpec(s.name(), MapType.ARRAY, 4, (int) s.size(), 1, flags, 0, valueType, s.name(), elf.contents(s)));
        }
    }

    /** The DATASECs of .maps, .struct_ops*, license, ... get the same fixups, so the BTF can be loaded into a kernel. */
    private void fixOtherDataSecs() {
        if (btf == null) return;
        for (Section s : elf.sections()) {
            if (isGlobalData(s) || s.type() == Section.SHT_NULL || s.size() == 0) continue;
            if (s.type() != Section.SHT_PROGBITS && s.type() != Section.SHT_NOBITS) continue;
            fixDataSec(s);
        }
    }

    /**
     * clang leaves DATASEC sizes and variable offsets at 0; set them from the section size and the
     * symbols (as libbpf does) so the BTF describes the global data map's value. Returns the DATASEC id or 0.
     */
    private int fixDataSec(Section s) {
        if (btf == null) return 0;
        Optional<Integer> id = btf.find(BtfKind.DATASEC, s.name());
        if (id.isEmpty()) return 0;
        BtfType.DataSec ds = (BtfType.DataSec) btf.type(id.get());
        List<BtfType.VarSecInfo> vars = new ArrayList<>();
        for (BtfType.VarSecInfo v : ds.vars()) {
            int off = v.offset();
            if (btf.type(v.type()) instanceof BtfType.Var var) {
                Optional<Symbol> sym = symbolIn(s, var.name());
                if (sym.isPresent()) off = (int) sym.get().value();
            }
            if (off < 0 || v.size() < 0 || (long) off + v.size() > s.size())
                throw fail("global variable in " + s.name() + " at offset " + off + " (size " + v.size() + ") lies outside the section (size " + s.size() + ")");
            vars.add(new BtfType.VarSecInfo(v.type(), off, v.size()));
        }
        btf = btf.withType(id.get(), new BtfType.DataSec(ds.name(), (int) s.size(), List.copyOf(vars)));
        return id.get();
    }

    // ---- functions and relocations --------------------------------------------------------------

    private void readFunctions() {
        for (Section s : elf.sections()) {
            if (!s.isExecutable() || s.size() == 0) continue;
            if (s.size() % 8 != 0) throw fail("code section " + s.name() + " size " + s.size() + " is not a multiple of 8");
            byte[] code = elf.contents(s);
            TreeMap<Long, Fn> fns = new TreeMap<>();
            for (Symbol sym : elf.symbols()) {
                if (!sym.isFunction() || sym.shndx() != s.index()) continue;
                long start = sym.value(), size = sym.size();
                if (start < 0 || start % 8 != 0 || size <= 0 || size % 8 != 0 || start + size > s.size() || start + size < start)
                    throw fail("function " + sym.name() + " [" + start + ", +" + size + ") is not a whole number of instructions inside " + s.name() + " (size " + s.size() + ")");
                if (fns.containsKey(start)) throw fail("functions " + fns.get(start).name() + " and " + sym.name() + " both start at " + start + " in " + s.name());
                long[] body = Decoder.slots(java.util.Arrays.copyOfRange(code, (int) start, (int) (start + size)));
                fns.put(start, new Fn(sym.name(), sym.isGlobal(), s, start, body, new HashMap<>()));
            }
            if (fns.isEmpty()) throw fail("code section " + s.name() + " has no function symbols");
            for (Relocation r : elf.relocations(s)) {
                Map.Entry<Long, Fn> e = fns.floorEntry(r.offset());
                Fn fn = e == null ? null : e.getValue();
                if (fn == null || r.offset() >= fn.start() + fn.insnCount() * 8L)
                    throw fail("relocation " + Relocation.typeName(r.type()) + " against " + Linker.symName(r.symbol()) + " at offset " + r.offset() + " in " + s.name() + " is outside any function");
                if (r.offset() % 8 != 0) throw fail("relocation at offset " + r.offset() + " in " + s.name() + " is not instruction-aligned");
                fn.relocs().put((int) ((r.offset() - fn.start()) / 8), r);
            }
            functions.put(s.index(), fns);
        }
    }

    /** One program: linked by the {@link Linker}, with the BTF.ext info of every function it took in. */
    private ProgramSpec program(Linker linker, Fn entry, String license) {
        String sec = entry.section().name();
        ProgramType type = ProgramType.ofSection(sec);
        if (type == null)
            throw fail("program " + entry.name() + " in section '" + sec + "': unknown program type (supported: struct_ops/, struct_ops.s/, socket, xdp, syscall)");
        Linker.Linked linked = linker.link(entry);
        List<ProgramSpec.FuncInfo> fi = new ArrayList<>();
        List<ProgramSpec.LineInfo> li = new ArrayList<>();
        List<ProgramSpec.CoreRelo> cr = new ArrayList<>();
        for (Map.Entry<Fn, Integer> placed : linked.base().entrySet()) {
            Fn fn = placed.getKey();
            int b = placed.getValue();
            String s = fn.section().name();
            long lo = fn.start(), hi = fn.start() + fn.insnCount() * 8L;
            for (BtfExt.FuncInfo f : btfExt.funcInfo().getOrDefault(s, List.of()))
                if (f.insnOff() >= lo && f.insnOff() < hi)
                    fi.add(new ProgramSpec.FuncInfo(b + (int) ((f.insnOff() - lo) / 8), f.typeId(), btf.type(f.typeId()).name()));
            for (BtfExt.LineInfo l : btfExt.lineInfo().getOrDefault(s, List.of()))
                if (l.insnOff() >= lo && l.insnOff() < hi)
                    li.add(new ProgramSpec.LineInfo(b + (int) ((l.insnOff() - lo) / 8), l.file(), l.sourceLine(), l.line(), l.column()));
            for (BtfExt.CoreRelo c : btfExt.coreRelos().getOrDefault(s, List.of()))
                if (c.insnOff() >= lo && c.insnOff() < hi)
                    cr.add(new ProgramSpec.CoreRelo(b + (int) ((c.insnOff() - lo) / 8), c.typeId(), c.accessString(), c.kind()));
        }
        fi.sort(Comparator.comparingInt(ProgramSpec.FuncInfo::insn));
        li.sort(Comparator.comparingInt(ProgramSpec.LineInfo::insn));
        cr.sort(Comparator.comparingInt(ProgramSpec.CoreRelo::insn));
        int slash = sec.indexOf('/');
        // struct_ops.s/ programs are sleepable; the kernel accepts syscall programs only as sleepable (libbpf's SEC_SLEEPABLE)
        boolean sleepable = sec.startsWith("struct_ops.s/") || type == ProgramType.SYSCALL;
        return new ProgramSpec(entry.name(), sec, type, sleepable,
                slash < 0 ? "" : sec.substring(slash + 1), Decoder.bytes(linked.code()), linked.kfuncs(), fi, li, cr, license);
    }

    // ---- struct_ops ---------------------------------------------------------------------------

    private List<StructOpsSpec> readStructOps(List<ProgramSpec> programs) {
        List<StructOpsSpec> out = new ArrayList<>();
        for (Section s : elf.sections()) {
            boolean link = s.name().equals(".struct_ops.link");
            if (!link && !s.name().equals(".struct_ops")) continue;
            if (btf == null) throw fail(s.name() + " without .BTF: struct_ops variables need BTF");
            BtfType.DataSec ds = dataSec(s.name()).orElseThrow(() -> fail(s.name() + " has no DATASEC in BTF"));
            byte[] data = elf.contents(s);
            List<Relocation> relocs = elf.relocations(s);
            for (BtfType.VarSecInfo v : ds.vars()) {
                if (!(btf.type(v.type()) instanceof BtfType.Var var)) throw fail(s.name() + " DATASEC entry " + v.type() + " is not a VAR");
                Symbol sym = symbolIn(s, var.name()).orElseThrow(() -> fail("struct_ops variable " + var.name() + " has no symbol in " + s.name()));
                int typeId = btf.resolve(var.type());
                if (!(btf.type(typeId) instanceof BtfType.Struct st) || st.union())
                    throw fail("struct_ops variable " + var.name() + " is not a struct");
                long start = sym.value(), size = st.size();
                if (start < 0 || size < 0 || start + size > data.length)
                    throw fail("struct_ops variable " + var.name() + " [" + start + ", +" + size + ") lies outside " + s.name() + " (size " + data.length + ")");
                byte[] bytes = java.util.Arrays.copyOfRange(data, (int) start, (int) (start + size));
                Map<String, String> progs = new LinkedHashMap<>();
                Map<String, Long> scalars = new LinkedHashMap<>();
                for (Relocation r : relocs) {
                    if (r.offset() < start || r.offset() >= start + size) continue;
                    long moff = r.offset() - start;
                    BtfType.Member m = st.members().stream().filter(x -> x.bitfieldSize() == 0 && x.bitOffset() == moff * 8).findFirst()
                            .orElseThrow(() -> fail("struct_ops " + var.name() + ": relocation at offset " + moff + " is not at a member of struct " + st.name()));
                    if (r.type() != Relocation.R_BPF_64_ABS64 && r.type() != Relocation.R_BPF_64_64)
                        throw fail("struct_ops " + var.name() + "." + m.name() + ": unexpected relocation " + Relocation.typeName(r.type()));
                    Symbol target = r.symbol();
                    if (!target.isFunction() || target.isUndefined())
                        throw fail("struct_ops " + var.name() + "." + m.name() + " points to " + Linker.symName(target) + ", which is not a program");
                    if (programs.stream().noneMatch(p -> p.name().equals(target.name())))
                        throw fail("struct_ops " + var.name() + "." + m.name() + " points to " + target.name() + ", which is not a program (a function in .text?)");
                    progs.put(m.name(), target.name());
                }
                for (BtfType.Member m : st.members()) {
                    // a corrupt member offset may be negative or past the struct: such members are skipped
                    if (m.bitfieldSize() != 0 || m.bitOffset() % 8 != 0 || m.bitOffset() < 0) continue;
                    BtfType mt = btf.resolved(m.type());
                    int moff = m.bitOffset() / 8;
                    switch (mt) {
                        case BtfType.Int i when i.size() <= 8 && moff + i.size() <= bytes.length ->
                                scalars.put(m.name(), readInt(bytes, moff, i.size(), i.signed()));
                        case BtfType.EnumType e when e.size() <= 8 && moff + e.size() <= bytes.length ->
                                scalars.put(m.name(), readInt(bytes, moff, e.size(), e.signed()));
                        default -> { }
                    }
                }
                // order program slots by member order
                Map<String, String> ordered = new LinkedHashMap<>();
                for (BtfType.Member m : st.members()) if (progs.containsKey(m.name())) ordered.put(m.name(), progs.get(m.name()));
                out.add(new StructOpsSpec(var.name(), st.name(), typeId, s.name(), link, bytes, ordered, scalars));
            }
        }
        return out;
    }

    private static long readInt(byte[] b, int off, int size, boolean signed) {
        long v = 0;
        for (int k = size - 1; k >= 0; k--) v = v << 8 | (b[off + k] & 0xff);
        if (signed && size < 8) v = (v << (64 - size * 8)) >> (64 - size * 8);
        return v;
    }

    // ---- helpers ------------------------------------------------------------------------------

    private java.util.Set<String> ksyms;

    /** Names of the functions declared __ksym (BTF DATASEC ".ksyms" entries that are FUNCs). */
    private java.util.Set<String> ksymFunctions() {
        if (ksyms == null) {
            ksyms = new java.util.HashSet<>();
            if (btf != null) {
                for (BtfType t : btf.types()) {
                    if (t instanceof BtfType.DataSec ds && ds.name().equals(".ksyms"))
                        for (BtfType.VarSecInfo v : ds.vars())
                            if (btf.type(v.type()) instanceof BtfType.Func f) ksyms.add(f.name());
                }
            }
        }
        return ksyms;
    }

    private Optional<BtfType.DataSec> dataSec(String name) {
        return btf.find(BtfKind.DATASEC, name).map(id -> (BtfType.DataSec) btf.type(id));
    }

    /**
     * The symbol named {@code name} defined in section s; failing that, the only symbol named
     * "something.name" (a static local), if exactly one exists.
     */
    private Optional<Symbol> symbolIn(Section s, String name) {
        Symbol suffixMatch = null;
        int suffixMatches = 0;
        for (Symbol sym : elf.symbols()) {
            if (sym.shndx() != s.index() || sym.isSection()) continue;
            if (sym.name().equals(name)) return Optional.of(sym);
            if (sym.name().endsWith("." + name)) {
                suffixMatch = sym;
                suffixMatches++;
            }
        }
        return suffixMatches == 1 ? Optional.of(suffixMatch) : Optional.empty();
    }
}
