package dev.ublkctl.cli.common;

import dev.ublkctl.bpf.jit.EngineKind;
import dev.ublkctl.bpf.object.BpfObject;
import dev.ublkctl.target.TargetType;
import dev.ublkctl.ublk.Backend;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

import java.util.Arrays;
import java.util.Iterator;
import java.util.List;

/**
 * Core's closed sets of names as picocli options take them: the converters call the enums' own
 * {@code of} (so the command line refuses a name in the daemon's words), the completion candidates
 * are the enums' values.
 */
public final class Names {
    private Names() {}

    public static final class TargetName implements ITypeConverter<TargetType> {
        @Override public TargetType convert(String s) { return of(() -> TargetType.of(s)); }
    }

    public static final class BackendName implements ITypeConverter<Backend> {
        @Override public Backend convert(String s) { return of(() -> Backend.of(s)); }
    }

    public static final class EngineName implements ITypeConverter<EngineKind> {
        @Override public EngineKind convert(String s) { return of(() -> EngineKind.parse(s)); }
    }

    public static final class Engines implements Iterable<String> {
        @Override public Iterator<String> iterator() {
            return Arrays.stream(EngineKind.values()).map(EngineKind::label).iterator();
        }
    }

    public static final class Targets implements Iterable<String> {
        @Override public Iterator<String> iterator() { return targets().iterator(); }
    }

    public static final class Backends implements Iterable<String> {
        @Override public Iterator<String> iterator() { return backends().iterator(); }
    }

    public static final class BundledPrograms implements Iterable<String> {
        @Override public Iterator<String> iterator() { return BpfObject.BUNDLED.iterator(); }
    }

    public static List<String> targets() { return Arrays.stream(TargetType.values()).map(String::valueOf).toList(); }

    public static List<String> backends() { return Arrays.stream(Backend.values()).map(String::valueOf).toList(); }

    private static <T> T of(java.util.function.Supplier<T> of) {
        try {
            return of.get();
        } catch (IllegalArgumentException e) {
            throw new TypeConversionException(e.getMessage());
        }
    }
}
