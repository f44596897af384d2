package dev.ublkctl.tui.ui;

import com.googlecode.lanterna.SGR;
import com.googlecode.lanterna.TextCharacter;
import com.googlecode.lanterna.TextColor;
import com.googlecode.lanterna.graphics.TextGraphics;

import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A character grid the renderer draws into (styled, clipped text), then copied to Lanterna.
 * The copy writes only the cells that differ from the previous grid: at 10 refreshes per
 * second most of the screen is unchanged, and each cell Lanterna takes costs far more than
 * comparing two chars here.
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
            chars[row * width + c] = s.charAt(i);
            styles[row * width + c] = st;
        }
        return col + s.length();
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
     * Copies the grid to Lanterna: every cell, or only those that differ from {@code previous}
     * (a grid of the same size that was copied last).
     */
    void copyTo(TextGraphics g, Painter previous) {
        boolean all = previous == null || previous.width != width || previous.height != height;
        for (int i = 0; i < chars.length; i++) {
            if (!all && previous.chars[i] == chars[i] && previous.styles[i] == styles[i]) continue;
            g.setCharacter(i % width, i / width, glyph(chars[i], styles[i]));
        }
    }

    private static TextCharacter glyph(char c, Style st) {
        return GLYPHS.computeIfAbsent(st, k -> new ConcurrentHashMap<>()).computeIfAbsent(c, ch -> {
            SGR[] mods = st.bold() && st.reverse() ? new SGR[]{SGR.BOLD, SGR.REVERSE}
                    : st.bold() ? new SGR[]{SGR.BOLD} : st.reverse() ? new SGR[]{SGR.REVERSE} : new SGR[0];
            return TextCharacter.fromCharacter(ch, st.fg(), st.bg(), mods)[0];
        });
    }
}
