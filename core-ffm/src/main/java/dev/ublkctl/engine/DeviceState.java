package dev.ublkctl.engine;

/** Where a device is in its lifecycle: created → live → stopped → deleted. */
public enum DeviceState { CREATED, LIVE, STOPPED, DELETED }
