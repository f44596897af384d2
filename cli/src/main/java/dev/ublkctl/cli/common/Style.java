package dev.ublkctl.cli.common;

/** ANSI styling, off when NO_COLOR is set, --no-color is given or stdout is not a terminal. */
public record Style(boolean color) {

    public static final Style PLAIN = new Style(false);

    public static Style detect(boolean noColorOption) {
        String nc = System.getenv("NO_COLOR");
        if (noColorOption || (nc != null && !nc.isEmpty())) return PLAIN;
        var c = System.console();
        return new Style(c != null && c.isTerminal());
    }

    public String bold(String s) { return color ? "\033[1m" + s + "\033[0m" : s; }
    public String green(String s) { return color ? "\033[32m" + s + "\033[0m" : s; }
    public String red(String s) { return color ? "\033[31m" + s + "\033[0m" : s; }
    public String yellow(String s) { return color ? "\033[33m" + s + "\033[0m" : s; }
    public String dim(String s) { return color ? "\033[2m" + s + "\033[0m" : s; }

    /** Colors a device or check state word. */
    public String state(String s) {
        return switch (s) {
            case "live", "ok", "yes", "available" -> green(s);
            case "dead", "dead, recoverable", "no", "fail", "failed" -> red(s);
            default -> yellow(s);
        };
    }
}
