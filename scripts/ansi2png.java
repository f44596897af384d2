/*
 * Renders a terminal capture with ANSI colours (tmux capture-pane -p -e) to a PNG, for the README.
 * A single-file Java program: java scripts/ansi2png.java CAPTURE.txt OUT.png [COLUMNS ROWS]
 * Understands the SGR codes tmux emits: reset, bold, reverse, 16/256/RGB colours.
 */
import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

public class ansi2png {
    static final Color FG = new Color(0xD0, 0xD0, 0xD0), BG = new Color(0x1C, 0x1C, 0x1C);
    static final int[] BASE = {0x000000, 0xCD3131, 0x0DBC79, 0xE5E510, 0x2472C8, 0xBC3FBC, 0x11A8CD, 0xE5E5E5,
            0x666666, 0xF14C4C, 0x23D18B, 0xF5F543, 0x3B8EEA, 0xD670D6, 0x29B8DB, 0xFFFFFF};

    record Cell(char ch, Color fg, Color bg, boolean bold) { }

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: java scripts/ansi2png.java CAPTURE.txt OUT.png [COLUMNS ROWS]");
            System.exit(2);
        }
        List<String> lines = Files.readAllLines(Path.of(args[0]));
        int cols = args.length > 2 ? Integer.parseInt(args[2]) : 0, rows = args.length > 3 ? Integer.parseInt(args[3]) : lines.size();
        Cell[][] grid = new Cell[rows][];
        for (int r = 0; r < rows; r++) {
            grid[r] = parse(r < lines.size() ? lines.get(r) : "");
            cols = Math.max(cols, grid[r].length);
        }
        Font font = Font.createFont(Font.TRUETYPE_FONT, new File(fontFile(false))).deriveFont(15f);
        Font bold = Font.createFont(Font.TRUETYPE_FONT, new File(fontFile(true))).deriveFont(15f);
        BufferedImage probe = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);
        FontMetrics fm = probe.createGraphics().getFontMetrics(font);
        int cw = fm.charWidth('M'), ch = fm.getHeight(), pad = 12;
        BufferedImage img = new BufferedImage(cols * cw + 2 * pad, rows * ch + 2 * pad, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_LCD_HRGB);
        g.setColor(BG);
        g.fillRect(0, 0, img.getWidth(), img.getHeight());
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                Cell cell = c < grid[r].length ? grid[r][c] : new Cell(' ', FG, BG, false);
                int x = pad + c * cw, y = pad + r * ch;
                g.setColor(cell.bg());
                g.fillRect(x, y, cw, ch);
                if (cell.ch() == ' ') continue;
                g.setColor(cell.fg());
                if (cell.ch() >= '▁' && cell.ch() <= '█') { // block elements: draw exactly, fonts leave gaps
                    int eighths = cell.ch() - '▁' + 1;
                    int h = ch * eighths / 8;
                    g.fillRect(x, y + ch - h, cw, h);
                    continue;
                }
                if (cell.ch() >= '\u2800' && cell.ch() <= '\u28ff') { // braille: the font has none; dots on a 2x4 grid
                    int bits = cell.ch() - 0x2800;
                    int[][] dot = {{0x01, 0x02, 0x04, 0x40}, {0x08, 0x10, 0x20, 0x80}};
                    int d = Math.max(2, cw / 3);
                    for (int dc = 0; dc < 2; dc++)
                        for (int dr = 0; dr < 4; dr++)
                            if ((bits & dot[dc][dr]) != 0)
                                g.fillOval(x + dc * cw / 2 + (cw / 2 - d) / 2, y + dr * ch / 4 + (ch / 4 - d) / 2, d, d);
                    continue;
                }
                g.setFont(cell.bold() ? bold : font);
                g.drawString(String.valueOf(cell.ch()), x, y + fm.getAscent());
            }
        }
        ImageIO.write(img, "png", new File(args[1]));
    }

    static String fontFile(boolean bold) {
        String f = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono" + (bold ? "-Bold" : "") + ".ttf";
        if (!new File(f).exists()) throw new IllegalStateException("needs " + f + " (apt-get install fonts-dejavu-core)");
        return f;
    }

    /** One line of text with SGR escapes into cells. */
    static Cell[] parse(String s) {
        java.util.ArrayList<Cell> out = new java.util.ArrayList<>();
        Color fg = FG, bg = BG;
        boolean bold = false, rev = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == 27 && i + 1 < s.length() && s.charAt(i + 1) == '[') {
                int end = i + 2;
                while (end < s.length() && !Character.isLetter(s.charAt(end))) end++;
                if (end < s.length() && s.charAt(end) == 'm') {
                    String[] ps = s.substring(i + 2, end).split(";", -1);
                    for (int k = 0; k < ps.length; k++) {
                        int p = ps[k].isEmpty() ? 0 : Integer.parseInt(ps[k]);
                        if (p == 0) { fg = FG; bg = BG; bold = false; rev = false; }
                        else if (p == 1) bold = true;
                        else if (p == 22) bold = false;
                        else if (p == 7) rev = true;
                        else if (p == 27) rev = false;
                        else if (p >= 30 && p <= 37) fg = new Color(BASE[p - 30]);
                        else if (p >= 90 && p <= 97) fg = new Color(BASE[p - 90 + 8]);
                        else if (p == 39) fg = FG;
                        else if (p >= 40 && p <= 47) bg = new Color(BASE[p - 40]);
                        else if (p >= 100 && p <= 107) bg = new Color(BASE[p - 100 + 8]);
                        else if (p == 49) bg = BG;
                        else if ((p == 38 || p == 48) && k + 1 < ps.length) {
                            Color col;
                            if (ps[k + 1].equals("5") && k + 2 < ps.length) { col = color256(Integer.parseInt(ps[k + 2])); k += 2; }
                            else if (ps[k + 1].equals("2") && k + 4 < ps.length) {
                                col = new Color(Integer.parseInt(ps[k + 2]), Integer.parseInt(ps[k + 3]), Integer.parseInt(ps[k + 4]));
                                k += 4;
                            } else break;
                            if (p == 38) fg = col; else bg = col;
                        }
                    }
                }
                i = end;
                continue;
            }
            out.add(rev ? new Cell(c, bg, fg, bold) : new Cell(c, fg, bg, bold));
        }
        return out.toArray(new Cell[0]);
    }

    static Color color256(int n) {
        if (n < 16) return new Color(BASE[n]);
        if (n >= 232) { int v = 8 + (n - 232) * 10; return new Color(v, v, v); }
        n -= 16;
        int[] lv = {0, 95, 135, 175, 215, 255};
        return new Color(lv[n / 36], lv[(n / 6) % 6], lv[n % 6]);
    }
}
