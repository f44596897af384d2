package dev.ublkctl.target;

/** Where a target reports that the range it was given for a tag is done (bytes or -errno), once per submit. */
@FunctionalInterface
public interface PartCompleter {
    void partDone(int tag, int result);
}
