package dev.ublkctl.cli.common;

import picocli.CommandLine;

/** --version: the jar's Implementation-Version and the JVM. */
public final class Version implements CommandLine.IVersionProvider {
    public static String version() {
        String v = Version.class.getPackage().getImplementationVersion();
        return v == null ? "0.1.0-SNAPSHOT" : v;
    }

    @Override
    public String[] getVersion() {
        return new String[]{"ublkctl " + version(),
                "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + ")"};
    }
}
