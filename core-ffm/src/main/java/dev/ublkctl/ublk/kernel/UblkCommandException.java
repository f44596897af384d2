package dev.ublkctl.ublk.kernel;

import dev.ublkctl.sys.SyscallException;

/**
 * A ublk command the kernel refused: names the command ({@code UBLK_U_CMD_ADD_DEV},
 * {@code UBLK_U_IO_COMMIT_AND_FETCH_REQ}, ...), its key arguments and the errno.
 */
public final class UblkCommandException extends SyscallException {
    private final String command;

    public UblkCommandException(String command, String args, int errno) {
        super(command, args, errno);
        this.command = command;
    }

    /** The command's UAPI name. */
    public String command() { return command; }
}
