package dev.ublkctl.tui.ui;

import com.googlecode.lanterna.SGR;
import com.googlecode.lanterna.TerminalSize;
import com.googlecode.lanterna.TextColor;
import com.googlecode.lanterna.graphics.TextGraphics;

/** Thin styled, clipped text output over Lanterna's {@link TextGraphics}. */
final class Painter {
    /** A text style: foreground, background, bold, reverse. */
    record Style(TextColor fg, TextColor bg, boolean bold, boolean reverse) {
        static final Style PLAIN = new Style(TextColor.ANSI.DEFAULT, TextColor.ANSI.DEFAULT, false, false);
        static final Style BOLD = new Style(TextColor.ANSI.DEFAULT, TextColor.ANSI.DEFAULT, true, false);
        static final Style BAR = new Style(TextColor.ANSI.BLACK, TextColor.ANSI.CYAN, false, false);
        static final Style HEADER = new Style(TextColor.ANSI.BLACK, TextColor.ANSI.GREEN, false, false);
        static final Style SELECTED = new Style(TextColor.ANSI.BLACK, TextColor.ANSI.CYAN_BRIGHT, true, false);
        static final Style DIM = new Style(TextColor.ANSI.BLACK_BRIGHT, TextColor.ANSI.DEFAULT, false, false);
        static final Style WARN = new Style(TextColor.ANSI.YELLOW, TextColor.ANSI.DEFAULT, true, false);
        static final Style BAD = new Style(TextColor.ANSI.RED, TextColor.ANSI.DEFAULT, true, false);
        static final Style GOOD = new Style(TextColor.ANSI.GREEN, TextColor.ANSI.DEFAULT, false, false);
        static final Style CHART = new Style(TextColor.ANSI.CYAN, TextColor.ANSI.DEFAULT, false, false);
        static final Style CHART2 = new Style(TextColor.ANSI.MAGENTA, TextColor.ANSI.DEFAULT, false, false);
        static final Style KEY = new Style(TextColor.ANSI.BLACK, TextColor.ANSI.CYAN, true, false);
        static final Style KEYTEXT = new Style(TextColor.ANSI.WHITE, TextColor.ANSI.BLUE, false, false);
    }

    private final TextGraphics g;
    final int width, height;

    Painter(TextGraphics g, TerminalSize size) {
        this.g = g;
        this.width = size.getColumns();
        this.height = size.getRows();
    }

    /** Writes text at (col, row), cut at the right edge. Returns the column after it. */
    int put(int col, int row, String s, Style st) {
        if (row < 0 || row >= height || col >= width || s.isEmpty()) return col + s.length();
        String t = s.length() > width - col ? s.substring(0, Math.max(0, width - col)) : s;
        apply(st);
        g.putString(col, row, t);
        return col + s.length();
    }

    /** Fills a whole row with a style, then writes text on it. */
    void bar(int row, String s, Style st) {
        if (row < 0 || row >= height) return;
        put(0, row, pad(s, width), st);
    }

    private static String pad(String s, int w) {
        return s.length() >= w ? s.substring(0, w) : s + " ".repeat(w - s.length());
    }

    private void apply(Style st) {
        g.setForegroundColor(st.fg());
        g.setBackgroundColor(st.bg());
        g.clearModifiers();
        if (st.bold()) g.enableModifiers(SGR.BOLD);
        if (st.reverse()) g.enableModifiers(SGR.REVERSE);
    }

    void clear() {
        apply(Style.PLAIN);
        g.fill(' ');
    }
}
