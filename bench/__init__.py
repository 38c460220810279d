"""Benchmarks for Vraagbaak: ``python -m bench.run --quick|--full [--only NAME]``.

The machine is 2 shared, noisy cores, so every figure is reported next to a baseline
measured in the same run (usually the bare query or passage embedding) and judged by the
ratio. See bench/README.md.
"""
