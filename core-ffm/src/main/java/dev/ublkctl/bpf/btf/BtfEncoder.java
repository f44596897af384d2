package dev.ublkctl.bpf.btf;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ublkctl.bpf.btf.BtfType.*;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Iterator;
import java.util.Set;

/**
 * The inverse of {@link BtfFormatter}: a JSON value, as {@code map dump} shows it, back to the bytes
 * of a BTF type. Integers as numbers (or "0x.." text), booleans, enums by name or number, char
 * arrays as strings, arrays as arrays (shorter ones zero-filled), structs as objects by member name
 * (members left out are zero; anonymous struct/union members take their fields from the parent).
 */
public final class BtfEncoder {
    private static final int MAX_DEPTH = 32;
    private final Btf btf;

    public BtfEncoder(Btf btf) { this.btf = btf; }

    /** The bytes of {@code value} as type {@code typeId}. */
    public byte[] encode(int typeId, JsonNode value) {
        long size = btf.sizeOf(typeId);
        if (size <= 0 || size > 1 << 20) throw new BtfException(btf.typeName(typeId) + " has no usable size (" + size + ")");
        byte[] out = new byte[(int) size];
        put(typeId, value, out, 0, btf.typeName(typeId), 0);
        return out;
    }

    private void put(int typeId, JsonNode v, byte[] out, int off, String path, int depth) {
        if (depth > MAX_DEPTH) throw new BtfException(path + ": nested too deeply");
        BtfType t = btf.resolved(typeId);
        switch (t) {
            case Int i -> putLe(out, off, i.size(), integer(v, i.size(), path), path);
            case Ptr p -> putLe(out, off, 8, integer(v, 8, path), path);
            case EnumType e -> putLe(out, off, e.size(), enumValue(e, v, path), path);
            case Array a -> array(a, v, out, off, path, depth);
            case Struct s -> {
                if (!v.isObject()) throw new BtfException(path + ": expected an object with the members of " + btf.typeName(typeId) + ", got " + v);
                Set<String> used = new HashSet<>();
                struct(s, v, out, off, path, depth, used);
                for (Iterator<String> it = v.fieldNames(); it.hasNext(); ) {
                    String f = it.next();
                    if (!used.contains(f)) throw new BtfException(path + ": " + btf.typeName(typeId) + " has no member '" + f + "'");
                }
            }
            default -> throw new BtfException(path + ": cannot write a value of kind " + t.kind().name().toLowerCase());
        }
    }

    private void struct(Struct s, JsonNode v, byte[] out, int off, String path, int depth, Set<String> used) {
        for (Member m : s.members()) {
            BtfType mt = btf.resolved(m.type());
            if (m.name().isEmpty() && mt instanceof Struct inner) {
                struct(inner, v, out, off + m.bitOffset() / 8, path, depth + 1, used);
                continue;
            }
            JsonNode mv = v.get(m.name());
            if (mv == null) continue;
            used.add(m.name());
            if (m.bitfieldSize() != 0 || m.bitOffset() % 8 != 0)
                throw new BtfException(path + "." + m.name() + ": bitfield members cannot be set (use hex:BYTES for the whole value)");
            put(m.type(), mv, out, off + m.bitOffset() / 8, path + "." + m.name(), depth + 1);
        }
    }

    private void array(Array a, JsonNode v, byte[] out, int off, String path, int depth) {
        long n = a.length() & 0xffffffffL;
        long esz = btf.sizeOf(a.elementType());
        if (v.isTextual() && btf.resolved(a.elementType()) instanceof Int i && i.size() == 1) {
            byte[] s = v.asText().getBytes(StandardCharsets.US_ASCII);
            if (s.length > n) throw new BtfException(path + ": \"" + v.asText() + "\" is longer than " + n + " bytes");
            System.arraycopy(s, 0, out, off, s.length);
            return;
        }
        if (!v.isArray()) throw new BtfException(path + ": expected an array of " + n + ", got " + v);
        if (v.size() > n) throw new BtfException(path + ": " + v.size() + " elements for an array of " + n);
        for (int k = 0; k < v.size(); k++) put(a.elementType(), v.get(k), out, (int) (off + k * esz), path + "[" + k + "]", depth + 1);
    }

    private long enumValue(EnumType e, JsonNode v, String path) {
        if (v.isTextual()) {
            for (EnumValue ev : e.values()) if (ev.name().equals(v.asText())) return ev.value();
            if (!v.asText().matches("-?(0x)?[0-9a-fA-F]+"))
                throw new BtfException(path + ": " + v.asText() + " is not a value of enum " + e.name());
        }
        return integer(v, e.size(), path);
    }

    /** Signed or unsigned alike: -1 in an unsigned field is all ones, as C's conversion makes it. */
    private static long integer(JsonNode v, int size, String path) {
        BigInteger n;
        if (v.isBoolean()) n = v.asBoolean() ? BigInteger.ONE : BigInteger.ZERO;
        else if (v.isIntegralNumber()) n = v.bigIntegerValue();
        else if (v.isTextual()) {
            String t = v.asText().strip();
            try {
                n = t.startsWith("0x") || t.startsWith("0X") ? new BigInteger(t.substring(2), 16) : new BigInteger(t);
            } catch (NumberFormatException e) {
                throw new BtfException(path + ": '" + t + "' is not an integer");
            }
        } else throw new BtfException(path + ": expected an integer, got " + v);
        BigInteger min = BigInteger.ONE.shiftLeft(size * 8 - 1).negate();
        BigInteger max = BigInteger.ONE.shiftLeft(size * 8).subtract(BigInteger.ONE);
        if (n.compareTo(min) < 0 || n.compareTo(max) > 0) throw new BtfException(path + ": " + n + " does not fit in " + size + " bytes");
        return n.longValue();
    }

    private static void putLe(byte[] out, int off, int size, long v, String path) {
        if (off < 0 || off + size > out.length) throw new BtfException(path + ": outside the value");
        for (int k = 0; k < size; k++) out[off + k] = (byte) (v >>> (8 * k));
    }

}
