package dev.ublkctl.cli.common;

/**
 * Text that came from elsewhere (a device record, a daemon's message, a file name) made safe for a
 * terminal: control characters are shown escaped, so a name cannot move the cursor, change colours,
 * retitle the window or forge extra lines of output.
 */
public final class TerminalText {
    private TerminalText() {}

    public static String safe(String s) {
        if (s == null) return null;
        int i = 0;
        while (i < s.length() && !isControl(s.charAt(i))) i++;
        if (i == s.length()) return s;
        StringBuilder b = new StringBuilder(s.length() + 8).append(s, 0, i);
        for (; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!isControl(c)) { b.append(c); continue; }
            switch (c) {
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> b.append(String.format("\\x%02x", (int) c));
            }
        }
        return b.toString();
    }

    /** C0 controls, DEL and the C1 range (which some terminals read as escape sequences). */
    static boolean isControl(char c) {
        return c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0);
    }
}
