#!/usr/bin/env bash
# Build Lethe's browser demo into web/dist (or the directory given as $1), with locally installed
# tools only: a wasm32 release build, wasm-bindgen (the CLI must equal the wasm-bindgen version in
# Cargo.lock), the page, and the shipped assets (static/models, static/samples).
#   bash web/build.sh            # build
#   bash web/build.sh --serve    # build, then serve on http://127.0.0.1:8080 (Ctrl-C to stop)
# wasm-opt is optional: set WASM_OPT to a binaryen ≥ 116 wasm-opt (npm's binaryen@132 works;
# Debian's binaryen 108 produces a broken module, see ../shared/research/web-stack.md).
set -euo pipefail
cd "$(dirname "$0")/.."
serve=false
out=web/dist
for arg in "$@"; do
  case "$arg" in
    --serve) serve=true ;;
    *) out=$arg ;;
  esac
done
target_dir=${CARGO_TARGET_DIR:-target}

locked=$(grep -A1 '^name = "wasm-bindgen"$' Cargo.lock | sed -n 's/^version = "\(.*\)"/\1/p')
if ! command -v wasm-bindgen >/dev/null; then
  echo "wasm-bindgen is not on PATH: cargo install wasm-bindgen-cli --version $locked" >&2
  exit 1
fi
installed=$(wasm-bindgen --version | awk '{print $2}')
if [ "$installed" != "$locked" ]; then
  echo "wasm-bindgen $installed is installed but Cargo.lock has $locked:" \
    "cargo install wasm-bindgen-cli --version $locked" >&2
  exit 1
fi

cargo build -p lethe-web --profile wasm-release --target wasm32-unknown-unknown
rm -rf "$out"
mkdir -p "$out"
wasm-bindgen --target web --no-typescript --out-dir "$out/pkg" \
  "$target_dir/wasm32-unknown-unknown/wasm-release/lethe_web.wasm"
if [ -n "${WASM_OPT:-}" ]; then
  "$WASM_OPT" -O3 --enable-simd --enable-bulk-memory --enable-reference-types \
    "$out/pkg/lethe_web_bg.wasm" -o "$out/pkg/lethe_web_bg.wasm"
fi
cp web/index.html web/style.css web/live-worker.js web/live-probe-worker.js "$out/"
rm -rf "$out/models" "$out/samples"
mkdir -p "$out/models" "$out/samples"
cp static/models/index.json "$out/models/"
# Only the runs the catalogue lists (not checkpoints or logs).
python3 - "$out" <<'PY'
import json, shutil, sys, pathlib
out = pathlib.Path(sys.argv[1])
for run in json.load(open("static/models/index.json"))["runs"]:
    source = pathlib.Path("static") / run["weights"]
    target = out / run["weights"]
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    shutil.copyfile(source.with_name("manifest.json"), target.with_name("manifest.json"))
PY
# The live-forgetting subsets (lethe export-live).
rm -rf "$out/live"
cp -r static/live "$out/live"
# The sample images of each dataset (static/samples/<dataset>/).
cp -r static/samples/*/ "$out/samples/"
echo "built $out: $(du -sh "$out/pkg/lethe_web_bg.wasm" | cut -f1) of wasm, $(du -sh "$out" | cut -f1) in all"
if $serve; then
  echo "serving http://127.0.0.1:8080/ (Ctrl-C to stop)"
  exec python3 -m http.server 8080 --bind 127.0.0.1 --directory "$out"
fi
