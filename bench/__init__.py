"""Benchmarks: every figure is reported next to a bare baseline measured in the same run."""
