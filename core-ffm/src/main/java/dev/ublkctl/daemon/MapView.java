package dev.ublkctl.daemon;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;

import java.util.List;

/** The JSON of {@code map.list}: one map of a device's program (a list of these). */
public record MapView(String name, String type, int keySize, int valueSize, int maxEntries, int entries, boolean perCpu) {

    /**
     * One entry of {@code map.dump}: the key and the value formatted from BTF ({@code "hex:.."}
     * where the types are not known); a per-cpu map has {@code values}, one per queue, instead of
     * {@code value}.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Entry(JsonNode key, JsonNode value, List<CpuValue> values) { }

    public record CpuValue(int cpu, JsonNode value) { }

    /** The answer of {@code map.update}: the entry as it was written. */
    public record Update(String map, JsonNode key, JsonNode value) { }
}
