package dev.ublkctl.bpf.elf;

import dev.ublkctl.bpf.testing.BpfObjects;
import dev.ublkctl.bpf.testing.FuzzRounds;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/** Seeded mutations of a real object: the ELF reader either parses or throws ElfException, nothing else. */
class ElfFuzzTest {
    @Test
    void mutatedElfFailsOnlyWithElfException() {
        byte[] orig = BpfObjects.bundledBytes("loop");
        ElfFile good = ElfFile.parse(orig);
        int shoff = (int) good.header().shoff();
        int ok = 0, bad = 0;
        for (int seed = 0; seed < FuzzRounds.of(3000); seed++) {
            SplittableRandom rnd = new SplittableRandom(seed);
            byte[] m = orig.clone();
            switch (rnd.nextInt(4)) {
                case 0 -> m[rnd.nextInt(64)] = (byte) rnd.nextInt(256);                             // ELF header
                case 1 -> m[shoff + rnd.nextInt(m.length - shoff)] = (byte) rnd.nextInt(256);        // section headers
                case 2 -> m = Arrays.copyOf(m, rnd.nextInt(m.length));                               // truncation
                default -> { for (int k = 0; k < 8; k++) m[rnd.nextInt(m.length)] = (byte) rnd.nextInt(256); }
            }
            try {
                ElfFile f = ElfFile.parse(m);
                for (Section s : f.sections()) {
                    f.relocations(s);
                    if (s.size() < ElfFile.MAX_NOBITS) f.contents(s);
                }
                ok++;
            } catch (ElfException e) {
                assertNotNull(e.getMessage());
                bad++;
            } catch (Throwable t) {
                throw new AssertionError("seed " + seed + ": " + t, t);
            }
        }
        System.out.println("elf fuzz: " + ok + " parsed, " + bad + " rejected");
        assertTrue(ok > 0 && bad > 0);
    }
}
