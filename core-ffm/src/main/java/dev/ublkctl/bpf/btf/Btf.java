package dev.ublkctl.bpf.btf;

import dev.ublkctl.bpf.btf.BtfType.*;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Parsed BTF (the {@code .BTF} section of an object, or {@code /sys/kernel/btf/*}): a string table and
 * a list of types where index = type id. Every reference is checked at parse time, so lookups on a
 * parsed {@code Btf} only fail for ids the caller made up.
 */
public final class Btf {
    public static final int MAGIC = 0xeB9F;
    private static final int HEADER_LEN = 24;
    /** Longest typedef/qualifier/array chain followed before a loop is assumed. */
    private static final int MAX_CHAIN = 64;

    private final List<BtfType> types;
    private final byte[] strings;
    private final Map<String, Integer> stringOffsets;

    private Btf(List<BtfType> types, byte[] strings, Map<String, Integer> stringOffsets) {
        this.types = types;
        this.strings = strings;
        this.stringOffsets = stringOffsets;
    }

    /** Parses raw BTF (header, types, strings), little-endian only. */
    public static Btf parse(byte[] data) {
        if (data == null || data.length < HEADER_LEN) throw new BtfException("truncated BTF header: " + (data == null ? 0 : data.length) + " bytes");
        ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        int magic = b.getShort(0) & 0xffff;
        if (magic != MAGIC) {
            if (magic == 0x9FeB) throw new BtfException("big-endian BTF is not supported");
            throw new BtfException(String.format("bad BTF magic 0x%04x", magic));
        }
        int version = b.get(2) & 0xff;
        if (version != 1) throw new BtfException("unsupported BTF version " + version);
        long hdrLen = u32(b, 4), typeOff = u32(b, 8), typeLen = u32(b, 12), strOff = u32(b, 16), strLen = u32(b, 20);
        if (hdrLen < HEADER_LEN || hdrLen > data.length) throw new BtfException("bad BTF header length " + hdrLen);
        long body = data.length - hdrLen;
        checkRange("BTF type section", typeOff, typeLen, body);
        checkRange("BTF string section", strOff, strLen, body);
        if (strLen == 0 || data[(int) (hdrLen + strOff)] != 0) throw new BtfException("BTF string section must start with an empty string");
        if (data[(int) (hdrLen + strOff + strLen - 1)] != 0) throw new BtfException("BTF string section is not NUL-terminated");
        byte[] strings = java.util.Arrays.copyOfRange(data, (int) (hdrLen + strOff), (int) (hdrLen + strOff + strLen));
        Map<String, Integer> offsets = new HashMap<>();
        List<BtfType> types = new Reader(b.slice((int) (hdrLen + typeOff), (int) typeLen).order(ByteOrder.LITTLE_ENDIAN), strings, offsets).readAll();
        Btf btf = new Btf(Collections.unmodifiableList(types), strings, offsets);
        btf.validate();
        return btf;
    }

    public List<BtfType> types() { return types; }

    public int typeCount() { return types.size(); }

    public BtfType type(int id) {
        if (id < 0 || id >= types.size()) throw new BtfException("BTF type id " + id + " out of range (" + types.size() + " types)");
        return types.get(id);
    }

    /** The string at {@code offset} in the string table. */
    public String string(int offset) { return readString(strings, offset); }

    /** Follows typedefs, qualifiers and type tags to the underlying type id. */
    public int resolve(int id) {
        for (int i = 0; i < MAX_CHAIN; i++) {
            switch (type(id)) {
                case Typedef t -> id = t.target();
                case Qualifier q -> id = q.target();
                case TypeTag t -> id = t.target();
                default -> { return id; }
            }
        }
        throw new BtfException("BTF type " + id + ": typedef/qualifier chain too long (loop?)");
    }

    public BtfType resolved(int id) { return type(resolve(id)); }

    /** The size in bytes of a value of type {@code id}. */
    public long sizeOf(int id) { return sizeOf(id, 0); }

    private long sizeOf(int id, int depth) {
        if (depth > MAX_CHAIN) throw new BtfException("BTF type " + id + ": nesting too deep (loop?)");
        return switch (resolved(id)) {
            case Int t -> t.size();
            case Ptr p -> 8;
            case Struct s -> s.size();
            case EnumType e -> e.size();
            case FloatType f -> f.size();
            case DataSec d -> d.size();
            case Var v -> sizeOf(v.type(), depth + 1);
            case Array a -> {
                long elem = sizeOf(a.elementType(), depth + 1);
                long n = a.length() & 0xffffffffL;
                if (elem != 0 && n > Long.MAX_VALUE / elem) throw new BtfException("BTF array type " + id + " too large");
                yield elem * n;
            }
            default -> throw new BtfException("BTF type " + id + " (" + type(resolve(id)).kind() + ") has no size");
        };
    }

    /** The first type of this kind with this name. */
    public Optional<Integer> find(BtfKind kind, String name) {
        for (int i = 1; i < types.size(); i++) {
            BtfType t = types.get(i);
            if (t.kind() == kind && t.name().equals(name)) return Optional.of(i);
        }
        return Optional.empty();
    }

    /** A C-like name for type {@code id}: "struct ublk_bpf_ops", "unsigned int", "char[16]", "u64 *". */
    public String typeName(int id) { return typeName(id, 0); }

    private String typeName(int id, int depth) {
        if (depth > MAX_CHAIN) return "...";
        BtfType t = type(id);
        return switch (t) {
            case VoidType v -> "void";
            case Int i -> i.name();
            case FloatType f -> f.name();
            case Ptr p -> typeName(p.target(), depth + 1) + " *";
            case Array a -> typeName(a.elementType(), depth + 1) + "[" + Integer.toUnsignedString(a.length()) + "]";
            case Struct s -> (s.union() ? "union " : "struct ") + (s.name().isEmpty() ? "(anon)" : s.name());
            case EnumType e -> "enum " + (e.name().isEmpty() ? "(anon)" : e.name());
            case Fwd f -> (f.union() ? "union " : "struct ") + f.name();
            case Typedef td -> td.name();
            case Qualifier q -> q.kind().name().toLowerCase() + " " + typeName(q.target(), depth + 1);
            case TypeTag tt -> typeName(tt.target(), depth + 1);
            case Func f -> f.name();
            case FuncProto fp -> typeName(fp.returnType(), depth + 1) + " (*)(...)";
            case Var v -> v.name();
            case DataSec d -> d.name();
            case DeclTag d -> d.name();
        };
    }

    /** A copy of this BTF with type {@code id} replaced (used to fix DATASEC sizes and offsets). */
    public Btf withType(int id, BtfType replacement) {
        type(id);
        List<BtfType> copy = new ArrayList<>(types);
        copy.set(id, replacement);
        Btf btf = new Btf(Collections.unmodifiableList(copy), strings, stringOffsets);
        btf.validate();
        return btf;
    }

    /**
     * A copy the kernel's BPF_BTF_LOAD accepts for an object that calls kfuncs: extern FUNCs (which
     * the kernel rejects) become global, and the entries of the {@code .ksyms} DATASEC are replaced
     * by a dummy int variable, one 4-byte slot each (as libbpf and aya do before loading); unnamed
     * parameters of functions' prototypes (clang emits them for extern declarations) get names.
     */
    public Btf sanitizedForKernel() {
        List<BtfType> copy = new ArrayList<>(types);
        int dummy = -1;
        for (int id = 1; id < copy.size(); id++) {
            BtfType t = copy.get(id);
            if (t instanceof Func f) {
                if (f.linkage() == 2) copy.set(id, new Func(f.name(), f.proto(), 1));
                if (copy.get(f.proto()) instanceof FuncProto fp && fp.params().stream().anyMatch(p -> p.name().isEmpty())) {
                    List<Param> named = new ArrayList<>();
                    for (int k = 0; k < fp.params().size(); k++) {
                        Param p = fp.params().get(k);
                        named.add(p.name().isEmpty() ? new Param("arg" + k, p.type()) : p);
                    }
                    copy.set(f.proto(), new FuncProto(fp.returnType(), List.copyOf(named)));
                }
            }
            if (t instanceof DataSec ds && ds.name().equals(".ksyms") && !ds.vars().isEmpty()) {
                if (dummy < 0) {
                    int intId = copy.size();
                    copy.add(new Int("int", 4, Int.SIGNED, 0, 32));
                    dummy = copy.size();
                    copy.add(new Var("dummy_ksym", intId, 1));
                }
                List<VarSecInfo> vars = new ArrayList<>();
                for (int k = 0; k < ds.vars().size(); k++) vars.add(new VarSecInfo(dummy, 4 * k, 4));
                copy.set(id, new DataSec(ds.name(), 4 * vars.size(), List.copyOf(vars)));
            }
        }
        Btf btf = new Btf(Collections.unmodifiableList(copy), strings, stringOffsets);
        btf.validate();
        return btf;
    }

    /** Encodes this BTF back into the raw format (e.g. to load it with bpf(2) after fixups). */
    public byte[] encode() {
        ByteArrayOutputStream extra = new ByteArrayOutputStream();
        Map<String, Integer> added = new HashMap<>();
        java.util.function.ToIntFunction<String> off = s -> {
            if (s.isEmpty()) return 0;
            Integer o = stringOffsets.get(s);
            if (o != null) return o;
            return added.computeIfAbsent(s, k -> {
                int at = strings.length + extra.size();
                byte[] bytes = k.getBytes(StandardCharsets.UTF_8);
                extra.write(bytes, 0, bytes.length);
                extra.write(0);
                return at;
            });
        };
        ByteBuffer t = ByteBuffer.allocate(estimateTypeBytes()).order(ByteOrder.LITTLE_ENDIAN);
        for (int id = 1; id < types.size(); id++) Writer.write(t, types.get(id), off);
        int typeLen = t.position();
        int strLen = strings.length + extra.size();
        ByteBuffer out = ByteBuffer.allocate(HEADER_LEN + typeLen + strLen).order(ByteOrder.LITTLE_ENDIAN);
        out.putShort((short) MAGIC).put((byte) 1).put((byte) 0).putInt(HEADER_LEN)
                .putInt(0).putInt(typeLen).putInt(typeLen).putInt(strLen);
        out.put(t.array(), 0, typeLen).put(strings).put(extra.toByteArray());
        return out.array();
    }

    private int estimateTypeBytes() {
        int n = 0;
        for (BtfType t : types) {
            n += 16 + 12 * switch (t) {
                case Struct s -> s.members().size();
                case EnumType e -> e.values().size();
                case FuncProto f -> f.params().size();
                case DataSec d -> d.vars().size();
                default -> 1;
            };
        }
        return n;
    }

    private void validate() {
        for (int id = 1; id < types.size(); id++) {
            BtfType t = types.get(id);
            switch (t) {
                case Ptr p -> ref(id, p.target());
                case Array a -> { ref(id, a.elementType()); ref(id, a.indexType()); }
                case Struct s -> { for (Member m : s.members()) ref(id, m.type()); }
                case Typedef td -> ref(id, td.target());
                case Qualifier q -> ref(id, q.target());
                case TypeTag tt -> ref(id, tt.target());
                case Func f -> {
                    ref(id, f.proto());
                    if (!(types.get(f.proto()) instanceof FuncProto))
                        throw new BtfException("BTF FUNC " + f.name() + " (id " + id + ") does not point to a FUNC_PROTO");
                }
                case FuncProto fp -> { ref(id, fp.returnType()); for (Param p : fp.params()) ref(id, p.type()); }
                case Var v -> ref(id, v.type());
                case DataSec d -> { for (VarSecInfo v : d.vars()) ref(id, v.type()); }
                case DeclTag dt -> ref(id, dt.target());
                default -> { }
            }
        }
    }

    private void ref(int from, int to) {
        if (to < 0 || to >= types.size())
            throw new BtfException("BTF type " + from + " (" + types.get(from).kind() + ") refers to type " + Integer.toUnsignedString(to) + ", out of range (" + types.size() + " types)");
    }

    static String readString(byte[] strings, int offset) {
        if (offset < 0 || offset >= strings.length) throw new BtfException("BTF string offset " + Integer.toUnsignedString(offset) + " outside the string table (" + strings.length + " bytes)");
        int end = offset;
        while (end < strings.length && strings[end] != 0) end++;
        if (end == strings.length) throw new BtfException("BTF string at " + offset + " is not NUL-terminated");
        return new String(strings, offset, end - offset, StandardCharsets.UTF_8);
    }

    private static long u32(ByteBuffer b, int at) { return b.getInt(at) & 0xffffffffL; }

    private static void checkRange(String what, long off, long len, long limit) {
        if (off > limit || len > limit - off) throw new BtfException(what + " [" + off + ", +" + len + ") outside the BTF data (" + limit + " bytes after the header)");
    }

    /** Decodes the type section. */
    private static final class Reader {
        private final ByteBuffer b;
        private final byte[] strings;
        private final Map<String, Integer> offsets;

        Reader(ByteBuffer b, byte[] strings, Map<String, Integer> offsets) {
            this.b = b;
            this.strings = strings;
            this.offsets = offsets;
        }

        List<BtfType> readAll() {
            List<BtfType> out = new ArrayList<>();
            out.add(new VoidType());
            while (b.hasRemaining()) {
                int id = out.size();
                need(12, id);
                int nameOff = b.getInt(), info = b.getInt(), sizeOrType = b.getInt();
                int vlen = info & 0xffff;
                int kindId = (info >>> 24) & 0x1f;
                boolean kflag = (info >>> 31) != 0;
                BtfKind kind;
                try {
                    kind = BtfKind.of(kindId);
                } catch (BtfException e) {
                    throw new BtfException("BTF type " + id + ": unknown kind " + kindId);
                }
                String name = name(nameOff, id);
                out.add(switch (kind) {
                    case VOID -> throw new BtfException("BTF type " + id + " has kind VOID (0), which is reserved");
                    case INT -> {
                        need(4, id);
                        int v = b.getInt();
                        int bits = v & 0xff, bitOff = (v >>> 16) & 0xff, enc = (v >>> 24) & 0xf;
                        if (sizeOrType < 1 || sizeOrType > 16 || bits > sizeOrType * 8 || bitOff + bits > sizeOrType * 8)
                            throw new BtfException("BTF INT " + name + " (id " + id + "): bad size " + sizeOrType + " / bits " + bits + " / offset " + bitOff);
                        yield new Int(name, sizeOrType, enc, bitOff, bits);
                    }
                    case PTR -> new Ptr(sizeOrType);
                    case ARRAY -> {
                        need(12, id);
                        yield new Array(b.getInt(), b.getInt(), b.getInt());
                    }
                    case STRUCT, UNION -> {
                        need(12L * vlen, id);
                        List<Member> ms = new ArrayList<>(vlen);
                        for (int i = 0; i < vlen; i++) {
                            String mn = name(b.getInt(), id);
                            int mt = b.getInt(), off = b.getInt();
                            ms.add(kflag ? new Member(mn, mt, off & 0xffffff, off >>> 24) : new Member(mn, mt, off, 0));
                        }
                        yield new Struct(name, sizeOrType, kind == BtfKind.UNION, List.copyOf(ms));
                    }
                    case ENUM -> {
                        need(8L * vlen, id);
                        List<EnumValue> vs = new ArrayList<>(vlen);
                        for (int i = 0; i < vlen; i++) {
                            String vn = name(b.getInt(), id);
                            int v = b.getInt();
                            vs.add(new EnumValue(vn, kflag ? v : v & 0xffffffffL));
                        }
                        yield new EnumType(name, sizeOrType, kflag, false, List.copyOf(vs));
                    }
                    case ENUM64 -> {
                        need(12L * vlen, id);
                        List<EnumValue> vs = new ArrayList<>(vlen);
                        for (int i = 0; i < vlen; i++) {
                            String vn = name(b.getInt(), id);
                            long lo = b.getInt() & 0xffffffffL, hi = b.getInt() & 0xffffffffL;
                            vs.add(new EnumValue(vn, hi << 32 | lo));
                        }
                        yield new EnumType(name, sizeOrType, kflag, true, List.copyOf(vs));
                    }
                    case FWD -> new Fwd(name, kflag);
                    case TYPEDEF -> new Typedef(name, sizeOrType);
                    case VOLATILE, CONST, RESTRICT -> new Qualifier(kind, sizeOrType);
                    case TYPE_TAG -> new TypeTag(name, sizeOrType);
                    case FUNC -> new Func(name, sizeOrType, vlen);
                    case FUNC_PROTO -> {
                        need(8L * vlen, id);
                        List<Param> ps = new ArrayList<>(vlen);
                        for (int i = 0; i < vlen; i++) ps.add(new Param(name(b.getInt(), id), b.getInt()));
                        yield new FuncProto(sizeOrType, List.copyOf(ps));
                    }
                    case VAR -> {
                        need(4, id);
                        yield new Var(name, sizeOrType, b.getInt());
                    }
                    case DATASEC -> {
                        need(12L * vlen, id);
                        List<VarSecInfo> vs = new ArrayList<>(vlen);
                        for (int i = 0; i < vlen; i++) vs.add(new VarSecInfo(b.getInt(), b.getInt(), b.getInt()));
                        yield new DataSec(name, sizeOrType, List.copyOf(vs));
                    }
                    case FLOAT -> new FloatType(name, sizeOrType);
                    case DECL_TAG -> {
                        need(4, id);
                        yield new DeclTag(name, sizeOrType, b.getInt());
                    }
                });
            }
            return out;
        }

        private void need(long n, int id) {
            if (b.remaining() < n) throw new BtfException("BTF type " + id + " truncated: needs " + n + " more bytes, " + b.remaining() + " left");
        }

        private String name(int off, int id) {
            try {
                String s = readString(strings, off);
                offsets.putIfAbsent(s, off);
                return s;
            } catch (BtfException e) {
                throw new BtfException("BTF type " + id + ": " + e.getMessage());
            }
        }
    }

    /** Encodes types (inverse of {@link Reader}). */
    private static final class Writer {
        static void write(ByteBuffer b, BtfType t, java.util.function.ToIntFunction<String> off) {
            switch (t) {
                case VoidType v -> throw new IllegalStateException("void is implicit");
                case Int i -> head(b, off.applyAsInt(i.name()), BtfKind.INT, 0, false, i.size())
                        .putInt(i.encoding() << 24 | i.bitOffset() << 16 | i.bits());
                case Ptr p -> head(b, 0, BtfKind.PTR, 0, false, p.target());
                case Array a -> head(b, 0, BtfKind.ARRAY, 0, false, 0).putInt(a.elementType()).putInt(a.indexType()).putInt(a.length());
                case Struct s -> {
                    boolean kflag = s.members().stream().anyMatch(m -> m.bitfieldSize() != 0);
                    head(b, off.applyAsInt(s.name()), s.kind(), s.members().size(), kflag, s.size());
                    for (Member m : s.members())
                        b.putInt(off.applyAsInt(m.name())).putInt(m.type()).putInt(kflag ? m.bitfieldSize() << 24 | m.bitOffset() : m.bitOffset());
                }
                case EnumType e -> {
                    head(b, off.applyAsInt(e.name()), e.kind(), e.values().size(), e.signed(), e.size());
                    for (EnumValue v : e.values()) {
                        b.putInt(off.applyAsInt(v.name())).putInt((int) v.value());
                        if (e.is64()) b.putInt((int) (v.value() >>> 32));
                    }
                }
                case Fwd f -> head(b, off.applyAsInt(f.name()), BtfKind.FWD, 0, f.union(), 0);
                case Typedef td -> head(b, off.applyAsInt(td.name()), BtfKind.TYPEDEF, 0, false, td.target());
                case Qualifier q -> head(b, 0, q.kind(), 0, false, q.target());
                case TypeTag tt -> head(b, off.applyAsInt(tt.name()), BtfKind.TYPE_TAG, 0, false, tt.target());
                case Func f -> head(b, off.applyAsInt(f.name()), BtfKind.FUNC, f.linkage(), false, f.proto());
                case FuncProto fp -> {
                    head(b, 0, BtfKind.FUNC_PROTO, fp.params().size(), false, fp.returnType());
                    for (Param p : fp.params()) b.putInt(off.applyAsInt(p.name())).putInt(p.type());
                }
                case Var v -> head(b, off.applyAsInt(v.name()), BtfKind.VAR, 0, false, v.type()).putInt(v.linkage());
                case DataSec d -> {
                    head(b, off.applyAsInt(d.name()), BtfKind.DATASEC, d.vars().size(), false, d.size());
                    for (VarSecInfo v : d.vars()) b.putInt(v.type()).putInt(v.offset()).putInt(v.size());
                }
                case FloatType f -> head(b, off.applyAsInt(f.name()), BtfKind.FLOAT, 0, false, f.size());
                case DeclTag dt -> head(b, off.applyAsInt(dt.name()), BtfKind.DECL_TAG, 0, false, dt.target()).putInt(dt.componentIndex());
            }
        }

        private static ByteBuffer head(ByteBuffer b, int nameOff, BtfKind kind, int vlen, boolean kflag, int sizeOrType) {
            return b.putInt(nameOff).putInt((kflag ? 1 << 31 : 0) | kind.id << 24 | (vlen & 0xffff)).putInt(sizeOrType);
        }
    }
}
