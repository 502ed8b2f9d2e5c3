#!/usr/bin/env python3
"""Lethe against Lethe: the same `lethe bench` rows for several builds or settings of Lethe, run
alternately (A B C A B C …, `--rounds` times), to measure one optimisation at a time. Prints a
Markdown table of median times with each variant's ratio to the first and writes every raw row
to `--json`.

    python bench/variants.py --data-dir ../shared/data \
        --variant before=/tmp/lethe-8944a32 \
        --variant "allocator=/tmp/lethe-8944a32 GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432" \
        --variant now=target/release/lethe [--model resnet20 --op train-step ...] [--rounds 3]

A variant is `NAME=BINARY [VAR=VALUE ...]`: the environment assignments are added to that
variant's runs only. Needs no PyTorch. Run it from the repository root on an idle machine.
"""

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from side_by_side import OPS, add_row_arguments, combine, run_rows  # noqa: E402


def parse_variant(text):
    name, _, rest = text.partition("=")
    binary, *assignments = rest.split()
    if not name or not binary:
        raise argparse.ArgumentTypeError(f"--variant {text!r}: expected NAME=BINARY [VAR=VALUE ...]")
    env = dict(assignment.split("=", 1) for assignment in assignments)
    return name, binary, env


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variant", action="append", type=parse_variant, required=True)
    add_row_arguments(parser)
    parser.add_argument("--json", default="bench-variants.json")
    args = parser.parse_args()
    if len({name for name, _, _ in args.variant}) != len(args.variant):
        parser.error("variant names must differ")

    raw = []
    for model in args.model or ["resnet20", "vit-tiny"]:
        for op in args.op or OPS:
            repeats = args.epoch_repeats if op.endswith("-epoch") else args.repeats
            for round_index in range(args.rounds):
                for name, binary, env in args.variant:
                    command = [binary, "bench", "--model", model, "--op", op, "--repeats",
                               str(repeats), "--backend", "cpu", "--data-dir", args.data_dir,
                               "--no-download"]
                    for row in run_rows(command, env={**os.environ, **env}):
                        row.update(variant=name, round=round_index)
                        raw.append(row)
                        print(f"{name:12} {model:9} {op:16} b{row['batch']:<5} "
                              f"{row['median_ms']:10.2f} ms", file=sys.stderr, flush=True)
    Path(args.json).write_text(json.dumps({"rows": raw, "variants": args.variant}, indent=1))

    names = [name for name, _, _ in args.variant]
    keys = sorted({(r["model"], r["op"], r["batch"]) for r in raw},
                  key=lambda k: (k[0], OPS.index(k[1]), k[2]))
    print("| model | op | batch | " + " | ".join(
        f"{name} ms (min–max)" + ("" if i == 0 else f" | {name} / {names[0]}")
        for i, name in enumerate(names)) + " | peak RSS MB (" + ", ".join(names) + ") |")
    print("|---|---|---|" + "---|" * (2 * len(names) - 1) + "---|")
    for key in keys:
        cells, rss, first = [], [], None
        for name in names:
            rows = [r for r in raw if (r["model"], r["op"], r["batch"]) == key and r["variant"] == name]
            side = combine(rows)
            first = first or side
            cells.append(f"{side['median_ms']:.2f} ({side['min_ms']:.2f}–{side['max_ms']:.2f})")
            if side is not first:
                cells.append(f"**{side['median_ms'] / first['median_ms']:.2f}**")
            rss.append(f"{side['peak_rss_mb']:.0f}")
        print(f"| {key[0]} | {key[1]} | {key[2]} | " + " | ".join(cells) + f" | {', '.join(rss)} |")


if __name__ == "__main__":
    main()
