package dev.ublkctl.daemon;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.ser.std.ToStringSerializer;
import dev.ublkctl.target.TargetType;
import dev.ublkctl.ublk.Backend;

import java.io.IOException;
import java.util.function.Function;

/**
 * The one jackson mapper. Built lazily and without module scanning: start-up time of
 * {@code ublkctl list} matters more than anything a module would add here. Targets and backends
 * travel by the names users type ("kernel-bpf"), not by their Java constants.
 */
public final class Json {
    private Json() {}

    private static final class Holder {
        static final ObjectMapper MAPPER = JsonMapper.builder()
                .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
                .addModule(new SimpleModule("ublkctl-names")
                        .addSerializer(TargetType.class, ToStringSerializer.instance)
                        .addSerializer(Backend.class, ToStringSerializer.instance)
                        .addDeserializer(TargetType.class, new ByName<>(TargetType::of))
                        .addDeserializer(Backend.class, new ByName<>(Backend::of)))
                .build();
    }

    public static ObjectMapper mapper() { return Holder.MAPPER; }

    /** {@code text} as JSON, or an invalid-params error naming {@code what}. */
    static com.fasterxml.jackson.databind.JsonNode parse(String what, String text) {
        try {
            return mapper().readTree(text);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw RpcException.invalid("bad " + what + " '" + text + "': not JSON (" + e.getOriginalMessage() + ")");
        }
    }

    /** Reads a name with the type's own {@code of}, keeping its message (the RPC answers with it). */
    private static final class ByName<T> extends JsonDeserializer<T> {
        private final Function<String, T> of;

        ByName(Function<String, T> of) { this.of = of; }

        @Override
        public T deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            try {
                return of.apply(p.getValueAsString());
            } catch (IllegalArgumentException e) {
                throw JsonMappingException.from(p, e.getMessage(), e);
            }
        }
    }
}
