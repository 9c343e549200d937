"""Benchmarks of LoadZone: run `make bench` or `python -m bench --help`."""
