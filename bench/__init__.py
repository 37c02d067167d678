"""Benchmarks: each module `bench/<flow>.py` runs on the sandbox and writes `bench/results/<flow>.json`."""
