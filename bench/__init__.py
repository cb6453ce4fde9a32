"""Benchmarks: `make bench` prints figures; nothing here asserts on wall-clock time."""
