#!/bin/sh
# Side-by-side benchmark against the OpenCV peer, one core, medians of 5 runs.
#
#   PEER=/work/peer crates/kyc-docs/bench/side_by_side.sh [PASSES]
#
# PEER is a directory holding opencv_quality.py, its .venv and images/ (see
# /work/shared/bench/peers/README.md). Runs both implementations back to back on the
# 1200x1800 JPEGs, then the 1200x1800 PNGs (a fifth of the passes), then checks parity on every
# image. Repeat it if other work on the machine makes the runs noisy.
set -eu
PEER=${PEER:-/work/peer}
N=${1:-25}
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
cargo build --manifest-path "$ROOT/Cargo.toml" --release -p kyc-docs --example quality >/dev/null 2>&1
OURS="$ROOT/target/release/examples/quality"
SUMMARY='import json,sys; d=json.load(sys.stdin); print(d["images_per_s_median"], d["images_per_s_runs"])'
cd "$PEER"
for ext in jpg png; do
  n=$N
  if [ "$ext" = png ]; then n=$(( (N + 4) / 5 )); fi
  echo "== 1200x1800 $ext, $n passes per run, images/s: median [runs]"
  printf 'peer: '
  MALLOC_MMAP_THRESHOLD_=67108864 MALLOC_TRIM_THRESHOLD_=268435456 taskset -c 0 \
    .venv/bin/python opencv_quality.py images/*_1200x1800.$ext --bench "$n" --runs 5 \
    --impl tuned --from-memory --threads 1 | python3 -c "$SUMMARY"
  printf 'ours (with the reference figures): '
  taskset -c 0 "$OURS" --bench "$n" --runs 5 images/*_1200x1800.$ext | python3 -c "$SUMMARY"
  printf 'ours (server default, --no-reference): '
  taskset -c 0 "$OURS" --bench "$n" --runs 5 --no-reference images/*_1200x1800.$ext | python3 -c "$SUMMARY"
done
echo "== parity on every image"
.venv/bin/python opencv_quality.py images --impl tuned --from-memory --threads 1 >/tmp/kyc_docs_peer.jsonl
"$OURS" images >/tmp/kyc_docs_ours.jsonl
python3 "$ROOT/crates/kyc-docs/bench/parity.py" /tmp/kyc_docs_peer.jsonl /tmp/kyc_docs_ours.jsonl
