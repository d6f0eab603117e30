#!/usr/bin/env bash
# The GPU step that trained models/sac-demo's adapters (MODEL_CARD.md): the multi-ratio adapter
# and the two 8x ablations side by side on one GPU, each for $MINUTES, with snapshots of the
# adapter every minute (to pick the best on dev data afterwards, not the last by default).
#
# Input in $IN (default .gpu), made on the CPU machine with the Java code:
#   ./sac train sac --model PKG --data data-x --train-contexts 40000 --export-examples sac-examples.bin
#   xz sac-examples.bin; mv sac-examples.bin.sac.json $IN/sac.json
#   (and the sac.json of the same command with --variant V --ratio 8, as $IN/V.json, for
#   V = sac-causal and sac-no-anchor-emb)
# Optional: $IN/dev-examples.bin.xz (the dev split exported the same way) is scored every minute.
# Output: $OUT/adapters.tgz (refreshed every 30 s, so a cut run still returns what it wrote).
# RESUME=DIR (an unpacked adapters.tgz) continues those runs; MINUTES is then the new total.
# INIT=DIR starts each run from DIR/NAME/sac.safetensors instead (e.g. models/sac-demo/adapters: more
# training for the committed adapters when their checkpoints are gone; a fresh optimiser and
# schedule). BATCH (default 64) is each run's examples per step. GROW_INIT=1 with INIT: the INIT adapters were trained on a base with k times fewer layers,
# which pretrain_base.py --grow deepened into BASE (train_sac.py --grow-init). STAGE1_STEPS (default 150) continuation steps come first; 0 goes straight to QA.
# WIDEN_INIT=1 with INIT: the specs in $IN have LoRA on more projections or a larger rank than the INIT
# adapters, which start widened (train_sac.py --widen-init: new targets and rank start at B = 0, so each
# run starts from what its INIT adapter computes; a spec the adapter already has is left as it is).
# LR (default 1.5e-3) is the peak learning rate of both stages. CONT_SHARE (default 0, the paper's
# QA-only stage 2) is the share of stage-2 examples drawn as continuation examples instead.
set -uo pipefail
IN=${IN:-.gpu}
OUT=${OUT:?set OUT to the folder that receives adapters.tgz}
MINUTES=${MINUTES:-6}
BASE=${BASE:-models/sac-demo/base}
if ! python3 -c 'import torch' 2>/dev/null; then
  echo "train_sac_adapters.sh: this python3 has no PyTorch; run it where PyTorch is (a GPU machine)," \
       "or train on the CPU with ./sac train sac (scripts/train-demo-model.sh: PHASES=\"sac ablations\")" >&2
  exit 2
fi
if [ "${WIDEN_INIT:-0}" = 1 ] && [ -z "${INIT:-}" ]; then
  echo "train_sac_adapters.sh: WIDEN_INIT=1 widens the INIT adapters: set INIT" >&2
  exit 2
fi
WORK=$(mktemp -d)
DEV_FLAG=()
if [ -f "$IN/dev-examples.bin.xz" ]; then DEV_FLAG=(--dev-examples "$IN/dev-examples.bin.xz"); fi
RESUME_FLAG=()
if [ -n "${RESUME:-}" ]; then cp -r "$RESUME"/. "$WORK"/ && RESUME_FLAG=(--resume); fi
if [ -n "${INIT:-}" ] && [ -n "${RESUME:-}" ]; then
  echo "train_sac_adapters.sh: RESUME continues checkpoints, INIT starts from adapter weights: set one" >&2
  exit 2
fi
STAGE1_STEPS=${STAGE1_STEPS:-150}
LR=${LR:-1.5e-3}
CONT_SHARE=${CONT_SHARE:-0}
export PYTHONUNBUFFERED=1
# Three runs share one GPU; with continuation examples in stage 2 (CONT_SHARE > 0) their batches vary
# in shape and the caching allocator fragments: in session 13 one run died needing 1.6 GiB while 3.6
# GiB sat reserved but unused. Expandable segments let that memory be reused.
export PYTORCH_CUDA_ALLOC_CONF=${PYTORCH_CUDA_ALLOC_CONF:-expandable_segments:True}
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available())'

run() {  # name, snapshot seconds
  local init=()
  if [ -n "${INIT:-}" ]; then init=(--init "$INIT/$1/sac.safetensors"); fi
  if [ -n "${INIT:-}" ] && [ "${GROW_INIT:-0}" = 1 ]; then init+=(--grow-init); fi
  if [ -n "${INIT:-}" ] && [ "${WIDEN_INIT:-0}" = 1 ]; then init+=(--widen-init); fi
  python3 scripts/gpu/train_sac.py --examples "$IN/sac-examples.bin.xz" --spec "$IN/$1.json" --base "$BASE" \
    --out "$WORK" --name "$1" --minutes "$MINUTES" --batch "${BATCH:-64}" --lr1 "$LR" --lr2 "$LR" --log-every 100 \
    --stage1-steps "$STAGE1_STEPS" --continuation-share "$CONT_SHARE" --snapshot-every "$2" "${RESUME_FLAG[@]}" "${init[@]}" "${DEV_FLAG[@]}" \
    >> "$WORK/$1.txt" 2>&1
  local rc=$?
  echo "$1 exited with $rc" | tee -a "$WORK/$1.txt"
  return $rc
}
pack() {  # the runs write while this reads: skip their .partial files, and tar's exit 1 (a file changed) is fine
  tar czf "$OUT/adapters.tgz.partial" --exclude='*.partial' --warn=no-file-changed --ignore-failed-read -C "$WORK" .
  [ $? -le 1 ] && mv "$OUT/adapters.tgz.partial" "$OUT/adapters.tgz"
}

run sac 60 & a=$!
run sac-causal 0 & b=$!
run sac-no-anchor-emb 0 & c=$!
pids=($a $b $c)
running() { for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && return 0; done; return 1; }
while running; do
  sleep 30
  pack
  for f in "$WORK"/*.txt; do echo "== $(basename "$f"): $(tail -n 1 "$f")"; done
done
status=0
for p in "${pids[@]}"; do wait "$p" || status=1; done   # each run's own exit status (a resumed log holds older lines)
pack
for f in "$WORK"/*.txt; do echo "==== $f"; tail -n 12 "$f"; done
rm -rf "$WORK"
exit $status
