package dev.ublkctl.bpf.btf;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Parsed {@code .BTF.ext}: per ELF section, function info, line info and CO-RE relocations, with
 * instruction offsets in bytes from the start of that section (as in the file).
 */
public record BtfExt(Map<String, List<FuncInfo>> funcInfo,
                     Map<String, List<LineInfo>> lineInfo,
                     Map<String, List<CoreRelo>> coreRelos) {

    /** A function starts at {@code insnOff} (bytes); {@code typeId} is its BTF FUNC. */
    public record FuncInfo(int insnOff, int typeId) {}

    /** The source position of the instruction at {@code insnOff} (bytes). */
    public record LineInfo(int insnOff, String file, String sourceLine, int line, int column) {}

    /** A CO-RE relocation: the instruction at {@code insnOff} accesses {@code accessString} of {@code typeId}. */
    public record CoreRelo(int insnOff, int typeId, String accessString, int kind) {}

    private static final int MIN_HEADER = 24;

    public static BtfExt empty() { return new BtfExt(Map.of(), Map.of(), Map.of()); }

    /** Parses {@code data}, resolving names and strings in {@code btf}. */
    public static BtfExt parse(byte[] data, Btf btf) {
        if (data == null || data.length < MIN_HEADER) throw new BtfException("truncated BTF.ext header: " + (data == null ? 0 : data.length) + " bytes");
        ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        int magic = b.getShort(0) & 0xffff;
        if (magic != Btf.MAGIC) throw new BtfException(String.format("bad BTF.ext magic 0x%04x", magic));
        if ((b.get(2) & 0xff) != 1) throw new BtfException("unsupported BTF.ext version " + (b.get(2) & 0xff));
        long hdrLen = b.getInt(4) & 0xffffffffL;
        if (hdrLen < MIN_HEADER || hdrLen > data.length) throw new BtfException("bad BTF.ext header length " + hdrLen);
        Map<String, List<FuncInfo>> funcs = Collections.unmodifiableMap(section(b, btf, hdrLen, 8, "func info", 8,
                (r, sec) -> new FuncInfo(r.getInt(), r.getInt())));
        Map<String, List<LineInfo>> lines = Collections.unmodifiableMap(section(b, btf, hdrLen, 16, "line info", 16,
                (r, sec) -> {
                    int off = r.getInt(), file = r.getInt(), line = r.getInt(), lineCol = r.getInt();
                    return new LineInfo(off, str(btf, file, "line info file name"), str(btf, line, "line info source line"),
                            lineCol >>> 10, lineCol & 0x3ff);
                }));
        Map<String, List<CoreRelo>> core = Map.of();
        if (hdrLen >= 32)
            core = Collections.unmodifiableMap(section(b, btf, hdrLen, 24, "CO-RE relocation", 16,
                    (r, sec) -> {
                        int off = r.getInt(), type = r.getInt(), access = r.getInt(), kind = r.getInt();
                        return new CoreRelo(off, type, str(btf, access, "CO-RE access string"), kind);
                    }));
        for (List<FuncInfo> l : funcs.values())
            for (FuncInfo f : l) {
                if (!(btf.type(checkId(btf, f.typeId())) instanceof BtfType.Func))
                    throw new BtfException("BTF.ext func info at " + f.insnOff() + " names type " + f.typeId() + ", which is not a FUNC");
            }
        for (List<CoreRelo> l : core.values()) for (CoreRelo c : l) checkId(btf, c.typeId());
        return new BtfExt(funcs, lines, core);
    }

    private static int checkId(Btf btf, int id) {
        if (id <= 0 || id >= btf.typeCount()) throw new BtfException("BTF.ext refers to type " + Integer.toUnsignedString(id) + ", out of range (" + btf.typeCount() + " types)");
        return id;
    }

    private static String str(Btf btf, int off, String what) {
        try {
            return btf.string(off);
        } catch (BtfException e) {
            throw new BtfException("BTF.ext " + what + ": " + e.getMessage());
        }
    }

    private interface RecordReader<T> { T read(ByteBuffer record, String section); }

    /** Reads one info section whose (offset, length) pair is at header offset {@code at}. */
    private static <T> Map<String, List<T>> section(ByteBuffer b, Btf btf, long hdrLen, int at, String what, int minRec, RecordReader<T> reader) {
        if (at + 8 > hdrLen) return Map.of();
        long off = b.getInt(at) & 0xffffffffL, len = b.getInt(at + 4) & 0xffffffffL;
        if (len == 0) return Map.of();
        long start = hdrLen + off;
        if (start > b.capacity() || len > b.capacity() - start)
            throw new BtfException("BTF.ext " + what + " [" + off + ", +" + len + ") outside the data (" + (b.capacity() - hdrLen) + " bytes)");
        ByteBuffer s = b.slice((int) start, (int) len).order(ByteOrder.LITTLE_ENDIAN);
        if (s.remaining() < 4) throw new BtfException("BTF.ext " + what + ": truncated record size");
        int recSize = s.getInt();
        if (recSize < minRec || recSize > 1024) throw new BtfException("BTF.ext " + what + ": bad record size " + recSize);
        Map<String, List<T>> out = new LinkedHashMap<>();
        while (s.hasRemaining()) {
            if (s.remaining() < 8) throw new BtfException("BTF.ext " + what + ": truncated section header");
            int nameOff = s.getInt();
            long n = s.getInt() & 0xffffffffL;
            if (n == 0) throw new BtfException("BTF.ext " + what + ": section with zero records");
            if (n * recSize > s.remaining()) throw new BtfException("BTF.ext " + what + ": " + n + " records of " + recSize + " bytes do not fit (" + s.remaining() + " left)");
            String name = null;
            List<T> list = new ArrayList<>((int) n);
            for (long i = 0; i < n; i++) {
                ByteBuffer r = s.slice(s.position(), recSize).order(ByteOrder.LITTLE_ENDIAN);
                s.position(s.position() + recSize);
                if (name == null) name = str(btf, nameOff, what + " section name");
                list.add(reader.read(r, name));
            }
            out.merge(name, list, (a, c) -> { List<T> m = new ArrayList<>(a); m.addAll(c); return m; });
        }
        out.replaceAll((k, v) -> List.copyOf(v));
        return out;
    }
}
