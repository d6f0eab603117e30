#!/usr/bin/env bash
# Session 15's GPU step (PHASES=gpu-grow in scripts/train-demo-model.sh): one lent H100 call that
# deepens the demo base and retrains its adapters on it.
#
#   1. base: the committed 4-layer base grown to 8 layers (pretrain_base.py --grow: every layer
#      followed by a copy of itself whose o_proj and down_proj are zero, so training starts from
#      exactly the committed model) and trained on fresh samples (data-y: full-length training
#      contexts of another data seed, never seen by the committed base), keeping the model of the
#      best held-out score;
#   2. adapters: sac and both ablations, each from its committed weights grown the same way
#      (train_sac.py --grow-init), side by side on the grown base (train_sac_adapters.sh), stage 2
#      with 30 % continuation examples, as session 13's tune.
#
# GROW=0 runs the same call without growing: the base continues as it is (KIT's config.json is then
# the base's own) and the adapters from their weights; the gpu-nonce step of train-demo-model.sh
# uses it for a base trained on nonce facts. WIDEN_INIT=1: the adapters' specs in KIT are wider than the
# package's adapters, which start widened (gpu-words).
#
# Input in $KIT (made on the CPU machine by train-demo-model.sh's gpu-grow step): the sample files
# (*.bin.xz from ./sac train base --export-samples), config.json of the grown base, and the
# adapters' kit (sac-examples.bin.xz, dev-examples.bin.xz, sac.json, sac-causal.json,
# sac-no-anchor-emb.json). Output in $OUT: config.json and the grown base's model.safetensors in 15 MB parts
# (base-model.part-*, since a lent machine returns files of at most 16 MiB), base-run.tgz (the
# base's log, parity logits for HfReferenceParityTest) and adapters.tgz (train_sac_adapters.sh's).
set -uo pipefail
KIT=${KIT:-.gpu}
OUT=${OUT:?set OUT to the folder that receives the results}
BASE_MINUTES=${BASE_MINUTES:-4.2}
SAC_MINUTES=${SAC_MINUTES:-3.5}
PKG=${PKG:-models/sac-demo}

WORK=${WORK:-$(mktemp -d)}
export PYTHONUNBUFFERED=1
mkdir -p "$WORK/base-run" "$WORK/base"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null || true

samples=("$KIT"/samples-*.bin.xz)
grow=(--grow)
if [ "${GROW:-1}" = 0 ]; then grow=(); fi   # GROW=0: continue the base as it is (KIT's config.json: the same)
python3 scripts/gpu/pretrain_base.py --samples "${samples[@]}" --config "$KIT/config.json" \
  --init "$PKG/base/model.safetensors" "${grow[@]}" --out "$WORK/base-run" --minutes "$BASE_MINUTES" \
  --lr "${BASE_LR:-7e-4}" --eval-every "${BASE_EVAL_EVERY:-250}" --save-every 60 --keep-best \
  --batch-tokens "${BASE_BATCH_TOKENS:-131072}"
rc=$?
tar czf "$OUT/base-run.tgz" -C "$WORK/base-run" --exclude='*.safetensors' --exclude='*.partial' . || true
if [ $rc -ne 0 ] || [ ! -f "$WORK/base-run/model.safetensors" ]; then
  echo "grow_demo_model.sh: the base run failed (exit $rc); no adapters trained" >&2
  exit 1
fi
# the grown base folder, as the Java engine reads it (only config.json and model.safetensors count
# in its fingerprint, which train_sac.py writes into each adapter's sac.json)
cp "$KIT/config.json" "$WORK/base/config.json"
cp "$KIT/config.json" "$OUT/config.json"
cp "$PKG/base/tokenizer.json" "$PKG/base/prompts.json" "$WORK/base/"
cp "$WORK/base-run/model.safetensors" "$WORK/base/model.safetensors"
split -b 15000000 -d "$WORK/base/model.safetensors" "$OUT/base-model.part-"
sha256sum "$WORK/base/model.safetensors" | tee "$OUT/base-model.sha256"

IN="$KIT" OUT="$OUT" BASE="$WORK/base" MINUTES="$SAC_MINUTES" STAGE1_STEPS=0 CONT_SHARE=0.3 LR=1e-3 \
  INIT="$PKG/adapters" GROW_INIT="${GROW:-1}" WIDEN_INIT="${WIDEN_INIT:-0}" BATCH="${SAC_BATCH:-32}" bash scripts/gpu/train_sac_adapters.sh
