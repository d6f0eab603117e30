#!/usr/bin/env bash
# Rebuilds models/sac-demo from a fresh clone with the project's own code. Everything runs on
# the CPU except steps "gpu" (12 minutes of training on an H100 lent to one session), which continues the
# CPU-trained base with PyTorch on the same Java-built samples (scripts/gpu/pretrain_base.py),
# "gpu-sac" (11 minutes of an H100 lent to another), which trains the SAC adapters the same way
# (scripts/gpu/train_sac.py on examples the Java code tokenised), "gpu-tune" (7.5 minutes of
# an H100 lent to a third), which continues the adapters after the CPU step "cpu-tune", and
# "gpu-grow" (one 9-minute call on an H100 lent to a fourth), which grows the base to 8 layers and
# retrains the adapters on it, and "gpu-nonce" (one 9-minute call on an H100 lent to a fifth), which
# continues the base on data with nonce facts and the adapters on it, and "gpu-wide" (the same session's
# last 1.1 minutes), which widens the sac adapter's LoRA to all seven projections at rank 64; "cpu-wide"
# (session 17, no GPU) continues that adapter 90 minutes on the CPU; "cpu-more" (session 18, not a default step)
# 75 more, which did not move it (not installed); "cpu-ppl" (session 19, no GPU) 60 minutes more with half of
# its examples continuation on a corpus drawn half from plain text, for the perplexity target; "cpu-ppl2"
# (session 19) 35 more with 70 % of those plain text, and "cpu-ppl3" (session 20) 48 more the same way with
# the rate decaying; "gpu-words-sac" (session 22, two calls on a lent H100) 7 minutes more on documents whose
# names are syllables or known words: the adapter the package holds. "cpu-names" (session 21, not a default
# step) trains the names-as-anchors experiment from cpu-ppl3's adapter and evaluates it; its weights are not
# installed; "cpu-words" (session 23, not a default step) 60 CPU minutes more of gpu-words-sac's recipe, which
# did not move the adapter (not installed).
# Every CPU step resumes from its checkpoint when the script is run again after an interruption.
# Times are budgets on a 2-core machine; see models/sac-demo/MODEL_CARD.md for what they gave.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-models/sac-demo}
SAC=${SAC:-./sac}
# Which steps to run (all by default); e.g. PHASES="sac ablations eval" after the base is done.
PHASES=${PHASES:-"data 0 1 2 3 gpu gpu-sac cpu-tune gpu-tune gpu-grow gpu-nonce gpu-wide cpu-wide cpu-ppl cpu-ppl2 cpu-ppl3 gpu-words-sac eval"}   # "sac ablations": the CPU adapter recipe instead of gpu-sac
# resume CHECKPOINT_DIR (or its state.json): --resume when a checkpoint is there, also one a save
# cut short left beside it (CHECKPOINT.partial or CHECKPOINT.previous, which the trainer recovers)
resume() {
  local dir="${1%/state.json}"
  if [ -e "$dir/state.json" ] || [ -e "$dir.partial/state.json" ] || [ -e "$dir.previous/state.json" ]; then
    echo --resume
  fi
}
want() { [[ " $PHASES " == *" $1 "* ]]; }
# keep_before DIR: a copy of the package's base and adapters, made once, that a GPU step starts from
# (so a rerun of the step starts from the same weights, not from what it installed)
keep_before() {
  [ -d "$1" ] && return 0
  mkdir -p "$1.partial/base"
  cp "$OUT/base/config.json" "$OUT/base/model.safetensors" "$OUT/base/tokenizer.json" "$OUT/base/prompts.json" "$1.partial/base/"
  for v in sac sac-causal sac-no-anchor-emb; do
    mkdir -p "$1.partial/adapters/$v" && cp "$OUT/adapters/$v/sac.json" "$OUT/adapters/$v/sac.safetensors" "$1.partial/adapters/$v/"
  done
  mv "$1.partial" "$1"
}
# export_samples WORKDIR DATA FILE CONTEXTS OUTFILE EXTRA...: the base's training samples, built by the
# Java code that trains on the CPU and written flat for scripts/gpu/pretrain_base.py (tokenised with
# WORKDIR/train/tokenizer.json)
export_samples() {
  sac train base --out "$1" --data "$2" --train-file "$3" --train-contexts "$4" --qa-packing packed \
    --answer-prompt '\n### Answer:' --eval-file synthetic-dev.jsonl --eval-questions 400 --export-samples "$5" "${@:6}"
}
# cut_samples WORKDIR DATA CONTEXTS QA_TOKENS OUTFILE: DATA's full-length training samples (with drills)
# cut to their first QA_TOKENS QA tokens, text and held-out samples all kept, as OUTFILE.xz: what
# fits beside the repository in what a lent machine receives (made once: delete OUTFILE.xz to redo)
cut_samples() {
  [ -f "$5.xz" ] && return 0
  mkdir -p "$1/train" && cp "$OUT/base/tokenizer.json" "$1/train/tokenizer.json"
  export_samples "$1" "$2" synthetic-train.jsonl "$3" "$1/samples.bin" --repeats 100000
  python3 scripts/gpu/subset_samples.py "$1/samples.bin" "$5" --qa-tokens "$4"
  xz -T0 -f "$5"
}
sac() { "$SAC" "$@"; }
# sac_parity EXAMPLES: rewrites the fixture SacPyTorchParityTest holds the Java training graph to, the loss
# scripts/gpu/train_sac.py computes for the package's adapters/sac on a few of EXAMPLES (an adapter kit's
# sac-examples.bin.xz); every step that changes adapters/sac runs it. PyTorch on the CPU will do (Debian's
# python3-torch).
sac_parity() {
  python3 -c 'import torch' 2>/dev/null || { echo "train-demo-model.sh: the parity fixture needs python3 with" \
    "PyTorch (Debian's python3-torch will do); SacPyTorchParityTest fails until it is rewritten" >&2; exit 1; }
  python3 scripts/gpu/train_sac.py --examples "$1" --spec "$OUT/adapters/sac/sac.json" --base "$OUT/base" \
    --init "$OUT/adapters/sac/sac.safetensors" --parity "$OUT/parity/sac-pytorch-parity.json"
}
# adapter_kit KIT MODEL DATA WORKDIR [CONTEXTS]: the adapters' examples for scripts/gpu/train_sac.py,
# tokenised by the Java code: CONTEXTS training contexts of DATA (default 25,000, 14 MB compressed;
# 40,000 would not fit beside the base's samples), the sac adapter's sac.json and the two ablations'
# (their examples are the same), and DATA's dev split as dev-examples.bin.xz (made once: delete
# KIT/sac-examples.bin.xz to redo)
adapter_kit() {
  [ -f "$1/sac-examples.bin.xz" ] && return 0
  sac train sac --model "$2" --data "$3" --train-contexts "${5:-25000}" --variant sac --ratio 4,8,16 \
    --export-examples "$1/sac-examples.bin"
  mv "$1/sac-examples.bin.sac.json" "$1/sac.json"
  for v in sac-causal sac-no-anchor-emb; do
    sac train sac --model "$2" --data "$3" --train-contexts 10 --variant "$v" --ratio 8 --export-examples "$1/$v.bin"
    mv "$1/$v.bin.sac.json" "$1/$v.json" && rm -f "$1/$v.bin"
  done
  mkdir -p "$4/dev-data"
  ln -sf "$PWD/$3/synthetic-dev.jsonl" "$4/dev-data/synthetic-train.jsonl"
  ln -sf "$PWD/$3/text-dev.jsonl" "$4/dev-data/text-train.jsonl"
  sac train sac --model "$2" --data "$4/dev-data" --export-examples "$1/dev-examples.bin"
  rm -f "$1/dev-examples.bin.sac.json"
  xz -T0 -f "$1/sac-examples.bin" "$1/dev-examples.bin"
}

if want data; then
# data/: every fact of a training context asked (what the SAC adapter trains on);
# data-q4/: 4 questions a training context, the data the base phases below were run on;
# data-gpu/, data-x/: 40,000 full-length + 30,000 short training contexts for the GPU step,
# data-x/ also with the extra training-only phrasings (its synthetic-train.jsonl is what the
# SAC adapters train on). Dev and test are the same files in every folder.
./sac data build --short-train 30000
./sac data build --short-train 30000 --train-questions 4 --out data-q4
./sac data build --train 40000 --short-train 30000 --out data-gpu
./sac data build --train 40000 --short-train 30000 --extra-train-phrasings --out data-x
fi

if want 0; then
# Base model, phase 0 (12 min): induction drills alone (a window of text, then the same window
# again). Mixed with QA from the start, the copy circuit reading needs did not form within
# 1,000 steps; alone it forms here (second copy 2.0 nats/token against 4.5 for the first).
# Run as it was: 600 steps, then resumed with the schedule stretched to 1,500.
sac train base --out "$OUT/phase0" --layers 4 --hidden 256 --heads 8 --kv-heads 4 --intermediate 704 \
  --lr 1e-3 --warmup 100 --batch-tokens 4096 --steps 600 --time-budget 10m --seed 1 \
  --data data-q4 --train-file synthetic-train-short.jsonl --train-contexts 30000 --qa-packing packed --qa-share 0 --no-plain-text \
  --repeats 100000 --answer-prompt '\n### Answer:' --eval-every 200 --eval-file synthetic-dev-short.jsonl \
  $(resume "$OUT/phase0/train/checkpoint")
sac train base --out "$OUT/phase0" --layers 4 --hidden 256 --heads 8 --kv-heads 4 --intermediate 704 \
  --lr 1e-3 --warmup 100 --batch-tokens 4096 --steps 1500 --time-budget 15m --seed 1 --resume \
  --data data-q4 --train-file synthetic-train-short.jsonl --train-contexts 30000 --qa-packing packed --qa-share 0 --no-plain-text \
  --repeats 100000 --answer-prompt '\n### Answer:' --eval-every 500 --eval-file synthetic-dev-short.jsonl

fi

if want 1; then
# Phase 1 (30 min): short documents (200-700 characters), all questions of a context packed
# after it; 40 % of the batches plain text and induction drills.
mkdir -p "$OUT/phase1/train"
cp "$OUT/phase0/train/tokenizer.json" "$OUT/phase1/train/tokenizer.json"
sac train base --out "$OUT/phase1" --init-from "$OUT/phase0/base/model.safetensors" \
  --layers 4 --hidden 256 --heads 8 --kv-heads 4 --intermediate 704 \
  --lr 1e-3 --warmup 50 --batch-tokens 4096 --steps 2500 --time-budget 30m --seed 2 \
  --data data-q4 --train-file synthetic-train-short.jsonl --train-contexts 30000 --qa-packing packed --qa-share 0.6 \
  --repeats 100000 --answer-prompt '\n### Answer:' --eval-every 200 --eval-file synthetic-dev-short.jsonl \
  $(resume "$OUT/phase1/train/checkpoint")

fi

if want 2; then
# Phase 2 (25 min): full-length documents (100-1000 tokens), same tokenizer, from phase 1's weights.
mkdir -p "$OUT/train"
cp "$OUT/phase1/train/tokenizer.json" "$OUT/train/tokenizer.json"
sac train base --out "$OUT" --init-from "$OUT/phase1/base/model.safetensors" \
  --layers 4 --hidden 256 --heads 8 --kv-heads 4 --intermediate 704 \
  --lr 1e-3 --warmup 50 --batch-tokens 4096 --steps 1500 --time-budget 25m --seed 2 \
  --data data-q4 --train-file synthetic-train.jsonl --train-contexts 20000 --qa-packing packed --qa-share 0.5 \
  --repeats 100000 --answer-prompt '\n### Answer:' --eval-every 250 --eval-file synthetic-dev.jsonl \
  $(resume "$OUT/train/checkpoint")
fi

if want 3; then
# Phase 3 (30 min): phase 2 resumed with its schedule stretched from 1,500 to 3,500 steps
# (cut by the time budget); held-out exact answers were still rising at step 1,500.
sac train base --out "$OUT" --layers 4 --hidden 256 --heads 8 --kv-heads 4 --intermediate 704 \
  --lr 1e-3 --warmup 50 --batch-tokens 4096 --steps 3500 --time-budget 53m --seed 2 --resume \
  --data data-q4 --train-file synthetic-train.jsonl --train-contexts 20000 --qa-packing packed --qa-share 0.5 \
  --repeats 100000 --answer-prompt '\n### Answer:' --eval-every 500 --eval-file synthetic-dev.jsonl
fi

# GPU continuation of the base (needs python3 with PyTorch; on a CPU it runs, slowly; ~15 minutes
# of an H100 with loading, scoring and the reference logits): the Java
# code builds the samples (--export-samples), the script trains on them and writes Hugging Face
# safetensors plus transformers' reference logits (models/sac-demo/parity, HfReferenceParityTest).
# Run 1: 7.5 min on data-gpu from the CPU base (held-out exact 23 % -> 58 %, plateau from ~3,000
# steps: more epochs over the same phrasings stopped helping); run 2: 4.5 min on data-x.
if want gpu; then
mkdir -p "$OUT/gpu" "$OUT/train"
# the samples must be tokenised with the base's own tokenizer; start from a copy of the CPU base
[ -f "$OUT/train/tokenizer.json" ] || cp "$OUT/base/tokenizer.json" "$OUT/train/tokenizer.json"
[ -f "$OUT/gpu/cpu-base.safetensors" ] || cp "$OUT/base/model.safetensors" "$OUT/gpu/cpu-base.safetensors"
for d in data-gpu data-x; do
  export_samples "$OUT" "$d" synthetic-train.jsonl 40000 "$OUT/gpu/$d-full.bin" --repeats 100000
  export_samples "$OUT" "$d" synthetic-train-short.jsonl 30000 "$OUT/gpu/$d-short.bin" --repeats 0 --no-plain-text
done
python3 scripts/gpu/pretrain_base.py --samples "$OUT/gpu/data-gpu-full.bin" "$OUT/gpu/data-gpu-short.bin" \
  --config "$OUT/base/config.json" --init "$OUT/gpu/cpu-base.safetensors" --out "$OUT/gpu/run1" --minutes 7.5 --lr 1e-3 --eval-every 250
python3 scripts/gpu/pretrain_base.py --samples "$OUT/gpu/data-x-full.bin" "$OUT/gpu/data-x-short.bin" \
  --config "$OUT/base/config.json" --init "$OUT/gpu/run1/model.safetensors" --out "$OUT/gpu/run2" --minutes 4.5 --lr 7e-4 \
  --eval-every 250 --save-every 60
cp "$OUT/gpu/run2/model.safetensors" "$OUT/base/model.safetensors"
mkdir -p "$OUT/parity"
cp "$OUT/gpu/run2/parity-logits.bin" "$OUT/parity/hf-logits.bin"
cp "$OUT/gpu/run2/parity.json" "$OUT/parity/hf-parity.json"
fi

if want gpu-sac; then
# The adapters' first training (needs python3 with PyTorch and a GPU; on a CPU it runs, slowly): the
# Java code tokenises the training data (--export-examples: the same examples `train sac` draws
# from, with each adapter's sac.json) and scripts/gpu/train_sac.py trains the multi-ratio adapter
# and both 8x ablations side by side on one GPU: 6 minutes, then resumed with the budget raised
# to 11 (how one lent H100's 15 minutes were split over two calls). The CPU recipe is the `sac`
# and `ablations` steps below (PHASES="sac ablations eval").
IN="$OUT/gpu/sac-in"
mkdir -p "$IN" "$OUT/gpu/sac-run"
for v in sac sac-causal sac-no-anchor-emb; do
  ratios=$([ "$v" = sac ] && echo 4,8,16 || echo 8)
  sac train sac --model "$OUT" --data data-x --train-contexts 40000 --variant "$v" --ratio "$ratios" \
    --export-examples "$IN/examples-$v.bin"
  mv "$IN/examples-$v.bin.sac.json" "$IN/$v.json"
done
mv "$IN/examples-sac.bin" "$IN/sac-examples.bin" && rm -f "$IN"/examples-*.bin   # the same file for every variant
# the dev split in the same format, scored while training (a data folder whose "train" file is dev)
mkdir -p "$OUT/gpu/dev-data"
ln -sf "$PWD/data-x/synthetic-dev.jsonl" "$OUT/gpu/dev-data/synthetic-train.jsonl"
ln -sf "$PWD/data-x/text-dev.jsonl" "$OUT/gpu/dev-data/text-train.jsonl"
sac train sac --model "$OUT" --data "$OUT/gpu/dev-data" --export-examples "$IN/dev-examples.bin"
rm -f "$IN/dev-examples.bin.sac.json"
xz -T0 -f "$IN/sac-examples.bin" "$IN/dev-examples.bin"
# (OUT last: each assignment before a command sees the ones before it)
IN="$IN" BASE="$OUT/base" MINUTES=6 OUT="$OUT/gpu/sac-run" bash scripts/gpu/train_sac_adapters.sh
rm -rf "$OUT/gpu/sac-run/resume" && mkdir -p "$OUT/gpu/sac-run/resume"
tar xzf "$OUT/gpu/sac-run/adapters.tgz" -C "$OUT/gpu/sac-run/resume"
IN="$IN" BASE="$OUT/base" MINUTES=11 RESUME="$OUT/gpu/sac-run/resume" \
  OUT="$OUT/gpu/sac-run" bash scripts/gpu/train_sac_adapters.sh
mkdir -p "$OUT/gpu/sac-run/final" && tar xzf "$OUT/gpu/sac-run/adapters.tgz" -C "$OUT/gpu/sac-run/final"
for v in sac sac-causal sac-no-anchor-emb; do
  mkdir -p "$OUT/adapters/$v"
  cp "$OUT/gpu/sac-run/final/$v/sac.json" "$OUT/gpu/sac-run/final/$v/sac.safetensors" "$OUT/adapters/$v/"
  cp "$OUT/gpu/sac-run/final/$v-log.jsonl" "$OUT/adapters/$v/gpu-log.jsonl"
  # an older CPU run's (and what a save cut short left beside it): cpu-tune would resume it instead of --init
  rm -rf "$OUT/adapters/$v/checkpoint" "$OUT/adapters/$v/checkpoint.partial" "$OUT/adapters/$v/checkpoint.previous"
done
# the fixture SacPyTorchParityTest holds the Java graph to (the script's loss for adapters/sac; the
# cpu-tune step below changes the adapter, and the later GPU steps rewrite the fixture for theirs)
sac_parity "$IN/sac-examples.bin.xz"
fi

if want cpu-tune; then
# Session 12, on the CPU: the GPU adapters had forgotten continuation (QA-only stage 2: the
# compressed passage gave a worse continuation perplexity than no passage at all), so each goes
# on from its GPU weights (--init) for 1,100 steps of 8 examples from data/ (the first 20,000
# contexts; the GPU runs used data-x, which adds training-only phrasings), half of them stage-1
# continuation examples (--continuation-share 0.5), at a constant 3e-4 after 30 warm-up steps.
# All three ran at once, one torch thread each (SAC_THREADS=1) on the 2 cores; the sac run was
# interrupted once at step 549 and resumed (--resume), as a rerun of this step does.
pids=()
for v in sac sac-causal sac-no-anchor-emb; do
  ratios=$([ "$v" = sac ] && echo 4,8,16 || echo 8)
  SAC_THREADS=1 sac train sac --model "$OUT" --data data --train-contexts 20000 --variant "$v" --ratio "$ratios" \
    --init "$OUT/gpu/sac-run/final/$v" --stage1-steps 0 --stage2-steps 1100 --continuation-share 0.5 --lr2 3e-4 \
    --batch 8 --time-budget 120m --seed 1 $(resume "$OUT/adapters/$v/checkpoint/state.json") &
  pids+=($!)
done
rc=0
for p in "${pids[@]}"; do wait "$p" || rc=1; done   # every run ends before a failed one fails the step
[ "$rc" = 0 ] || { echo "train-demo-model.sh: a cpu-tune run failed (see its output above)" >&2; exit 1; }
fi

if want gpu-tune; then
# Session 13, the committed adapters: each goes on from its cpu-tune weights (INIT, a copy kept in
# gpu/cpu-tune-final so that a rerun of this step starts from them again, not from its own output)
# on a lent H100, stage 2 only (STAGE1_STEPS=0) with 30 % of the examples continuation ones
# (CONT_SHARE=0.3), lr 1e-3 (30 warm-up steps, cosine to 10 % over the time), 7.5 minutes, the three
# side by side. As it was run (before train_sac_adapters.sh set expandable_segments),
# sac-no-anchor-emb ran out of GPU memory in its first minute (three processes with the longer mixed
# batches in 80 GB), so it was rerun alone for the 3.8 minutes the GPU had left: 1,156 steps against
# 1,519 for sac and 1,615 for sac-causal, less training than the others. A run that fails here is
# rerun the same way; with expandable segments all three may now fit and train 7.5 minutes each.
IN="$OUT/gpu/sac-in"
[ -f "$IN/sac-examples.bin.xz" ] || { echo "train-demo-model.sh: gpu-tune needs the gpu-sac step's kit in $IN" >&2; exit 1; }
python3 -c 'import torch' 2>/dev/null || { echo "train-demo-model.sh: gpu-tune needs python3 with PyTorch (a GPU machine)" >&2; exit 1; }
if [ ! -d "$OUT/gpu/cpu-tune-final" ]; then
  mkdir -p "$OUT/gpu/cpu-tune-final"
  for v in sac sac-causal sac-no-anchor-emb; do
    mkdir -p "$OUT/gpu/cpu-tune-final/$v" && cp "$OUT/adapters/$v/sac.json" "$OUT/adapters/$v/sac.safetensors" "$OUT/gpu/cpu-tune-final/$v/"
  done
fi
RUN="$OUT/gpu/sac-run3"
rm -rf "$RUN" && mkdir -p "$RUN/final"
# a failed run is rerun below, so this step goes on whatever the script's exit status
IN="$IN" BASE="$OUT/base" MINUTES=7.5 STAGE1_STEPS=0 CONT_SHARE=0.3 LR=1e-3 \
  INIT="$OUT/gpu/cpu-tune-final" OUT="$RUN" bash scripts/gpu/train_sac_adapters.sh || true
tar xzf "$RUN/adapters.tgz" -C "$RUN/final"
for v in sac sac-causal sac-no-anchor-emb; do
  if ! grep -qx "$v exited with 0" "$RUN/final/$v.txt"; then   # the run that failed, alone, on a fresh log
    rm -rf "$RUN/final/$v" "$RUN/final/$v-log.jsonl" "$RUN/final/$v-checkpoint.pt"
    python3 scripts/gpu/train_sac.py --examples "$IN/sac-examples.bin.xz" --spec "$IN/$v.json" --base "$OUT/base" \
      --out "$RUN/final" --name "$v" --minutes 3.8 --batch 64 --lr1 1e-3 --lr2 1e-3 --log-every 100 \
      --stage1-steps 0 --continuation-share 0.3 --init "$OUT/gpu/cpu-tune-final/$v/sac.safetensors" \
      --dev-examples "$IN/dev-examples.bin.xz"
  fi
done
for v in sac sac-causal sac-no-anchor-emb; do
  cp "$RUN/final/$v/sac.json" "$RUN/final/$v/sac.safetensors" "$OUT/adapters/$v/"
  cp "$RUN/final/$v-log.jsonl" "$OUT/adapters/$v/gpu-tune-log.jsonl"
done
fi

if want gpu-grow; then
# Session 15, the committed base and adapters: one call on a lent H100 (scripts/gpu/grow_demo_model.sh).
# The base grows from 4 to 8 layers (each layer followed by a copy of itself whose output projections
# are zero: training starts from the 4-layer model's exact outputs) and trains 4.2 minutes on samples
# of training contexts no earlier step used (data-y: data seed 8; its training file draws from the
# same random stream as the seed-7 folders' short file, so 620 of its 1.36 M facts repeat one of
# those, a collision noticed after the run); the adapters then go on from their committed weights,
# grown the same way, 3.5 minutes side by side (32 examples a step each: three 4-layer runs at 64
# had already run out of GPU memory in session 13). The kit made here travels in .gpu (git-ignored;
# what a lent machine receives is capped at 64 MiB with the repository); each file is made only
# when missing, so delete .gpu to rebuild it (the committed run's dev-examples.bin.xz was the
# gpu-sac step's, made by the same command). The 4-layer base and adapters are kept in
# gpu/grow/before, so a rerun grows them again instead of the installed 8-layer ones.
KIT=.gpu
G="$OUT/gpu/grow"
mkdir -p "$KIT" "$G"
if [ ! -d "$G/before" ]; then
  grep -q '"num_hidden_layers": 4' "$OUT/base/config.json" \
    || { echo "train-demo-model.sh: gpu-grow grows a 4-layer base; $OUT/base is not one and $G/before is missing" >&2; exit 1; }
fi
keep_before "$G/before"
[ -d data-y ] || ./sac data build --seed 8 --train 80000 --short-train 30000 --extra-train-phrasings --out data-y
cp data-x/synthetic-dev.jsonl data-y/synthetic-dev.jsonl   # scored on the dev questions every other step used
# 80,000 contexts give 150 M tokens, 79 MB compressed: the QA samples are cut to the first 100 M
# tokens (86,872 of 118,306 packed samples, about 59,000 of the contexts; the others appear only in
# the induction drills), 29 MB compressed; text and held-out samples are all kept
cut_samples "$G" data-y 80000 100000000 "$KIT/samples-y-full.bin"
sed 's/"num_hidden_layers": 4/"num_hidden_layers": 8/' "$G/before/base/config.json" > "$KIT/config.json"
# the adapters' examples (the gpu-sac step's, from data-x) and the dev split, tokenised the same way
adapter_kit "$KIT" "$OUT" data-x "$OUT/gpu"
python3 -c 'import torch' 2>/dev/null || { echo "train-demo-model.sh: gpu-grow needs python3 with PyTorch (a GPU machine); its kit is ready in $KIT" >&2; exit 1; }
R="$G/result"
rm -rf "$R" && mkdir -p "$R"
# (OUT last: each assignment before a command sees the ones before it)
KIT="$KIT" PKG="$G/before" OUT="$R" bash scripts/gpu/grow_demo_model.sh
bash scripts/gpu/install_grown.sh "$R" "$OUT" "$KIT"
fi

if want nonce-ab; then
# Session 15, an experiment (not in the default steps, nothing installed): the committed base
# continued 2.5 minutes side by side on samples with and without facts about invented relations
# (scripts/gpu/nonce_ab.sh; MODEL_CARD.md, "Nonce facts"). The kit travels in .gpu/ab.
mkdir -p .gpu/ab
for arm in nonce plain; do
  d=$([ "$arm" = nonce ] && echo data-z || echo data-w)
  flag=$([ "$arm" = nonce ] && echo --nonce-facts || true)
  [ -d "$d" ] || ./sac data build --seed 100 --train 30000 --short-train 0 --extra-train-phrasings $flag --out "$d"
  cp data-x/synthetic-dev.jsonl "$d/synthetic-dev.jsonl"   # the dev questions every other step scored
  cut_samples "$OUT/gpu/ab-$arm" "$d" 30000 40000000 ".gpu/ab/samples-$arm.bin"   # both arms: the same 40 M QA tokens
done
python3 -c 'import torch' 2>/dev/null || { echo "train-demo-model.sh: nonce-ab needs python3 with PyTorch (a GPU machine); its kit is ready in .gpu/ab" >&2; exit 1; }
mkdir -p "$OUT/gpu/ab-result"
KIT=.gpu/ab PKG="$OUT" OUT="$OUT/gpu/ab-result" bash scripts/gpu/nonce_ab.sh
fi

if want gpu-nonce; then
# Prepared in session 15, run in session 16 (one 529 s call on a lent H100; the committed package):
# the base continued on training contexts with nonce facts (the nonce-ab experiment: held-out answer loss
# 0.48 -> 0.36 in 2.4 minutes), keeping its best held-out score, then the three adapters from their
# weights on it, in one call (grow_demo_model.sh with GROW=0: 4.2 + 3.5 minutes). The kit travels in
# .gpu/nonce (with the repository, under the 64 MiB a lent machine receives); the base and adapters
# it started from are kept in gpu/nonce/before, so a rerun starts from them again. Split over two
# machines (the kit and the install here, the call on a lent GPU that receives the repository and
# .gpu/nonce): there `GROW=0 KIT=.gpu/nonce OUT=<returned folder> bash scripts/gpu/grow_demo_model.sh`
# (PKG defaults to models/sac-demo, the weights to start from), then here
# `bash scripts/gpu/install_grown.sh <its files> models/sac-demo .gpu/nonce gpu-nonce-log.jsonl`.
# 80,000 contexts are exported and cut to 50 M QA tokens (about 22,000 contexts: nonce facts make
# each context's questions longer); exporting 30,000 would do.
KIT=.gpu/nonce
G="$OUT/gpu/nonce"
mkdir -p "$KIT" "$G"
keep_before "$G/before"
[ -d data-n ] || ./sac data build --seed 101 --train 80000 --short-train 0 --extra-train-phrasings --nonce-facts --out data-n
cp data-x/synthetic-dev.jsonl data-n/synthetic-dev.jsonl   # the dev questions every other step scored
# 50 M QA tokens: what fits beside the repository (32 MB since session 15) and the adapters' kit (14 MB)
cut_samples "$G" data-n 80000 50000000 "$KIT/samples-n-full.bin"
cp "$G/before/base/config.json" "$KIT/config.json"
for f in sac-examples.bin.xz dev-examples.bin.xz sac.json sac-causal.json sac-no-anchor-emb.json; do
  [ -f "$KIT/$f" ] || cp ".gpu/$f" "$KIT/$f" \
    || { echo "train-demo-model.sh: gpu-nonce takes the adapters' kit from the gpu-grow step's .gpu (run PHASES=gpu-grow's kit part first)" >&2; exit 1; }
done
python3 -c 'import torch' 2>/dev/null || { echo "train-demo-model.sh: gpu-nonce needs python3 with PyTorch (a GPU machine); its kit is ready in $KIT" >&2; exit 1; }
R="$G/result"
rm -rf "$R" && mkdir -p "$R"
# (OUT last: each assignment before a command sees the ones before it)
GROW=0 KIT="$KIT" PKG="$G/before" OUT="$R" bash scripts/gpu/grow_demo_model.sh
bash scripts/gpu/install_grown.sh "$R" "$OUT" "$KIT" gpu-nonce-log.jsonl
fi

if want gpu-wide; then
# Session 16, the committed sac adapter. The capacity A/B (capacity-ab: scripts/gpu/capacity_ab.sh, 2
# minutes side by side on a lent H100 from the gpu-nonce package) found the adapter's plateau to be its
# size: LoRA on q/v at rank 16 stayed at held-out exact 20 % while the same adapter widened to LoRA on
# all seven projections at rank 64 went from 20.0 / 19.2 / 14.5 to 31.8 / 31.5 / 27.8 % at 4x / 8x / 16x
# (models/sac-demo/experiments/capacity-ab). Its weights stayed on the machine; with the GPU's last 94 s
# the widened arm ran again alone for 1.1 minutes (223 steps of 32: 25.2 / 23.0 / 20.0 %) and was kept:
# that is adapters/sac. The ablations stay q/v at rank 16 (gpu-words widens them). Needs PyTorch;
# carries .gpu/nonce (the gpu-nonce step's kit).
python3 -c 'import torch' 2>/dev/null || { echo "train-demo-model.sh: gpu-wide needs python3 with PyTorch (a GPU machine)" >&2; exit 1; }
G="$OUT/gpu/wide"
mkdir -p "$G"
keep_before "$G/before"
rm -rf "$G/result" && mkdir -p "$G/result"
ARMS="all64:q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj:64" KEEP=1 MINUTES=1.1 EVAL_EVERY=30 LOG_EVERY=50 \
  KIT=.gpu/nonce PKG="$G/before" OUT="$G/result" bash scripts/gpu/capacity_ab.sh
cp "$G/result/all64.json" "$OUT/adapters/sac/sac.json"
cp "$G/result/all64.safetensors" "$OUT/adapters/sac/sac.safetensors"
cp "$G/result/all64-log.jsonl" "$OUT/adapters/sac/gpu-wide-log.jsonl"
sac_parity .gpu/nonce/sac-examples.bin.xz
fi

CPU_WIDE="$OUT/gpu/cpu-wide/work"
# wide_cpu PKG DATA CONTEXTS NAME INIT FLAGS...: a CPU run of the wide sac adapter (LoRA on all seven projections
# at rank 64; stage 2 only, batch 8, ratios 4, 8 and 16) in package PKG from its adapter INIT, on the first CONTEXTS
# training contexts of DATA, resumed from its checkpoint when it has one; FLAGS: the run's own (steps, shares, rate,
# seed, budget). cpu_wide, cpu_ppl and cpu_words are its recipes.
wide_cpu() {
  sac train sac --model "$1" --data "$2" --train-contexts "$3" --variant sac --ratio 4,8,16 --name "$4" \
    --init "$1/adapters/$5" --lora-targets all --rank 64 --stage1-steps 0 --batch 8 "${@:6}" \
    $(resume "$1/adapters/$4/checkpoint/state.json")
}
cpu_wide() {   # cpu_wide NAME INIT LR SEED MINUTES: a run of the wide adapter's CPU recipe in $CPU_WIDE (cpu-wide, cpu-more)
  wide_cpu "$CPU_WIDE" data-x 25000 "$1" "$2" --stage2-steps 2000 --continuation-share 0.3 --lr2 "$3" --seed "$4" \
    --time-budget "$5"
}

if want cpu-wide; then
# Session 17, on the CPU (no GPU was lent): the gpu-wide adapter had stopped after 223 GPU steps of 32
# while its held-out score was still rising (the capacity A/B's widened arm went on to 31.8 / 31.5 / 27.8 %
# in 325 steps), so it goes on with the Java trainer (DJL; SacPyTorchParityTest holds this graph to
# train_sac.py's) from its weights (--init, a fresh optimiser): stage 2 only, 30 % continuation examples
# as on the GPU, batch 8, on the data-x contexts the GPU kit was made from, both cores. The trainer's
# schedule is the paper's constant one (30 warm-up steps), so the decay is two runs: 60 minutes at 3e-4
# (487 steps; as it was run, the 100-minute run was stopped after its checkpoint at 60.7 minutes and
# resumed with this budget, which wrote that checkpoint's adapter), then 30 minutes at 1e-4 from its
# weights (169 steps: the machine was shared with evaluations for its first minutes). `sac eval --methods
# sac --data data-x/synthetic-dev.jsonl --limit 60` (240 dev questions) and `sac data compare`:
# 22.1 / 21.3 / 19.2 EM at 4x / 8x / 16x before, 27.9 / 29.2 / 26.7 after the first run, 29.2 / 30.4 /
# 27.1 after the second (+7.1 / +9.2 / +7.9 paired, every interval clear of zero). It starts from the
# package before this step (gpu/cpu-wide/before), so a rerun starts from the same weights; an
# interrupted run resumes from its checkpoint. Needs python3 with PyTorch for the parity fixture only.
G="$OUT/gpu/cpu-wide"
keep_before "$G/before"
if [ ! -d "$CPU_WIDE" ]; then   # a package of the base and the gpu-wide adapter, in which the runs write adapters/sac-cpu{,2}
  rm -rf "$CPU_WIDE.partial"   # an interrupted copy's: cp -r into it would nest base/base
  mkdir -p "$CPU_WIDE.partial/adapters" && cp -r "$G/before/base" "$CPU_WIDE.partial/base"
  cp -r "$G/before/adapters/sac" "$CPU_WIDE.partial/adapters/sac-wide"
  mv "$CPU_WIDE.partial" "$CPU_WIDE"
fi
cpu_wide sac-cpu sac-wide 3e-4 3 60m
cpu_wide sac-cpu2 sac-cpu 1e-4 4 30m
cp "$CPU_WIDE/adapters/sac-cpu2/sac.json" "$CPU_WIDE/adapters/sac-cpu2/sac.safetensors" "$OUT/adapters/sac/"
cat "$CPU_WIDE/adapters/sac-cpu/train-log.jsonl" "$CPU_WIDE/adapters/sac-cpu2/train-log.jsonl" > "$OUT/adapters/sac/cpu-wide-log.jsonl"
sac_parity .gpu/nonce/sac-examples.bin.xz
fi

if want cpu-more; then
# Session 18, on the CPU (no GPU was lent); not in the default steps, and what it trains is not installed: the
# cpu-wide recipe 75 minutes more from the committed adapter (55 at 3e-4, seed 5, 479 steps; then 20 at 1e-4,
# seed 6, 198 steps), then both adapters on 240 dev questions and `sac data compare`. As run (the same commands
# by hand, from a separate clone): 29.2 / 30.4 / 27.1 -> 29.6 / 30.0 / 27.9 EM at 4x / 8x / 16x, paired +0.4 /
# -0.4 / +0.8 with every interval across zero, names 0 of 133 before and after: the recipe has plateaued
# (MODEL_CARD, "How it was made"), so adapters/sac stayed session 17's.
[ -d "$CPU_WIDE/adapters/sac-cpu2" ] || { echo "train-demo-model.sh: cpu-more goes on from cpu-wide's adapter:" \
  "run PHASES=cpu-wide first" >&2; exit 1; }
cpu_wide sac-cpu3 sac-cpu2 3e-4 5 55m
cpu_wide sac-cpu4 sac-cpu3 1e-4 6 20m
E="$OUT/gpu/cpu-more"
for a in sac-cpu2 sac-cpu4; do   # a package of the base and one adapter each, evaluated on the dev split
  mkdir -p "$E/$a/adapters"
  ln -sfn "$(realpath "$CPU_WIDE/base")" "$E/$a/base" && ln -sfn "$(realpath "$CPU_WIDE/adapters/$a")" "$E/$a/adapters/sac"
  sac eval --model "$E/$a" --data data-x/synthetic-dev.jsonl --limit 60 --methods sac --ratios 4,8,16 \
    --json "$E/$a-eval/eval.json" --out "$E/$a-eval"
done
sac data compare --predictions "$E/sac-cpu4-eval/predictions.jsonl" --against "$E/sac-cpu2-eval/predictions.jsonl" \
  --data data-x/synthetic-dev.jsonl
fi

# cpu_ppl NAME INIT STEP TEXT_SHARE SEED MINUTES [STEPS --lr2-decay]: the wide adapter's CPU recipe with half of
# its examples continuation examples, TEXT_SHARE of those plain text (cpu-ppl, cpu-ppl2, cpu-ppl3); INIT is what
# STEP trained. STEPS (default 2000, more than MINUTES allow) bounds stage 2, over which --lr2-decay decays the rate.
cpu_ppl() {
  [ -d "$CPU_WIDE/adapters/$2" ] || { echo "train-demo-model.sh: $1 goes on from $3's adapter: run PHASES=$3 first" >&2
    exit 1; }
  wide_cpu "$CPU_WIDE" data-x 25000 "$1" "$2" --stage2-steps "${7:-2000}" --continuation-share 0.5 --text-share "$4" \
    --lr2 2e-4 --seed "$5" --time-budget "$6" "${@:8}"
}

if want cpu-ppl; then
# Session 19, on the CPU (no GPU was lent). The issue asks that sac at 4x recover at least half of the
# none - full continuation gap on held-out plain text; cpu-wide's adapter recovered 0.29 on the test texts.
# Its continuation examples were drawn from every text equally likely, so about one in nine was plain text
# (3,086 texts beside 25,000 fact documents). This step goes on from it for 60 minutes with half of its
# examples continuation examples (--continuation-share 0.5, 0.3 before) and half of those from the
# plain-text corpus (--text-share 0.5), at 2e-4, seed 7: 543 steps of 8. On the dev split (`sac eval
# --methods sac --data data-x/synthetic-dev.jsonl --limit 60 --text data-x/text-dev.jsonl`, 240 questions,
# 169 texts), before -> after: EM 29.2 / 30.4 / 27.1 -> 29.2 / 30.0 / 27.9 at 4x / 8x / 16x (`sac data
# compare`: +0.0 / -0.4 / +0.8, every interval across zero); the share of the gap 0.31 / 0.19 / 0.08 ->
# 0.42 / 0.28 / 0.21. As run: by hand from a separate clone, with the same command. Needs python3 with
# PyTorch for the parity fixture only.
cpu_ppl sac-ppl sac-cpu2 cpu-wide 0.5 7 60m
cp "$CPU_WIDE/adapters/sac-ppl/sac.json" "$CPU_WIDE/adapters/sac-ppl/sac.safetensors" "$OUT/adapters/sac/"
cp "$CPU_WIDE/adapters/sac-ppl/train-log.jsonl" "$OUT/adapters/sac/cpu-ppl-log.jsonl"
sac_parity .gpu/nonce/sac-examples.bin.xz
fi

if want cpu-ppl2; then
# Session 19: cpu-ppl's adapter 35 minutes more with the plain-text share at 0.7 (seed 8): 411 steps of 8. On
# the dev split against cpu-ppl's adapter: the share of the gap at 4x / 8x / 16x 0.42 / 0.28 / 0.21 -> 0.49
# [0.46, 0.53] / 0.34 / 0.26, EM 29.2 / 30.0 / 27.9 -> 29.2 / 29.6 / 26.3 (paired +0.0 [-1.7, +1.7] / -0.4
# [-2.5, +1.7] / -1.7 [-3.3, -0.4]); on the test texts 0.49 [0.45, 0.52] at 4x. Not installed by itself: it
# traded 16x answers for perplexity; cpu-ppl3 goes on from it.
cpu_ppl sac-ppl2 sac-ppl cpu-ppl 0.7 8 35m
cp "$CPU_WIDE/adapters/sac-ppl2/train-log.jsonl" "$OUT/adapters/sac/cpu-ppl2-log.jsonl"
fi

if want cpu-ppl3; then
# Session 20, no GPU: cpu-ppl2's adapter 480 steps more (47.8 minutes) at the same plain-text share, its rate
# decaying from 2e-4 to 2e-5 over them (--lr2-decay): the earlier runs stopped at their time budget with the
# rate still at its peak. On the dev split against cpu-ppl's adapter (the one installed before): the share of
# the gap 0.42 / 0.28 / 0.21 -> 0.52 [0.49, 0.56] / 0.38 / 0.31, EM 29.2 / 30.0 / 27.9 -> 30.0 / 30.0 / 27.5
# (paired +0.8 [-1.3, +2.9] / +0.0 [-1.7, +2.1] / -0.4 [-2.5, +1.7]): the decay gave back the 16x answers
# cpu-ppl2 had traded. As run: by hand from a separate clone, with the same command.
cpu_ppl sac-ppl3 sac-ppl2 cpu-ppl2 0.7 9 48m 480 --lr2-decay
cp "$CPU_WIDE/adapters/sac-ppl3/sac.json" "$CPU_WIDE/adapters/sac-ppl3/sac.safetensors" "$OUT/adapters/sac/"
cp "$CPU_WIDE/adapters/sac-ppl3/train-log.jsonl" "$OUT/adapters/sac/cpu-ppl3-log.jsonl"
sac_parity .gpu/nonce/sac-examples.bin.xz
fi

# words_data: the gpu-words data, training contexts whose documents draw syllable or word names half and half
words_data() {
  [ -d data-wm ] || sac data build --seed 102 --train 30000 --short-train 0 --extra-train-phrasings --nonce-facts \
    --names mixed --out data-wm
}

if want gpu-words; then
# Never run: with the ablations widened to the sac adapter's size (9.7 MB each) the package would pass its
# 40 MB cap, so session 22's lent GPU ran gpu-words-sac (below) on this step's adapter kit instead.
# Session 16, prepared for the next lent GPU (not in the default steps): does the adapter learn
# to copy names once they are made of words it knows? The committed adapter copies almost none (it writes
# a syllable name of the right shape instead; `sac data kinds`), also on names made of words it was never
# trained on. One call (grow_demo_model.sh, GROW=0 WIDEN_INIT=1, about 9 minutes): the base continues 4
# minutes on training contexts whose documents draw syllable or word names half and half (`--names mixed`,
# with nonce facts), keeping its best score on their dev split (also mixed); then the three adapters 3.5
# minutes side by side on examples of the same data, all three with LoRA on all seven projections at rank
# 64: sac already has it (gpu-wide), the ablations start widened from their q/v weights
# (train_sac.py --widen-init), so they differ from sac only in what they ablate. Each run needs about 18
# GiB of GPU memory at 32 examples a step (capacity-ab measured 17.8). On the lent machine, carrying
# .gpu/words: `GROW=0 WIDEN_INIT=1 BASE_MINUTES=4 KIT=.gpu/words OUT=<returned folder> bash
# scripts/gpu/grow_demo_model.sh`; then here `bash scripts/gpu/install_grown.sh <its files> models/sac-demo
# .gpu/words gpu-words-log.jsonl`, and eval on both test splits (eval/synthetic-test.jsonl, syllable
# names; eval/synthetic-test-words.jsonl, word names) and `sac data kinds` on their predictions.
KIT=.gpu/words
G="$OUT/gpu/words"
mkdir -p "$KIT" "$G"
keep_before "$G/before"
words_data
# 30,000 contexts give about 68 M QA tokens, cut to 34 M, and 18,000 contexts of adapter examples: what
# fits beside the repository (41 MB since the wide adapter) in the 64 MiB a lent machine receives
cut_samples "$G" data-wm 30000 34000000 "$KIT/samples-wm-full.bin"
cp "$G/before/base/config.json" "$KIT/config.json"
adapter_kit "$KIT" "$G/before" data-wm "$G" 18000
# every adapter's spec with LoRA on all seven projections at rank 64 (alpha / rank kept, so a widened
# adapter starts from what its q/v weights compute)
for v in sac sac-causal sac-no-anchor-emb; do
  python3 scripts/gpu/widen_spec.py "$KIT/$v.json" q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj 64 \
    > "$KIT/$v.json.partial"
  mv "$KIT/$v.json.partial" "$KIT/$v.json"
done
python3 -c 'import torch' 2>/dev/null || { echo "train-demo-model.sh: gpu-words needs python3 with PyTorch (a GPU machine); its kit is ready in $KIT" >&2; exit 1; }
R="$G/result"
rm -rf "$R" && mkdir -p "$R"
# (OUT last: each assignment before a command sees the ones before it)
GROW=0 WIDEN_INIT=1 BASE_MINUTES=4 KIT="$KIT" PKG="$G/before" OUT="$R" bash scripts/gpu/grow_demo_model.sh
bash scripts/gpu/install_grown.sh "$R" "$OUT" "$KIT" gpu-words-log.jsonl
fi

if want gpu-words-sac; then
# Session 22, two calls on a lent H100 (the package's adapter: the first call's lr1e-3 arm). The sac adapter
# continued on the base as it is, so the ablations stay valid beside it, on gpu-words's adapter kit (18,000
# data-wm training contexts: syllable or word names half and half, nonce facts), stage 2 with 35 %
# continuation examples, 70 % of those plain text, batch 32; two arms side by side for 7 minutes with peak
# rates 3e-4 and 1e-3 (scripts/gpu/continue_sac.sh), about 1,285 steps each. Held-out (the kit's 400 mixed-name
# dev questions, teacher-forced exact) 4x / 8x / 16x 33.5 / 32.8 / 30.8 -> 36.8 / 36.0 / 32.2 % (3e-4) and 39.5
# / 37.0 / 34.2 % (1e-3: kept). A second call continued the kept arm (peak 3e-4 and 6e-4, 4.2 minutes) and
# was cut 5 s before it saved its last weights (not part of this step; its logs are in
# experiments/words-sac). Needs PyTorch and a GPU; carries .gpu/words/sac-examples.bin.xz and dev-examples.bin.xz.
KIT=.gpu/words
G="$OUT/gpu/words-sac"
mkdir -p "$KIT" "$G"
keep_before "$G/before"
words_data
adapter_kit "$KIT" "$G/before" data-wm "$G" 18000
# checked before the last run's result is cleared (continue_sac.sh refuses a machine without a GPU too, but later)
python3 -c 'import os, sys, torch; sys.exit(0 if torch.cuda.is_available() or os.environ.get("ALLOW_CPU") == "1" else 1)' \
  2>/dev/null || { echo "train-demo-model.sh: gpu-words-sac needs python3 with PyTorch and a GPU; its kit is ready in $KIT" >&2; exit 1; }
rm -rf "$G/result" && mkdir -p "$G/result"
MINUTES=7 SNAPSHOT=210 ARMS="lr3e-4:3e-4 lr1e-3:1e-3" KIT="$KIT" PKG="$G/before" OUT="$G/result" bash scripts/gpu/continue_sac.sh
tar xzf "$G/result/lr1e-3.tgz" -C "$G/result" sac.json lr1e-3-log.jsonl lr1e-3.txt
tar xzf "$G/result/lr3e-4.tgz" -C "$G/result" lr3e-4-log.jsonl lr3e-4.txt
mkdir -p "$OUT/experiments/words-sac"
cp "$G/result/lr1e-3.txt" "$G/result/lr3e-4-log.jsonl" "$G/result/lr3e-4.txt" "$OUT/experiments/words-sac/"
cp "$G/result/sac.json" "$OUT/adapters/sac/sac.json"
cp "$G/result/lr1e-3.safetensors" "$OUT/adapters/sac/sac.safetensors"
cp "$G/result/lr1e-3-log.jsonl" "$OUT/adapters/sac/gpu-words-log.jsonl"
# the nonce kit, as the committed fixture was written; on a machine that carries only this step's kit, that
# one (the fixture holds its documents itself, so the test reads either)
sac_parity "$( [ -f .gpu/nonce/sac-examples.bin.xz ] && echo .gpu/nonce/sac-examples.bin.xz || echo "$KIT/sac-examples.bin.xz")"
fi

if want cpu-words; then
# Session 23, no GPU: an experiment, not in the default steps; nothing is installed. Does gpu-words-sac's adapter
# gain from more of the same training on the CPU? It goes on with the Java trainer from its weights (--init, a
# fresh optimiser) on the same kind of documents (all 30,000 data-wm training contexts, syllable or word names
# half and half, nonce facts; the GPU kit held the first 18,000), stage 2 with 35 % continuation examples, 70 %
# of those plain text, as on the GPU, batch 8, the rate decaying (--lr2-decay). As run, three runs, each from
# the last one's weights: 104 steps of a decay from 2e-4 scheduled over 700 and 127 of one over 400 (each cut
# after its checkpoint when the session's time showed its schedule would not fit; --stop-at-step writes that
# cut), then a whole decay of 180 steps from 1.5e-4: 411 steps of 8, 60 minutes. Then both adapters on 240 dev
# questions of each name kind and `sac data compare` (models/sac-demo/experiments/words-cpu/dev.md): syllable
# names (data-x dev) 34.6 / 35.8 / 31.3 -> 36.3 / 35.0 / 30.4 EM at 4x / 8x / 16x, paired +1.7 [+0.4, +3.3] /
# -0.8 [-2.9, +1.3] / -0.8 [-2.9, +1.7]; mixed names (data-wm dev) 38.3 / 35.8 / 33.8 -> 36.7 / 37.1 / 33.8,
# -1.7 [-4.6, +0.8] / +1.3 [-0.4, +2.9] / +0.0; names 6 / 2 / 1 of 122 -> 3 / 3 / 1. No gain: 7 GPU minutes
# of this recipe (41,000 examples at batch 32) moved the adapter, 60 CPU minutes (3,300 at batch 8) did not,
# so adapters/sac stays gpu-words-sac's. Its log: experiments/words-cpu/cpu-words-log.jsonl.
G="$OUT/gpu/cpu-words"
keep_before "$G/before"
W="$G/work"
if [ ! -d "$W" ]; then   # a package of the base and gpu-words-sac's adapter, in which the runs write their adapters
  rm -rf "$W.partial"   # an interrupted copy's: cp -r into it would nest base/base
  mkdir -p "$W.partial/adapters" && cp -r "$G/before/base" "$W.partial/base"
  cp -r "$G/before/adapters/sac" "$W.partial/adapters/sac-words"
  mv "$W.partial" "$W"
fi
words_data
cpu_words() {   # cpu_words NAME INIT STEPS PEAK_LR SEED MINUTES [--stop-at-step N]
  wide_cpu "$W" data-wm 30000 "$1" "$2" --stage2-steps "$3" --continuation-share 0.35 --text-share 0.7 --lr2 "$4" \
    --lr2-decay --seed "$5" --time-budget "$6" "${@:7}"
}
cpu_words sac-words-cpu sac-words 700 2e-4 11 88m --stop-at-step 104
cpu_words sac-words-cpu2 sac-words-cpu 400 2e-4 12 80m --stop-at-step 127
cpu_words sac-words-cpu3 sac-words-cpu2 180 1.5e-4 13 40m
E="$G/eval"
for a in sac-words sac-words-cpu3; do   # a package of the base and one adapter each
  mkdir -p "$E/$a/adapters"
  ln -sfn "$(realpath "$W/base")" "$E/$a/base" && ln -sfn "$(realpath "$W/adapters/$a")" "$E/$a/adapters/sac"
  for d in data-x data-wm; do
    sac eval --model "$E/$a" --data "$d/synthetic-dev.jsonl" --limit 60 --methods sac --ratios 4,8,16 \
      --json "$E/$a-$d/eval.json" --out "$E/$a-$d"
  done
done
for d in data-x data-wm; do
  sac data compare --predictions "$E/sac-words-cpu3-$d/predictions.jsonl" --against "$E/sac-words-$d/predictions.jsonl" \
    --data "$d/synthetic-dev.jsonl"
done
sac data kinds --predictions "$E/sac-words-cpu3-data-wm/predictions.jsonl" --data data-wm/synthetic-dev.jsonl
sac data kinds --predictions "$E/sac-words-data-wm/predictions.jsonl" --data data-wm/synthetic-dev.jsonl
fi

if want capacity-ab; then
# Session 16, an experiment (not in the default steps, nothing installed): is the adapters' plateau
# (held-out 4x answer loss 1.70-1.75 over four GPU runs) a capacity limit? The sac adapter of the
# gpu-nonce package continued side by side as it was (LoRA q/v, rank 16) and widened to LoRA on all
# seven projections at rank 64 (train_sac.py --widen-init: both start at the same score); run for 2
# minutes on a lent H100 (models/sac-demo/experiments/capacity-ab; MODEL_CARD.md "Adapter capacity"):
# yes, the widened arm left the plateau (gpu-wide made the committed adapter from it). On the CPU
# (Debian's python3-torch, one thread an arm) a step of 32 takes over 18 s. Starts from the package
# before gpu-wide (kept in gpu/wide/before).
python3 -c 'import torch' 2>/dev/null || { echo "train-demo-model.sh: capacity-ab needs python3 with PyTorch" >&2; exit 1; }
[ -f .gpu/nonce/sac-examples.bin.xz ] || { echo "train-demo-model.sh: capacity-ab takes the adapters' kit from .gpu/nonce (PHASES=gpu-nonce makes it)" >&2; exit 1; }
mkdir -p "$OUT/gpu/capacity-ab"
[ -d "$OUT/gpu/wide/before" ] || { echo "train-demo-model.sh: capacity-ab starts from the package before gpu-wide, $OUT/gpu/wide/before" >&2; exit 1; }
KIT=.gpu/nonce PKG="$OUT/gpu/wide/before" OUT="$OUT/gpu/capacity-ab" MINUTES=${AB_MINUTES:-2} EVAL_EVERY=40 LOG_EVERY=50 \
  bash scripts/gpu/capacity_ab.sh
fi

if want sac; then
# CPU recipe (not the committed adapters since session 7: these gave 4.3 / 2.5 / 1.8 EM on the test split).
# The SAC adapter, one for ratios 4, 8 and 16 (a ratio drawn per batch): stage 1 continuation
# LM, stage 2 QA on 1-4 composed documents with up to 16 questions about them decoded against
# each compression, cut by the time budget (run as it was: one torch thread, SAC_THREADS=1,
# beside the ablations on the other core).
sac train sac --model "$OUT" --data data-x --ratio 4,8,16 --stage1-steps 150 --stage2-steps 1150 --batch 8 \
  --questions-per-example 16 --time-budget 75m --seed 1 $(resume "$OUT/adapters/sac/checkpoint/state.json")
fi

if want ablations; then
# The paper's ablations at 8x, 20 minutes each (the main adapter: 75), same recipe. Run as it
# was: one after the other on one torch thread, in parallel with the main adapter's first 40 minutes.
for v in sac-causal sac-no-anchor-emb; do
  sac train sac --model "$OUT" --data data-x --variant "$v" --ratio 8 --stage1-steps 50 --stage2-steps 320 --batch 8 \
    --questions-per-example 16 --time-budget 20m --seed 1 $(resume "$OUT/adapters/$v/checkpoint/state.json")
done
fi

if want cpu-names; then
# Session 21, no GPU: an experiment, not in the default steps. The committed adapter copies 1 name in 188
# from uniform anchors; session 18 found that the decoder reads the token an anchor sits on, and that keeping
# every token of a capitalised word as an anchor too, untrained for it, brought 52 names through at 4x
# (eval/sac-names). This step trains that layout: the installed adapter (cpu-ppl3's) goes on as variant
# sac-names (`--variant sac-names`: every token of a capitalised word an anchor beside the uniform ones, an
# added anchor taking the anchor-table row of the nearest uniform anchor at or before it), 380 steps of 8 with
# the rate decaying from 2e-4, a fifth of the examples continuation (seven in ten of those plain text), seed 10;
# then `sac eval --methods sac-names` on the test split into eval/sac-names-trained (MODEL_CARD.md, "Names as
# anchors, trained", gives what it did). Its weights stay out of the package (9.7 MB; the package holds 39.6 of
# its 40 MB); the log and the spec go to experiments/names. As run: by hand from a separate clone, with the
# same command.
[ -d "$CPU_WIDE/adapters/sac-ppl3" ] || { echo "train-demo-model.sh: cpu-names goes on from cpu-ppl3's adapter: run PHASES=cpu-ppl3 first" >&2
  exit 1; }
sac train sac --model "$CPU_WIDE" --data data-x --train-contexts 25000 --variant sac-names --ratio 4,8,16 \
  --init "$CPU_WIDE/adapters/sac-ppl3" --lora-targets all --rank 64 --stage1-steps 0 --stage2-steps 380 \
  --continuation-share 0.2 --text-share 0.7 --lr2 2e-4 --lr2-decay --batch 8 --seed 10 --time-budget 52m \
  $(resume "$CPU_WIDE/adapters/sac-names/checkpoint/state.json")
N="$OUT/gpu/names/package"
mkdir -p "$N/adapters" "$OUT/experiments/names/untrained" "$OUT/experiments/names/words" "$OUT/experiments/names/demo"
# the base and the sac adapter it went on from (the evaluation's sac, which sets the ratios), as trained
ln -sfn "$(realpath "$CPU_WIDE/base")" "$N/base"
ln -sfn "$(realpath "$CPU_WIDE/adapters/sac-ppl3")" "$N/adapters/sac"
ln -sfn "$(realpath "$CPU_WIDE/adapters/sac-names")" "$N/adapters/sac-names"
cp "$CPU_WIDE/adapters/sac-names/sac.json" "$OUT/experiments/names/sac-names.json"
cp "$CPU_WIDE/adapters/sac-names/train-log.jsonl" "$OUT/experiments/names/sac-names-log.jsonl"
sac eval --model "$N" --data "$OUT/eval/synthetic-test.jsonl" --methods sac-names --ratios 4,8,16 \
  --json "$OUT/eval/sac-names-trained/eval.json" --out "$OUT/eval/sac-names-trained"
# the demo's documents and questions as one MRQA file (a context per document), scored the same way
python3 - "$N/demo.jsonl" <<'PY'
import collections, json, sys
qs = collections.defaultdict(list)
for line in open("demo/questions.jsonl"):
    q = json.loads(line)
    qs[q["docId"]].append({"qid": q["qid"], "question": q["question"], "answers": q["answers"]})
with open(sys.argv[1], "w") as out:
    out.write(json.dumps({"header": {"dataset": "demo", "split": "demo"}}) + "\n")
    for d in sorted(qs):
        out.write(json.dumps({"id": d, "context": open(f"demo/documents/{d}.txt").read(), "qas": qs[d]}) + "\n")
PY
sac eval --model "$N" --data "$N/demo.jsonl" --methods full,sac,sac-names,truncate --ratios 2,4 \
  --json "$OUT/experiments/names/demo/eval.json" --out "$N/demo-eval"
cp "$N/demo-eval/eval.md" "$OUT/experiments/names/demo/eval.md"
# the adapter it started from, untrained for the layout (a package with only that adapter: sac-names falls back to it)
U="$OUT/gpu/names/untrained"
mkdir -p "$U/adapters"
ln -sfn "$(realpath "$CPU_WIDE/base")" "$U/base"
ln -sfn "$(realpath "$CPU_WIDE/adapters/sac-ppl3")" "$U/adapters/sac"
sac eval --model "$U" --data "$OUT/eval/synthetic-test.jsonl" --methods sac-names --ratios 4,8,16 \
  --json "$OUT/experiments/names/untrained/eval.json" --out "$U/eval"
cp "$U/eval/eval.md" "$OUT/experiments/names/untrained/eval.md"
sac data kinds --predictions "$U/eval/predictions.jsonl" --data "$OUT/eval/synthetic-test.jsonl" \
  > "$OUT/experiments/names/untrained/kinds.md"
# names made of known words (the word-name test split; session 16's eval/words has full, sac and truncate on it)
sac eval --model "$N" --data "$OUT/eval/synthetic-test-words.jsonl" --methods sac-names --ratios 4,8 \
  --json "$OUT/experiments/names/words/eval.json" --out "$N/words-eval"
cp "$N/words-eval/eval.md" "$OUT/experiments/names/words/eval.md"
sac data kinds --predictions "$N/words-eval/predictions.jsonl" --data "$OUT/eval/synthetic-test-words.jsonl" \
  > "$OUT/experiments/names/words/kinds.md"
# what keeping the names costs: context tokens per anchor on the test split, on plain text and on the demo
sac data anchors --model "$N" --data "$OUT/eval/synthetic-test.jsonl,data/text-test.jsonl,$N/demo.jsonl" \
  > "$OUT/experiments/names/anchors.md"
# (session 22) its continuation perplexity on plain text beside the sac adapter it started from
mkdir -p "$OUT/experiments/names/ppl"
sac eval --model "$N" --data "$OUT/eval/synthetic-test.jsonl" --methods sac-names --ratios 4,8,16 \
  --json "$OUT/experiments/names/ppl/eval.json" --out "$N/ppl-eval" --text data/text-test.jsonl
cp "$N/ppl-eval/eval.md" "$OUT/experiments/names/ppl/eval.md"
fi

if want eval; then
# The held-out test split shipped with the model: the first 100 test contexts (400 questions).
mkdir -p "$OUT/eval"
head -n 101 data/synthetic-test.jsonl > "$OUT/eval/synthetic-test.jsonl"
sac eval --model "$OUT" --data "$OUT/eval/synthetic-test.jsonl" --ratios 4,8,16 \
  --json "$OUT/eval/eval.json" --out "$OUT/eval" --text data/text-test.jsonl
fi
