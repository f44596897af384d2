package dev.ublkctl.bpf.maps;

import dev.ublkctl.sys.Errno;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.IntFunction;

/**
 * BPF_MAP_TYPE_PROG_ARRAY: the jump table of {@code bpf_tail_call}. Each of the u32 indexes holds a
 * program or nothing. As in the kernel, the value a user writes or reads is a program: written as the
 * number the {@link #setResolver resolver} knows it by (the kernel takes an fd, the VM a program id),
 * read back as that program's id. Programs may only tail-call through it: lookups from a program find
 * nothing and updates or deletes from a program fail with EINVAL (the kernel's verifier refuses them).
 * Slots are replaced atomically, so a running tail call sees the old or the new program.
 */
public final class ProgArrayMap extends VmMap {
    /** What a slot holds: a prepared program (the VM's {@code VmProgram}). */
    public interface Program {
        /** Process-unique id, what a user lookup returns. */
        int id();
        String name();
    }

    private final AtomicReferenceArray<Program> slots;
    private volatile IntFunction<Program> resolver = id -> null;

    ProgArrayMap(MapDef def) {
        super(def, 1);
        slots = new AtomicReferenceArray<>(def.maxEntries());
    }

    /** How {@link #update} turns the 4-byte value into a program (e.g. the programs of one object by id). */
    public void setResolver(IntFunction<Program> resolver) { this.resolver = java.util.Objects.requireNonNull(resolver); }

    /** The program at {@code index}, or null (empty or out of range): what {@code bpf_tail_call} jumps to. */
    public Program program(long index) {
        return index >= 0 && index < slots.length() ? slots.get((int) index) : null;
    }

    /** Puts {@code p} (null empties the slot) at {@code index}. */
    public void set(int index, Program p) throws MapException {
        if (Integer.compareUnsigned(index, slots.length()) >= 0) throw new MapException(name(), "update", Errno.E2BIG);
        slots.set(index, p);
    }

    @Override public int findSlot(MemorySegment keySeg, long keyOff) { return -1; }

    @Override public int updateFromVm(MemorySegment keySeg, long keyOff, MemorySegment valSeg, long valOff, long flags, int cpu) {
        return -Errno.EINVAL;
    }

    @Override public int deleteFromVm(MemorySegment keySeg, long keyOff) { return -Errno.EINVAL; }

    /** The id of the program at {@code key}, or null if the slot is empty (ENOENT in the kernel). */
    @Override public byte[] lookup(byte[] key) {
        checkKey(key);
        Program p = program(Integer.toUnsignedLong(u32(MemorySegment.ofArray(key), 0)));
        return p == null ? null : le32(p.id());
    }

    /** As the kernel's fd arrays: only BPF_ANY, index below max_entries, a program the resolver knows. */
    @Override public void update(byte[] key, byte[] value, long flags) throws MapException {
        checkKey(key);
        checkValue(value);
        if (flags != BPF_ANY) throw new MapException(name(), "update", Errno.EINVAL);
        int idx = u32(MemorySegment.ofArray(key), 0);
        if (Integer.compareUnsigned(idx, slots.length()) >= 0) throw new MapException(name(), "update", Errno.E2BIG);
        Program p = resolver.apply(u32(MemorySegment.ofArray(value), 0));
        if (p == null) throw new MapException(name(), "update", Errno.EBADF);
        slots.set(idx, p);
    }

    @Override public void delete(byte[] key) throws MapException {
        checkKey(key);
        int idx = u32(MemorySegment.ofArray(key), 0);
        if (Integer.compareUnsigned(idx, slots.length()) >= 0) throw new MapException(name(), "delete", Errno.E2BIG);
        if (slots.getAndSet(idx, null) == null) throw new MapException(name(), "delete", Errno.ENOENT);
    }

    /** Keys run over every index, as for arrays (the kernel's get_next_key on fd arrays). */
    @Override public byte[] nextKey(byte[] key) {
        int next;
        if (key == null) {
            next = 0;
        } else {
            checkKey(key);
            int idx = u32(MemorySegment.ofArray(key), 0);
            if (Integer.compareUnsigned(idx, slots.length()) >= 0) next = 0;
            else if (idx == slots.length() - 1) return null;
            else next = idx + 1;
        }
        return le32(next);
    }

    /** Slots holding a program. */
    @Override public int count() {
        int n = 0;
        for (int i = 0; i < slots.length(); i++) if (slots.get(i) != null) n++;
        return n;
    }

    private static byte[] le32(int v) { return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array(); }
}
