#!/usr/bin/env bash
# An A/B run on one lent GPU (session 15): does training on facts about invented relations
# (`sac data build --nonce-facts`) lift the base's held-out score, which stayed at 68-70 % on more
# data of the usual kind? Two runs side by side from the committed base, identical but for the
# samples: "nonce" (data-z: seed 100, 30,000 training contexts, extra phrasings and nonce facts)
# and "plain" (data-w: the same seed and sizes without nonce facts). Both are scored on the same
# 400 dev questions every 100 steps (teacher-forced exact, as pretrain_base.py reports it).
#
# Input in $KIT: samples-nonce.bin.xz and samples-plain.bin.xz (./sac train base --export-samples,
# see train-demo-model.sh's step nonce-ab). Output in $OUT: each arm's log.jsonl and console
# output. Nothing is installed: the weights stay on the GPU machine.
set -uo pipefail
KIT=${KIT:-.gpu/ab}
OUT=${OUT:?set OUT to the folder that receives the logs}
MINUTES=${MINUTES:-2.5}
PKG=${PKG:-models/sac-demo}
WORK=$(mktemp -d)
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null || true
pids=()
# background arms start with SIGINT ignored: Ctrl-C (or a TERM) stops them too, not only this script
trap 'kill "${pids[@]}" 2>/dev/null; exit 130' INT TERM
for arm in nonce plain; do
  python3 scripts/gpu/pretrain_base.py --samples "$KIT/samples-$arm.bin.xz" --config "$PKG/base/config.json" \
    --init "$PKG/base/model.safetensors" --out "$WORK/$arm" --minutes "$MINUTES" --lr "${LR:-5e-4}" --warmup 50 \
    --eval-every "${EVAL_EVERY:-100}" --save-every 100000 --parity-tokens 0 --batch-tokens "${BATCH_TOKENS:-131072}" \
    > "$OUT/$arm.txt" 2>&1 &
  pids+=($!)
done
status=0
for p in "${pids[@]}"; do wait "$p" || status=1; done
for arm in nonce plain; do
  cp "$WORK/$arm/log.jsonl" "$OUT/$arm-log.jsonl" 2>/dev/null
  echo "== $arm"; grep -E "held-out|done" "$OUT/$arm.txt"
done
rm -rf "$WORK"
exit $status
