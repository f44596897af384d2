package dev.ublkctl.daemon;

/**
 * A JSON-RPC error: the code travels to the client, which maps it to an exit code.
 * Codes: the JSON-RPC 2.0 ones plus ublkctl's own in the server-error range.
 */
public final class RpcException extends RuntimeException {
    public static final int PARSE_ERROR = -32700, INVALID_REQUEST = -32600, METHOD_NOT_FOUND = -32601,
            INVALID_PARAMS = -32602, INTERNAL_ERROR = -32603;
    /** The operation failed (I/O error, program fault, ...). */
    public static final int FAILED = -32000;
    /** No such device, map or program. */
    public static final int NOT_FOUND = -32001;
    /** Not possible on this backend or kernel. */
    public static final int UNSUPPORTED = -32002;
    /** The id is taken. */
    public static final int EXISTS = -32003;
    /** The request was cancelled (client went away or interrupted). */
    public static final int CANCELLED = -32004;
    /** The daemon is exiting and takes no new device: ask again (a new daemon will answer). */
    public static final int SHUTTING_DOWN = -32005;

    private final int code;

    public RpcException(int code, String message) {
        super(message, null, false, false);
        this.code = code;
    }

    public RpcException(int code, String message, Throwable cause) {
        super(message, cause);
        this.code = code;
    }

    public int code() { return code; }

    public static RpcException notFound(String what) { return new RpcException(NOT_FOUND, what); }
    public static RpcException invalid(String what) { return new RpcException(INVALID_PARAMS, what); }
    public static RpcException unsupported(String what) { return new RpcException(UNSUPPORTED, what); }
    public static RpcException failed(String what) { return new RpcException(FAILED, what); }
}
