package dev.ublkctl.tui.model;

/** One map entry, key and value already decoded with BTF into text ({@code {queue=0, ios=12}}). */
public record MapEntry(String key, String value) { }
