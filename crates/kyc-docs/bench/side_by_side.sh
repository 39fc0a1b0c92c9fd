#!/bin/sh
# Side-by-side benchmark against the OpenCV peer, one core, medians of 5 runs.
#
#   PEER=/work/peer crates/kyc-docs/bench/side_by_side.sh [ITERS]
#
# PEER is a directory holding opencv_quality.py, its .venv and images/ (see
# /work/shared/bench/peers/README.md). Runs each implementation back to back on the JPEG set,
# then the PNG set, and prints both summaries, then checks parity on all images.
set -eu
PEER=${PEER:-/work/peer}
N=${1:-25}
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
cd "$ROOT"
cargo build --release -p kyc-docs --example quality >/dev/null 2>&1
OURS="$ROOT/target/release/examples/quality"
peer() {
  (cd "$PEER" && MALLOC_MMAP_THRESHOLD_=67108864 MALLOC_TRIM_THRESHOLD_=268435456 \
    taskset -c 0 .venv/bin/python opencv_quality.py "$@" --runs 5 --impl tuned --from-memory --threads 1)
}
for set in jpg png; do
  n=$N
  [ "$set" = png ] && n=$(( (N + 4) / 5 ))
  echo "== 1200x1800 $set, $n iterations per run"
  printf 'peer: '; peer images/*_1200x1800.$set --bench "$n" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["images_per_s_median"], d["images_per_s_runs"])'
  printf 'ours: '; taskset -c 0 "$OURS" --bench "$n" "$PEER"/images/*_1200x1800.$set | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["images_per_s_median"], d["images_per_s_runs"])'
done
echo "== parity on every image"
peer images >/tmp/kyc_docs_peer.jsonl 2>/dev/null || (cd "$PEER" && .venv/bin/python opencv_quality.py images --impl tuned >/tmp/kyc_docs_peer.jsonl)
"$OURS" "$PEER"/images >/tmp/kyc_docs_ours.jsonl
python3 "$ROOT/crates/kyc-docs/bench/parity.py" /tmp/kyc_docs_peer.jsonl /tmp/kyc_docs_ours.jsonl
