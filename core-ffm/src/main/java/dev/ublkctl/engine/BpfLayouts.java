package dev.ublkctl.engine;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * The RFC's kernel objects as programs see them (x86_64 layout of {@code bpf-objects/include/ublk_bpf.h}).
 * Pointers inside them are VM addresses.
 */
final class BpfLayouts {
    private BpfLayouts() {}

    /** {@code struct bpf_aio_buf { u32 bvec_off; int nr_bvec; const struct bio_vec *bvec; }} */
    static final StructLayout BPF_AIO_BUF = MemoryLayout.structLayout(
            JAVA_INT.withName("bvec_off"), JAVA_INT.withName("nr_bvec"), JAVA_LONG.withName("bvec")).withName("bpf_aio_buf");

    /** {@code struct ublk_bpf_io { iod; flags; refcount_t ref; int res; struct bpf_aio_buf buf; }} (40 bytes) */
    static final StructLayout UBLK_BPF_IO = MemoryLayout.structLayout(
            JAVA_LONG.withName("iod"), JAVA_LONG.withName("flags"), JAVA_INT.withName("ref"), JAVA_INT.withName("res"),
            BPF_AIO_BUF.withName("buf")).withName("ublk_bpf_io");

    /** {@code struct kiocb} as the header declares it (40 bytes). */
    static final StructLayout KIOCB = MemoryLayout.structLayout(
            JAVA_LONG.withName("ki_filp"), JAVA_LONG.withName("ki_pos"), JAVA_LONG.withName("ki_complete"),
            JAVA_LONG.withName("private"), JAVA_INT.withName("ki_flags"), JAVA_SHORT.withName("ki_ioprio"),
            MemoryLayout.paddingLayout(2)).withName("kiocb");

    /** {@code struct bpf_aio} (88 bytes). */
    static final StructLayout BPF_AIO = MemoryLayout.structLayout(
            JAVA_INT.withName("opf"), JAVA_INT.withName("bytes"), BPF_AIO_BUF.withName("buf"),
            JAVA_LONG.withName("work"), JAVA_LONG.withName("ops"), KIOCB.withName("iocb"),
            JAVA_LONG.withName("private_data")).withName("bpf_aio");

    static final long IO_SIZE = UBLK_BPF_IO.byteSize();
    static final long IO_IOD = UBLK_BPF_IO.byteOffset(groupElement("iod"));
    static final long IO_FLAGS = UBLK_BPF_IO.byteOffset(groupElement("flags"));
    static final long IO_REF = UBLK_BPF_IO.byteOffset(groupElement("ref"));
    static final long IO_RES = UBLK_BPF_IO.byteOffset(groupElement("res"));

    static final long AIO_SIZE = BPF_AIO.byteSize();
    static final long AIO_OPF = BPF_AIO.byteOffset(groupElement("opf"));
    static final long AIO_BYTES = BPF_AIO.byteOffset(groupElement("bytes"));
    static final long AIO_BVEC_OFF = BPF_AIO.byteOffset(groupElement("buf"), groupElement("bvec_off"));
    static final long AIO_OPS = BPF_AIO.byteOffset(groupElement("ops"));
    static final long AIO_KI_POS = BPF_AIO.byteOffset(groupElement("iocb"), groupElement("ki_pos"));
    static final long AIO_KI_FLAGS = BPF_AIO.byteOffset(groupElement("iocb"), groupElement("ki_flags"));
    static final long AIO_PRIVATE = BPF_AIO.byteOffset(groupElement("private_data"));

    /** ublk_bpf_io flag bits. */
    static final int IO_PREP = 0, IO_COMPLETED = 1;

    /** Return encoding: disposition in bits 60..63, bytes in the low 32 bits (the RFC truncates to unsigned int). */
    static final int DISPOSITION_SHIFT = 60;
    static final int QUEUED = 0, REDIRECT = 1, CONTINUE = 2;

    /** enum bpf_aio_op */
    static final int AIO_READ = 0, AIO_WRITE = 1, AIO_FSYNC = 2, AIO_FALLOCATE = 3, AIO_OP_LAST = 4;
    static final int AIO_OP_MASK = 0xff;

    static {
        if (IO_SIZE != 40 || AIO_SIZE != 88) throw new AssertionError("RFC object layout changed: io " + IO_SIZE + ", aio " + AIO_SIZE);
    }
}
