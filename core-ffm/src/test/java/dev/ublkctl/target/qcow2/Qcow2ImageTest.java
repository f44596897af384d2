package dev.ublkctl.target.qcow2;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The qcow2 image layer against QEMU's own tools: images qemu-img and qemu-io made read byte for
 * byte as {@code qemu-img convert -O raw} reads them; after writes through this code,
 * {@code qemu-img check} finds nothing wrong and {@code qemu-img compare} finds the expected data.
 */
class Qcow2ImageTest {
    @TempDir Path tmp;

    @BeforeAll
    static void tools() { QemuTools.assumeInstalled(); }

    /** Every byte of the image through {@link Qcow2Image#read}, in pieces of {@code piece} bytes. */
    static byte[] readAll(BlockImage img, int piece) {
        byte[] out = new byte[(int) img.size()];
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(piece, 4096);
            for (int off = 0; off < out.length; off += piece) {
                int n = Math.min(piece, out.length - off);
                img.read(off, buf.address(), n);
                MemorySegment.copy(buf, ValueLayout.JAVA_BYTE, 0, out, off, n);
            }
        }
        return out;
    }

    static void write(Qcow2Image img, long off, byte[] data) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(Math.max(1, data.length), 4096);
            MemorySegment.copy(data, 0, buf, ValueLayout.JAVA_BYTE, 0, data.length);
            img.write(off, buf.address(), data.length);
        }
    }

    /** Asserts QEMU finds the image clean and equal to {@code expected}. */
    void assertQemuAgrees(Path img, byte[] expected) throws IOException {
        QemuTools.Run check = QemuTools.run("qemu-img", "check", img.toString());
        assertEquals(0, check.exit(), "qemu-img check: " + check.output());
        Path want = tmp.resolve("expected-" + System.nanoTime() + ".raw");
        Files.write(want, expected);
        QemuTools.Run cmp = QemuTools.run("qemu-img", "compare", "-f", "qcow2", "-F", "raw", img.toString(), want.toString());
        assertEquals(0, cmp.exit(), "qemu-img compare: " + cmp.output());
    }

    @ParameterizedTest(name = "cluster {0}, compat {1}")
    @CsvSource({"4096, 0.10", "4096, 1.1", "65536, 0.10", "65536, 1.1", "2097152, 1.1", "2097152, 0.10", "512, 1.1"})
    void readsWhatQemuWrote(int cluster, String compat) throws IOException {
        long size = 8L << 20;
        Path img = QemuTools.create(tmp.resolve("a.qcow2"), "cluster_size=" + cluster + ",compat=" + compat, size);
        QemuTools.io(img, "write -P 0x11 0 64k", "write -P 0x22 1000k 300k", "write -P 0x33 3m 1m",
                "write -P 0x44 7340032 512", "write -P 0x55 5m 2m");
        if (compat.equals("1.1")) QemuTools.io(img, "write -z 5m 64k", "discard 6m 1m");
        else QemuTools.io(img, "write -z 5m 64k");
        byte[] want = QemuTools.raw(img);
        try (Qcow2Image q = Qcow2Image.open(img, false)) {
            assertEquals(size, q.size());
            assertEquals(cluster, q.clusterSize());
            assertEquals(compat.equals("1.1") ? 3 : 2, q.header().version());
            assertArrayEquals(want, readAll(q, 1 << 20));
            // unaligned pieces that straddle clusters
            Random r = new Random(7);
            try (Arena a = Arena.ofConfined()) {
                MemorySegment buf = a.allocate(300_000);
                for (int i = 0; i < 40; i++) {
                    int off = r.nextInt((int) size - 300_000), n = 1 + r.nextInt(300_000);
                    q.read(off, buf.address(), n);
                    assertArrayEquals(Arrays.copyOfRange(want, off, off + n), buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE), "at " + off);
                }
            }
        }
    }

    @Test
    void readsCompressedClusters() throws IOException {
        Path raw = tmp.resolve("src.raw");
        byte[] data = new byte[4 << 20];
        Random r = new Random(1);
        for (int i = 0; i < data.length; i += 4096) {
            if ((i / 4096) % 3 == 0) continue;   // some zero runs
            byte[] page = new byte[4096];
            if ((i / 4096) % 3 == 1) r.nextBytes(page);   // incompressible
            else Arrays.fill(page, (byte) (i >>> 12));
            System.arraycopy(page, 0, data, i, 4096);
        }
        Files.write(raw, data);
        for (String cl : new String[]{"4096", "65536"}) {
            Path img = tmp.resolve("c" + cl + ".qcow2");
            QemuTools.ok("qemu-img", "convert", "-c", "-f", "raw", "-O", "qcow2", "-o", "cluster_size=" + cl, raw.toString(), img.toString());
            try (Qcow2Image q = Qcow2Image.open(img, false)) {
                assertArrayEquals(data, readAll(q, 128 << 10), "cluster " + cl);
            }
            // overwrite parts of compressed clusters: they are copied out to normal clusters
            byte[] expect = data.clone();
            try (Qcow2Image q = Qcow2Image.open(img, true)) {
                for (int i = 0; i < 50; i++) {
                    int off = r.nextInt(data.length - 10_000), n = 1 + r.nextInt(10_000);
                    byte[] w = new byte[n];
                    r.nextBytes(w);
                    write(q, off, w);
                    System.arraycopy(w, 0, expect, off, n);
                }
                assertArrayEquals(expect, readAll(q, 1 << 20));
            }
            assertQemuAgrees(img, expect);
        }
    }

    @Test
    void readsAndWritesOverABackingChainOfThree() throws IOException {
        Path base = tmp.resolve("base.raw");
        byte[] b = new byte[6 << 20];
        new Random(3).nextBytes(b);
        Files.write(base, Arrays.copyOf(b, 4 << 20));   // shorter than the overlays: the rest reads as zeroes
        Path mid = tmp.resolve("mid.qcow2"), top = tmp.resolve("top.qcow2");
        QemuTools.ok("qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", "base.raw", "-o", "cluster_size=4096", mid.toString(), "6M");
        QemuTools.io(mid, "write -P 0x61 100k 200k", "write -z 1m 64k");
        QemuTools.ok("qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", "mid.qcow2", "-o", "cluster_size=65536", top.toString(), "6M");
        QemuTools.io(top, "write -P 0x71 250k 10k", "write -P 0x72 3m 70k");
        byte[] want = QemuTools.raw(top);
        byte[] midBefore = Files.readAllBytes(mid), baseBefore = Files.readAllBytes(base);
        try (Qcow2Image q = Qcow2Image.open(top, true)) {
            assertTrue(q.backing().isPresent());
            assertArrayEquals(want, readAll(q, 1 << 20));
            // a partial write to an unallocated cluster copies up what the chain shows around it
            byte[] w = new byte[5000];
            Arrays.fill(w, (byte) 0x7f);
            write(q, 120_000, w);
            System.arraycopy(w, 0, want, 120_000, w.length);
            q.zero(2 << 20, 128 << 10);   // whole clusters: zero clusters hide the backing data
            Arrays.fill(want, 2 << 20, (2 << 20) + (128 << 10), (byte) 0);
            q.zero(4_000_000, 3000);      // partial: written zeroes
            Arrays.fill(want, 4_000_000, 4_003_000, (byte) 0);
            assertArrayEquals(want, readAll(q, 1 << 20));
        }
        assertQemuAgrees(top, want);
        assertArrayEquals(midBefore, Files.readAllBytes(mid), "the backing chain is read-only");
        assertArrayEquals(baseBefore, Files.readAllBytes(base));
    }

    @ParameterizedTest(name = "cluster {0}, compat {1}")
    @CsvSource({"512, 1.1", "4096, 0.10", "65536, 1.1", "2097152, 1.1", "65536, 1.1:refcount_bits=1", "4096, 1.1:refcount_bits=64"})
    void randomWritesLeaveAConsistentImage(int cluster, String compat) throws IOException {
        String[] c = compat.split(":");
        long size = 12L << 20;
        Path img = QemuTools.create(tmp.resolve("w.qcow2"), "cluster_size=" + cluster + ",compat=" + c[0]
                + (c.length > 1 ? "," + c[1] : ""), size);
        QemuTools.io(img, "write -P 0x5a 1m 3m");
        byte[] expect = QemuTools.raw(img);
        Random r = new Random(cluster + compat.hashCode());
        try (Qcow2Image q = Qcow2Image.open(img, true)) {
            for (int i = 0; i < 150; i++) {
                int off = r.nextInt((int) size - 200_000), n = 1 + r.nextInt(200_000);
                if (i % 5 == 4) {
                    q.zero(off, n);
                    Arrays.fill(expect, off, off + n, (byte) 0);
                } else {
                    byte[] w = new byte[n];
                    r.nextBytes(w);
                    write(q, off, w);
                    System.arraycopy(w, 0, expect, off, n);
                }
            }
            q.flush();
            assertArrayEquals(expect, readAll(q, 1 << 20));
        }
        assertQemuAgrees(img, expect);
    }

    /** A persistent bitmap sets an auto-clear bit; a writer that does not keep bitmaps clears it first. */
    @Test
    void writingClearsAutoclearBits() throws IOException {
        Path img = QemuTools.create(tmp.resolve("bm.qcow2"), "cluster_size=65536", 2 << 20);
        QemuTools.ok("qemu-img", "bitmap", "--add", img.toString(), "b0");
        try (Qcow2Image q = Qcow2Image.open(img, true)) {
            assertNotEquals(0, q.header().autoclearFeatures(), "qemu-img set the bitmaps bit");
            write(q, 4096, new byte[]{1, 2, 3});
        }
        assertEquals(0, Qcow2Header.read(HostFile.open(img, false), Files.size(img), "bm").autoclearFeatures());
        byte[] expect = new byte[2 << 20];
        expect[4096] = 1;
        expect[4097] = 2;
        expect[4098] = 3;
        // QEMU notices, as the spec intends, and no longer counts the bitmap's clusters: leaks, no errors
        QemuTools.Run check = QemuTools.run("qemu-img", "check", img.toString());
        assertTrue(check.output().contains("lacking bitmap support"), check.output());
        assertTrue(check.exit() == 0 || check.exit() == 3, check.output());
        assertFalse(check.output().contains("ERROR"), check.output());
        Path want = tmp.resolve("bm.raw");
        Files.write(want, expect);
        assertEquals(0, QemuTools.run("qemu-img", "compare", "-f", "qcow2", "-F", "raw", img.toString(), want.toString()).exit());
    }

    /** 512-byte clusters fill the first refcount table after 8 MiB of file: the table moves. */
    @Test
    void refcountTableGrows() throws IOException {
        long size = 24L << 20;
        Path img = QemuTools.create(tmp.resolve("g.qcow2"), "cluster_size=512", size);
        byte[] expect = new byte[(int) size];
        new Random(5).nextBytes(expect);
        try (Qcow2Image q = Qcow2Image.open(img, true)) {
            long before = q.header().refcountTableOffset();
            for (int off = 0; off < size; off += 1 << 20) write(q, off, Arrays.copyOfRange(expect, off, off + (1 << 20)));
            assertArrayEquals(expect, readAll(q, 1 << 20));
            assertNotEquals(before, Qcow2Header.read(HostFile.open(img, false), Files.size(img), "g").refcountTableOffset(), "the table moved");
        }
        assertQemuAgrees(img, expect);
    }

    /** An image this code makes is one QEMU accepts, reads and writes. */
    @ParameterizedTest(name = "cluster bits {0}")
    @CsvSource({"9", "16", "21"})
    void createdImagesAreValidForQemu(int bits) throws IOException {
        Path img = tmp.resolve("made" + bits + ".qcow2");
        long size = 6L << 20;
        Qcow2Image.create(img, size, bits);
        assertEquals(0, QemuTools.run("qemu-img", "check", img.toString()).exit());
        assertTrue(QemuTools.ok("qemu-img", "info", img.toString()).contains("virtual size: 6 MiB"));
        byte[] expect = new byte[(int) size];
        new Random(bits).nextBytes(expect);
        try (Qcow2Image q = Qcow2Image.open(img, true)) {
            write(q, 0, expect);
        }
        assertQemuAgrees(img, expect);
        QemuTools.io(img, "write -P 0x3c 1m 100k");
        Arrays.fill(expect, 1 << 20, (1 << 20) + 100 * 1024, (byte) 0x3c);
        try (Qcow2Image q = Qcow2Image.open(img, false)) {
            assertArrayEquals(expect, readAll(q, 1 << 20));
        }
        assertThrows(IllegalArgumentException.class, () -> Qcow2Image.create(img, size, bits), "never overwrites");
    }

    /** QEMU's image locks work both ways: an image qemu-io has open is refused, and QEMU sees ours. */
    @Test
    void anImageInUseIsRefusedAndQemuSeesOurs() throws Exception {
        Path img = QemuTools.create(tmp.resolve("busy.qcow2"), "cluster_size=65536", 1 << 20);
        Process qio = new ProcessBuilder("qemu-io", "-f", "qcow2", img.toString()).redirectErrorStream(true).start();
        try {
            // qemu-io takes its locks when it opens the image, before its first prompt
            byte[] prompt = new byte[8];
            assertTrue(qio.getInputStream().read(prompt) > 0, "qemu-io started");
            Qcow2FormatException e = assertThrows(Qcow2FormatException.class, () -> Qcow2Image.open(img, true).close());
            assertTrue(e.getMessage().contains("in use"), e.getMessage());
        } finally {
            qio.getOutputStream().close();   // end of input: qemu-io quits
            qio.waitFor();
        }
        Path base = QemuTools.create(tmp.resolve("base.qcow2"), "cluster_size=65536", 1 << 20);
        QemuTools.ok("qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", "base.qcow2", tmp.resolve("o1.qcow2").toString());
        QemuTools.ok("qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", "base.qcow2", tmp.resolve("o2.qcow2").toString());
        try (Qcow2Image q = Qcow2Image.open(img, true)) {
            QemuTools.Run r = QemuTools.run("qemu-io", "-f", "qcow2", "-c", "write 0 4k", img.toString());
            assertNotEquals(0, r.exit(), r.output());
            assertTrue(r.output().contains("lock"), r.output());
            assertEquals(0, QemuTools.run("qemu-img", "info", "-U", img.toString()).exit(), "a forced shared read still works");
            assertThrows(Qcow2FormatException.class, () -> Qcow2Image.open(img, true).close(), "one writer at a time");
            // two overlays on one base share it read-only
            try (Qcow2Image o1 = Qcow2Image.open(tmp.resolve("o1.qcow2"), true); Qcow2Image o2 = Qcow2Image.open(tmp.resolve("o2.qcow2"), true)) {
                assertTrue(o1.backing().isPresent() && o2.backing().isPresent());
            }
        }
    }

    // ------------------------------------------------------------------ bad images

    static String sha(Path p) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p)));
    }

    /** One clear line naming the problem, and the file untouched. */
    void assertRefused(Path img, String words) throws Exception {
        String before = sha(img);
        Qcow2FormatException e = assertThrows(Qcow2FormatException.class, () -> Qcow2Image.open(img, true).close());
        assertTrue(e.getMessage().contains(words), "'" + words + "' in: " + e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        assertEquals(before, sha(img), "nothing written");
    }

    static void poke(Path p, long off, byte[] bytes) throws IOException {
        try (var f = new java.io.RandomAccessFile(p.toFile(), "rw")) {
            f.seek(off);
            f.write(bytes);
        }
    }

    static byte[] be64(long v) { return java.nio.ByteBuffer.allocate(8).putLong(v).array(); }
    static byte[] be32(int v) { return java.nio.ByteBuffer.allocate(4).putInt(v).array(); }

    @Test
    void badImagesAreRefusedWithOneLine() throws Exception {
        Path good = QemuTools.create(tmp.resolve("good.qcow2"), "cluster_size=65536", 4 << 20);
        QemuTools.io(good, "write -P 1 0 128k");
        java.util.function.Function<String, Path> copy = n -> {
            try {
                return Files.copy(good, tmp.resolve(n));
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        };
        Path trunc = copy.apply("trunc.qcow2");
        try (var f = new java.io.RandomAccessFile(trunc.toFile(), "rw")) { f.setLength(40); }
        assertRefused(trunc, "truncated");

        Path notQ = tmp.resolve("plain.raw");
        Files.write(notQ, new byte[8192]);
        assertRefused(notQ, "not a qcow2 image");

        Path l1 = copy.apply("l1.qcow2");
        poke(l1, Qcow2Header.offsetOf("l1_table_offset"), be64(1L << 40));
        assertRefused(l1, "past the end");

        Path l2 = copy.apply("l2.qcow2");   // an L1 entry pointing past the end
        Qcow2Header h = Qcow2Header.read(HostFile.open(good, false), Files.size(good), "good");
        poke(l2, h.l1TableOffset(), be64((1L << 40) | Qcow2Image.L2_COPIED));
        assertRefused(l2, "L1 entry 0 points to");

        Path rc = copy.apply("rc.qcow2");
        poke(rc, Qcow2Header.offsetOf("refcount_order"), be32(7));
        assertRefused(rc, "refcount_order 7");

        Path corrupt = copy.apply("corrupt.qcow2");
        poke(corrupt, Qcow2Header.offsetOf("incompatible_features"), be64(Qcow2Header.INCOMPAT_CORRUPT));
        assertRefused(corrupt, "marked corrupt");

        Path extl2 = copy.apply("extl2.qcow2");
        poke(extl2, Qcow2Header.offsetOf("incompatible_features"), be64(Qcow2Header.INCOMPAT_EXTL2));
        assertRefused(extl2, "extended L2");

        Path enc = copy.apply("enc.qcow2");
        poke(enc, Qcow2Header.offsetOf("crypt_method"), be32(1));
        assertRefused(enc, "encrypted");

        // a loop in the backing chain: a -> b -> a (qemu-img refuses to make one, so rebase unsafely)
        Path a = QemuTools.create(tmp.resolve("loop-a.qcow2"), "cluster_size=65536", 1 << 20);
        QemuTools.ok("qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", "loop-a.qcow2", tmp.resolve("loop-b.qcow2").toString());
        QemuTools.ok("qemu-img", "rebase", "-u", "-F", "qcow2", "-b", "loop-b.qcow2", a.toString());
        assertRefused(a, "loops back");

        Path ext = QemuTools.create(tmp.resolve("ext.qcow2"), "cluster_size=65536,data_file=" + tmp.resolve("ext.data"), 1 << 20);
        assertRefused(ext, "external data file");
    }
}
