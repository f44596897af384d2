/**
 * io_uring from raw system calls: {@link dev.ublkctl.uring.IoUring} sets up and maps the
 * rings, {@link dev.ublkctl.uring.Sqe} fills submissions, completions are reaped by callback.
 */
package dev.ublkctl.uring;
