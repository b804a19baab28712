"""Benchmarks: `python -m bench` (see bench/load.py)."""
