package dev.ublkctl.bpf.maps;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ublkctl.bpf.kernel.Bpf;
import dev.ublkctl.bpf.kernel.BpfException;
import dev.ublkctl.bpf.kernel.KernelMap;

import java.util.HashSet;
import java.util.HexFormat;
import java.util.Random;
import java.util.Set;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Map semantics against the kernel's maps: the same seeded random sequence of update (all flags, some
 * invalid), delete, lookup and get_next_key runs on a kernel map and a VM map; every outcome (errno or
 * value) and the final key sets must agree.
 */
class MapOracleTest {
    @BeforeAll
    static void needBpf() {
        String why = Bpf.unavailableReason();
        if (why != null) System.out.println("SKIP map oracle tests: " + why);
        assumeTrue(why == null, () -> "bpf(2) not usable here: " + why);
    }

    /** errno of a kernel operation, 0 on success. */
    interface KernelOp { void run(); }

    static int kernelErrno(KernelOp op) {
        try {
            op.run();
            return 0;
        } catch (BpfException e) {
            return e.errno();
        }
    }

    static int vmErrno(MapOp op) {
        try {
            op.run();
            return 0;
        } catch (MapException e) {
            return e.errno();
        }
    }

    interface MapOp { void run() throws MapException; }

    @ParameterizedTest
    @EnumSource(value = MapType.class, names = {"HASH", "ARRAY", "PERCPU_ARRAY", "PERCPU_HASH"})
    void randomOperationSequencesMatchTheKernel(MapType type) {
        int keySize = 4, valueSize = 12, max = 16;
        int cpus = KernelMap.possibleCpus();
        VmMap vm = VmMap.create(MapDef.of("oracle", type, keySize, valueSize, max), cpus);
        try (KernelMap k = Bpf.createMap(type, "oracle_" + type.name().toLowerCase(), keySize, valueSize, max, 0)) {
            assertEquals(k.valueBufferSize(), vm.userValueSize());
            Random r = new Random(type.ordinal());
            for (int i = 0; i < 3000; i++) {
                byte[] key = new byte[keySize];
                key[0] = (byte) r.nextInt(24);   // more keys than entries (and than array indexes)
                String what = "op " + i + " key " + key[0];
                switch (r.nextInt(4)) {
                    case 0 -> {
                        byte[] value = new byte[vm.userValueSize()];
                        r.nextBytes(value);
                        // bytes past value_size in each per-cpu slot are padding the kernel does not keep
                        if (vm.perCpu()) for (int c = 0; c < cpus; c++) for (int b = valueSize; b < 16; b++) value[c * 16 + b] = 0;
                        long flags = r.nextInt(10) == 0 ? 4 : r.nextInt(3);
                        assertEquals(kernelErrno(() -> k.update(key, value, flags)), vmErrno(() -> vm.update(key, value, flags)),
                                what + " update flags " + flags);
                    }
                    case 1 -> {
                        boolean[] absent = {false};
                        int ke = kernelErrno(() -> absent[0] = !k.delete(key));
                        if (absent[0]) ke = dev.ublkctl.sys.Errno.ENOENT;   // KernelMap.delete reports ENOENT as false
                        assertEquals(ke, vmErrno(() -> vm.delete(key)), what + " delete");
                    }
                    case 2 -> {
                        byte[] kv = k.lookup(key), vv = vm.lookup(key);
                        assertEquals(kv == null ? null : HexFormat.of().formatHex(kv), vv == null ? null : HexFormat.of().formatHex(vv),
                                what + " lookup");
                    }
                    default -> assertEquals(keys(k), keys(vm), what + " key set");
                }
            }
            assertEquals(keys(k), keys(vm));
        }
    }

    static Set<String> keys(KernelMap m) {
        Set<String> s = new HashSet<>();
        for (byte[] k = m.nextKey(null); k != null; k = m.nextKey(k)) assertTrue(s.add(HexFormat.of().formatHex(k)));
        return s;
    }

    static Set<String> keys(VmMap m) {
        Set<String> s = new HashSet<>();
        for (byte[] k = m.nextKey(null); k != null; k = m.nextKey(k)) assertTrue(s.add(HexFormat.of().formatHex(k)));
        return s;
    }
}
