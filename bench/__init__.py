"""Benchmarks: `make bench`. They print ratios against a bare Flask endpoint, never assert."""
