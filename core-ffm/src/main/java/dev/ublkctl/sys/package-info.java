/**
 * The bottom of the data path: libc calls and raw system calls through the FFM API,
 * errno captured per call, failures as {@link dev.ublkctl.sys.SyscallException}.
 */
package dev.ublkctl.sys;
