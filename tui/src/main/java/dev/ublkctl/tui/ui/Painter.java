package dev.ublkctl.tui.ui;

import com.googlecode.lanterna.SGR;
import com.googlecode.lanterna.TextCharacter;
import com.googlecode.lanterna.TextColor;
import com.googlecode.lanterna.graphics.TextGraphics;
import com.googlecode.lanterna.terminal.Terminal;

import java.io.IOException;

import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A character grid the renderer draws into (styled, clipped text), then copied to the terminal.
 * The copy writes only the runs of cells that differ from the previous grid, straight to the
 * Lanterna {@link Terminal}: at 10 refreshes per second most of the screen is unchanged, and a
 * Lanterna Screen would compare (and Unicode-classify) every cell of its buffers on each refresh.
 */
final class Painter {
    /** A text style: foreground, background, bold, reverse. */
    record Style(TextColor fg, TextColor bg, boolean bold, boolean reverse) {
        static final Style PLAIN = new Style(TextColor.ANSI.DEFAULT, TextColor.ANSI.DEFAULT, false, false);
        static final Style BOLD = new Style(TextColor.ANSI.DEFAULT, TextColor.ANSI.DEFAULT, true, false);
        static final Style BAR = new Style(TextColor.ANSI.BLACK, TextColor.ANSI.CYAN, false, false);
        static final Style BAR_ALERT = new Style(TextColor.ANSI.BLACK, TextColor.ANSI.RED, true, false);
        static final Style HEADER = new Style(TextColor.ANSI.BLACK, TextColor.ANSI.GREEN, false, false);
        static final Style SELECTED = new Style(TextColor.ANSI.BLACK, TextColor.ANSI.CYAN_BRIGHT, true, false);
        static final Style DIM = new Style(TextColor.ANSI.BLACK_BRIGHT, TextColor.ANSI.DEFAULT, false, false);
        static final Style WARN = new Style(TextColor.ANSI.YELLOW, TextColor.ANSI.DEFAULT, true, false);
        static final Style BAD = new Style(TextColor.ANSI.RED, TextColor.ANSI.DEFAULT, true, false);
        static final Style GOOD = new Style(TextColor.ANSI.GREEN, TextColor.ANSI.DEFAULT, false, false);
        static final Style CHART = new Style(TextColor.ANSI.CYAN, TextColor.ANSI.DEFAULT, false, false);
        static final Style CHART2 = new Style(TextColor.ANSI.MAGENTA, TextColor.ANSI.DEFAULT, false, false);
        static final Style CHART_BPF = new Style(TextColor.ANSI.GREEN, TextColor.ANSI.DEFAULT, false, false);
        static final Style CHANGED = new Style(TextColor.ANSI.YELLOW_BRIGHT, TextColor.ANSI.DEFAULT, true, false);
        static final Style KEY = new Style(TextColor.ANSI.BLACK, TextColor.ANSI.CYAN, true, false);
        static final Style KEYTEXT = new Style(TextColor.ANSI.WHITE, TextColor.ANSI.BLUE, false, false);
    }

    /** Lanterna characters are immutable: one per (char, style), made once. */
    private static final Map<Style, Map<Character, TextCharacter>> GLYPHS = new ConcurrentHashMap<>();

    final int width, height;
    private final char[] chars;
    private final Style[] styles;

    Painter(int width, int height) {
        this.width = width;
        this.height = height;
        chars = new char[Math.max(0, width * height)];
        styles = new Style[chars.length];
        clear();
    }

    /** Writes text at (col, row), cut at the edges. Returns the column after it. */
    int put(int col, int row, String s, Style st) {
        if (row < 0 || row >= height) return col + s.length();
        for (int i = 0; i < s.length(); i++) {
            int c = col + i;
            if (c < 0) continue;
            if (c >= width) break;
            chars[row * width + c] = visible(s.charAt(i));
            styles[row * width + c] = st;
        }
        return col + s.length();
    }

    /**
     * A control character (C0, DEL, C1) as a visible '?': names shown here come from object files
     * and device records, and one escape sequence in a cell would drive the terminal itself.
     */
    static char visible(char c) {
        return c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) ? '?' : c;
    }

    /** Fills a whole row with a style, then writes text on it. */
    void bar(int row, String s, Style st) {
        if (row < 0 || row >= height) return;
        Arrays.fill(chars, row * width, row * width + width, ' ');
        Arrays.fill(styles, row * width, row * width + width, st);
        put(0, row, s, st);
    }

    void clear() {
        Arrays.fill(chars, ' ');
        Arrays.fill(styles, Style.PLAIN);
    }

    char charAt(int col, int row) { return chars[row * width + col]; }

    /** The grid as text lines (for plain output). */
    String line(int row) { return new String(chars, row * width, width); }

    /**
     * Copies the grid to a terminal: every cell, or only the runs of cells that differ from
     * {@code previous} (a grid of the same size that was copied last). Returns the cells written.
     */
    int copyTo(Terminal t, Painter previous) throws IOException {
        boolean all = previous == null || previous.width != width || previous.height != height;
        Style current = null;
        int written = 0;
        for (int row = 0; row < height; row++) {
            int col = 0;
            while (col < width) {
                int i = row * width + col;
                if (!all && previous.chars[i] == chars[i] && previous.styles[i] == styles[i]) {
                    col++;
                    continue;
                }
                t.setCursorPosition(col, row);
                while (col < width) {
                    i = row * width + col;
                    if (!all && previous.chars[i] == chars[i] && previous.styles[i] == styles[i]) break;
                    if (styles[i] != current) {
                        apply(t, styles[i]);
                        current = styles[i];
                    }
                    t.putCharacter(chars[i]);
                    written++;
                    col++;
                }
            }
        }
        if (written > 0) {
            t.resetColorAndSGR();
            t.flush();
        }
        return written;
    }

    private static void apply(Terminal t, Style st) throws IOException {
        t.resetColorAndSGR();
        t.setForegroundColor(st.fg());
        t.setBackgroundColor(st.bg());
        if (st.bold()) t.enableSGR(SGR.BOLD);
        if (st.reverse()) t.enableSGR(SGR.REVERSE);
    }

    /** Copies every cell to a Lanterna text graphics (a screen or an image). */
    void copyTo(TextGraphics g) {
        for (int i = 0; i < chars.length; i++) g.setCharacter(i % width, i / width, glyph(chars[i], styles[i]));
    }

    private static TextCharacter glyph(char c, Style st) {
        return GLYPHS.computeIfAbsent(st, k -> new ConcurrentHashMap<>()).computeIfAbsent(c, ch -> {
            SGR[] mods = st.bold() && st.reverse() ? new SGR[]{SGR.BOLD, SGR.REVERSE}
                    : st.bold() ? new SGR[]{SGR.BOLD} : st.reverse() ? new SGR[]{SGR.REVERSE} : new SGR[0];
            return TextCharacter.fromCharacter(ch, st.fg(), st.bg(), mods)[0];
        });
    }
}
