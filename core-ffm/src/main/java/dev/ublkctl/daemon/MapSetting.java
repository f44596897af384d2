package dev.ublkctl.daemon;

/**
 * One entry a device's program gets before it attaches ({@code add/attach --map NAME KEY=VALUE}).
 * KEY and VALUE are as {@code map update} takes them: an integer, {@code hex:BYTES}, or JSON in the
 * map's BTF types ({@code {"chunk_shift":16,"fds":[@fd0,@fd1]}}); {@code @dev} stands for the device
 * id and {@code @fd0}..{@code @fd3} for the descriptors of its backing files.
 */
public record MapSetting(String map, String key, String value) {
    public MapSetting {
        if (map == null || map.isBlank()) throw new IllegalArgumentException("--map needs a map name");
        if (key == null || value == null) throw new IllegalArgumentException("--map " + map + ": entries are KEY=VALUE");
    }

    /**
     * {@code NAME KEY=VALUE [KEY=VALUE...] [NAME2 ...]} as picocli collects repeated {@code --map}
     * arguments: a word without '=' names the map the entries after it go to.
     */
    public static java.util.List<MapSetting> parse(java.util.List<String> words) {
        java.util.List<MapSetting> out = new java.util.ArrayList<>();
        String map = null;
        boolean entries = true;
        for (String w : words) {
            int eq = w.indexOf('=');
            if (eq < 0) {
                if (!entries) throw new IllegalArgumentException("--map " + map + ": no KEY=VALUE after the map name");
                map = w;
                entries = false;
                continue;
            }
            if (map == null) throw new IllegalArgumentException("--map " + w + ": give the map name first (--map NAME KEY=VALUE)");
            out.add(new MapSetting(map, w.substring(0, eq), w.substring(eq + 1)));
            entries = true;
        }
        if (!entries) throw new IllegalArgumentException("--map " + map + ": no KEY=VALUE after the map name");
        return out;
    }
}
