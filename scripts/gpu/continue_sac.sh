#!/usr/bin/env bash
# Session 22's GPU step (PHASES=gpu-words-sac in scripts/train-demo-model.sh): the package's sac adapter
# continued on one lent GPU, on the base as it is (so the ablations, which must name the same base, stay
# valid), on the examples of a kit made on the CPU machine (gpu-words's: documents whose names are
# syllables or known words, half and half, with nonce facts). ARMS runs side by side, each from the same
# weights with its own peak learning rate, so one call also says which rate suits the adapter now.
#
# Each arm: stage 2 only (QA on 1-4 composed documents), CONT_SHARE of the examples continuation
# examples, TEXT_SHARE of those plain text (train_sac.py --text-share, as the CPU steps since session 19
# drew them), the rate warmed up over 30 steps to the arm's peak and cosine-decayed to a tenth of it
# over MINUTES.
#
# Input: $KIT/sac-examples.bin.xz, optionally $KIT/dev-examples.bin.xz (scored every minute);
# $PKG/base and $PKG/adapters/sac (sac.json, sac.safetensors; INIT: other weights of that spec to start from).
# Output in $OUT, flat (a lent machine returns at most 8 files, 16 MiB each), per arm NAME:
# NAME.safetensors (the last weights saved: every minute, and at the end), NAME-step<N>.safetensors (one snapshot, SNAPSHOT seconds in) and
# NAME.tgz (sac.json, NAME-log.jsonl: the loss every 50 steps and the held-out score every minute,
# NAME.txt: the run's output). Copied out every 30 s and on SIGTERM, so a run cut short still returns what it
# wrote. At most 2 arms: 3 files each.
set -uo pipefail
KIT=${KIT:-.gpu/words}
OUT=${OUT:?set OUT to the folder that receives the adapters}
PKG=${PKG:-models/sac-demo}
MINUTES=${MINUTES:-7.5}
SNAPSHOT=${SNAPSHOT:-240}
ARMS=${ARMS:-"lr3e-4:3e-4 lr1e-3:1e-3"}   # NAME:PEAK_LR ...
INIT=${INIT:-$PKG/adapters/sac/sac.safetensors}   # the weights every arm starts from (its spec: the package's)
if ! python3 -c 'import torch' 2>/dev/null; then
  echo "continue_sac.sh: this python3 has no PyTorch; run it where PyTorch is (a GPU machine)" >&2
  exit 2
fi
# without a GPU the arms would train for MINUTES on the CPU and be installed as if from the GPU recipe;
# ALLOW_CPU=1 runs them there anyway (a tiny dry run of the path)
if [ "${ALLOW_CPU:-0}" != 1 ] && ! python3 -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)'; then
  echo "continue_sac.sh: PyTorch sees no GPU; run it on a GPU machine (ALLOW_CPU=1 for a dry run on the CPU)" >&2
  exit 2
fi
read -r -a arms <<<"$ARMS"
# three files an arm come back (weights, snapshot, .tgz), and a lent machine returns at most 8
if [ ${#arms[@]} -lt 1 ] || [ ${#arms[@]} -gt 2 ]; then
  echo "continue_sac.sh: ARMS names ${#arms[@]} arms; give 1 or 2 (NAME:PEAK_LR ...): each returns 3 files, a lent" \
       "machine at most 8" >&2
  exit 2
fi
WORK=$(mktemp -d)
DEV_FLAG=()
if [ -f "$KIT/dev-examples.bin.xz" ]; then DEV_FLAG=(--dev-examples "$KIT/dev-examples.bin.xz"); fi
export PYTHONUNBUFFERED=1
# side by side, batches of varying shape: let freed memory be reused (train_sac_adapters.sh says why)
export PYTORCH_CUDA_ALLOC_CONF=${PYTORCH_CUDA_ALLOC_CONF:-expandable_segments:True}
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null || true

names=() pids=()
for arm in "${arms[@]}"; do
  name=${arm%%:*} lr=${arm#*:}
  mkdir -p "$WORK/$name"
  python3 scripts/gpu/train_sac.py --examples "$KIT/sac-examples.bin.xz" --spec "$PKG/adapters/sac/sac.json" \
    --base "$PKG/base" --init "$INIT" --out "$WORK/$name" --name sac \
    --minutes "$MINUTES" --batch "${BATCH:-32}" --lr1 "$lr" --lr2 "$lr" --stage1-steps 0 \
    --continuation-share "${CONT_SHARE:-0.35}" --text-share "${TEXT_SHARE:-0.7}" --snapshot-every "$SNAPSHOT" \
    --log-every 50 --eval-every 60 --seed "${SEED:-11}" "${DEV_FLAG[@]}" > "$WORK/$name/$name.txt" 2>&1 &
  names+=("$name") pids+=($!)
done

copy_out() {   # per arm: its first snapshot, the weights it last saved, and its log, output and sac.json
  for name in "${names[@]}"; do
    local w="$WORK/$name" snap
    snap=$(ls -v "$w"/sac-step*.safetensors 2>/dev/null | head -n 1)   # -v: step 620 before step 1282
    if [ -n "$snap" ]; then
      local dst="$OUT/$name-${snap#"$w"/sac-}"
      # through a temporary file: a copy the call's time limit cuts short never stands as the snapshot
      [ -f "$dst" ] || { cp "$snap" "$dst.tmp" && mv "$dst.tmp" "$dst"; }
    fi
    # train_sac.py saves every minute (through a temporary file); a run cut by the call's time limit
    # then still returns the weights it saved last, at most a minute before the cut (session 22's second
    # call, cut 5 s before its end, returned none: the weights were copied only after a clean exit)
    if [ -f "$w/sac/sac.safetensors" ]; then
      cp "$w/sac/sac.safetensors" "$OUT/$name.safetensors.tmp" && mv "$OUT/$name.safetensors.tmp" "$OUT/$name.safetensors"
    fi
    [ -f "$w/sac-log.jsonl" ] && cp "$w/sac-log.jsonl" "$w/$name-log.jsonl"
    [ -f "$w/sac/sac.json" ] && cp "$w/sac/sac.json" "$w/sac.json"
    tar czf "$OUT/$name.tgz.tmp" -C "$w" --ignore-failed-read "$name-log.jsonl" "$name.txt" sac.json 2>/dev/null \
      && mv "$OUT/$name.tgz.tmp" "$OUT/$name.tgz"
  done
  return 0
}
running() { for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && return 0; done; return 1; }
trap 'kill $! 2>/dev/null; copy_out; kill "${pids[@]}" 2>/dev/null; exit 124' TERM INT   # a call's time limit: what was saved comes back
polls=0
while running; do
  sleep 5 & wait $!   # short, and waited on so that a TERM runs the trap at once, not after the sleep
  polls=$((polls + 1))
  if [ $((polls % 6)) -eq 0 ]; then
    copy_out
    for name in "${names[@]}"; do echo "== $name: $(tail -n 1 "$WORK/$name/$name.txt")"; done
  fi
done
status=0
for i in "${!names[@]}"; do
  name=${names[$i]}
  wait "${pids[$i]}"
  rc=$?
  echo "$name exited with $rc" >> "$WORK/$name/$name.txt"
  [ $rc -eq 0 ] || status=1
done
copy_out   # the last weights (saved at the end of a clean run)
trap - TERM INT   # only now: a TERM while the arms exit or this copy runs still copies what was saved
for name in "${names[@]}"; do echo "==== $name"; tail -n 14 "$WORK/$name/$name.txt"; done
ls -la "$OUT"
rm -rf "$WORK"
exit $status
