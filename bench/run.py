"""Run the benchmarks: ``python -m bench.run --quick|--full [--only NAME[,NAME]]``.

Quick mode (``make bench-quick``, < 3 min on 2 free cores) works on 2 of the 5 demo
documents and the smaller sizes; full mode (``make bench``) on everything, including 1M
vectors. Benchmarks run in one process, sharing the loaded model, in an order where each
finds what it needs: ingest builds the demo index that the others load. A missed target
is reported, not an error; the exit code is 1 only when a benchmark crashed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from bench import ask_latency, concurrency, ingest_speed, scale, tutorial  # noqa: E402
from bench.common import ORDER, SUMMARY, Context, Row, report  # noqa: E402

BENCHMARKS = {"ingest": ingest_speed, "ask": ask_latency, "tutorial": tutorial,
              "concurrency": concurrency, "scale": scale}
assert tuple(BENCHMARKS) == ORDER


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--quick", action="store_true")
    mode.add_argument("--full", action="store_true")
    parser.add_argument("--only", default="", help=f"comma-separated: {', '.join(ORDER)}")
    args = parser.parse_args(argv)
    only = [n for n in args.only.split(",") if n] or list(ORDER)
    unknown = set(only) - set(ORDER)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")

    ctx = Context(quick=args.quick)
    failed = []
    start = time.perf_counter()
    for name in ORDER:
        if name not in only:
            continue
        t = time.perf_counter()
        print(f"[bench] {name} ({ctx.mode}) ...", file=sys.stderr, flush=True)
        try:
            BENCHMARKS[name].run(ctx)
        except Exception as exc:  # report it and go on with the next benchmark
            traceback.print_exc()
            failed.append(name)
            report(name, ctx, {"error": repr(exc)},
                   [Row("run", "error", note=f"{type(exc).__name__}: {exc}"[:200])])
        print(f"[bench] {name} done in {time.perf_counter() - t:.0f} s", file=sys.stderr,
              flush=True)
    print(f"[bench] total {time.perf_counter() - start:.0f} s", file=sys.stderr)
    print(SUMMARY.read_text("utf-8"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
