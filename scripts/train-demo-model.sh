#!/usr/bin/env bash
# Rebuilds models/sac-demo from a fresh clone with the project's own code, on CPU.
# Every step resumes from its checkpoint when the script is run again after an interruption.
# Times are budgets on a 2-core machine; see models/sac-demo/MODEL_CARD.md for what they gave.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-models/sac-demo}
resume() { if [ -e "$1" ]; then echo --resume; fi; }

./sac data build --short-train 30000

# Base model, phase 1 (35 min): short documents (200-700 characters), all questions of a
# context packed after it; half of the batches plain text and induction drills (a window repeated).
./sac train base --out "$OUT/phase1" --layers 4 --hidden 256 --heads 8 --kv-heads 4 --intermediate 704 \
  --lr 1e-3 --warmup 100 --batch-tokens 4096 --steps 3000 --time-budget 35m --seed 1 \
  --train-file synthetic-train-short.jsonl --train-contexts 30000 --qa-packing packed --qa-share 0.5 \
  --repeats 100000 --answer-prompt '\n### Answer:' --eval-every 250 --eval-file synthetic-dev-short.jsonl \
  $(resume "$OUT/phase1/train/checkpoint")

# Phase 2 (25 min): full-length documents (100-1000 tokens), same tokenizer, from phase 1's weights.
mkdir -p "$OUT/train"
cp "$OUT/phase1/train/tokenizer.json" "$OUT/train/tokenizer.json"
./sac train base --out "$OUT" --init-from "$OUT/phase1/base/model.safetensors" \
  --layers 4 --hidden 256 --heads 8 --kv-heads 4 --intermediate 704 \
  --lr 1e-3 --warmup 50 --batch-tokens 4096 --steps 1500 --time-budget 25m --seed 2 \
  --train-file synthetic-train.jsonl --train-contexts 20000 --qa-packing packed --qa-share 0.5 \
  --repeats 100000 --answer-prompt '\n### Answer:' --eval-every 250 --eval-file synthetic-dev.jsonl \
  $(resume "$OUT/train/checkpoint")
