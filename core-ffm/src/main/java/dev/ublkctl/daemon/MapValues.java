package dev.ublkctl.daemon;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.ublkctl.bpf.btf.Btf;
import dev.ublkctl.bpf.btf.BtfEncoder;
import dev.ublkctl.bpf.btf.BtfException;

import java.math.BigInteger;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A map key or value as a user writes it ({@code map update}, {@code --map}) to the bytes the map
 * stores: an integer (little-endian in the size), {@code hex:BYTES}, or JSON in the BTF type of the
 * key/value, the form {@code map dump} prints. {@code @dev} and {@code @fd0..@fd3} name the device id
 * and its backing files' descriptors.
 */
final class MapValues {
    private static final Pattern VAR = Pattern.compile("@(dev|fd\\d+)\\b");

    private MapValues() { }

    /** What {@code @dev} and {@code @fdN} stand for on one device. */
    record Vars(int dev, List<Integer> fds) {
        String expand(String text) {
            Matcher m = VAR.matcher(text);
            StringBuilder sb = new StringBuilder();
            while (m.find()) {
                String v = m.group(1);
                long n;
                if (v.equals("dev")) n = dev;
                else {
                    int i = Integer.parseInt(v.substring(2));
                    if (i >= fds.size())
                        throw RpcException.invalid("@" + v + ": the device has " + (fds.isEmpty() ? "no backing files" : fds.size() + " backing file" + (fds.size() > 1 ? "s" : "") + " (@fd0.." + "@fd" + (fds.size() - 1) + ")"));
                    n = fds.get(i);
                }
                m.appendReplacement(sb, Long.toString(n));
            }
            m.appendTail(sb);
            return sb.toString();
        }
    }

    /** {@code text} as {@code size} bytes of BTF type {@code typeId} (0: unknown). */
    static byte[] bytes(String what, String text, int size, Btf btf, int typeId, Vars vars) {
        String t = (vars == null ? text : vars.expand(text)).strip();
        if (t.startsWith("hex:")) {
            byte[] b;
            try {
                b = HexFormat.of().parseHex(t.substring(4).replace(" ", ""));
            } catch (IllegalArgumentException e) {
                throw RpcException.invalid("bad hex " + what + " '" + text + "'");
            }
            if (b.length != size) throw RpcException.invalid(what + " must be " + size + " bytes, got " + b.length);
            return b;
        }
        if (t.startsWith("{") || t.startsWith("[") || t.startsWith("\"")) return typed(what, text, Json.parse(what, t), size, btf, typeId);
        BigInteger n;
        try {
            n = t.startsWith("0x") || t.startsWith("0X") ? new BigInteger(t.substring(2), 16) : new BigInteger(t);
        } catch (NumberFormatException e) {
            // an enum's name, say: the type decides
            if (btf != null && typeId != 0) return typed(what, text, TextNode.valueOf(t), size, btf, typeId);
            throw RpcException.invalid("bad " + what + " '" + text + "': an integer, hex:BYTES or JSON of the map's BTF type");
        }
        if (n.bitLength() > size * 8 || n.bitLength() == size * 8 && n.signum() < 0)
            throw RpcException.invalid(what + " " + text + " does not fit in " + size + " bytes");
        byte[] b = new byte[size];
        byte[] be = n.toByteArray();
        for (int i = 0; i < size; i++) {
            int src = be.length - 1 - i;
            b[i] = src >= 0 ? be[src] : (byte) (n.signum() < 0 ? 0xff : 0);
        }
        return b;
    }

    private static byte[] typed(String what, String text, JsonNode v, int size, Btf btf, int typeId) {
        if (btf == null || typeId == 0)
            throw RpcException.invalid(what + " '" + text + "': the map has no BTF type for it; give an integer or hex:BYTES");
        try {
            byte[] b = new BtfEncoder(btf).encode(typeId, v);
            if (b.length != size) throw RpcException.invalid(what + ": its BTF type is " + b.length + " bytes, the map's " + size);
            return b;
        } catch (BtfException e) {
            throw RpcException.invalid("bad " + what + " '" + text + "': " + e.getMessage());
        }
    }
}
