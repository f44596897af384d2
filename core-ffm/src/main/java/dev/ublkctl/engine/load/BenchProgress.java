package dev.ublkctl.engine.load;

import java.time.Duration;

/** Live progress of a bench or verify run: totals so far and the rate over the last interval. */
public record BenchProgress(Duration elapsed, long ios, long bytes, double iops, double mbPerSec) {}
