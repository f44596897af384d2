package dev.ublkctl.target;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class StripeLayoutTest {
    /** kublk's stripe arithmetic as its program writes it: masks on units of n chunks. */
    private static long kublkOffset(long pos, int n, int chunk) {
        long unit = pos & ~((long) n * chunk - 1), start = pos & ~((long) chunk - 1);
        long idx = (start - unit) / chunk;
        return unit / n + idx * chunk + (pos - start);
    }

    private static int kublkFile(long pos, int n, int chunk) {
        long unit = pos & ~((long) n * chunk - 1), start = pos & ~((long) chunk - 1);
        return (int) ((start - unit) / chunk);
    }

    @Test
    void kublkMatchesTheProgramsMaskArithmetic() {
        for (int n : new int[]{1, 2, 4}) {
            for (int chunk : new int[]{4096, 65536}) {
                for (long pos = 0; pos < 64L * chunk; pos += 1536) {
                    assertEquals(kublkFile(pos, n, chunk), StripeLayout.KUBLK.file(pos, n, chunk), "file of " + pos);
                    assertEquals(kublkOffset(pos, n, chunk), StripeLayout.KUBLK.fileOffset(pos, n, chunk), "offset of " + pos);
                }
            }
        }
    }

    @Test
    void raid0IsChunkOverFilesAndKublkStartsFileIChunksIn() {
        assertEquals(0, StripeLayout.RAID0.fileOffset(0, 2, 4096));
        assertEquals(4096, StripeLayout.RAID0.fileOffset(2 * 4096 + 0, 2, 4096));   // chunk 2: file 0, its chunk 1
        assertEquals(0, StripeLayout.RAID0.fileOffset(4096, 2, 4096));              // chunk 1: file 1 at 0
        assertEquals(4096, StripeLayout.KUBLK.fileOffset(4096, 2, 4096));           // kublk: file 1 starts a chunk in
        assertEquals(1, StripeLayout.KUBLK.file(4096, 2, 4096));
        assertTrue(StripeLayout.KUBLK.supports(4));
        assertFalse(StripeLayout.KUBLK.supports(3), "the unit mask needs a power of two");
        assertTrue(StripeLayout.RAID0.supports(3));
    }
}
