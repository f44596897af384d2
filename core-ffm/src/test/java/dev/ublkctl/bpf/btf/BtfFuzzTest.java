package dev.ublkctl.bpf.btf;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ublkctl.bpf.elf.ElfFile;
import dev.ublkctl.bpf.testing.BpfObjects;
import dev.ublkctl.bpf.testing.FuzzRounds;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Seeded mutations of real BTF and BTF.ext: parsing either succeeds or throws BtfException, and a
 * BTF that parses can be walked (sizes, names, JSON rendering, re-encoding) with BtfException as
 * the only failure.
 */
class BtfFuzzTest {
    @Test
    void mutatedBtfFailsOnlyWithBtfException() {
        ElfFile elf = ElfFile.parse(BpfObjects.bundledBytes("stripe"));
        byte[] btf = elf.contents(elf.section(".BTF").orElseThrow());
        byte[] ext = elf.contents(elf.section(".BTF.ext").orElseThrow());
        Btf good = Btf.parse(btf);
        int ok = 0, bad = 0;
        for (int seed = 0; seed < FuzzRounds.of(2000); seed++) {
            SplittableRandom rnd = new SplittableRandom(seed ^ 0x5eed);
            boolean mutateExt = rnd.nextInt(3) == 0;
            byte[] m = (mutateExt ? ext : btf).clone();
            switch (rnd.nextInt(3)) {
                case 0 -> { for (int k = 1 + rnd.nextInt(4); k > 0; k--) m[rnd.nextInt(m.length)] = (byte) rnd.nextInt(256); }
                case 1 -> m = Arrays.copyOf(m, rnd.nextInt(m.length));
                default -> { // a 32-bit field set to an extreme
                    int at = rnd.nextInt(m.length / 4) * 4;
                    int v = rnd.nextBoolean() ? -1 : rnd.nextInt(1 << 16);
                    for (int k = 0; k < 4; k++) m[at + k] = (byte) (v >> (8 * k));
                }
            }
            try {
                if (mutateExt) {
                    BtfExt.parse(m, good);
                } else {
                    Btf b = Btf.parse(m);
                    walk(b);
                    BtfExt.parse(ext, b);
                }
                ok++;
            } catch (BtfException e) {
                assertNotNull(e.getMessage());
                bad++;
            } catch (Throwable t) {
                throw new AssertionError("seed " + seed + (mutateExt ? " (BTF.ext)" : " (BTF)") + ": " + t, t);
            }
        }
        System.out.println("btf fuzz: " + ok + " parsed, " + bad + " rejected");
        assertTrue(ok > 0 && bad > 0);
    }

    /** Every query a caller may make on a parsed BTF. */
    private static void walk(Btf b) {
        BtfFormatter f = new BtfFormatter(b);
        for (int id = 0; id < b.typeCount(); id++) {
            b.typeName(id);
            long size;
            try {
                size = b.sizeOf(id);
            } catch (BtfException e) {
                continue; // functions, void, loops: no size
            }
            if (size >= 0 && size <= 4096) {
                JsonNode n = f.format(id, new byte[(int) size]);
                assertNotNull(n);
            }
        }
        Btf.parse(b.encode());
        b.sanitizedForKernel().encode();
    }
}
