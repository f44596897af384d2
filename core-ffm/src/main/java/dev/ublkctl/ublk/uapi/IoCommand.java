package dev.ublkctl.ublk.uapi;

/** Per-queue I/O commands sent as URING_CMD to {@code /dev/ublkcN} ({@code UBLK_U_IO_*}). */
public enum IoCommand {
    FETCH_REQ(0x20), COMMIT_AND_FETCH_REQ(0x21), NEED_GET_DATA(0x22);

    public final int nr;

    IoCommand(int nr) { this.nr = nr; }

    /** {@code _IOWR('u', nr, struct ublksrv_io_cmd)}. */
    public int encoded() { return Ioc.iowr('u', nr, UblkLayouts.IO_CMD.byteSize()); }

    public int opcode(boolean ioctlEncode) { return ioctlEncode ? encoded() : nr; }

    public String uapiName() { return "UBLK_U_IO_" + name(); }
}
