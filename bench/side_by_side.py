#!/usr/bin/env python3
"""Lethe vs PyTorch on identical work, in the same run: for each (model, operation) it runs
`lethe bench` and `bench/pytorch_reference.py` alternately (A B A B …, `--rounds` times each),
then prints one Markdown table joined on (model, op, batch) with the ratio Lethe / PyTorch of
the median times, and writes every raw row to `--json`.

    python bench/side_by_side.py --lethe target/release/lethe --data-dir ../shared/data \
        [--model resnet20 --op train-step ...] [--rounds 3] [--repeats 10] [--json bench.json]

Run it from the repository root on an idle machine, with the Python that has PyTorch. It also
measures the CPU's f32 matrix-multiply peak (torch.mm, 2048³, all threads and one thread) for
context.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

OPS = ["train-step", "lora-step", "infer", "prunelora-epoch", "ft-epoch"]
HERE = Path(__file__).resolve().parent


def run_rows(command, env=None):
    output = subprocess.run(command, check=True, capture_output=True, text=True, env=env).stdout
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def matmul_peak(threads):
    import torch

    torch.set_num_threads(threads)
    a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
    for _ in range(3):
        torch.mm(a, b)
    times = []
    for _ in range(10):
        started = time.perf_counter()
        torch.mm(a, b)
        times.append(time.perf_counter() - started)
    return 2 * 2048**3 / statistics.median(times) / 1e9


def combine(rows):
    """Rounds of one (side, model, op, batch): median of medians, overall min and max."""
    return {
        "median_ms": statistics.median(r["median_ms"] for r in rows),
        "min_ms": min(r["min_ms"] for r in rows),
        "max_ms": max(r["max_ms"] for r in rows),
        "achieved_gflop_s": statistics.median(r["achieved_gflop_s"] for r in rows),
        "peak_rss_mb": max((r["peak_rss_mb"] or 0.0) for r in rows),
    }


def add_row_arguments(parser):
    """The options that choose and repeat the benchmark rows (shared with variants.py)."""
    parser.add_argument("--data-dir", default=os.environ.get("LETHE_DATA_DIR", "../shared/data"))
    parser.add_argument("--model", action="append", choices=["resnet20", "vit-tiny"])
    parser.add_argument("--op", action="append", choices=OPS)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--epoch-repeats", type=int, default=1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lethe", required=True, help="the release lethe binary")
    add_row_arguments(parser)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--json", default="bench-side-by-side.json")
    args = parser.parse_args()

    raw = []
    for model in args.model or ["resnet20", "vit-tiny"]:
        for op in args.op or OPS:
            repeats = args.epoch_repeats if op.endswith("-epoch") else args.repeats
            common = ["--model", model, "--op", op, "--repeats", str(repeats)]
            lethe = [args.lethe, "bench", *common, "--backend", "cpu", "--data-dir", args.data_dir,
                     "--no-download"]
            torch_ref = [sys.executable, str(HERE / "pytorch_reference.py"), *common,
                         "--data-dir", args.data_dir, "--threads", str(args.threads)]
            for round_index in range(args.rounds):
                for side, command in (("lethe", lethe), ("pytorch", torch_ref)):
                    for row in run_rows(command):
                        row.update(side=side, round=round_index)
                        raw.append(row)
                        print(f"{side:8} {model:9} {op:16} b{row['batch']:<5} "
                              f"{row['median_ms']:10.2f} ms", file=sys.stderr, flush=True)

    peaks = {"all threads": matmul_peak(args.threads), "one thread": matmul_peak(1)}
    Path(args.json).write_text(json.dumps({"rows": raw, "matmul_gflop_s": peaks}, indent=1))

    keys = sorted({(r["model"], r["op"], r["batch"]) for r in raw},
                  key=lambda k: (k[0], OPS.index(k[1]), k[2]))
    print("| model | op | batch | Lethe ms (min–max) | PyTorch ms (min–max) | Lethe / PyTorch "
          "| Lethe GFLOP/s | PyTorch GFLOP/s | Lethe peak RSS MB | PyTorch peak RSS MB |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for key in keys:
        sides = {}
        for side in ("lethe", "pytorch"):
            rows = [r for r in raw if (r["model"], r["op"], r["batch"]) == key and r["side"] == side]
            sides[side] = combine(rows) if rows else None
        if not all(sides.values()):
            continue
        lethe, torch_side = sides["lethe"], sides["pytorch"]
        print(f"| {key[0]} | {key[1]} | {key[2]} "
              f"| {lethe['median_ms']:.2f} ({lethe['min_ms']:.2f}–{lethe['max_ms']:.2f}) "
              f"| {torch_side['median_ms']:.2f} ({torch_side['min_ms']:.2f}–{torch_side['max_ms']:.2f}) "
              f"| **{lethe['median_ms'] / torch_side['median_ms']:.2f}** "
              f"| {lethe['achieved_gflop_s']:.1f} | {torch_side['achieved_gflop_s']:.1f} "
              f"| {lethe['peak_rss_mb']:.0f} | {torch_side['peak_rss_mb']:.0f} |")
    print(f"\nf32 matmul peak (torch.mm 2048³): {peaks['all threads']:.1f} GFLOP/s on "
          f"{args.threads} threads, {peaks['one thread']:.1f} GFLOP/s on one.")


if __name__ == "__main__":
    main()
