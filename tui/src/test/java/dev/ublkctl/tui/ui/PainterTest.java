package dev.ublkctl.tui.ui;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** The grid never holds a control character: a name with an escape sequence cannot drive the terminal. */
class PainterTest {
    @Test
    void controlCharactersAreDrawnAsQuestionMarks() {
        Painter p = new Painter(40, 2);
        int end = p.put(0, 0, "evil\u001b]0;pwned\u0007\nname\u009b", Painter.Style.PLAIN);
        assertEquals(20, end, "one cell per character, so columns stay aligned");
        assertEquals("evil?]0;pwned??name?", p.line(0).substring(0, 20));
        for (char c : new char[]{'\u001b', '\u0007', '\n', '\u009b'}) assertEquals('?', Painter.visible(c));
        assertEquals('a', Painter.visible('a'));
        assertEquals('\u2800', Painter.visible('\u2800'), "braille chart cells pass");
    }
}
