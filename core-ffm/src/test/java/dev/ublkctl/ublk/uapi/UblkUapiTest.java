package dev.ublkctl.ublk.uapi;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

class UblkUapiTest {
    @Test
    void structSizesMatchTheKernelHeader() {
        assertEquals(32, UblkLayouts.CTRL_CMD.byteSize());
        assertEquals(64, UblkLayouts.CTRL_DEV_INFO.byteSize());
        assertEquals(32, UblkLayouts.PARAM_BASIC.byteSize());
        assertEquals(20, UblkLayouts.PARAM_DISCARD.byteSize());
        assertEquals(24, UblkLayouts.IO_DESC.byteSize());
        assertEquals(16, UblkLayouts.IO_CMD.byteSize());
        assertEquals(108, UblkLayouts.PARAMS.byteSize());
        assertEquals(8, UblkLayouts.off(UblkLayouts.PARAMS, "basic"));
        assertEquals(40, UblkLayouts.off(UblkLayouts.PARAMS, "discard"));
        assertEquals(60, UblkLayouts.off(UblkLayouts.PARAMS, "devt"));
        assertEquals(76, UblkLayouts.off(UblkLayouts.PARAMS, "zoned"));
        assertEquals(16, UblkLayouts.CMD_DATA);
        assertEquals(24, UblkLayouts.CMD_DEV_PATH_LEN);
        assertEquals(24, UblkLayouts.off(UblkLayouts.CTRL_DEV_INFO, "flags"));
        assertEquals(8, UblkLayouts.IOCMD_ADDR);
    }

    @Test
    void opcodesAreIoctlEncodedAsTheHeaderSays() {
        assertEquals(0x80207502, CtrlCommand.GET_DEV_INFO.encoded());
        assertEquals(0xc0207504, CtrlCommand.ADD_DEV.encoded());
        assertEquals(0xc0207505, CtrlCommand.DEL_DEV.encoded());
        assertEquals(0xc0207506, CtrlCommand.START_DEV.encoded());
        assertEquals(0xc0207507, CtrlCommand.STOP_DEV.encoded());
        assertEquals(0xc0207508, CtrlCommand.SET_PARAMS.encoded());
        assertEquals(0x80207509, CtrlCommand.GET_PARAMS.encoded());
        assertEquals(0xc0207510, CtrlCommand.START_USER_RECOVERY.encoded());
        assertEquals(0xc0207511, CtrlCommand.END_USER_RECOVERY.encoded());
        assertEquals(0x80207512, CtrlCommand.GET_DEV_INFO2.encoded());
        assertEquals(0x80207513, CtrlCommand.GET_FEATURES.encoded());
        assertEquals(0x80207514, CtrlCommand.DEL_DEV_ASYNC.encoded());
        assertEquals(0xc0107520, IoCommand.FETCH_REQ.encoded());
        assertEquals(0xc0107521, IoCommand.COMMIT_AND_FETCH_REQ.encoded());
        assertEquals(0xc0107522, IoCommand.NEED_GET_DATA.encoded());
        // legacy numbers only for the commands that had them
        assertEquals(0x04, CtrlCommand.ADD_DEV.opcode(false));
        assertEquals(0x80207513, CtrlCommand.GET_FEATURES.opcode(false));
        assertEquals(0x20, IoCommand.FETCH_REQ.opcode(false));
        assertEquals("UBLK_U_CMD_ADD_DEV", CtrlCommand.ADD_DEV.uapiName());
        assertEquals(0x20, Ioc.size(CtrlCommand.ADD_DEV.encoded()));
        assertEquals(0x04, Ioc.nr(CtrlCommand.ADD_DEV.encoded()));
        assertThrows(IllegalArgumentException.class, () -> Ioc.ioc(Ioc.READ, 'u', 256, 8));
    }

    @Test
    void featuresDecodeByNameAndKeepUnknownBits() {
        // what Debian's 6.12.117 reports
        long f = 0x1fe;
        Set<UblkFeature> s = UblkFeature.decode(f);
        assertTrue(s.contains(UblkFeature.CMD_IOCTL_ENCODE));
        assertFalse(s.contains(UblkFeature.SUPPORT_ZERO_COPY));
        assertEquals(List.of("URING_CMD_COMP_IN_TASK", "NEED_GET_DATA", "USER_RECOVERY", "USER_RECOVERY_REISSUE",
                "UNPRIVILEGED_DEV", "CMD_IOCTL_ENCODE", "USER_COPY", "ZONED"), UblkFeature.names(f));
        assertEquals(List.of("NEED_GET_DATA", "bit 40"), UblkFeature.names((1L << 40) | 4));
        assertEquals(1L << 40, UblkFeature.unknownBits((1L << 40) | 4));
        assertEquals(f, UblkFeature.maskOf(s));
    }

    @Test
    void devInfoAndParamsRoundTripThroughMemory() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment m = a.allocate(UblkLayouts.CTRL_DEV_INFO);
            DevInfo d = DevInfo.request(-1, 2, 128, 1 << 20, UblkFeature.NEED_GET_DATA.mask());
            d.writeTo(m);
            assertEquals(-1, m.get(java.lang.foreign.ValueLayout.JAVA_INT, 12));
            assertEquals(d, DevInfo.readFrom(m));
            assertEquals("/dev/ublkb3", new DevInfo(3, 1, 1, 0, 4096, 0, 0, 0, 0, 0).blockDevPath());

            MemorySegment p = a.allocate(UblkLayouts.PARAMS);
            UblkParams up = UblkParams.basic(UblkParams.Basic.of(1 << 21, 12, 256))
                    .withDiscard(new UblkParams.Discard(0, 4096, 1024, 2048, 1));
            up.writeTo(p);
            assertEquals(108, p.get(java.lang.foreign.ValueLayout.JAVA_INT, 0));
            assertEquals(UblkUapi.PARAM_TYPE_BASIC | UblkUapi.PARAM_TYPE_DISCARD, p.get(java.lang.foreign.ValueLayout.JAVA_INT, 4));
            assertEquals(up, UblkParams.readFrom(p));
        }
        assertThrows(IllegalArgumentException.class, () -> new UblkParams(null, null, null));
    }

    @Test
    void descriptorAreaGeometry() {
        assertEquals(4096, UblkUapi.descLength(128, 4096));
        assertEquals(8192, UblkUapi.descLength(171, 4096));
        assertEquals(0, UblkUapi.descOffset(0, 4096));
        // the kernel strides by a full 4096-deep queue
        assertEquals(98304, UblkUapi.descOffset(1, 4096));
        assertEquals(0x80000000L + (1L << 41) + (5L << 25), UblkUapi.userCopyOffset(1, 5));
    }
}
