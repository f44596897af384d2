package dev.ublkctl.engine;

/**
 * Which {@code struct ublk_bpf_ops} of an object to load: the first one, the one a variable
 * names, or the one whose {@code .id} member is a number. {@link #toString()} gives back what
 * {@link #parse} reads.
 */
public sealed interface OpsRef {
    /** The object's first {@code struct ublk_bpf_ops}. */
    record First() implements OpsRef {
        @Override public String toString() { return ""; }
    }

    /** The variable {@code name} (e.g. "null_ops"). */
    record Named(String name) implements OpsRef {
        public Named {
            if (name == null || name.isEmpty()) throw new IllegalArgumentException("an ops name must not be empty");
        }

        @Override public String toString() { return name; }
    }

    /** The one whose {@code .id} is {@code id}. */
    record ById(long id) implements OpsRef {
        @Override public String toString() { return Long.toString(id); }
    }

    OpsRef FIRST = new First();

    static OpsRef id(long id) { return new ById(id); }

    static OpsRef named(String name) { return new Named(name); }

    /** A command line's {@code --ops NAME|ID}: null or empty for the first, digits for an id. */
    static OpsRef parse(String nameOrId) {
        if (nameOrId == null || nameOrId.isEmpty()) return FIRST;
        if (nameOrId.chars().allMatch(Character::isDigit) && nameOrId.length() < 19) return new ById(Long.parseLong(nameOrId));
        return new Named(nameOrId);
    }
}
