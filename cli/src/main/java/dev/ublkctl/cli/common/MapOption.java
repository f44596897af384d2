package dev.ublkctl.cli.common;

import dev.ublkctl.daemon.MapSetting;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;
import java.util.Stack;

/**
 * {@code --map NAME KEY=VALUE [KEY=VALUE...]}, repeatable: entries a program's maps get before it
 * attaches (a picocli mixin of add and attach). The words after NAME that hold a '=' are its
 * entries, so a positional argument may follow.
 */
public final class MapOption {
    @Option(names = "--map", paramLabel = "NAME KEY=VALUE", parameterConsumer = Consumer.class,
            description = "Set map entries before the program attaches (repeatable): KEY and VALUE as 'map update' "
                    + "takes them (integer, hex:BYTES, or JSON of the map's BTF type); @dev is the device id, "
                    + "@fd0..@fd3 its backing files' descriptors, e.g. --map fd_map @dev=@fd0.")
    List<String> words = new ArrayList<>();

    /** The entries, in order. @throws IllegalArgumentException a malformed --map */
    public List<MapSetting> settings() { return MapSetting.parse(words); }

    /** Takes NAME, then every following word with a '='. */
    public static final class Consumer implements CommandLine.IParameterConsumer {
        @Override
        public void consumeParameters(Stack<String> args, ArgSpec argSpec, CommandSpec commandSpec) {
            if (args.isEmpty()) throw new CommandLine.ParameterException(commandSpec.commandLine(), "--map needs NAME KEY=VALUE");
            List<String> got = argSpec.getValue();
            String name = args.pop();
            if (name.contains("=") || name.startsWith("-"))
                throw new CommandLine.ParameterException(commandSpec.commandLine(), "--map needs the map name first: --map NAME KEY=VALUE");
            got.add(name);
            int n = 0;
            while (!args.isEmpty() && args.peek().contains("=") && !args.peek().startsWith("-")) {
                got.add(args.pop());
                n++;
            }
            if (n == 0) throw new CommandLine.ParameterException(commandSpec.commandLine(), "--map " + name + ": no KEY=VALUE after the map name");
        }
    }
}
