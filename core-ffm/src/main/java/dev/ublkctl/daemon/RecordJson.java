package dev.ublkctl.daemon;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

import java.io.IOException;
import java.io.Writer;
import java.util.ArrayList;
import java.util.List;

/**
 * {@link DeviceRecord} JSON with jackson-core's streaming API only: {@code ublkctl list} reads and
 * prints records without loading jackson-databind (hundreds of classes), which keeps it fast to
 * start. Same field names and order as databind gives the record.
 */
public final class RecordJson {
    private RecordJson() {}

    private static final class Holder { static final JsonFactory FACTORY = new JsonFactory(); }

    public static DeviceRecord read(byte[] json) throws IOException {
        try (JsonParser p = Holder.FACTORY.createParser(json)) {
            if (p.nextToken() != JsonToken.START_OBJECT) throw new IOException("a device record must be a JSON object");
            int id = -1, queues = 0, depth = 0, blockSize = 0;
            long size = 0, chunk = 0, daemonPid = 0, daemonStart = 0;
            String state = null, target = null, backend = null, program = null, programPath = null, blockDevice = null, created = null, bpf = null, engine = null;
            boolean recoverable = false;
            int threads = 0;
            List<String> files = new ArrayList<>();
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String f = p.currentName();
                JsonToken t = p.nextToken();
                switch (f) {
                    case "id" -> id = p.getIntValue();
                    case "state" -> state = text(p, t);
                    case "target" -> target = text(p, t);
                    case "backend" -> backend = text(p, t);
                    case "queues" -> queues = p.getIntValue();
                    case "depth" -> depth = p.getIntValue();
                    case "size" -> size = p.getLongValue();
                    case "blockSize" -> blockSize = p.getIntValue();
                    case "files" -> {
                        if (t == JsonToken.START_ARRAY) {
                            while (p.nextToken() != JsonToken.END_ARRAY) files.add(p.getText());
                        }
                    }
                    case "chunk" -> chunk = p.getLongValue();
                    case "program" -> program = text(p, t);
                    case "programPath" -> programPath = text(p, t);
                    case "blockDevice" -> blockDevice = text(p, t);
                    case "daemonPid" -> daemonPid = p.getLongValue();
                    case "daemonStart" -> daemonStart = p.getLongValue();
                    case "created" -> created = text(p, t);
                    case "bpf" -> bpf = text(p, t);
                    case "recoverable" -> recoverable = p.getBooleanValue();
                    case "threads" -> threads = p.getIntValue();
                    case "engine" -> engine = text(p, t);
                    default -> p.skipChildren();
                }
            }
            if (id < 0) throw new IOException("device record without an id");
            return new DeviceRecord(id, state, target, backend, queues, depth, size, blockSize, files, chunk, program,
                    programPath, blockDevice, daemonPid, daemonStart, created, bpf, recoverable, threads, engine);
        }
    }

    private static String text(JsonParser p, JsonToken t) throws IOException {
        return t == JsonToken.VALUE_NULL ? null : p.getText();
    }

    /** Writes records (one object, or an array) as {@code list --json} prints them. */
    public static void write(Writer out, Object recordOrList, boolean pretty) throws IOException {
        try (JsonGenerator g = Holder.FACTORY.createGenerator(out)) {
            g.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
            if (pretty) g.useDefaultPrettyPrinter();
            if (recordOrList instanceof DeviceRecord r) {
                write(g, r);
            } else {
                g.writeStartArray();
                for (Object o : (List<?>) recordOrList) write(g, (DeviceRecord) o);
                g.writeEndArray();
            }
        }
    }

    static void write(JsonGenerator g, DeviceRecord r) throws IOException {
        g.writeStartObject();
        g.writeNumberField("id", r.id());
        g.writeStringField("state", r.state());
        g.writeStringField("target", r.target());
        g.writeStringField("backend", r.backend());
        g.writeNumberField("queues", r.queues());
        g.writeNumberField("depth", r.depth());
        g.writeNumberField("size", r.size());
        g.writeNumberField("blockSize", r.blockSize());
        g.writeArrayFieldStart("files");
        for (String f : r.files()) g.writeString(f);
        g.writeEndArray();
        g.writeNumberField("chunk", r.chunk());
        g.writeStringField("program", r.program());
        g.writeStringField("programPath", r.programPath());
        g.writeStringField("blockDevice", r.blockDevice());
        g.writeNumberField("daemonPid", r.daemonPid());
        g.writeNumberField("daemonStart", r.daemonStart());
        g.writeStringField("created", r.created());
        g.writeStringField("bpf", r.bpf());
        g.writeBooleanField("recoverable", r.recoverable());
        g.writeNumberField("threads", r.threads());
        g.writeStringField("engine", r.engine());
        g.writeEndObject();
    }
}
