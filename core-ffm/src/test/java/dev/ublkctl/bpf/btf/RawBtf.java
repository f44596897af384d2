package dev.ublkctl.bpf.btf;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/** Builds raw BTF by hand, for kinds clang 14 does not emit and for corrupt inputs. */
final class RawBtf {
    private final ByteArrayOutputStream strings = new ByteArrayOutputStream();
    private final ByteBuffer types = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
    private int count = 0;

    RawBtf() { strings.write(0); }

    int str(String s) {
        if (s.isEmpty()) return 0;
        int off = strings.size();
        strings.writeBytes(s.getBytes(StandardCharsets.UTF_8));
        strings.write(0);
        return off;
    }

    /** Starts a type; returns its id. */
    int type(String name, BtfKind kind, int vlen, boolean kflag, int sizeOrType) {
        types.putInt(str(name)).putInt((kflag ? 1 << 31 : 0) | kind.id << 24 | vlen).putInt(sizeOrType);
        return ++count;
    }

    /** A type whose name offset is {@code off} (for out-of-range tests). */
    void types_name_off(int off) {
        types.putInt(off).putInt(BtfKind.INT.id << 24).putInt(4).putInt(32);
        count++;
    }

    RawBtf u32(int v) { types.putInt(v); return this; }

    int intType(String name, int size, int encoding) {
        int id = type(name, BtfKind.INT, 0, false, size);
        u32(encoding << 24 | size * 8);
        return id;
    }

    byte[] bytes() {
        byte[] s = strings.toByteArray();
        int tl = types.position();
        ByteBuffer out = ByteBuffer.allocate(24 + tl + s.length).order(ByteOrder.LITTLE_ENDIAN);
        out.putShort((short) 0xeB9F).put((byte) 1).put((byte) 0).putInt(24).putInt(0).putInt(tl).putInt(tl).putInt(s.length);
        out.put(types.array(), 0, tl).put(s);
        return out.array();
    }
}
