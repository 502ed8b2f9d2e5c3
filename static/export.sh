#!/usr/bin/env bash
# The export that writes static/ (run from the repository root).
set -euo pipefail
L=${LETHE:-lethe}
runs=(--run static/models/resnet20-cifar10 --run static/models/vit-tiny-cifar10 --run runs/resnet20-fashion-mnist
  --run runs/compare-c3/retrain --run runs/compare-c3/prunelora --run runs/compare-c3/ga --run runs/compare-c3/ft --run runs/compare-c3/prune-ft
  --run runs/vit-c3-prunelora --run runs/vit-c3-ft --run runs/fmnist-forget-9-prunelora)
for c in 0 1 2 4 5 6 7 8 9; do
  if [ -f runs/demo-c$c-prunelora/manifest.json ]; then
    runs+=(--run runs/demo-c$c-prunelora
      --note "resnet20-cifar10-forget-$c-prunelora=a short run for the demo: RA is measured on those 9,000 images; no Retrain for this class")
  fi
done
"$L" export-web "${runs[@]}" --out static --samples-per-class 10 --data-dir "${LETHE_DATA_DIR:-../shared/data}" --no-download \
  --note "resnet20-cifar10-forget-3-prunelora=RTE measured while the 2 cores were shared with the Retrain run (an upper bound)" \
  --note "resnet20-cifar10-forget-3-retrain=epochs 1–3 ran on a lent H200 (wgpu), 4–12 on this CPU; RTE covers the CPU part only" \
  --note "resnet20-cifar10-forget-3-ga=RTE measured on cores shared with builds (an upper bound)" \
  --note "resnet20-cifar10-forget-3-ft=RTE measured on cores shared with builds (an upper bound)" \
  --note "resnet20-cifar10-forget-3-prune-ft=RTE measured on cores shared with builds and browser tests (an upper bound)" \
  --note "vit-tiny-cifar10-forget-3-prunelora=a short run: RA is measured on those 9,000 images; no ViT Retrain shipped yet" \
  --note "vit-tiny-cifar10-forget-3-ft=a short run: RA is measured on those 9,000 images; no ViT Retrain shipped yet" \
  --note "resnet20-fashion-mnist-forget-9-prunelora=a short run from a 2-epoch original: RA is measured on those 9,000 images; no Retrain shipped"
