/**
 * The real ublk driver: {@link dev.ublkctl.ublk.kernel.UblkControl} (control commands over
 * {@code /dev/ublk-control}), {@link dev.ublkctl.ublk.kernel.KernelDevice} (one device's life),
 * {@link dev.ublkctl.ublk.kernel.KernelQueue} (per-queue fetch/commit on its own io_uring) and
 * {@link dev.ublkctl.ublk.kernel.KernelSupport} (what this kernel offers, with reasons).
 * Tested for real under QEMU with {@code scripts/ublk-vm} (see docs/kernel-backend.md).
 */
package dev.ublkctl.ublk.kernel;
