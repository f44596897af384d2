package dev.ublkctl.bpf.kernel;

import dev.ublkctl.sys.Libc;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * A TCP connection over 127.0.0.1 through libc's socket calls (FFM), so a test can set socket options Java's
 * sockets do not offer, such as TCP_CONGESTION: a listener, a client socket and the accepted server side.
 */
final class LoopbackTcp implements AutoCloseable {
    static final int AF_INET = 2, SOCK_STREAM = 1, IPPROTO_TCP = 6, TCP_CONGESTION = 13;
    private static final int INADDR_LOOPBACK = 0x7f000001;

    /** struct sockaddr_in; port and address in network byte order. */
    static final StructLayout SOCKADDR_IN = MemoryLayout.structLayout(
            ValueLayout.JAVA_SHORT.withName("sin_family"), ValueLayout.JAVA_SHORT.withOrder(java.nio.ByteOrder.BIG_ENDIAN).withName("sin_port"),
            JAVA_INT.withOrder(java.nio.ByteOrder.BIG_ENDIAN).withName("sin_addr"), MemoryLayout.sequenceLayout(8, ValueLayout.JAVA_BYTE).withName("sin_zero"));
    private static final VarHandle FAMILY = SOCKADDR_IN.varHandle(groupElement("sin_family"));
    private static final VarHandle PORT = SOCKADDR_IN.varHandle(groupElement("sin_port"));
    private static final VarHandle ADDR = SOCKADDR_IN.varHandle(groupElement("sin_addr"));

    private static final Linker LINKER = Linker.nativeLinker();
    private static final Linker.Option ERRNO = Linker.Option.captureCallState("errno");
    private static final StructLayout STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO_VH = STATE.varHandle(groupElement("errno"));
    private static final MethodHandle SOCKET = fn("socket", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle BIND = fn("bind", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle LISTEN = fn("listen", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle CONNECT = fn("connect", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle ACCEPT = fn("accept", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle GETSOCKNAME = fn("getsockname", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle SETSOCKOPT = fn("setsockopt", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle GETSOCKOPT = fn("getsockopt", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));

    private static MethodHandle fn(String name, FunctionDescriptor d) {
        return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(), d, ERRNO);
    }

    final int listener, client, server;

    /** Makes the listener, sets {@code congestion} on the client before it connects (null: the default), accepts. */
    LoopbackTcp(String congestion) throws Throwable {
        int l = -1, c = -1;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(STATE);
            l = check("socket", (int) SOCKET.invokeExact(st, AF_INET, SOCK_STREAM, 0), st);
            MemorySegment sa = a.allocate(SOCKADDR_IN);
            FAMILY.set(sa, 0L, (short) AF_INET);
            ADDR.set(sa, 0L, INADDR_LOOPBACK);
            check("bind", (int) BIND.invokeExact(st, l, sa, (int) SOCKADDR_IN.byteSize()), st);
            check("listen", (int) LISTEN.invokeExact(st, l, 1), st);
            MemorySegment len = a.allocateFrom(JAVA_INT, (int) SOCKADDR_IN.byteSize());
            check("getsockname", (int) GETSOCKNAME.invokeExact(st, l, sa, len), st);
            c = check("socket", (int) SOCKET.invokeExact(st, AF_INET, SOCK_STREAM, 0), st);
            if (congestion != null) setCongestion(c, congestion);
            check("connect", (int) CONNECT.invokeExact(st, c, sa, (int) SOCKADDR_IN.byteSize()), st);
            server = check("accept", (int) ACCEPT.invokeExact(st, l, MemorySegment.NULL, MemorySegment.NULL), st);
            listener = l;
            client = c;
        } catch (Throwable t) {
            if (c >= 0) Libc.close(c);
            if (l >= 0) Libc.close(l);
            throw t;
        }
    }

    static void setCongestion(int fd, String name) throws Throwable {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(STATE);
            byte[] b = name.getBytes(StandardCharsets.US_ASCII);
            MemorySegment v = a.allocateFrom(ValueLayout.JAVA_BYTE, b);
            check("setsockopt(TCP_CONGESTION, " + name + ")", (int) SETSOCKOPT.invokeExact(st, fd, IPPROTO_TCP, TCP_CONGESTION, v, b.length), st);
        }
    }

    /** The congestion control a socket uses (getsockopt TCP_CONGESTION). */
    static String congestion(int fd) throws Throwable {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(STATE);
            MemorySegment v = a.allocate(16);
            MemorySegment len = a.allocateFrom(JAVA_INT, 16);
            check("getsockopt(TCP_CONGESTION)", (int) GETSOCKOPT.invokeExact(st, fd, IPPROTO_TCP, TCP_CONGESTION, v, len), st);
            return v.getString(0, StandardCharsets.US_ASCII);
        }
    }

    /** Streams {@code total} bytes from the client (a writer thread) and reads them all on the server side. */
    long transfer(long total) throws InterruptedException {
        Thread writer = Thread.ofPlatform().start(() -> {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment out = a.allocate(256 << 10);
                for (long sent = 0; sent < total; ) sent += Libc.write(client, out, Math.min(out.byteSize(), total - sent));
            }
        });
        long got = 0;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment in = a.allocate(256 << 10);
            while (got < total) {
                long n = Libc.read(server, in, in.byteSize());
                if (n == 0) break;
                got += n;
            }
        }
        writer.join();
        return got;
    }

    private static int check(String what, int r, MemorySegment st) {
        if (r < 0) {
            int e = (int) ERRNO_VH.get(st, 0L);
            throw new IllegalStateException(what + " failed: " + Libc.strerror(e) + " (errno " + e + ")");
        }
        return r;
    }

    @Override
    public void close() {
        Libc.close(server);
        Libc.close(client);
        Libc.close(listener);
    }
}
