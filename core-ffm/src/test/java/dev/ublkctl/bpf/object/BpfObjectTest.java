package dev.ublkctl.bpf.object;

import dev.ublkctl.bpf.insn.Instruction;
import dev.ublkctl.bpf.maps.MapType;
import dev.ublkctl.bpf.testing.BpfObjects;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class BpfObjectTest {

    static int opcode(long insn) { return (int) (insn & 0xff); }
    static int src(long insn) { return (int) ((insn >>> 12) & 0xf); }
    static int imm(long insn) { return (int) (insn >>> 32); }

    /** Checks the relocation conventions on every instruction of every program. */
    static void assertConventions(BpfObject obj) {
        for (ProgramSpec p : obj.programs()) {
            for (int i = 0; i < p.insnCount(); i++) {
                long insn = p.insn(i);
                if (opcode(insn) == 0x18) {
                    var kind = Instruction.ImmKind.ofSrc(src(insn));
                    switch (kind == null ? Instruction.ImmKind.FUNC : kind) {
                        case MAP -> assertTrue(imm(insn) >= 0 && imm(insn) < obj.maps().size(), p.name() + "@" + i);
                        case MAP_VALUE -> {
                            MapSpec m = obj.maps().get(imm(insn));
                            assertTrue(m.isGlobalData(), p.name() + "@" + i);
                            int off = imm(p.insn(i + 1));
                            assertTrue(off >= 0 && off <= m.valueSize(), p.name() + "@" + i);
                        }
                        case VALUE -> { }
                        default -> fail(p.name() + "@" + i + ": ld_imm64 src " + src(insn));
                    }
                    i++;
                } else if (opcode(insn) == 0x85) {
                    var kind = Instruction.CallKind.ofSrc(src(insn));
                    assertNotNull(kind, "call src " + src(insn));
                    switch (kind) {
                        case HELPER -> assertTrue(imm(insn) > 0, "helper id");
                        case LOCAL -> {
                            int target = i + 1 + imm(insn);
                            assertTrue(target > 0 && target < p.insnCount(), p.name() + "@" + i);
                            int t = target;
                            assertTrue(p.funcInfo().stream().anyMatch(f -> f.insn() == t), "call target starts a function");
                        }
                        case KFUNC -> assertTrue(imm(insn) >= 0 && imm(insn) < p.kfuncs().size());
                    }
                }
            }
        }
    }

    @Test
    void nullObject() throws IOException {
        BpfObject obj = BpfObject.load(BpfObjects.bundled("null"));
        assertEquals("null", obj.name());
        assertEquals("GPL", obj.license());
        assertEquals(List.of("qstats", "null_cfg", "bounce", ".rodata", ".data", ".bss"),
                obj.maps().stream().map(MapSpec::name).toList());
        MapSpec qstats = obj.map("qstats").orElseThrow();
        assertEquals(MapType.ARRAY, qstats.type());
        assertEquals(4, qstats.keySize());
        assertEquals(56, qstats.valueSize());
        assertEquals(64, qstats.maxEntries());
        assertEquals("ublkctl_qstats", obj.btf().type(qstats.valueTypeId()).name());
        MapSpec bounce = obj.map("bounce").orElseThrow();
        assertEquals(MapType.HASH, bounce.type());
        assertEquals(8, bounce.keySize());
        assertEquals(4, bounce.valueSize());
        assertEquals(10240, bounce.maxEntries());
        MapSpec rodata = obj.map(".rodata").orElseThrow();
        assertTrue(rodata.isGlobalData() && rodata.isReadOnly());
        assertArrayEquals(new byte[] {0, 16, 0, 0}, rodata.initialValue()); // default_split_bytes = 4096
        assertArrayEquals(new byte[] {1, 0, 0, 0}, obj.map(".data").orElseThrow().initialValue());
        assertArrayEquals(new byte[8], obj.map(".bss").orElseThrow().initialValue());

        assertEquals(List.of("null_queue_io", "null_queue_io_split", "null_queue_io_redirect", "null_attach_dev", "null_detach_dev"),
                obj.programs().stream().map(ProgramSpec::name).toList());
        ProgramSpec q = obj.program("null_queue_io").orElseThrow();
        assertEquals(ProgramType.STRUCT_OPS, q.type());
        assertFalse(q.sleepable());
        assertEquals("ublk_bpf_queue_io_cmd", q.attachTo());
        assertTrue(q.kfuncs().containsAll(List.of("ublk_bpf_get_iod", "ublk_bpf_complete_io", "ublk_bpf_get_queue_id")), q.kfuncs()::toString);

        assertEquals(3, obj.structOps().size());
        StructOpsSpec ops = obj.structOps("null_ops").orElseThrow();
        assertEquals("ublk_bpf_ops", ops.typeName());
        assertTrue(ops.link());
        assertEquals(0, ops.id().orElseThrow());
        assertEquals(Map.of("queue_io_cmd", "null_queue_io", "attach_dev", "null_attach_dev", "detach_dev", "null_detach_dev"), ops.programs());
        assertEquals(List.of("queue_io_cmd", "attach_dev", "detach_dev"), List.copyOf(ops.programs().keySet()));
        assertEquals(1, obj.structOps("null_split_ops").orElseThrow().id().orElseThrow());
        StructOpsSpec redirect = obj.structOps("null_redirect_ops").orElseThrow();
        assertEquals(2, redirect.id().orElseThrow());
        assertEquals("null_queue_io_redirect", redirect.program("queue_io_cmd").orElseThrow());
        assertTrue(redirect.program("queue_io_cmd_daemon").isEmpty());
        assertConventions(obj);
    }

    @Test
    void bundledProgramsFromTheClassPath() throws Exception {
        java.nio.file.Path classes = java.nio.file.Path.of("..", "bpf-objects", "target", "classes").toAbsolutePath().normalize();
        if (!java.nio.file.Files.isRegularFile(classes.resolve("bpf/null.o"))) {
            System.out.println("SKIP: " + classes + "/bpf/null.o not built (mvn -pl bpf-objects package)");
            org.junit.jupiter.api.Assumptions.abort("bpf-objects not built");
        }
        try (var loader = new java.net.URLClassLoader(new java.net.URL[] {classes.toUri().toURL()}, null)) {
            BpfObject obj = BpfObject.bundled("null", loader).orElseThrow();
            assertEquals("null", obj.name());
            assertEquals(3, obj.structOps().size());
            assertEquals(ProgramType.XDP, BpfObject.bundled("test/xdp", loader).orElseThrow().program("xdp_filter").orElseThrow().type());
            assertTrue(BpfObject.bundled("nonexistent", loader).isEmpty());
            assertThrows(IllegalArgumentException.class, () -> BpfObject.bundled("../secret", loader));
        }
    }

    @Test
    void globalDataRelocationsPointAtTheVariable() {
        BpfObject obj = BpfObject.parse(BpfObjects.bundledBytes("null"), "null");
        int bss = obj.mapIndex(".bss"), rodata = obj.mapIndex(".rodata");
        ProgramSpec p = obj.program("null_queue_io_split").orElseThrow();
        boolean sawBss = false, sawRodata = false;
        for (int i = 0; i < p.insnCount(); i++) {
            long insn = p.insn(i);
            if (opcode(insn) == 0x18 && src(insn) == Instruction.ImmKind.MAP_VALUE.src) {
                sawBss |= imm(insn) == bss && imm(p.insn(i + 1)) == 0;
                sawRodata |= imm(insn) == rodata && imm(p.insn(i + 1)) == 0;
            }
        }
        assertTrue(sawBss && sawRodata);
        // BTF DATASECs are fixed up to describe the global data values
        var ds = (dev.ublkctl.bpf.btf.BtfType.DataSec) obj.btf().type(obj.maps().get(rodata).valueTypeId());
        assertEquals(4, ds.size());
    }

    @Test
    void loopAndStripeObjects() {
        BpfObject loop = BpfObject.parse(BpfObjects.bundledBytes("loop"), "loop");
        ProgramSpec q = loop.program("loop_queue_io").orElseThrow();
        assertTrue(q.sleepable());
        assertEquals("ublk_bpf_queue_io_cmd_daemon", q.attachTo());
        assertTrue(q.kfuncs().containsAll(List.of("bpf_aio_alloc_sleepable", "ublk_bpf_attach_and_prep_aio", "bpf_aio_submit")), q.kfuncs()::toString);
        StructOpsSpec ops = loop.structOps("loop_ops").orElseThrow();
        assertEquals(16, ops.id().orElseThrow());
        assertEquals("loop_queue_io", ops.program("queue_io_cmd_daemon").orElseThrow());
        assertEquals("loop_release_io", ops.program("release_io_cmd").orElseThrow());
        StructOpsSpec aio = loop.structOps("loop_aio_ops").orElseThrow();
        assertEquals("bpf_aio_complete_ops", aio.typeName());
        assertEquals(16, aio.id().orElseThrow());
        assertEquals(Map.of("bpf_aio_complete_cb", "loop_aio_done"), aio.programs());
        assertEquals(List.of("qstats", "mix", "loop_files"), loop.maps().stream().map(MapSpec::name).toList());
        assertConventions(loop);

        BpfObject stripe = BpfObject.parse(BpfObjects.bundledBytes("stripe"), "stripe");
        assertEquals(32, stripe.structOps("stripe_ops").orElseThrow().id().orElseThrow());
        assertEquals(32, stripe.structOps("stripe_aio_ops").orElseThrow().id().orElseThrow());
        MapSpec cfg = stripe.map("stripe_cfg").orElseThrow();
        assertEquals(24, cfg.valueSize());
        assertConventions(stripe);
    }

    @Test
    void subprogramsAreAppendedAndCallsArePcRelative() {
        BpfObject obj = BpfObject.parse(BpfObjects.bundledBytes("test/sockfilter"), "sockfilter");
        ProgramSpec p = obj.program("count_and_trim").orElseThrow();
        assertEquals(ProgramType.SOCKET_FILTER, p.type());
        assertEquals(2, p.funcInfo().size());
        assertEquals(new ProgramSpec.FuncInfo(0, p.funcInfo().get(0).typeId(), "count_and_trim"), p.funcInfo().get(0));
        ProgramSpec.FuncInfo classify = p.funcInfo().get(1);
        assertEquals("classify", classify.name());
        int calls = 0;
        for (int i = 0; i < p.insnCount(); i++) {
            long insn = p.insn(i);
            if (opcode(insn) == 0x85 && src(insn) == Instruction.CallKind.LOCAL.src) {
                assertEquals(classify.insn(), i + 1 + imm(insn));
                calls++;
            }
        }
        assertEquals(1, calls);
        // line info is mapped into the appended subprogram too
        ProgramSpec.LineInfo li = p.lineAt(classify.insn()).orElseThrow();
        assertTrue(li.file().endsWith("sockfilter.c"), li::toString);
        assertTrue(li.line() > 0);
        assertTrue(p.lineInfo().stream().anyMatch(l -> l.sourceLine().contains("bpf_skb_load_bytes")));
        assertEquals("classify", p.functionAt(p.insnCount() - 1).orElseThrow().name());
        assertConventions(obj);

        BpfObject sys = BpfObject.parse(BpfObjects.bundledBytes("test/syscall"), "syscall");
        ProgramSpec calc = sys.program("calc").orElseThrow();
        assertEquals(ProgramType.SYSCALL, calc.type());
        assertEquals("calc", calc.funcInfo().get(0).name());
        assertEquals(java.util.Set.of("calc", "gcd", "crc32_u64"),
                calc.funcInfo().stream().map(ProgramSpec.FuncInfo::name).collect(java.util.stream.Collectors.toSet()));
        assertConventions(sys);

        BpfObject xdp = BpfObject.parse(BpfObjects.bundledBytes("test/xdp"), "xdp");
        assertEquals(ProgramType.XDP, xdp.program("xdp_filter").orElseThrow().type());
        assertEquals(List.of("proto_count", ".data", ".bss"), xdp.maps().stream().map(MapSpec::name).toList());
        assertConventions(xdp);
    }

    @Test
    void compatShimsBuildProgramsWrittenForVmlinuxAndLibbpf() {
        byte[] o = BpfObjects.compile("compat", """
                #include "vmlinux.h"
                #include <linux/const.h>
                #include <linux/errno.h>
                #include <linux/falloc.h>
                #include <bpf/bpf_helpers.h>
                #include <bpf/bpf_tracing.h>
                #include "ublk_bpf.h"

                struct {
                    __uint(type, BPF_MAP_TYPE_HASH);
                    __uint(max_entries, 16);
                    __type(key, unsigned long long);
                    __type(value, int);
                } io_map SEC(".maps");

                SEC("struct_ops/ublk_bpf_queue_io_cmd")
                ublk_bpf_return_t BPF_PROG(q, struct ublk_bpf_io *io, unsigned int off)
                {
                    unsigned long long key = build_io_key(io);
                    int v = FALLOC_FL_KEEP_SIZE, *pv = bpf_map_lookup_elem(&io_map, &key);
                    if (pv && *pv) {
                        ublk_bpf_complete_io(io, io->iod->nr_sectors << 9);
                        return ublk_bpf_return_val(UBLK_BPF_IO_QUEUED, 0);
                    }
                    if (bpf_map_update_elem(&io_map, &key, &v, BPF_ANY))
                        bpf_printk("update failed %llx\\n", key);
                    return ublk_bpf_return_val(UBLK_BPF_IO_REDIRECT, -EINVAL & 0);
                }

                SEC(".struct_ops.link")
                struct ublk_bpf_ops compat_ops = { .id = 7, .queue_io_cmd = (void *)q };
                char LICENSE[] SEC("license") = "GPL";
                """);
        BpfObject obj = BpfObject.parse(o, "compat");
        assertEquals(7, obj.structOps("compat_ops").orElseThrow().id().orElseThrow());
        assertEquals("q", obj.structOps("compat_ops").orElseThrow().program("queue_io_cmd").orElseThrow());
        // bpf_printk's format string lives in .rodata and is referenced as a global data map value
        assertTrue(obj.maps().stream().anyMatch(m -> m.name().startsWith(".rodata")));
        assertConventions(obj);
    }
}
