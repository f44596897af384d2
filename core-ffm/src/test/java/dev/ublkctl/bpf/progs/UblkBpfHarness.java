package dev.ublkctl.bpf.progs;

import dev.ublkctl.bpf.maps.MapDef;
import dev.ublkctl.bpf.maps.VmMap;
import dev.ublkctl.bpf.object.BpfObject;
import dev.ublkctl.bpf.object.MapSpec;
import dev.ublkctl.bpf.object.ProgramSpec;
import dev.ublkctl.bpf.vm.FunctionRegistry;
import dev.ublkctl.bpf.vm.Interpreter;
import dev.ublkctl.bpf.vm.VmContext;
import dev.ublkctl.bpf.vm.VmFault;
import dev.ublkctl.bpf.vm.VmProgram;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A minimal stand-in for the RFC's kernel side, enough to run the bundled programs in the VM:
 * ublk kfuncs over test-owned {@code ublk_bpf_io}/{@code ublksrv_io_desc} regions, bpf aio kfuncs
 * that record submissions (completions are delivered by the test), and the driver's
 * QUEUED/REDIRECT/CONTINUE loop. It tests the C programs, not a driver model.
 */
final class UblkBpfHarness {
    static final int IO_SIZE = 40, IOD_SIZE = 24, AIO_SIZE = 88;
    static final int QUEUED = 0, REDIRECT = 1, CONTINUE = 2;

    /** One request: its regions and what BPF did with it. */
    static final class Io {
        final int dev, queue, tag, op;
        final long startSector;
        final int sectors;
        long addr;
        final List<Integer> completions = new ArrayList<>();
        Io(int dev, int queue, int tag, int op, long startSector, int sectors) {
            this.dev = dev; this.queue = queue; this.tag = tag; this.op = op; this.startSector = startSector; this.sectors = sectors;
        }
        int bytes() { return sectors << 9; }
    }

    /** One bpf aio as the program set it up. */
    static final class Aio {
        final long addr;
        int op = -1;
        Io io;
        int bufOff, bufBytes, fd, bytes, flags;
        long pos;
        boolean submitted, detached, released;
        Aio(long addr) { this.addr = addr; }
    }

    /** What the driver loop saw for one call of queue_io_cmd. */
    record Step(int disposition, int bytes, int off) {}

    final BpfObject obj;
    final List<VmMap> maps = new ArrayList<>();
    final VmContext ctx = new VmContext();
    final Interpreter interp = new Interpreter();
    final Map<String, VmProgram> programs = new HashMap<>();
    final Map<Long, Io> ios = new HashMap<>();
    final Map<Long, Aio> aios = new HashMap<>();
    final List<Aio> aioPool = new ArrayList<>();

    UblkBpfHarness(BpfObject obj) throws VmFault {
        this.obj = obj;
        for (MapSpec m : obj.maps()) {
            VmMap vm = VmMap.create(new MapDef(m.name(), m.type(), m.keySize(), m.valueSize(), m.maxEntries(), m.flags()), 1);
            if (m.isGlobalData()) update(vm, new byte[4], m.initialValue());
            maps.add(vm);
        }
        for (int i = 0; i < 64; i++) aioPool.add(new Aio(ctx.addRegion(new byte[AIO_SIZE], true, "aio" + i)));
        FunctionRegistry reg = FunctionRegistry.standard();
        reg.register("ublk_bpf_get_iod", (c, io, a, b, d, e) -> c.load(io, 8));
        reg.register("ublk_bpf_get_queue_id", (c, io, a, b, d, e) -> io(io).queue);
        reg.register("ublk_bpf_get_dev_id", (c, io, a, b, d, e) -> io(io).dev);
        reg.register("ublk_bpf_get_io_tag", (c, io, a, b, d, e) -> io(io).tag);
        reg.register("ublk_bpf_complete_io", (c, io, res, b, d, e) -> { io(io).completions.add((int) res); return 0; });
        reg.register("bpf_aio_alloc", (c, op, flags, b, d, e) -> alloc(op, flags));
        reg.register("bpf_aio_alloc_sleepable", (c, op, flags, b, d, e) -> alloc(op, flags));
        reg.register("ublk_bpf_attach_and_prep_aio", (c, io, off, bytes, aio, e) -> {
            Io i = io(io);
            if ((off & 0xffffffffL) + (bytes & 0xffffffffL) > i.bytes()) return -22;
            Aio a = aio(aio);
            a.io = i;
            a.bufOff = (int) off;
            a.bufBytes = (int) bytes;
            return 0;
        });
        reg.register("bpf_aio_submit", (c, aio, fd, pos, bytes, flags) -> {
            Aio a = aio(aio);
            if (a.io == null) return -22;
            a.fd = (int) fd; a.pos = pos; a.bytes = (int) bytes; a.flags = (int) flags; a.submitted = true;
            return 0;
        });
        reg.register("ublk_bpf_acquire_io_from_aio", (c, aio, a, b, d, e) -> aio(aio).io == null ? 0 : aio(aio).io.addr);
        reg.register("ublk_bpf_release_io_from_aio", (c, io, a, b, d, e) -> 0);
        reg.register("ublk_bpf_dettach_and_complete_aio", (c, aio, a, b, d, e) -> { aio(aio).detached = true; return 0; });
        reg.register("bpf_aio_release", (c, aio, a, b, d, e) -> { aio(aio).released = true; return 0; });
        for (ProgramSpec p : obj.programs())
            programs.put(p.name(), VmProgram.builder(p.name(), p.insns()).maps(maps).kfuncs(p.kfuncs()).registry(reg).prepare());
    }

    private long alloc(long op, long flags) {
        for (Aio a : aioPool) {
            if (a.op < 0) {
                a.op = (int) op;
                a.flags = (int) flags;
                aios.put(a.addr, a);
                return a.addr;
            }
        }
        return 0;
    }

    private Io io(long addr) throws VmFault {
        Io io = ios.get(addr);
        if (io == null) throw VmFault.helper("no ublk_bpf_io at 0x" + Long.toHexString(addr));
        return io;
    }

    private Aio aio(long addr) throws VmFault {
        Aio a = aios.get(addr);
        if (a == null) throw VmFault.helper("no bpf_aio at 0x" + Long.toHexString(addr));
        return a;
    }

    /** Maps a new request into the VM: its descriptor and its ublk_bpf_io pointing at it. */
    Io io(int dev, int queue, int tag, int op, long startSector, int sectors) {
        Io io = new Io(dev, queue, tag, op, startSector, sectors);
        long iod = ctx.addRegion(le(IOD_SIZE).putInt(op).putInt(sectors).putLong(startSector).putLong(0).array(), false, "iod");
        io.addr = ctx.addRegion(le(IO_SIZE).putLong(iod).array(), false, "io");
        ios.put(io.addr, io);
        return io;
    }

    long run(String program, long... args) throws VmFault {
        VmProgram p = programs.get(program);
        if (p == null) throw new IllegalArgumentException("no program " + program);
        return interp.run(p, ctx, ctx.setArgs(args), 0, 0, 0, 0);
    }

    /** The RFC driver loop: call {@code program} until QUEUED, REDIRECT or the whole I/O is queued. */
    List<Step> queue(String program, Io io) throws VmFault {
        List<Step> steps = new ArrayList<>();
        int done = 0;
        for (int i = 0; i < 1024; i++) {
            long ret = run(program, io.addr, done);
            int disp = (int) (ret >>> 60), bytes = (int) ret;
            steps.add(new Step(disp, bytes, done));
            if (disp != CONTINUE) break;
            if (bytes == 0 || (bytes & 511) != 0 || bytes > io.bytes() - done)
                throw new AssertionError("invalid CONTINUE " + bytes + " at " + done + " of " + io.bytes());
            done += bytes;
            if (done == io.bytes()) break;
        }
        return steps;
    }

    VmMap map(String name) { return maps.get(obj.mapIndex(name)); }

    static void update(VmMap m, byte[] key, byte[] value) {
        try {
            m.update(key, value, VmMap.BPF_ANY);
        } catch (dev.ublkctl.bpf.maps.MapException e) {
            throw new AssertionError(e);
        }
    }

    /** Per-queue counters of the "qstats" map: queued, redirected, split, bytes, errors, aio_submitted, aio_completed. */
    long[] qstats(int queue) {
        ByteBuffer b = ByteBuffer.wrap(map("qstats").lookup(le(4).putInt(queue).array())).order(ByteOrder.LITTLE_ENDIAN);
        long[] out = new long[7];
        for (int i = 0; i < 7; i++) out[i] = b.getLong(8 * i);
        return out;
    }

    static ByteBuffer le(int n) { return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN); }
}
