package dev.ublkctl.engine.load;

import java.util.Locale;

/** fio's rw= patterns that {@code ublkctl bench} runs. */
public enum Pattern {
    READ, WRITE, RANDREAD, RANDWRITE, RANDRW;

    public boolean random() { return this == RANDREAD || this == RANDWRITE || this == RANDRW; }

    /** "read", "randwrite", ... (fio spelling, any case). */
    public static Pattern parse(String s) {
        try {
            return valueOf(s.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown pattern '" + s + "': use read, write, randread, randwrite or randrw");
        }
    }

    /** fio spelling. */
    public String fioName() { return name().toLowerCase(Locale.ROOT); }
}
