package dev.ublkctl.nbd;

/**
 * The numbers of the NBD wire protocol (fixed newstyle negotiation, then transmission), as the
 * protocol document of the NetworkBlockDevice project names them. All fields are big-endian.
 */
public final class Nbd {
    private Nbd() {}

    /** Port that {@code nbd://HOST/NAME} without a port means. */
    public static final int DEFAULT_PORT = 10809;

    // negotiation
    public static final long NBDMAGIC = 0x4e42444d41474943L;          // "NBDMAGIC"
    public static final long IHAVEOPT = 0x49484156454F5054L;          // "IHAVEOPT"
    public static final long OPT_REPLY_MAGIC = 0x3e889045565a9L;
    public static final int FLAG_FIXED_NEWSTYLE = 1, FLAG_NO_ZEROES = 1 << 1;
    public static final int FLAG_C_FIXED_NEWSTYLE = 1, FLAG_C_NO_ZEROES = 1 << 1;

    public static final int OPT_EXPORT_NAME = 1, OPT_ABORT = 2, OPT_LIST = 3, OPT_STARTTLS = 5, OPT_INFO = 6,
            OPT_GO = 7, OPT_STRUCTURED_REPLY = 8;

    public static final int REP_ACK = 1, REP_SERVER = 2, REP_INFO = 3;
    private static final int REP_FLAG_ERROR = 1 << 31;
    public static final int REP_ERR_UNSUP = REP_FLAG_ERROR | 1, REP_ERR_POLICY = REP_FLAG_ERROR | 2,
            REP_ERR_INVALID = REP_FLAG_ERROR | 3, REP_ERR_UNKNOWN = REP_FLAG_ERROR | 6, REP_ERR_TOO_BIG = REP_FLAG_ERROR | 9;

    public static boolean isError(int replyType) { return (replyType & REP_FLAG_ERROR) != 0; }

    public static final int INFO_EXPORT = 0, INFO_NAME = 1, INFO_DESCRIPTION = 2, INFO_BLOCK_SIZE = 3;

    // transmission flags (per export)
    public static final int TF_HAS_FLAGS = 1, TF_READ_ONLY = 1 << 1, TF_SEND_FLUSH = 1 << 2, TF_SEND_FUA = 1 << 3,
            TF_SEND_TRIM = 1 << 5, TF_SEND_WRITE_ZEROES = 1 << 6, TF_CAN_MULTI_CONN = 1 << 8;

    // requests
    public static final int REQUEST_MAGIC = 0x25609513;
    /** magic u32, flags u16, type u16, cookie u64, offset u64, length u32. */
    public static final int REQUEST_BYTES = 28;
    public static final int CMD_FLAG_FUA = 1, CMD_FLAG_NO_HOLE = 1 << 1;
    public static final int CMD_READ = 0, CMD_WRITE = 1, CMD_DISC = 2, CMD_FLUSH = 3, CMD_TRIM = 4,
            CMD_WRITE_ZEROES = 6;

    // replies
    public static final int SIMPLE_REPLY_MAGIC = 0x67446698;
    /** magic u32, error u32, cookie u64. */
    public static final int SIMPLE_REPLY_BYTES = 16;
    public static final int STRUCTURED_REPLY_MAGIC = 0x668e33ef;
    /** magic u32, flags u16, type u16, cookie u64, length u32. */
    public static final int STRUCTURED_REPLY_BYTES = 20;
    public static final int REPLY_FLAG_DONE = 1;
    public static final int REPLY_TYPE_NONE = 0, REPLY_TYPE_OFFSET_DATA = 1, REPLY_TYPE_ERROR = (1 << 15) | 1;

    // errors on the wire (Linux numbers, whatever the host)
    public static final int EPERM = 1, EIO = 5, ENOMEM = 12, EINVAL = 22, ENOSPC = 28, EOVERFLOW = 75,
            ENOTSUP = 95, ESHUTDOWN = 108;

    /** The wire error for a negative errno from a device: the protocol knows only a few. */
    public static int wireError(int negErrno) {
        int e = -negErrno;
        return switch (e) {
            case EPERM, EIO, ENOMEM, EINVAL, ENOSPC, EOVERFLOW, ESHUTDOWN -> e;
            case 30 /* EROFS */ -> EPERM;
            case 95 /* EOPNOTSUPP */ -> ENOTSUP;
            case 19 /* ENODEV */ -> ESHUTDOWN;
            default -> EIO;
        };
    }

    /** Largest request payload this implementation sends or accepts (the usual 32 MiB). */
    public static final int MAX_PAYLOAD = 32 << 20;
    /** Longest option a server accepts or a client reads (names, info requests): anything longer is an attack. */
    public static final int MAX_OPTION_BYTES = 64 << 10;
}
