package dev.ublkctl.cli.common;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

/** Text columns: headers, rows, numbers right-aligned, two spaces between columns. */
public final class Table {
    private final String[] headers;
    private final List<String[]> rows = new ArrayList<>();
    private final boolean[] right;

    public Table(String... headers) {
        this.headers = headers;
        this.right = new boolean[headers.length];
    }

    /** Marks columns to right-align (numbers). */
    public Table right(int... cols) {
        for (int c : cols) right[c] = true;
        return this;
    }

    public Table row(Object... cells) {
        String[] r = new String[headers.length];
        for (int i = 0; i < r.length; i++) r[i] = i < cells.length && cells[i] != null ? TerminalText.safe(String.valueOf(cells[i])) : "-";
        rows.add(r);
        return this;
    }

    public boolean isEmpty() { return rows.isEmpty(); }

    public void print(PrintWriter out, Style style) {
        int[] w = new int[headers.length];
        for (int i = 0; i < w.length; i++) w[i] = headers[i].length();
        for (String[] r : rows) for (int i = 0; i < w.length; i++) w[i] = Math.max(w[i], r[i].length());
        out.println(style.bold(line(headers, w)));
        for (String[] r : rows) out.println(line(r, w));
        out.flush();
    }

    private String line(String[] cells, int[] w) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < cells.length; i++) {
            boolean last = i == cells.length - 1;
            String c = cells[i];
            int pad = w[i] - c.length();
            if (right[i]) sb.append(" ".repeat(pad)).append(c);
            else sb.append(c).append(last ? "" : " ".repeat(pad));
            if (!last) sb.append("  ");
        }
        return sb.toString().stripTrailing();
    }

    /** Key/value lines, keys padded to one width. */
    public static void keyValues(PrintWriter out, Style style, List<String[]> kv) {
        int w = 0;
        for (String[] e : kv) w = Math.max(w, e[0].length());
        for (String[] e : kv) out.println(style.bold(e[0] + ":") + " ".repeat(w - e[0].length() + 1) + TerminalText.safe(e[1]));
        out.flush();
    }
}
