package dev.ublkctl.engine;

import dev.ublkctl.bpf.btf.Btf;
import dev.ublkctl.bpf.btf.BtfType;
import dev.ublkctl.bpf.maps.MapException;
import dev.ublkctl.bpf.maps.MapType;
import dev.ublkctl.bpf.maps.VmMap;
import dev.ublkctl.bpf.object.MapSpec;
import dev.ublkctl.target.FileTarget;
import dev.ublkctl.target.StripeLayout;
import dev.ublkctl.target.TargetType;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Optional;

/**
 * kublk's conventions for the maps of the RFC's selftest programs, which its server fills before the
 * device starts: {@code fd_map} (dev_id → backing file descriptor) for loop, {@code stripe_map}
 * (dev_id → {@code {u8 chunk_shift; u8 nr_backfiles; int fds[4]}}) for stripe, and {@code io_map}
 * (io key → int), which the null server sets to 1 before it bounces a redirected I/O back with
 * -EAGAIN. A map is taken as kublk's when its name, kind and sizes match; the descriptors are the
 * daemon's own, the ones the aio kfuncs accept for this device.
 */
final class KublkMaps {
    static final String FD_MAP = "fd_map", STRIPE_MAP = "stripe_map", IO_MAP = "io_map";
    /** kublk's {@code MAX_BACKFILES}. */
    static final int MAX_FILES = 4;

    private KublkMaps() { }

    /** Fills the kublk maps {@code p} has for {@code d}; returns the names it filled. */
    static List<String> bind(UblkProgram p, Device d) throws MapException {
        if (!(d.target instanceof FileTarget ft)) return List.of();
        byte[] key = le(4).putInt(d.id()).array();
        List<Integer> fds = ft.fds();
        Optional<VmMap> fdMap = p.map(FD_MAP).filter(m -> shape(m, MapType.HASH, 4, 4));
        if (fdMap.isPresent() && ft.type() == TargetType.LOOP) {
            fdMap.get().update(key, le(4).putInt(fds.getFirst()).array(), VmMap.BPF_ANY);
            return List.of(FD_MAP);
        }
        Optional<VmMap> stripeMap = p.map(STRIPE_MAP).filter(m -> m.def().type() == MapType.HASH && m.def().keySize() == 4);
        if (stripeMap.isPresent() && ft.type() == TargetType.STRIPE) {
            StripeValue v = StripeValue.of(p, stripeMap.get().def().valueSize());
            byte[] val = new byte[stripeMap.get().def().valueSize()];
            ByteBuffer b = ByteBuffer.wrap(val).order(ByteOrder.LITTLE_ENDIAN);
            b.put(v.chunkShift, (byte) Integer.numberOfTrailingZeros(ft.chunkSize()));
            b.put(v.nrFiles, (byte) fds.size());
            for (int i = 0; i < MAX_FILES; i++) b.putInt(v.fds + 4 * i, i < fds.size() ? fds.get(i) : -1);
            // the server side places data where the program does, or redirected I/O reads other bytes
            try {
                ft.layout(StripeLayout.KUBLK);
            } catch (IllegalArgumentException e) {
                throw new IllegalStateException(p.objectName() + " uses kublk's stripe_map: " + e.getMessage(), e);
            }
            stripeMap.get().update(key, val, VmMap.BPF_ANY);
            return List.of(STRIPE_MAP);
        }
        return List.of();
    }

    /** Undoes {@link #bind}: the entries go, the server's stripe layout returns to ublkctl's. */
    static void unbind(UblkProgram p, Device d) {
        byte[] key = le(4).putInt(d.id()).array();
        for (String name : List.of(FD_MAP, STRIPE_MAP)) {
            p.map(name).filter(m -> m.def().keySize() == 4).ifPresent(m -> {
                try {
                    m.delete(key);
                } catch (MapException ignored) {
                    // not bound for this device
                }
            });
        }
        if (d.target instanceof FileTarget ft && ft.layout() != StripeLayout.RAID0) ft.layout(StripeLayout.RAID0);
    }

    /** kublk's io key: device in bits 32-47, queue in 16-31, tag below (the programs' build_io_key). */
    static long ioKey(int dev, int queue, int tag) {
        return ((long) (dev & 0xffff) << 32) | ((long) (queue & 0xffff) << 16) | (tag & 0xffffffffL);
    }

    /**
     * Marks an I/O as bounced back by the server: {@code io_map[key] = 1} (kublk's null server), or
     * {@code bounce[key] = 1} (ublkctl's null.o). False if the program has neither map.
     */
    static boolean markBounced(UblkProgram p, int dev, int queue, int tag) {
        byte[] key = le(8).putLong(ioKey(dev, queue, tag)).array();
        byte[] one = le(4).putInt(1).array();
        for (String name : List.of(IO_MAP, "bounce")) {
            Optional<VmMap> m = p.map(name).filter(x -> x.def().keySize() == 8 && x.def().valueSize() == 4 && !x.perCpu());
            if (m.isEmpty()) continue;
            try {
                m.get().update(key, one, VmMap.BPF_ANY);
                return true;
            } catch (MapException e) {
                return false; // full: the program redirects it again and the I/O fails, as with kublk
            }
        }
        return false;
    }

    private static boolean shape(VmMap m, MapType t, int k, int v) {
        return m.def().type() == t && m.def().keySize() == k && m.def().valueSize() == v;
    }

    private static ByteBuffer le(int n) { return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN); }

    /** Byte offsets of stripe_map's value members: from the object's BTF, else kublk's struct as compiled. */
    record StripeValue(int chunkShift, int nrFiles, int fds) {
        static final StripeValue KUBLK = new StripeValue(0, 1, 4);

        static StripeValue of(UblkProgram p, int valueSize) {
            Btf btf = p.object().btf();
            MapSpec s = p.object().map(STRIPE_MAP).orElse(null);
            if (btf != null && s != null && s.valueTypeId() != 0 && btf.resolved(s.valueTypeId()) instanceof BtfType.Struct st) {
                Integer cs = null, nr = null, fds = null;
                for (BtfType.Member m : st.members()) {
                    switch (m.name()) {
                        case "chunk_shift" -> cs = m.bitOffset() / 8;
                        case "nr_backfiles" -> nr = m.bitOffset() / 8;
                        case "fds" -> fds = m.bitOffset() / 8;
                        default -> { }
                    }
                }
                if (cs != null && nr != null && fds != null && fds + 4 * MAX_FILES <= valueSize) return new StripeValue(cs, nr, fds);
                throw new IllegalStateException(p.objectName() + ": stripe_map's value is not kublk's {chunk_shift, nr_backfiles, fds[4]}");
            }
            if (valueSize < 4 + 4 * MAX_FILES)
                throw new IllegalStateException(p.objectName() + ": stripe_map's value is " + valueSize + " bytes, kublk's has 20");
            return KUBLK;
        }
    }
}
