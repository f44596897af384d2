/**
 * The ublk user API ({@code <linux/ublk_cmd.h>}) as Java: struct layouts, ioctl-encoded
 * command opcodes, feature flags by name, and records for dev_info and params. Plain data,
 * no system calls: usable by the kernel driver, the emulated driver and tests alike.
 */
package dev.ublkctl.ublk.uapi;
