package dev.ublkctl.bpf.maps;

import dev.ublkctl.sys.Errno;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** ARRAY and PERCPU_ARRAY: all entries exist from creation, zero-filled; key is a u32 index. */
public final class ArrayMap extends VmMap {

    ArrayMap(MapDef def, int cpus) { super(def, cpus); }

    @Override public int findSlot(MemorySegment keySeg, long keyOff) {
        int idx = u32(keySeg, keyOff);
        return Integer.compareUnsigned(idx, def.maxEntries()) < 0 ? idx : -1;
    }

    @Override public int updateFromVm(MemorySegment keySeg, long keyOff, MemorySegment valSeg, long valOff, long flags, int cpu) {
        int e = checkFlags(flags);
        if (e != 0) return e;
        int idx = u32(keySeg, keyOff);
        if (Integer.compareUnsigned(idx, def.maxEntries()) >= 0) return -Errno.E2BIG;
        if (flags == BPF_NOEXIST) return -Errno.EEXIST;
        MemorySegment.copy(valSeg, valOff, storage, valueOffset(idx, cpu), def.valueSize());
        return 0;
    }

    @Override public int deleteFromVm(MemorySegment keySeg, long keyOff) { return -Errno.EINVAL; }

    @Override public void update(byte[] key, byte[] value, long flags) throws MapException {
        checkKey(key);
        checkValue(value);
        if (checkFlags(flags) != 0) throw new MapException(name(), "update", Errno.EINVAL);
        int idx = u32(MemorySegment.ofArray(key), 0);
        if (Integer.compareUnsigned(idx, def.maxEntries()) >= 0) throw new MapException(name(), "update", Errno.E2BIG);
        if (flags == BPF_NOEXIST) throw new MapException(name(), "update", Errno.EEXIST);
        storeUserValue(idx, value);
    }

    @Override public void delete(byte[] key) throws MapException {
        checkKey(key);
        throw new MapException(name(), "delete", Errno.EINVAL);
    }

    @Override public byte[] nextKey(byte[] key) {
        int next;
        if (key == null) {
            next = 0;
        } else {
            checkKey(key);
            int idx = u32(MemorySegment.ofArray(key), 0);
            if (Integer.compareUnsigned(idx, def.maxEntries()) >= 0) next = 0;
            else if (idx == def.maxEntries() - 1) return null;
            else next = idx + 1;
        }
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(next).array();
    }

    @Override public int count() { return def.maxEntries(); }
}
