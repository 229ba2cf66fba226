"""Stacks: composition only. They read an EnvironmentConfig and wire constructs together."""
