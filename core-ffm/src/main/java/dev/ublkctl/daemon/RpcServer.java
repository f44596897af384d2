package dev.ublkctl.daemon;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * JSON-RPC 2.0 over a Unix stream socket, one JSON object per line in each direction.
 * Each connection gets a virtual thread that reads requests; each request runs on its own
 * virtual thread so that a long one (bench) can be cancelled when the client goes away
 * (the handler thread is interrupted) and so that progress notifications can flow meanwhile.
 */
public final class RpcServer implements AutoCloseable {

    /** A method: gets its params (an object, maybe empty) and a way to send progress. */
    @FunctionalInterface
    public interface Method {
        Object call(JsonNode params, Call call) throws Exception;
    }

    /** The running request, as a method sees it. */
    public interface Call {
        /** Sends {@code {"method":"progress","params":{"request":ID,...}}} to the caller. */
        void progress(Object params);
        /** True once the caller disconnected; long methods stop early. */
        boolean cancelled();
    }

    private final ObjectMapper json = Json.mapper();
    private final Map<String, Method> methods = new ConcurrentHashMap<>();
    private final Set<SocketChannel> clients = ConcurrentHashMap.newKeySet();
    private final Path socketPath;
    private final Consumer<String> log;
    private volatile ServerSocketChannel server;
    private volatile boolean closed;

    public RpcServer(Path socketPath, Consumer<String> log) {
        this.socketPath = socketPath;
        this.log = log;
    }

    public RpcServer method(String name, Method m) {
        methods.put(name, m);
        return this;
    }

    /**
     * Binds the socket and accepts on a platform thread. The socket is created under a 0077 umask,
     * so it is 0600 from its first instant (a chmod after bind leaves a window in which anyone may
     * connect); a stale file is replaced.
     */
    public void start() throws IOException {
        Files.deleteIfExists(socketPath);
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        int old = dev.ublkctl.sys.Libc.umask(077);
        try {
            server.bind(UnixDomainSocketAddress.of(socketPath));
        } finally {
            dev.ublkctl.sys.Libc.umask(old);
        }
        Files.setPosixFilePermissions(socketPath, PosixFilePermissions.fromString("rw-------"));
        Thread.ofPlatform().name("rpc-accept").daemon(true).start(this::acceptLoop);
    }

    /**
     * Binds the socket path again on a new listening socket (the old one is closed; connected clients
     * stay): for a daemon whose socket file was removed (its run dir deleted, a tmp cleaner), which
     * would otherwise serve devices nobody can reach.
     */
    public synchronized void rebind() throws IOException {
        if (closed) return;
        ServerSocketChannel old = server;
        start();
        try { if (old != null) old.close(); } catch (IOException ignored) { }
    }

    /** Clients connected now. */
    public int connections() { return clients.size(); }

    /** Longest pause after failed accepts (out of descriptors): the loop must not spin. */
    static final long ACCEPT_BACKOFF_MAX_MS = 1000;

    private void acceptLoop() {
        ServerSocketChannel mine = server;
        long backoff = 0;
        while (!closed) {
            try {
                SocketChannel ch = mine.accept();
                backoff = 0;
                if (clients.size() >= MAX_CLIENTS) {
                    // every connection holds a descriptor and a thread: refuse beyond the bound
                    refuse(ch, "too many connections (limit " + MAX_CLIENTS + ")");
                    continue;
                }
                clients.add(ch);
                Thread.ofVirtual().name("rpc-conn").start(() -> serve(ch));
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                if (closed || mine != server) return;
                log.accept("accept failed: " + e.getMessage());
                backoff = Math.min(ACCEPT_BACKOFF_MAX_MS, Math.max(10, backoff * 2));
                try { Thread.sleep(backoff); } catch (InterruptedException ie) { return; }
            }
        }
    }

    /** Connections served at once. */
    public static final int MAX_CLIENTS = 256;
    /** Longest request line: a request is a few hundred bytes; a map update a few KiB. */
    public static final int MAX_REQUEST_BYTES = 1 << 20;

    private void refuse(SocketChannel ch, String why) {
        try (ch) {
            ObjectNode resp = json.createObjectNode();
            resp.put("jsonrpc", "2.0");
            resp.putNull("id");
            ObjectNode err = resp.putObject("error");
            err.put("code", RpcException.INVALID_REQUEST);
            err.put("message", why);
            ch.write(java.nio.ByteBuffer.wrap((json.writeValueAsString(resp) + "\n").getBytes(StandardCharsets.UTF_8)));
        } catch (IOException ignored) {
            // it went away
        }
    }

    private void serve(SocketChannel ch) {
        Set<Thread> running = ConcurrentHashMap.newKeySet();
        var cancelled = new java.util.concurrent.atomic.AtomicBoolean();
        OutputStream out = Channels.newOutputStream(ch);
        try (var in = new BufferedReader(new InputStreamReader(Channels.newInputStream(ch), StandardCharsets.UTF_8))) {
            String line;
            while ((line = readLine(in)) != null) {
                if (line.length() > MAX_REQUEST_BYTES) {
                    // answer once and hang up: the rest of that line is not worth reading
                    send(out, errorResponse(null, RpcException.INVALID_REQUEST,
                            "request larger than " + (MAX_REQUEST_BYTES >> 10) + " KiB; connection closed"));
                    break;
                }
                if (line.isBlank()) continue;
                if (line.equals(drainToken)) {   // drain's marker: every earlier connection was accepted
                    drainSeen.countDown();
                    break;
                }
                String l = line;
                Thread t = Thread.ofVirtual().name("rpc-call").unstarted(() -> {
                    try { handle(l, out, cancelled); } finally { running.remove(Thread.currentThread()); }
                });
                running.add(t);
                t.start();
            }
        } catch (IOException e) {
            // the client went away mid-read: same as EOF
        } finally {
            cancelled.set(true);
            running.forEach(Thread::interrupt);
            for (Thread t : running) {
                try { t.join(10_000); } catch (InterruptedException e) { Thread.currentThread().interrupt(); }
            }
            clients.remove(ch);
            try { ch.close(); } catch (IOException ignored) { }
        }
    }

    /**
     * One line, at most {@link #MAX_REQUEST_BYTES} characters: a longer one comes back as soon as
     * it is one character over the limit (the caller refuses it and hangs up), so no client can
     * make the daemon hold an unbounded line.
     */
    static String readLine(BufferedReader in) throws IOException {
        StringBuilder b = new StringBuilder(256);
        for (;;) {
            int c = in.read();
            if (c < 0) return b.isEmpty() ? null : b.toString();
            if (c == '\n') return b.toString();
            b.append((char) c);
            if (b.length() > MAX_REQUEST_BYTES) return b.toString();   // too long: the caller refuses it
        }
    }

    private ObjectNode errorResponse(JsonNode id, int code, String message) {
        ObjectNode resp = json.createObjectNode();
        resp.put("jsonrpc", "2.0");
        resp.set("id", id);
        ObjectNode err = resp.putObject("error");
        err.put("code", code);
        err.put("message", message);
        return resp;
    }

    /** Params that do not fit the method: the check's own words where one refused a value. */
    private static String paramsMessage(com.fasterxml.jackson.core.JsonProcessingException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof IllegalArgumentException) return message(t);
        }
        return "bad params: " + e.getOriginalMessage();
    }

    private void handle(String line, OutputStream out, java.util.concurrent.atomic.AtomicBoolean cancelled) {
        JsonNode id = null;
        try {
            JsonNode req;
            try {
                req = json.readTree(line);
            } catch (IOException e) {
                throw new RpcException(RpcException.PARSE_ERROR, "parse error: " + message(e));
            }
            if (req == null || !req.isObject() || !"2.0".equals(req.path("jsonrpc").asText())
                    || !req.path("method").isTextual()) {
                throw new RpcException(RpcException.INVALID_REQUEST, "not a JSON-RPC 2.0 request");
            }
            id = req.get("id");
            String name = req.get("method").asText();
            Method m = methods.get(name);
            if (m == null) throw new RpcException(RpcException.METHOD_NOT_FOUND, "no such method: " + name);
            JsonNode params = req.has("params") ? req.get("params") : JsonNodeFactory.instance.objectNode();
            JsonNode reqId = id;
            Object result = m.call(params, new Call() {
                @Override public void progress(Object p) {
                    ObjectNode n = json.createObjectNode();
                    n.put("jsonrpc", "2.0");
                    n.put("method", "progress");
                    ObjectNode ps = json.valueToTree(p);
                    if (reqId != null) ps.set("request", reqId);
                    n.set("params", ps);
                    send(out, n);
                }
                @Override public boolean cancelled() { return cancelled.get() || Thread.currentThread().isInterrupted(); }
            });
            if (id == null) return; // a notification: no answer
            ObjectNode resp = json.createObjectNode();
            resp.put("jsonrpc", "2.0");
            resp.set("id", id);
            resp.set("result", json.valueToTree(result));
            send(out, resp);
        } catch (OutOfMemoryError | StackOverflowError e) {
            // the request's own allocation failed (what it allocated is garbage again): answer, do not leave the caller waiting
            send(out, errorResponse(id, RpcException.FAILED, "the daemon ran out of memory serving this request ("
                    + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()) + ")"));
            log.accept("request failed: " + e);
        } catch (Exception e) {
            RpcException re = e instanceof RpcException r ? r
                    : e instanceof IllegalArgumentException ? RpcException.invalid(message(e))
                    : e instanceof com.fasterxml.jackson.core.JsonProcessingException j ? RpcException.invalid(paramsMessage(j))
                    : e instanceof InterruptedException ? new RpcException(RpcException.CANCELLED, "cancelled")
                    : new RpcException(RpcException.FAILED, message(e), e);
            if (re.code() == RpcException.FAILED || re.code() == RpcException.INTERNAL_ERROR) {
                log.accept("request failed: " + (line.length() > 300 ? line.substring(0, 300) + "..." : line) + ": "
                        + stack(re.getCause() != null ? re.getCause() : re));
            }
            ObjectNode resp = json.createObjectNode();
            resp.put("jsonrpc", "2.0");
            resp.set("id", id);
            ObjectNode err = resp.putObject("error");
            err.put("code", re.code());
            err.put("message", re.getMessage() == null ? re.toString() : re.getMessage());
            send(out, resp);
        }
    }

    static String message(Throwable e) {
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
    }

    private static String stack(Throwable t) {
        var sw = new java.io.StringWriter();
        t.printStackTrace(new java.io.PrintWriter(sw));
        return sw.toString();
    }

    private void send(OutputStream out, JsonNode n) {
        try {
            byte[] b = (json.writeValueAsString(n) + "\n").getBytes(StandardCharsets.UTF_8);
            synchronized (out) {
                out.write(b);
                out.flush();
            }
        } catch (IOException e) {
            // the caller went away; nothing to tell it
        }
    }

    /**
     * Stops taking connections (the socket file goes, so a new client starts another daemon) but
     * lets those already made be answered for up to {@code grace}: a client that connected just
     * before the daemon decided to exit has its request answered (an add with
     * {@link RpcException#SHUTTING_DOWN}, which it retries elsewhere) instead of seeing the
     * connection drop with no answer, which leaves it unable to tell whether the request was done.
     * A connection still in the listen queue counts too: a marker connection made just before the
     * file goes queues behind every earlier one, so once the marker is accepted, all of them are.
     */
    public void drain(java.time.Duration grace) {
        long deadline = System.nanoTime() + grace.toNanos();
        String token = "drain-marker " + java.util.UUID.randomUUID();
        var seen = new java.util.concurrent.CountDownLatch(1);
        drainToken = token;
        drainSeen = seen;
        try (SocketChannel marker = SocketChannel.open(UnixDomainSocketAddress.of(socketPath))) {
            Files.deleteIfExists(socketPath);
            marker.write(java.nio.ByteBuffer.wrap((token + "\n").getBytes(StandardCharsets.UTF_8)));
            seen.await(Math.max(0, deadline - System.nanoTime()), java.util.concurrent.TimeUnit.NANOSECONDS);
        } catch (IOException e) {
            // no socket to connect to: nothing can be queued on it either
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        closed = true;
        try { if (server != null) server.close(); } catch (IOException ignored) { }
        try { Files.deleteIfExists(socketPath); } catch (IOException ignored) { }
        while (!clients.isEmpty() && System.nanoTime() < deadline && !Thread.currentThread().isInterrupted()) {
            try { Thread.sleep(10); } catch (InterruptedException e) { Thread.currentThread().interrupt(); }
        }
    }

    private volatile String drainToken;
    private volatile java.util.concurrent.CountDownLatch drainSeen;

    @Override
    public void close() {
        closed = true;
        try { if (server != null) server.close(); } catch (IOException ignored) { }
        for (SocketChannel c : clients) {
            try { c.close(); } catch (IOException ignored) { }
        }
        try { Files.deleteIfExists(socketPath); } catch (IOException ignored) { }
    }
}
