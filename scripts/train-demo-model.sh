#!/usr/bin/env bash
# Rebuilds models/sac-demo from a fresh clone with the project's own code, on CPU.
# Every step resumes from its checkpoint when the script is run again after an interruption.
# Times are budgets on a 2-core machine; see models/sac-demo/MODEL_CARD.md for what they gave.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-models/sac-demo}
resume() { if [ -e "$1" ]; then echo --resume; fi; }

./sac data build --short-train 30000

# Base model, phase 1 (25 min): short documents (200-700 characters), all questions of a
# context packed after it, plain text and induction drills (a window repeated) in 40% of batches.
./sac train base --out "$OUT/phase1" --layers 4 --hidden 256 --heads 8 --kv-heads 4 --intermediate 704 \
  --lr 3e-3 --warmup 200 --batch-tokens 1024 --steps 7000 --time-budget 25m --seed 1 \
  --train-file synthetic-train-short.jsonl --train-contexts 30000 --qa-packing packed --qa-share 0.6 \
  --repeats 20000 --answer-prompt '\n### Answer:' --eval-every 250 --eval-file synthetic-dev-short.jsonl \
  $(resume "$OUT/phase1/train/checkpoint")

# Phase 2 (35 min): full-length documents (100-1000 tokens), same tokenizer, from phase 1's weights.
mkdir -p "$OUT/train"
cp "$OUT/phase1/train/tokenizer.json" "$OUT/train/tokenizer.json"
./sac train base --out "$OUT" --init-from "$OUT/phase1/base/model.safetensors" \
  --layers 4 --hidden 256 --heads 8 --kv-heads 4 --intermediate 704 \
  --lr 1.5e-3 --warmup 100 --batch-tokens 2048 --steps 4000 --time-budget 35m --seed 2 \
  --train-file synthetic-train.jsonl --train-contexts 20000 --qa-packing packed --qa-share 0.6 \
  --repeats 20000 --answer-prompt '\n### Answer:' --eval-every 250 --eval-file synthetic-dev.jsonl \
  $(resume "$OUT/train/checkpoint")
