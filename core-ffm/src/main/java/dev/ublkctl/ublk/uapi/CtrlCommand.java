package dev.ublkctl.ublk.uapi;

/**
 * Control commands sent as {@code IORING_OP_URING_CMD} to {@code /dev/ublk-control}, with
 * their ioctl encoding ({@code UBLK_U_CMD_*}) and the legacy number where one exists.
 */
public enum CtrlCommand {
    GET_QUEUE_AFFINITY(0x01, Ioc.READ, true),
    GET_DEV_INFO(0x02, Ioc.READ, true),
    ADD_DEV(0x04, Ioc.READ | Ioc.WRITE, true),
    DEL_DEV(0x05, Ioc.READ | Ioc.WRITE, true),
    START_DEV(0x06, Ioc.READ | Ioc.WRITE, true),
    STOP_DEV(0x07, Ioc.READ | Ioc.WRITE, true),
    SET_PARAMS(0x08, Ioc.READ | Ioc.WRITE, true),
    GET_PARAMS(0x09, Ioc.READ, true),
    START_USER_RECOVERY(0x10, Ioc.READ | Ioc.WRITE, true),
    END_USER_RECOVERY(0x11, Ioc.READ | Ioc.WRITE, true),
    GET_DEV_INFO2(0x12, Ioc.READ, true),
    /** 6.5+, ioctl-encoded only. */
    GET_FEATURES(0x13, Ioc.READ, false),
    /** 6.9+, ioctl-encoded only; the kernel header declares it {@code _IOR}. */
    DEL_DEV_ASYNC(0x14, Ioc.READ, false),
    /** 6.16+. */
    UPDATE_SIZE(0x15, Ioc.READ | Ioc.WRITE, false),
    /** 6.16+. */
    QUIESCE_DEV(0x16, Ioc.READ | Ioc.WRITE, false);

    /** The command number ({@code _IOC_NR}). */
    public final int nr;
    private final int dir;
    private final boolean hasLegacy;

    CtrlCommand(int nr, int dir, boolean hasLegacy) {
        this.nr = nr;
        this.dir = dir;
        this.hasLegacy = hasLegacy;
    }

    /** {@code UBLK_U_CMD_*}: {@code _IOR/_IOWR('u', nr, struct ublksrv_ctrl_cmd)}. */
    public int encoded() { return Ioc.ioc(dir, 'u', nr, UblkLayouts.CTRL_CMD.byteSize()); }

    /** The opcode to send: ioctl-encoded when the kernel has {@link UblkFeature#CMD_IOCTL_ENCODE}. */
    public int opcode(boolean ioctlEncode) {
        if (ioctlEncode || !hasLegacy) return encoded();
        return nr;
    }

    /** The header's name, e.g. {@code UBLK_U_CMD_ADD_DEV}. */
    public String uapiName() { return "UBLK_U_CMD_" + name(); }
}
