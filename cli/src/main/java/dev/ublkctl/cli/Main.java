package dev.ublkctl.cli;

/** Entry point placeholder until the picocli command tree lands. */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        System.out.println("ublkctl 0.1.0-SNAPSHOT");
    }
}
