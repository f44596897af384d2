package dev.ublkctl.daemon;

import dev.ublkctl.bpf.vm.TraceLog;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class MapSettingTest {
    @Test
    void wordsGroupUnderTheMapNameBeforeThem() {
        assertEquals(List.of(new MapSetting("fd_map", "@dev", "@fd0"), new MapSetting("io_map", "1", "1"), new MapSetting("io_map", "2", "{\"a\":1}")),
                MapSetting.parse(List.of("fd_map", "@dev=@fd0", "io_map", "1=1", "2={\"a\":1}")));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> MapSetting.parse(List.of("fd_map")))
                .getMessage().contains("no KEY=VALUE"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> MapSetting.parse(List.of("1=2")))
                .getMessage().contains("map name first"));
    }

    @Test
    void valuesTakeTheDevicesIdAndDescriptors() {
        MapValues.Vars v = new MapValues.Vars(3, List.of(17, 18));
        assertArrayEquals(new byte[]{3, 0, 0, 0}, MapValues.bytes("key", "@dev", 4, null, 0, v));
        assertArrayEquals(new byte[]{18, 0, 0, 0}, MapValues.bytes("value", "@fd1", 4, null, 0, v));
        assertArrayEquals(new byte[]{(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff}, MapValues.bytes("value", "-1", 4, null, 0, v));
        RpcException e = assertThrows(RpcException.class, () -> MapValues.bytes("value", "@fd2", 4, null, 0, v));
        assertTrue(e.getMessage().contains("2 backing files (@fd0..@fd1)"), e.getMessage());
        e = assertThrows(RpcException.class, () -> MapValues.bytes("value", "{\"fd\":1}", 4, null, 0, v));
        assertTrue(e.getMessage().contains("no BTF type"), e.getMessage());
    }

    @Test
    void traceLogSlicesByLineNumberAndCountsWhatLeftTheRing() {
        TraceLog t = new TraceLog(4);
        for (int i = 0; i < 6; i++) t.append("l" + i);
        TraceLog.Slice s = t.since(0, 100);
        assertEquals(List.of("l2", "l3", "l4", "l5"), s.lines());
        assertEquals(2, s.lost());
        assertEquals(6, s.next());
        assertEquals(List.of("l4", "l5"), t.since(-2, 100).lines());
        assertEquals(List.of(), t.since(6, 100).lines());
        t.append("l6");
        assertEquals(List.of("l6"), t.since(6, 100).lines());
        assertEquals(List.of("l3"), t.since(3, 1).lines());
    }
}
