package dev.ublkctl.ublk.kernel;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Looks a name up in the string table of a raw BTF blob (such as {@code /sys/kernel/btf/vmlinux}),
 * reading only the header: this is enough to tell whether a kernel knows a type name without
 * a BTF parser. Split BTF (module files) has its own string section, searched the same way.
 */
public final class BtfStrings {
    private BtfStrings() {}

    static final int MAGIC = 0xeB9F;

    /** Whether {@code name} is one of the NUL-terminated strings of the blob's string section. */
    public static boolean contains(byte[] btf, String name) {
        ByteBuffer b = ByteBuffer.wrap(btf);
        if (btf.length < 24) throw new IllegalArgumentException("BTF blob of " + btf.length + " bytes is shorter than its header");
        b.order(ByteOrder.LITTLE_ENDIAN);
        if ((b.getShort(0) & 0xffff) != MAGIC) {
            b.order(ByteOrder.BIG_ENDIAN);
            if ((b.getShort(0) & 0xffff) != MAGIC)
                throw new IllegalArgumentException(String.format("not BTF: magic 0x%04x", b.getShort(0) & 0xffff));
        }
        long hdrLen = Integer.toUnsignedLong(b.getInt(4));
        long strOff = Integer.toUnsignedLong(b.getInt(16));
        long strLen = Integer.toUnsignedLong(b.getInt(20));
        long start = hdrLen + strOff;
        if (hdrLen < 24 || start + strLen > btf.length)
            throw new IllegalArgumentException("BTF string section [" + start + ", +" + strLen + ") lies outside the "
                    + btf.length + "-byte blob");
        byte[] want = name.getBytes(StandardCharsets.UTF_8);
        int end = (int) (start + strLen);
        int s = (int) start;
        // strings are NUL-separated: compare each one whole
        while (s < end) {
            int e = s;
            while (e < end && btf[e] != 0) e++;
            if (e - s == want.length && java.util.Arrays.equals(btf, s, e, want, 0, want.length)) return true;
            s = e + 1;
        }
        return false;
    }

    public static boolean contains(Path btfFile, String name) throws IOException {
        return contains(Files.readAllBytes(btfFile), name);
    }
}
