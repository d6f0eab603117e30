#!/usr/bin/env bash
# An A/B run (session 16): is the adapters' plateau a capacity limit? Over four GPU sessions the
# committed sac adapter's held-out 4x answer loss stayed at 1.70-1.75 (exact ~20 %) however long
# it trained (22 M to 150 M tokens per run), while the base reads the same questions at 75 %
# with the full context. The paper's LoRA is q/v at rank 128 on a 2048-wide model (1/16 of the
# width, as our rank 16 of 256); a 6 M-parameter base may need the compressor to change more than
# its attention's queries and values.
#
# Arms, side by side, identical but for the adapter's LoRA (each a sac.json beside the committed
# one, started from the committed weights with train_sac.py --widen-init, so every arm starts at the
# same held-out score): ARMS="name:targets:rank ..." (default qv16, the committed shape, against
# all64, LoRA on all seven projections at rank 64; alpha / rank kept at the committed adapter's).
#
# Input in $KIT: the adapters' kit (sac-examples.bin.xz, dev-examples.bin.xz; .gpu/nonce has one).
# Output in $OUT: each arm's console output (NAME.txt), log (NAME-log.jsonl), spec (NAME.json) and,
# with KEEP=1, its weights (NAME.safetensors). Runs on a GPU or, slower, on the CPU (one torch thread
# per arm there).
set -uo pipefail
KIT=${KIT:-.gpu/nonce}
OUT=${OUT:?set OUT to the folder that receives the logs}
MINUTES=${MINUTES:-2}
PKG=${PKG:-models/sac-demo}
ARMS=${ARMS:-"qv16:q_proj,v_proj:16 all64:q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj:64"}
export PYTHONUNBUFFERED=1
python3 -c 'import torch' 2>/dev/null || { echo "capacity_ab.sh: this python3 has no PyTorch" >&2; exit 2; }
if ! python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)'; then
  export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}   # the CPU: one thread per arm, the arms side by side
fi
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null || true
mkdir -p "$OUT"
names=()
for arm in $ARMS; do   # every arm's spec first, so a bad ARMS starts no run
  IFS=: read -r name targets rank <<< "$arm"
  python3 scripts/gpu/widen_spec.py "$PKG/adapters/sac/sac.json" "$targets" "$rank" > "$OUT/$name.json.partial" \
    || { echo "capacity_ab.sh: arm '$arm' is not name:targets:rank" >&2; exit 2; }
  mv "$OUT/$name.json.partial" "$OUT/$name.json"
  names+=("$name")
done
WORK=$(mktemp -d)
pids=()
# background arms start with SIGINT ignored: Ctrl-C (or a TERM) stops them too, not only this script
trap 'kill "${pids[@]}" 2>/dev/null; exit 130' INT TERM
for name in "${names[@]}"; do
  python3 scripts/gpu/train_sac.py --examples "$KIT/sac-examples.bin.xz" --dev-examples "$KIT/dev-examples.bin.xz" \
    --spec "$OUT/$name.json" --base "$PKG/base" --init "$PKG/adapters/sac/sac.safetensors" --widen-init \
    --out "$WORK" --name "$name" --minutes "$MINUTES" --batch "${BATCH:-32}" --lr1 "${LR:-1e-3}" --lr2 "${LR:-1e-3}" \
    --stage1-steps 0 --continuation-share 0.3 --log-every "${LOG_EVERY:-100}" --eval-every "${EVAL_EVERY:-60}" \
    --dev-questions "${DEV_QUESTIONS:-400}" --seed 1 > "$OUT/$name.txt" 2>&1 &
  pids+=($!)
done
status=0
for p in "${pids[@]}"; do wait "$p" || status=1; done
for name in "${names[@]}"; do
  cp "$WORK/$name-log.jsonl" "$OUT/" 2>/dev/null
  if [ "${KEEP:-0}" = 1 ]; then cp "$WORK/$name/sac.safetensors" "$OUT/$name.safetensors" 2>/dev/null; fi
  echo "== $name"; grep "held-out" "$OUT/$name.txt" | tail -n 3
done
rm -rf "$WORK"
exit $status
