package dev.ublkctl.bench;

import dev.ublkctl.bpf.jit.Compilation;
import dev.ublkctl.bpf.jit.JitEngine;
import dev.ublkctl.bpf.kernel.Bpf;
import dev.ublkctl.bpf.kernel.BpfException;
import dev.ublkctl.bpf.kernel.KernelMap;
import dev.ublkctl.bpf.kernel.KernelProgram;
import dev.ublkctl.bpf.maps.VmMap;
import dev.ublkctl.bpf.object.BpfObject;
import dev.ublkctl.bpf.object.MapSpec;
import dev.ublkctl.bpf.object.ProgramSpec;
import dev.ublkctl.bpf.object.ProgramType;
import dev.ublkctl.bpf.vm.ExecutionEngine;
import dev.ublkctl.bpf.vm.FunctionRegistry;
import dev.ublkctl.bpf.vm.Interpreter;
import dev.ublkctl.bpf.vm.VmContext;
import dev.ublkctl.bpf.vm.VmFault;
import dev.ublkctl.bpf.vm.VmLoader;
import dev.ublkctl.bpf.vm.VmProgram;
import dev.ublkctl.sys.Libc;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * ns per run of the null and stripe {@code queue_io_cmd} logic: ublkctl's interpreter and JIT vs the host
 * kernel's JIT (issues 3 and 13), side by side in one run. Not a test; run by {@code scripts/bench-vm-kernel}.
 *
 * <ul>
 *   <li>Same instructions on both sides: {@code test/ublk_logic.o} holds the two programs' logic with
 *       the kfuncs replaced by reads/writes of a {@code struct bench_io}, in {@code __noinline}
 *       functions; the kernel runs the XDP entry with BPF_PROG_TEST_RUN {@code repeat} (the kernel's
 *       own mean ns per run), the VM the syscall entry on the same struct (thread CPU time over a loop, on each engine).
 *       An empty program on each side gives the floor (entry/exit and the loop around it).</li>
 *   <li>The real programs in the VM: {@code null.o null_queue_io} and {@code stripe.o stripe_queue_io}
 *       entered as struct_ops with allocation-free Java kfuncs (what the engine's queue thread pays per
 *       call, without its io_uring work).</li>
 * </ul>
 * Before timing, one run on each side must leave the same bytes in the struct and the same map
 * contents; otherwise the comparison is void and the main fails.
 *
 * <p>Arguments: BPF_DIR (with {@code null.o}, {@code stripe.o}, {@code test/ublk_logic.o}) [kernel repeat
 * = 5000000] [VM runs per round = 2000000] [rounds = 5].
 */
public final class VmKernelBench {
    static final int IO_SIZE = 80;
    static final int OFF_RES = 36, OFF_COMPLETIONS = 40, OFF_RET = 72;

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args.length > 0 ? args[0] : "bpf-objects/target/classes/bpf");
        int repeat = args.length > 1 ? Integer.parseInt(args[1]) : 5_000_000;
        int vmRuns = args.length > 2 ? Integer.parseInt(args[2]) : 2_000_000;
        int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 5;
        String why = Bpf.unavailableReason();
        if (why != null) {
            System.out.println("vm-kernel: bpf(2) not usable here: " + why);
            System.exit(77);
        }
        BpfObject logic = BpfObject.load(dir.resolve("test/ublk_logic.o"));
        System.out.printf("vm-kernel: kernel repeat=%d, VM runs=%d, %d rounds each; median of the rounds (min..max)%n",
                repeat, vmRuns, rounds);
        System.out.println("same instructions (test/ublk_logic.o); interpreter, JIT and the kernel's JIT side by side:");
        ExecutionEngine interp = new Interpreter(), jit = new JitEngine();
        double[] kEmpty = kernel(logic, "xdp_empty", repeat, rounds, null);
        double[] iEmpty = vm(logic, "sys_empty", vmRuns, rounds, interp);
        double[] jEmpty = vm(logic, "sys_empty", vmRuns, rounds, jit);
        row("empty program", iEmpty, jEmpty, kEmpty);
        double[] kNull = kernel(logic, "xdp_null_logic", repeat, rounds, "sys_null_logic");
        double[] iNull = vm(logic, "sys_null_logic", vmRuns, rounds, interp);
        double[] jNull = vm(logic, "sys_null_logic", vmRuns, rounds, jit);
        row("null_queue_io logic", iNull, jNull, kNull);
        double[] kStripe = kernel(logic, "xdp_stripe_logic", repeat, rounds, "sys_stripe_logic");
        double[] iStripe = vm(logic, "sys_stripe_logic", vmRuns, rounds, interp);
        double[] jStripe = vm(logic, "sys_stripe_logic", vmRuns, rounds, jit);
        row("stripe_queue_io logic", iStripe, jStripe, kStripe);
        System.out.printf("  net of the empty program (engine/kernel): null interpreter %.1fx, JIT %.1fx; stripe interpreter %.1fx, JIT %.1fx%n",
                net(iNull, iEmpty, kNull, kEmpty), net(jNull, jEmpty, kNull, kEmpty),
                net(iStripe, iEmpty, kStripe, kEmpty), net(jStripe, jEmpty, kStripe, kEmpty));

        System.out.println("real programs, struct_ops entry with Java kfuncs (vs the kernel JIT on the logic above):");
        for (String[] real : new String[][]{{"null.o", "null_queue_io"}, {"stripe.o", "stripe_queue_io"}}) {
            BpfObject obj = BpfObject.load(dir.resolve(real[0]));
            double k = median(real[1].startsWith("null") ? kNull : kStripe);
            double[] ri = realVm(obj, real[1], vmRuns, rounds, interp);
            double[] rj = realVm(obj, real[1], vmRuns, rounds, jit);
            System.out.printf("  %-24s interpreter %7.1f ns/run (%.1fx)   JIT %7.1f ns/run (%.1fx)%n", real[0] + " " + real[1],
                    median(ri), median(ri) / k, median(rj), median(rj) / k);
        }
        System.out.println("JIT compile time per program (first compile in this JVM, class definition included):");
        for (String[] c : new String[][]{{"test/ublk_logic.o", "sys_null_logic"}, {"test/ublk_logic.o", "sys_stripe_logic"},
                {"null.o", "null_queue_io"}, {"null.o", "null_queue_io_split"}, {"stripe.o", "stripe_queue_io"}, {"loop.o", "loop_queue_io"},
                {"test/xdp.o", "xdp_filter"}}) {
            BpfObject obj = BpfObject.load(dir.resolve(c[0]));
            ProgramSpec spec = obj.program(c[1]).orElse(null);
            if (spec == null) continue;
            FunctionRegistry reg = FunctionRegistry.standard();
            for (String k : spec.kfuncs()) reg.register(k, (x, a, b, d, e, f) -> 0);
            VmProgram p = VmLoader.prepare(spec, VmLoader.createMaps(obj, 1), reg);
            Compilation comp = JitEngine.compile(p);
            System.out.printf("  %-34s %4d slots  %s%n", c[0] + " " + c[1], p.length(), comp.describe());
        }
    }

    static double net(double[] vm, double[] vmEmpty, double[] k, double[] kEmpty) {
        return (median(vm) - median(vmEmpty)) / Math.max(0.1, median(k) - median(kEmpty));
    }

    static void row(String what, double[] interp, double[] jit, double[] kernel) {
        double k = Math.max(0.1, median(kernel));
        System.out.printf("  %-22s kernel JIT %5.1f ns (%.0f..%.0f)  interpreter %6.1f ns (%.1f..%.1f) %5.1fx  JIT %6.1f ns (%.1f..%.1f) %5.1fx%n",
                what, median(kernel), kernel[0], kernel[kernel.length - 1], median(interp), interp[0], interp[interp.length - 1],
                median(interp) / k, median(jit), jit[0], jit[jit.length - 1], median(jit) / k);
    }

    static double median(double[] sorted) { return sorted[sorted.length / 2]; }

    /** A request: 4 KiB READ at sector 8200 (inside chunk 0 of a 64 KiB stripe), dev 0, queue 1, tag 5. */
    static byte[] request() {
        return ByteBuffer.allocate(IO_SIZE).order(ByteOrder.LITTLE_ENDIAN)
                .putInt(0, 0 /* READ */).putInt(4, 8).putLong(8, 8200).putInt(24, 0).putInt(28, 1).putInt(32, 5).array();
    }

    /** stripe_cfg[0] = {chunk_shift 16, 2 files, fds 10 and 11} */
    static byte[] stripeCfg() {
        return ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN).putInt(16).putInt(2).putInt(10).putInt(11).array();
    }

    // ---- kernel ----

    /** Mean ns per run of the XDP entry, one figure per round (BPF_PROG_TEST_RUN repeat), sorted. */
    static double[] kernel(BpfObject obj, String prog, int repeat, int rounds, String vmTwin) throws VmFault {
        List<KernelMap> maps = new ArrayList<>();
        try {
            for (MapSpec m : obj.maps()) {
                KernelMap km = Bpf.createMap(m.type(), m.name(), m.keySize(), m.valueSize(), m.maxEntries(), m.flags());
                maps.add(km);
                if (m.isGlobalData()) km.update(new byte[4], m.initialValue(), Bpf.BPF_ANY);
            }
            maps.get(obj.mapIndex("stripe_cfg")).update(new byte[4], stripeCfg(), Bpf.BPF_ANY);
            ProgramSpec p = obj.program(prog).orElseThrow();
            byte[] insns = dev.ublkctl.bpf.kernel.KernelCollection.withMapFds(p.insns(), i -> maps.get(i).fd());
            try (KernelProgram kp = Bpf.loadProgram(new Bpf.ProgramLoad(ProgramType.XDP, insns, p.license(), p.name()))) {
                KernelProgram.TestRunResult once = kp.testRun(KernelProgram.TestRunInput.ofData(request(), 1));
                if (once.retval() != 2) throw new IllegalStateException(prog + " returned " + once.retval() + ", expected XDP_PASS");
                if (vmTwin != null) sameAsVm(obj, vmTwin, Arrays.copyOf(once.dataOut(), IO_SIZE), maps);
                kp.testRun(KernelProgram.TestRunInput.ofData(request(), repeat)); // warm-up
                double[] ns = new double[rounds];
                for (int r = 0; r < rounds; r++)
                    ns[r] = kp.testRun(KernelProgram.TestRunInput.ofData(request(), repeat)).durationNs();
                Arrays.sort(ns);
                return ns;
            }
        } catch (BpfException e) {
            String log = e.verifierLog();
            throw new IllegalStateException(e.getMessage() + "\n" + log.substring(Math.max(0, log.length() - 3000)), e);
        } finally {
            maps.forEach(KernelMap::close);
        }
    }

    /** One run of the VM twin from the same start must leave the same struct and map contents as the kernel's one run. */
    static void sameAsVm(BpfObject obj, String vmProg, byte[] kernelOut, List<KernelMap> kmaps) throws VmFault {
        List<VmMap> vmaps = VmLoader.createMaps(obj, KernelMap.possibleCpus());
        putVm(vmaps.get(obj.mapIndex("stripe_cfg")), new byte[4], stripeCfg());
        VmProgram p = VmLoader.prepare(obj.program(vmProg).orElseThrow(), vmaps, FunctionRegistry.standard());
        MemorySegment io = MemorySegment.ofArray(request());
        new Interpreter().runWithContext(p, new VmContext(0), io, true);
        byte[] mine = io.toArray(ValueLayout.JAVA_BYTE);
        if (!Arrays.equals(mine, kernelOut))
            throw new IllegalStateException(vmProg + ": VM and kernel left different bytes:\n VM     " + hex(mine) + "\n kernel " + hex(kernelOut));
        for (int i = 0; i < vmaps.size(); i++) {
            String name = obj.maps().get(i).name();
            byte[] key = name.equals("stripe_inflight") ? ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, (1L << 16) | 5).array()
                    : name.equals("qstats") ? ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, 1).array()
                    : new byte[obj.maps().get(i).keySize()];
            byte[] v = vmaps.get(i).lookup(key), k = kmaps.get(i).lookup(key);
            // per-cpu or not, the kernel run happened on some cpu: compare the sum over cpus for qstats
            if (!Arrays.equals(sumPerCpu(obj.maps().get(i), v), sumPerCpu(obj.maps().get(i), k)))
                throw new IllegalStateException(vmProg + ": map " + name + " differs: VM " + hex(v) + ", kernel " + hex(k));
        }
    }

    static byte[] sumPerCpu(MapSpec m, byte[] v) {
        if (v == null || !m.type().name().contains("PERCPU")) return v;
        int stride = (m.valueSize() + 7) & ~7;
        long[] sum = new long[stride / 8];
        ByteBuffer b = ByteBuffer.wrap(v).order(ByteOrder.LITTLE_ENDIAN);
        for (int off = 0; off + stride <= v.length; off += stride)
            for (int j = 0; j < sum.length; j++) sum[j] += b.getLong(off + 8 * j);
        ByteBuffer out = ByteBuffer.allocate(stride).order(ByteOrder.LITTLE_ENDIAN);
        for (long s : sum) out.putLong(s);
        return out.array();
    }

    static String hex(byte[] b) { return b == null ? "absent" : java.util.HexFormat.of().formatHex(b); }

    static void putVm(VmMap m, byte[] key, byte[] value) {
        try {
            m.update(key, value, VmMap.BPF_ANY);
        } catch (dev.ublkctl.bpf.maps.MapException e) {
            throw new IllegalStateException(e);
        }
    }

    // ---- VM, same instructions ----

    /** ns per run of the syscall entry in the interpreter, r1 = the request (mapped once, as the engine does). */
    static double[] vm(BpfObject obj, String prog, int runs, int rounds, ExecutionEngine vm) throws VmFault {
        List<VmMap> maps = VmLoader.createMaps(obj, Libc.onlineCpus());
        putVm(maps.get(obj.mapIndex("stripe_cfg")), new byte[4], stripeCfg());
        VmProgram p = VmLoader.prepare(obj.program(prog).orElseThrow(), maps, FunctionRegistry.standard());
        vm.prepare(p);
        VmContext ctx = new VmContext(0);
        MemorySegment io = Arena.ofAuto().allocate(IO_SIZE, 8);
        io.copyFrom(MemorySegment.ofArray(request()));
        long addr = ctx.addRegion(io, true, "bench_io");
        return time(() -> vm.run(p, ctx, addr, IO_SIZE, 0, 0, 0), runs, rounds);
    }

    interface Run { long run() throws VmFault; }

    static double[] time(Run r, int runs, int rounds) throws VmFault {
        long sink = 0;
        for (int i = 0; i < runs; i++) sink += r.run(); // warm-up: the interpreter's own JIT compilation
        double[] ns = new double[rounds];
        // thread CPU time, not wall time: on a shared machine the thread is descheduled now and then, and
        // the kernel's BPF_PROG_TEST_RUN figure leaves out the time it yields the CPU too
        java.lang.management.ThreadMXBean tm = java.lang.management.ManagementFactory.getThreadMXBean();
        for (int round = 0; round < rounds; round++) {
            long t0 = tm.getCurrentThreadCpuTime();
            for (int i = 0; i < runs; i++) sink += r.run();
            ns[round] = (double) (tm.getCurrentThreadCpuTime() - t0) / runs;
        }
        if (sink == 42) System.out.print(""); // keep the results alive
        Arrays.sort(ns);
        return ns;
    }

    // ---- VM, the real programs ----

    /**
     * The bundled program entered as struct_ops with Java kfuncs over fixed regions: the io
     * (40 bytes, iod pointer at 0), its descriptor, one aio. No allocation per run.
     */
    static double[] realVm(BpfObject obj, String prog, int runs, int rounds, ExecutionEngine vm) throws VmFault {
        List<VmMap> maps = VmLoader.createMaps(obj, Libc.onlineCpus());
        if (obj.maps().stream().anyMatch(m -> m.name().equals("stripe_cfg")))
            putVm(maps.get(obj.mapIndex("stripe_cfg")), new byte[4], stripeCfg());
        VmContext ctx = new VmContext(0);
        Arena arena = Arena.ofAuto();
        MemorySegment iodSeg = arena.allocate(24, 8);
        iodSeg.set(ValueLayout.JAVA_INT, 0, 0);
        iodSeg.set(ValueLayout.JAVA_INT, 4, 8);
        iodSeg.set(ValueLayout.JAVA_LONG, 8, 8200);
        long iod = ctx.addRegion(iodSeg, false, "iod");
        MemorySegment ioSeg = arena.allocate(40, 8);
        ioSeg.set(ValueLayout.JAVA_LONG, 0, iod);
        long io = ctx.addRegion(ioSeg, false, "ublk_bpf_io");
        long aio = ctx.addRegion(arena.allocate(88, 8), true, "bpf_aio");
        long[] state = new long[4]; // completions, last res, aio submits, aio bytes
        FunctionRegistry reg = FunctionRegistry.standard();
        reg.register("ublk_bpf_get_iod", (c, a, x, y, z, w) -> iod);
        reg.register("ublk_bpf_get_queue_id", (c, a, x, y, z, w) -> 1);
        reg.register("ublk_bpf_get_dev_id", (c, a, x, y, z, w) -> 0);
        reg.register("ublk_bpf_get_io_tag", (c, a, x, y, z, w) -> 5);
        reg.register("ublk_bpf_complete_io", (c, a, res, y, z, w) -> { state[0]++; state[1] = res; return 0; });
        reg.register("bpf_aio_alloc", (c, op, fl, y, z, w) -> aio);
        reg.register("bpf_aio_alloc_sleepable", (c, op, fl, y, z, w) -> aio);
        reg.register("ublk_bpf_attach_and_prep_aio", (c, a, off, bytes, x, w) -> (off & 0xffffffffL) + (bytes & 0xffffffffL) > 4096 ? -22 : 0);
        reg.register("bpf_aio_submit", (c, a, fd, pos, bytes, fl) -> { state[2]++; state[3] = bytes; return 0; });
        reg.register("bpf_aio_release", (c, a, x, y, z, w) -> 0);
        reg.register("ublk_bpf_acquire_io_from_aio", (c, a, x, y, z, w) -> io);
        reg.register("ublk_bpf_release_io_from_aio", (c, a, x, y, z, w) -> 0);
        reg.register("ublk_bpf_dettach_and_complete_aio", (c, a, x, y, z, w) -> 0);
        VmProgram p = VmLoader.prepare(obj.program(prog).orElseThrow(), maps, reg);
        vm.prepare(p);
        long first = vm.runStructOps(p, ctx, io, 0);
        int disp = (int) (first >>> 60);
        if (prog.startsWith("null") && (disp != 0 || state[0] != 1 || state[1] != 4096))
            throw new IllegalStateException(prog + ": expected QUEUED and one completion of 4096, got " + Long.toHexString(first) + " " + Arrays.toString(state));
        if (prog.startsWith("stripe") && (disp != 2 || (int) first != 4096 || state[2] != 1 || state[3] != 4096))
            throw new IllegalStateException(prog + ": expected CONTINUE|4096 and one aio, got " + Long.toHexString(first) + " " + Arrays.toString(state));
        return time(() -> vm.runStructOps(p, ctx, io, 0), runs, rounds);
    }
}
