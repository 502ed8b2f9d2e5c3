#!/usr/bin/env bash
# How static/ was written (run from the repository root), in the order it was done. Each step
# reads run directories from the trainer's runs/, which are not committed: a fresh machine
# regenerates them with the commands in docs/results.md (each run's manifest records its full
# config and seed). Steps after the first keep the catalogue's runs (`--add`), so one run can be
# added or replaced without the others' directories.
set -euo pipefail
L=${LETHE:-lethe}
data=(--data-dir "${LETHE_DATA_DIR:-../shared/data}" --no-download)
step=${1:-all}

# 1. The originals, the first full-split runs of "cat", the short demo runs and the
#    Fashion-MNIST pair; the sample images.
if [ "$step" = all ] || [ "$step" = 1 ]; then
  runs=(--run static/models/resnet20-cifar10 --run static/models/vit-tiny-cifar10 --run runs/resnet20-fashion-mnist
    --run runs/compare-c3/retrain --run runs/compare-c3/prunelora --run runs/compare-c3/ga --run runs/compare-c3/ft
    --run runs/vit-c3-prunelora --run runs/vit-c3-ft --run runs/fmnist-forget-9-prunelora)
  for c in 0 1 2 4 5 6 7 8 9; do
    runs+=(--run runs/demo-c$c-prunelora
      --note "resnet20-cifar10-forget-$c-prunelora=a short run for the demo: RA is measured on those 9,000 images; no Retrain for this class")
  done
  "$L" export-web "${runs[@]}" --out static --samples-per-class 10 "${data[@]}" \
    --note "resnet20-cifar10-forget-3-prunelora=RTE measured while the 2 cores were shared with the Retrain run (an upper bound)" \
    --note "resnet20-cifar10-forget-3-retrain=epochs 1–3 ran on a lent H200 (wgpu), 4–12 on this CPU; RTE covers the CPU part only" \
    --note "resnet20-cifar10-forget-3-ga=RTE measured on cores shared with builds (an upper bound)" \
    --note "resnet20-cifar10-forget-3-ft=RTE measured on cores shared with builds (an upper bound)" \
    --note "vit-tiny-cifar10-forget-3-prunelora=a short run: RA is measured on those 9,000 images; no ViT Retrain shipped yet" \
    --note "vit-tiny-cifar10-forget-3-ft=a short run: RA is measured on those 9,000 images; no ViT Retrain shipped yet" \
    --note "resnet20-fashion-mnist-forget-9-prunelora=a short run from a 2-epoch original: RA is measured on those 9,000 images; no Retrain shipped"
fi

# 2. Prune+FT on the full split (2026-12-02).
if [ "$step" = all ] || [ "$step" = 2 ]; then
  "$L" export-web --add --run runs/compare-c3/prune-ft --out static --samples-per-class 0 "${data[@]}" \
    --note "resnet20-cifar10-forget-3-prune-ft=RTE measured on cores shared with builds and browser tests (an upper bound)"
fi

# 3. LoRA on the full split, and every unlearned run re-stored as f16 (2026-12-02): each run is
#    given again from static/models/ itself (its catalogue entry stays) with --f16, which checks
#    the f16 copy against the f32 weights on the full test set.
if [ "$step" = all ] || [ "$step" = 3 ]; then
  shipped=$(python3 -c 'import json; print(" ".join("--run static/models/" + r["id"] for r in json.load(open("static/models/index.json"))["runs"] if r.get("original")))')
  # shellcheck disable=SC2086
  "$L" export-web --add --f16 $shipped --run runs/compare-c3/lora --out static --samples-per-class 0 "${data[@]}" \
    --note "resnet20-cifar10-forget-3-lora=RTE measured on cores shared with builds during its first epoch (an upper bound)"
fi

# 4. The other methods on vit-tiny for "cat", short runs, as f16 (2026-12-02).
if [ "$step" = all ] || [ "$step" = 4 ]; then
  vit=()
  for m in prune-ft lora rfa ga; do
    vit+=(--run runs/vit-c3-$m --note "vit-tiny-cifar10-forget-3-$m=a short run: RA is measured on those 9,000 images; no ViT Retrain shipped yet")
  done
  "$L" export-web --add --f16 "${vit[@]}" --out static --samples-per-class 0 "${data[@]}"
fi

# 5. RFA on the full split, as f16 (2026-12-02; run with `lethe forget … --method rfa --retrain
#    runs/compare-c3/retrain --out runs/compare-c3/rfa`, docs/results.md §7).
if [ "$step" = all ] || [ "$step" = 5 ]; then
  "$L" export-web --add --f16 --run runs/compare-c3/rfa --out static --samples-per-class 0 "${data[@]}" \
    --note "resnet20-cifar10-forget-3-rfa=RTE measured with a niced build and tests sharing the cores in its first two epochs (an upper bound)"
fi

# 6. RL on the full split, as f16 (2026-12-02; `lethe forget … --method rl --retrain
#    runs/compare-c3/retrain --out runs/compare-c3/rl`, docs/results.md §7), on otherwise idle cores.
if [ "$step" = all ] || [ "$step" = 6 ]; then
  "$L" export-web --add --f16 --run runs/compare-c3/rl --out static --samples-per-class 0 "${data[@]}"
fi

# 7. SalUn on the full split, as f16 (2026-12-02/03; `lethe forget … --method salun --retrain
#    runs/compare-c3/retrain --out runs/compare-c3/salun`, docs/results.md §7; epochs 1–2 in one
#    session, 3–4 and 5–10 resumed from the checkpoints in the next).
if [ "$step" = all ] || [ "$step" = 7 ]; then
  "$L" export-web --add --f16 --run runs/compare-c3/salun --out static --samples-per-class 0 "${data[@]}" \
    --note "resnet20-cifar10-forget-3-salun=RTE includes epochs 2 and 4 (887 s, 952 s) slowed by an autodiff-graph leak fixed in b82a54c; the fixed epochs took 373–405 s"
fi

# 8. RL, SalUn and ℓ1-sparse on vit-tiny for "cat", short runs, as f16 (2026-12-02, one after
#    another on otherwise idle cores; docs/results.md §7).
if [ "$step" = all ] || [ "$step" = 8 ]; then
  vit=()
  for m in rl salun l1-sparse; do
    vit+=(--run runs/vit-c3-$m --note "vit-tiny-cifar10-forget-3-$m=a short run: RA is measured on those 9,000 images; no ViT Retrain shipped yet")
  done
  "$L" export-web --add --f16 "${vit[@]}" --out static --samples-per-class 0 "${data[@]}"
fi

# 9. ℓ1-sparse on the full split, as f16 (2026-12-03; `lethe forget … --method l1-sparse
#    --retrain runs/compare-c3/retrain --out runs/compare-c3/l1-sparse`, docs/results.md §7):
#    the last of the ten methods for "cat" on ResNet-20.
if [ "$step" = all ] || [ "$step" = 9 ]; then
  "$L" export-web --add --f16 --run runs/compare-c3/l1-sparse --out static --samples-per-class 0 "${data[@]}" \
    --note "resnet20-cifar10-forget-3-l1-sparse=RTE measured with a niced CI run sharing the cores from its second epoch on (an upper bound)"
fi

# 10. A short Retrain on vit-tiny for "cat", as f16 (2026-12-06; `lethe forget --weights
#     static/models/vit-tiny-cifar10 --method retrain --forget-class 3 --epochs 12 --retain-limit
#     9000 --seed 0 --backend cpu --out runs/vit-c3-retrain`, docs/results.md §3 and §7): 12 epochs
#     of the ViT recipe from scratch over the same first 9,000 images of D_r as the short runs (the
#     protocol's Retrain, 30 epochs over all 45,000, was not made yet when this step ran; it was
#     made later (28,482 s over seven sittings of this CPU, docs/results/vit-tiny-forget-cat/retrain)
#     and is not shipped: the page's ViT runs are the short ones). The nine short ViT runs are
#     given again from static/models/ with new notes (their weights, metrics and f16 agreement
#     stay; `--note` replaces a re-given run's extra words).
if [ "$step" = all ] || [ "$step" = 10 ]; then
  short="a short run: RA is measured on those 9,000 images; the Retrain beside it is short too (12 epochs from scratch over the same 9,000 images), not the protocol's"
  vit=(--run runs/vit-c3-retrain
    --note "vit-tiny-cifar10-forget-3-retrain=a short Retrain for the demo: 12 epochs from scratch over the first 9,000 images of D_r, so it keeps far less than the protocol's 30-epoch Retrain on all 45,000 would; RA is measured on those 9,000 images")
  for m in prunelora ft prune-ft lora rfa ga rl salun l1-sparse; do
    vit+=(--run static/models/vit-tiny-cifar10-forget-3-$m --note "vit-tiny-cifar10-forget-3-$m=$short")
  done
  "$L" export-web --add --f16 "${vit[@]}" --out static --samples-per-class 0 "${data[@]}"
fi

# 11. Every shipped unlearned run given again from static/models/ (2026-12-07): descriptions now
#     name the data each method's training steps read (GA: "D_f only (split: …)"; RFA, RL and
#     SalUn: "… D_r and D_f"), written afresh from each run's manifest; weights (copied as they
#     are, f16), metrics, f16 agreement and extra words stay. The runs that train on D_r alone
#     keep the description they had.
if [ "$step" = all ] || [ "$step" = 11 ]; then
  shipped=$(python3 -c 'import json; print(" ".join("--run static/models/" + r["id"] for r in json.load(open("static/models/index.json"))["runs"] if r.get("original")))')
  # shellcheck disable=SC2086
  "$L" export-web --add $shipped --out static --samples-per-class 0 "${data[@]}"
fi
