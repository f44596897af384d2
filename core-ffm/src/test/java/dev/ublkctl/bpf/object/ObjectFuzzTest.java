package dev.ublkctl.bpf.object;

import dev.ublkctl.bpf.btf.BtfException;
import dev.ublkctl.bpf.elf.ElfException;
import dev.ublkctl.bpf.elf.ElfFile;
import dev.ublkctl.bpf.elf.Section;
import dev.ublkctl.bpf.testing.BpfObjects;
import dev.ublkctl.bpf.testing.FuzzRounds;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Feeds thousands of seeded mutations of real objects to the loader. The only acceptable outcomes
 * are a BpfObject or one of the loader's own exceptions; anything else (index errors, NPEs, OOM)
 * fails with the seed that reproduces it.
 */
class ObjectFuzzTest {
    private static final int ROUNDS = 2000;

    @Test
    void mutatedObjectsFailOnlyWithLoaderExceptions() {
        List<byte[]> corpus = new ArrayList<>();
        List<long[]> hot = new ArrayList<>(); // byte ranges worth mutating: headers and metadata sections
        for (String name : BpfObjects.bundledNames()) {
            byte[] obj = BpfObjects.bundledBytes(name);
            corpus.add(obj);
            ElfFile elf = ElfFile.parse(obj);
            List<Long> ranges = new ArrayList<>(List.of(0L, 64L, elf.header().shoff(), (long) elf.header().shnum() * 64));
            for (Section s : elf.sections()) {
                if (s.isNobits() || s.size() == 0) continue;
                String n = s.name();
                if (n.startsWith(".BTF") || n.equals(".symtab") || s.type() == Section.SHT_REL || n.startsWith(".struct_ops")
                        || n.equals(".maps") || s.isExecutable()) {
                    ranges.add(s.offset());
                    ranges.add(s.size());
                }
            }
            hot.add(ranges.stream().mapToLong(Long::longValue).toArray());
        }
        int parsed = 0, rejected = 0;
        for (int seed = Integer.getInteger("fuzz.first", 0); seed < FuzzRounds.of(ROUNDS); seed++) {
            SplittableRandom rnd = new SplittableRandom(seed * 0x9E3779B97F4A7C15L);
            int which = rnd.nextInt(corpus.size());
            byte[] m = mutate(corpus.get(which), hot.get(which), rnd);
            try {
                BpfObject obj = BpfObject.parse(m, "fuzz");
                parsed++;
                for (ProgramSpec p : obj.programs()) assertEquals(0, p.insns().length % 8);
            } catch (ElfException | BtfException | ObjectException e) {
                rejected++;
                assertNotNull(e.getMessage());
            } catch (Throwable t) {
                throw new AssertionError("seed " + seed + " (object " + BpfObjects.bundledNames().get(which) + "): " + t, t);
            }
        }
        System.out.println("object fuzz: " + (parsed + rejected) + " mutations, " + parsed + " parsed, " + rejected + " rejected");
        assertTrue(rejected > 0 && parsed > 0, "mutations should produce both outcomes");
    }

    private static byte[] mutate(byte[] orig, long[] hot, SplittableRandom rnd) {
        byte[] m = orig.clone();
        int kind = rnd.nextInt(5);
        switch (kind) {
            case 0 -> { // a few random bytes anywhere
                for (int i = 1 + rnd.nextInt(4); i > 0; i--) m[rnd.nextInt(m.length)] = (byte) rnd.nextInt(256);
            }
            case 1, 2 -> { // bytes or a word inside a header or metadata section
                int r = rnd.nextInt(hot.length / 2);
                long off = hot[2 * r], len = hot[2 * r + 1];
                if (len <= 0) break;
                int at = (int) (off + rnd.nextLong(len));
                if (kind == 1) {
                    m[at] = (byte) (m[at] ^ (1 << rnd.nextInt(8)));
                } else {
                    at &= ~3;
                    int v = switch (rnd.nextInt(4)) {
                        case 0 -> 0;
                        case 1 -> -1;
                        case 2 -> rnd.nextInt(64);
                        default -> rnd.nextInt();
                    };
                    for (int k = 0; k < 4 && at + k < m.length; k++) m[at + k] = (byte) (v >> (8 * k));
                }
            }
            case 3 -> m = Arrays.copyOf(m, rnd.nextInt(m.length)); // truncation
            default -> { // a run of random bytes in a metadata section
                int r = rnd.nextInt(hot.length / 2);
                long off = hot[2 * r], len = hot[2 * r + 1];
                if (len <= 0) break;
                int at = (int) (off + rnd.nextLong(len));
                for (int k = 0, n = 1 + rnd.nextInt(16); k < n && at + k < m.length; k++) m[at + k] = (byte) rnd.nextInt(256);
            }
        }
        return m;
    }
}
