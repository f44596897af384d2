/** The Lanterna monitor behind {@code ublkctl top}: metric math in plain classes, drawing apart. */
package dev.ublkctl.tui;
