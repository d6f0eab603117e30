#!/usr/bin/env bash
# Installs what scripts/gpu/grow_demo_model.sh returned (RESULT: base-model.part-*, base-model.sha256,
# base-run.tgz, adapters.tgz) into a model package (PKG), on any machine:
#   base/config.json (from KIT) and base/model.safetensors, checked against the returned SHA-256;
#   parity/hf-logits.bin and hf-parity.json (transformers' logits for HfReferenceParityTest);
#   adapters/V/sac.json and sac.safetensors, with the run's log as adapters/V/gpu-grow-log.jsonl;
#   base/gpu-grow-log.jsonl, the base run's log;
#   parity/sac-adapter (the new sac adapter) and, where python3 has PyTorch (Debian's python3-torch
#   will do), parity/sac-pytorch-parity.json for SacPyTorchParityTest.
# Usage: install_grown.sh RESULT PKG [KIT]
set -euo pipefail
R=${1:?result folder}
PKG=${2:?model package}
KIT=${3:-.gpu}
parts=("$R"/base-model.part-*)
[ -f "${parts[0]}" ] || { echo "install_grown.sh: no base-model.part-* in $R" >&2; exit 1; }
cat "${parts[@]}" > "$PKG/base/model.safetensors.partial"
want=$(awk '{print $1}' "$R/base-model.sha256")
have=$(sha256sum "$PKG/base/model.safetensors.partial" | awk '{print $1}')
if [ "$want" != "$have" ]; then
  rm -f "$PKG/base/model.safetensors.partial"
  echo "install_grown.sh: the reassembled base has SHA-256 $have, the GPU machine wrote $want" >&2
  exit 1
fi
mkdir -p "$R/base-run" "$R/adapters"
tar xzf "$R/base-run.tgz" -C "$R/base-run"
tar xzf "$R/adapters.tgz" -C "$R/adapters"
for v in sac sac-causal sac-no-anchor-emb; do
  grep -qx "$v exited with 0" "$R/adapters/$v.txt" || { echo "install_grown.sh: the $v run did not end cleanly (see $R/adapters/$v.txt)" >&2; exit 1; }
done
mv "$PKG/base/model.safetensors.partial" "$PKG/base/model.safetensors"
cp "$KIT/config.json" "$PKG/base/config.json"
cp "$R/base-run/log.jsonl" "$PKG/base/gpu-grow-log.jsonl"
cp "$R/base-run/parity-logits.bin" "$PKG/parity/hf-logits.bin"
cp "$R/base-run/parity.json" "$PKG/parity/hf-parity.json"
for v in sac sac-causal sac-no-anchor-emb; do
  cp "$R/adapters/$v/sac.json" "$R/adapters/$v/sac.safetensors" "$PKG/adapters/$v/"
  cp "$R/adapters/$v-log.jsonl" "$PKG/adapters/$v/gpu-grow-log.jsonl"
done
mkdir -p "$PKG/parity/sac-adapter"
cp "$PKG/adapters/sac/sac.json" "$PKG/adapters/sac/sac.safetensors" "$PKG/parity/sac-adapter/"
if python3 -c 'import torch' 2>/dev/null; then
  python3 scripts/gpu/train_sac.py --examples "$KIT/sac-examples.bin.xz" --spec "$PKG/parity/sac-adapter/sac.json" \
    --base "$PKG/base" --init "$PKG/parity/sac-adapter/sac.safetensors" --parity "$PKG/parity/sac-pytorch-parity.json"
else
  echo "install_grown.sh: python3 has no PyTorch: parity/sac-pytorch-parity.json is stale until" \
       "scripts/gpu/train_sac.py --parity is run (SacPyTorchParityTest fails until then)" >&2
fi
