package dev.ublkctl.cli;

import dev.ublkctl.cli.common.ExitCode;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ublkctl.bpf.kernel.Bpf;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** {@code prog run --data-in}: an XDP/socket-filter object in the VM and, with --kernel, in the kernel, side by side. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ProgRunPacketTest {
    @TempDir Path tmp;
    CliHarness cli;

    @BeforeEach
    void setUp() { cli = new CliHarness(tmp.resolve("run")); }

    @AfterEach
    void tearDown() throws Exception { cli.close(); }

    /** The test objects bpf-objects builds (this module depends on it, so they are on the class path). */
    static Path object(String name) throws Exception {
        Path p = Files.createTempFile("ublkctl-" + name, ".o");
        try (var in = ProgRunPacketTest.class.getResourceAsStream("/bpf/test/" + name + ".o")) {
            assertNotNull(in, "bpf-objects should bundle /bpf/test/" + name + ".o");
            Files.write(p, in.readAllBytes());
        }
        return p;
    }

    Path packet(int len, int etherType) throws Exception {
        byte[] f = new byte[len];
        new Random(len).nextBytes(f);
        f[12] = (byte) (etherType >> 8);
        f[13] = (byte) etherType;
        Path p = tmp.resolve("pkt-" + len + ".bin");
        Files.write(p, f);
        return p;
    }

    @Test
    void xdpInTheVmAndTheKernelAgreeAndWriteDataOut() throws Exception {
        String why = Bpf.unavailableReason();
        if (why != null) System.out.println("SKIP kernel side of prog run: " + why);
        assumeTrue(why == null, "bpf(2) not usable here");
        Path out = tmp.resolve("out.bin");
        Path in = packet(64, 0x86dd);
        var r = cli.run("prog", "run", object("xdp").toString(), "--data-in", in.toString(), "--data-out", out.toString(),
                "--repeat", "2000", "--kernel", "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertEquals("xdp_filter", j.get("program").asText());
        assertEquals(1, j.get("retval").asLong(), "IPv6 frames are dropped by the test program (XDP_DROP)");
        assertTrue(j.get("kernel").get("sameRetval").asBoolean());
        assertTrue(j.get("kernel").get("sameData").asBoolean());
        assertTrue(j.get("nsPerRun").asDouble() > 0);
        assertArrayEquals(Files.readAllBytes(in), Files.readAllBytes(out), "XDP_DROP leaves the packet as it was");
        assertEquals("jit", j.get("engine").asText(), "the JIT by default");
        var interp = cli.run("prog", "run", object("xdp").toString(), "--data-in", in.toString(), "--repeat", "2000",
                "--kernel", "--engine", "interp", "--json");
        assertEquals(0, interp.code(), interp.err());
        JsonNode ji = new ObjectMapper().readTree(interp.out());
        assertEquals("interp", ji.get("engine").asText());
        assertEquals(1, ji.get("retval").asLong());
        assertTrue(ji.get("kernel").get("sameRetval").asBoolean() && ji.get("kernel").get("sameData").asBoolean());

        var human = cli.run("prog", "run", object("sockfilter").toString(), "--data-in", packet(100, 0x0800).toString(), "--kernel");
        assertEquals(0, human.code(), human.err());
        assertTrue(human.out().startsWith("Return value: 86, duration (average): "), human.out()); // skb->len = 100 - 14
        assertTrue(human.out().contains("same return value and output data"), human.out());
        assertTrue(human.out().contains("jit ") && human.out().contains("x the kernel JIT"), human.out());
    }

    @Test
    void tailCallsRunInTheVmAndTheKernelAlike() throws Exception {
        String why = Bpf.unavailableReason();
        if (why != null) System.out.println("SKIP kernel side of prog run: " + why);
        assumeTrue(why == null, "bpf(2) not usable here");
        // byte 0 picks the slot: 1 goes on to a program that tail-calls itself until the limit (XDP_DROP)
        Path in = tmp.resolve("slot1.bin");
        byte[] pkt = new byte[64];
        pkt[0] = 1;
        Files.write(in, pkt);
        var r = cli.run("prog", "run", object("features").toString(), "--prog", "tc_entry", "--data-in", in.toString(),
                "--kernel", "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertEquals(1, j.get("retval").asLong(), r.out());
        assertTrue(j.get("kernel").get("sameRetval").asBoolean() && j.get("kernel").get("sameData").asBoolean(), r.out());
    }

    @Test
    void badPacketRunsAreOneLineUsageErrors() throws Exception {
        var tooShort = cli.run("prog", "run", object("xdp").toString(), "--data-in", packet(14, 0x0800).toString());
        assertEquals(0, tooShort.code(), tooShort.err()); // 14 bytes is a whole Ethernet header: fine for XDP
        Path tiny = tmp.resolve("tiny.bin");
        Files.write(tiny, new byte[5]);
        var r = cli.run("prog", "run", object("xdp").toString(), "--data-in", tiny.toString());
        assertEquals(ExitCode.USAGE, r.code());
        assertTrue(r.err().contains("Ethernet header"), r.err());
        var ublk = cli.run("prog", "run", "null", "--data-in", tiny.toString());
        assertEquals(ExitCode.USAGE, ublk.code());
        assertTrue(ublk.err().contains("no XDP or socket-filter program"), ublk.err());
        var missing = cli.run("prog", "run", object("xdp").toString(), "--data-in", tmp.resolve("nope").toString());
        assertEquals(ExitCode.USAGE, missing.code());
        var noProg = cli.run("prog", "run", object("xdp").toString(), "--prog", "nope", "--data-in", tiny.toString());
        assertEquals(ExitCode.USAGE, noProg.code());
        assertTrue(noProg.err().contains("no program 'nope'"), noProg.err());
        for (var x : new CliHarness.Result[]{r, ublk, missing, noProg}) assertFalse(x.err().contains("\tat "), x.err());
    }
}
