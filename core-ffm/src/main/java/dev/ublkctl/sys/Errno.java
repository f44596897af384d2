package dev.ublkctl.sys;

/** The errno values ublkctl handles by name (Linux x86_64/aarch64 numbering). */
public final class Errno {
    private Errno() {}

    public static final int EPERM = 1, ENOENT = 2, ESRCH = 3, EINTR = 4, EIO = 5, ENXIO = 6,
            E2BIG = 7, EBADF = 9, EAGAIN = 11, ENOMEM = 12, EACCES = 13, EFAULT = 14,
            EBUSY = 16, EEXIST = 17, ENODEV = 19, EINVAL = 22, ENFILE = 23, EMFILE = 24,
            ENOTTY = 25, EFBIG = 27, ENOSPC = 28, ESPIPE = 29, EROFS = 30, ERANGE = 34,
            ENOSYS = 38, ENOTSUP = 95, EOPNOTSUPP = 95, ETIME = 62, ECANCELED = 125,
            ETIMEDOUT = 110, ENOTCONN = 107;

    private static final String[] NAMES = new String[134];
    static {
        String[][] pairs = {
            {"1", "EPERM"}, {"2", "ENOENT"}, {"3", "ESRCH"}, {"4", "EINTR"}, {"5", "EIO"},
            {"6", "ENXIO"}, {"7", "E2BIG"}, {"8", "ENOEXEC"}, {"9", "EBADF"}, {"10", "ECHILD"},
            {"11", "EAGAIN"}, {"12", "ENOMEM"}, {"13", "EACCES"}, {"14", "EFAULT"},
            {"16", "EBUSY"}, {"17", "EEXIST"}, {"18", "EXDEV"}, {"19", "ENODEV"},
            {"20", "ENOTDIR"}, {"21", "EISDIR"}, {"22", "EINVAL"}, {"23", "ENFILE"},
            {"24", "EMFILE"}, {"25", "ENOTTY"}, {"27", "EFBIG"}, {"28", "ENOSPC"},
            {"29", "ESPIPE"}, {"30", "EROFS"}, {"32", "EPIPE"}, {"34", "ERANGE"},
            {"38", "ENOSYS"}, {"61", "ENODATA"}, {"62", "ETIME"}, {"75", "EOVERFLOW"},
            {"95", "EOPNOTSUPP"}, {"107", "ENOTCONN"}, {"110", "ETIMEDOUT"}, {"125", "ECANCELED"},
            {"524", "ENOTSUPP"},
        };
        for (String[] p : pairs) {
            int n = Integer.parseInt(p[0]);
            if (n < NAMES.length) NAMES[n] = p[1];
        }
    }

    /** Symbolic name of an errno (positive or negative), or {@code "errno N"}. */
    public static String name(int errno) {
        int e = Math.abs(errno);
        if (e == 524) return "ENOTSUPP";
        if (e < NAMES.length && NAMES[e] != null) return NAMES[e];
        return "errno " + e;
    }

    /** "ENOENT (No such file or directory)" for an errno, sign ignored. */
    public static String describe(int errno) {
        return name(errno) + " (" + Libc.strerror(Math.abs(errno)) + ")";
    }
}
