package dev.ublkctl.bpf.btf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ublkctl.bpf.btf.BtfType.*;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;

/**
 * Renders the raw bytes of a value of some BTF type as JSON with named fields, the way
 * {@code bpftool map dump} does: integers as numbers, printable char arrays as strings, structs as
 * objects (anonymous struct/union members merged into the parent), arrays as arrays, enums by name,
 * pointers as numbers.
 */
public final class BtfFormatter {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final int MAX_DEPTH = 32;

    private final Btf btf;

    public BtfFormatter(Btf btf) { this.btf = btf; }

    /** The value of type {@code typeId} stored at {@code data[offset..]}. */
    public JsonNode format(int typeId, byte[] data, int offset) {
        long size = btf.sizeOf(typeId);
        if (offset < 0 || size > data.length - (long) offset)
            throw new BtfException("value of " + btf.typeName(typeId) + " needs " + size + " bytes at offset " + offset + ", have " + data.length);
        return value(typeId, data, offset, 0);
    }

    public JsonNode format(int typeId, byte[] data) { return format(typeId, data, 0); }

    /** Compact JSON text of {@link #format(int, byte[], int)}. */
    public String toJson(int typeId, byte[] data) {
        try {
            return MAPPER.writeValueAsString(format(typeId, data, 0));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * {@code bytes} as type {@code typeId}, or, when the type is unknown (0) or does not fit the
     * bytes, as bpftool prints raw data: an array of "0x.." strings.
     */
    public JsonNode formatOrHex(int typeId, byte[] bytes) {
        if (typeId > 0 && typeId < btf.typeCount()) {
            try {
                if (btf.sizeOf(typeId) == bytes.length) return format(typeId, bytes, 0);
            } catch (BtfException e) {
                // a type without size or with a corrupt layout: show the bytes
            }
        }
        return hexArray(bytes, 0, bytes.length);
    }

    /** One map entry as {@code bpftool map dump} shows it: {"key": ..., "value": ...}. */
    public ObjectNode entry(int keyTypeId, byte[] key, int valueTypeId, byte[] value) {
        ObjectNode o = F.objectNode();
        o.set("key", formatOrHex(keyTypeId, key));
        o.set("value", formatOrHex(valueTypeId, value));
        return o;
    }

    /**
     * One per-CPU map entry: {"key": ..., "values": [{"cpu": n, "value": ...}, ...]}, where
     * {@code values} holds the CPUs' values back to back, each {@code stride} bytes apart (the
     * kernel rounds per-CPU values up to 8 bytes) of which the first {@code valueSize} are the value.
     */
    public ObjectNode perCpuEntry(int keyTypeId, byte[] key, int valueTypeId, byte[] values, int valueSize, int stride) {
        if (valueSize <= 0 || stride < valueSize) throw new IllegalArgumentException("value size " + valueSize + ", stride " + stride);
        ObjectNode o = F.objectNode();
        o.set("key", formatOrHex(keyTypeId, key));
        ArrayNode arr = o.putArray("values");
        for (int cpu = 0; (long) cpu * stride + valueSize <= values.length; cpu++) {
            ObjectNode v = arr.addObject();
            v.put("cpu", cpu);
            v.set("value", formatOrHex(valueTypeId, java.util.Arrays.copyOfRange(values, cpu * stride, cpu * stride + valueSize)));
        }
        return o;
    }

    private static ArrayNode hexArray(byte[] d, int off, int n) {
        ArrayNode a = F.arrayNode();
        for (int k = 0; k < n; k++) a.add(String.format("0x%02x", d[off + k] & 0xff));
        return a;
    }

    private JsonNode value(int typeId, byte[] d, int off, int depth) {
        if (depth > MAX_DEPTH) throw new BtfException("type " + typeId + " nested too deeply");
        BtfType t = btf.resolved(typeId);
        return switch (t) {
            case Int i -> integer(i, d, off, i.bitOffset(), i.bits());
            case Ptr p -> F.numberNode(new BigInteger(Long.toUnsignedString(le(d, off, 8))));
            case EnumType e -> enumValue(e, le(d, off, e.size()));
            case FloatType f -> f.size() == 4 ? F.numberNode(java.lang.Float.intBitsToFloat((int) le(d, off, 4)))
                    : f.size() == 8 ? F.numberNode(Double.longBitsToDouble(le(d, off, 8))) : F.textNode(hex(d, off, f.size()));
            case Array a -> array(a, d, off, depth);
            case Struct s -> {
                ObjectNode o = F.objectNode();
                struct(s, d, off, o, depth);
                yield o;
            }
            case DataSec ds -> {
                ObjectNode o = F.objectNode();
                for (VarSecInfo v : ds.vars()) {
                    if (v.offset() < 0 || (long) v.offset() + v.size() > ds.size()) continue;
                    o.set(btf.type(v.type()).name(), value(v.type(), d, off + v.offset(), depth + 1));
                }
                yield o;
            }
            case Var v -> value(v.type(), d, off, depth + 1);
            default -> F.textNode("<" + t.kind().name().toLowerCase() + ">");
        };
    }

    private void struct(Struct s, byte[] d, int off, ObjectNode into, int depth) {
        for (Member m : s.members()) {
            BtfType mt = btf.resolved(m.type());
            int byteOff = off + m.bitOffset() / 8;
            if (m.bitfieldSize() != 0 || (mt instanceof Int i && (m.bitOffset() % 8 != 0))) {
                int bits = m.bitfieldSize() != 0 ? m.bitfieldSize() : ((Int) mt).bits();
                int base = off + (m.bitOffset() / 64) * 8;
                JsonNode v = mt instanceof EnumType e ? enumValue(e, bitfield(d, base, m.bitOffset() % 64, bits, false))
                        : integer(mt instanceof Int i ? i : new Int("", 8, 0, 0, 64), d, base, m.bitOffset() % 64, bits);
                into.set(m.name(), v);
            } else if (m.name().isEmpty() && mt instanceof Struct inner) {
                struct(inner, d, byteOff, into, depth + 1); // anonymous struct/union: fields appear in the parent
            } else {
                into.set(m.name(), value(m.type(), d, byteOff, depth + 1));
            }
        }
    }

    private JsonNode array(Array a, byte[] d, int off, int depth) {
        BtfType elem = btf.resolved(a.elementType());
        long n = a.length() & 0xffffffffL;
        if (elem instanceof Int i && i.size() == 1 && i.isChar()) {
            String s = printable(d, off, (int) n);
            if (s != null) return F.textNode(s);
        }
        long esz = btf.sizeOf(a.elementType());
        if (esz == 0 && n > 4096) throw new BtfException("array of " + n + " zero-sized elements");
        ArrayNode arr = F.arrayNode();
        for (long k = 0; k < n; k++) arr.add(value(a.elementType(), d, (int) (off + k * esz), depth + 1));
        return arr;
    }

    /** The array as a string if it is printable ASCII up to its first NUL (then only NULs), else null. */
    private static String printable(byte[] d, int off, int n) {
        need(d, off, n);
        int end = 0;
        while (end < n && d[off + end] != 0) {
            int c = d[off + end] & 0xff;
            if (c < 0x20 || c > 0x7e) return null;
            end++;
        }
        for (int k = end; k < n; k++) if (d[off + k] != 0) return null;
        return new String(d, off, end, StandardCharsets.US_ASCII);
    }

    private JsonNode integer(Int i, byte[] d, int off, int bitOff, int bits) {
        if (i.size() > 8) return F.textNode("0x" + hex(d, off, i.size()));
        long raw = bitOff == 0 && bits == i.size() * 8 ? le(d, off, i.size()) : bitfield(d, off, bitOff, bits, false);
        if (i.isBool()) return F.booleanNode(raw != 0);
        if (i.signed()) {
            int w = Math.min(bits, 64);
            long v = w == 64 ? raw : (raw << (64 - w)) >> (64 - w);
            return F.numberNode(v);
        }
        if (raw < 0) return F.numberNode(new BigInteger(Long.toUnsignedString(raw)));
        return F.numberNode(raw);
    }

    private static JsonNode enumValue(EnumType e, long raw) {
        long v = e.size() >= 8 ? raw : e.signed() ? (raw << (64 - e.size() * 8)) >> (64 - e.size() * 8) : raw;
        for (EnumValue ev : e.values()) {
            long cmp = e.is64() || e.size() >= 8 ? ev.value() : e.signed() ? ev.value() : ev.value() & mask(e.size() * 8);
            if (cmp == v) return F.textNode(ev.name());
        }
        return F.numberNode(v);
    }

    /** Bits [bitOff, bitOff+bits) of the little-endian 64-bit word (or less, within bounds) at off. */
    private static long bitfield(byte[] d, int off, int bitOff, int bits, boolean signed) {
        int bytes = Math.min(8, Math.max(1, (bitOff + bits + 7) / 8));
        need(d, off, 1);
        bytes = Math.min(bytes, d.length - off);
        long word = le(d, off, bytes);
        long v = (word >>> bitOff) & mask(bits);
        return signed && bits < 64 ? (v << (64 - bits)) >> (64 - bits) : v;
    }

    private static long mask(int bits) { return bits >= 64 ? -1L : (1L << bits) - 1; }

    /** Corrupt BTF can place members outside the value: every read is checked. */
    private static void need(byte[] d, int off, int size) {
        if (off < 0 || size < 0 || off > d.length - size)
            throw new BtfException("BTF layout reads bytes [" + off + ", +" + size + ") outside the " + d.length + "-byte value");
    }

    static long le(byte[] d, int off, int size) {
        need(d, off, Math.min(size, 8));
        long v = 0;
        for (int k = Math.min(size, 8) - 1; k >= 0; k--) v = v << 8 | (d[off + k] & 0xff);
        return v;
    }

    private static String hex(byte[] d, int off, int size) {
        need(d, off, size);
        StringBuilder sb = new StringBuilder();
        for (int k = size - 1; k >= 0; k--) sb.append(String.format("%02x", d[off + k]));
        return sb.toString();
    }
}
