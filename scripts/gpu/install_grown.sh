#!/usr/bin/env bash
# Installs what scripts/gpu/grow_demo_model.sh returned (RESULT: base-model.part-*, base-model.sha256,
# config.json, base-run.tgz, adapters.tgz) into a model package (PKG):
#   base/config.json and base/model.safetensors, checked against the returned SHA-256;
#   parity/hf-logits.bin and hf-parity.json (transformers' logits for HfReferenceParityTest);
#   adapters/V/sac.json and sac.safetensors, with the run's log as adapters/V/gpu-grow-log.jsonl;
#   base/gpu-grow-log.jsonl, the base run's log;
#   parity/sac-pytorch-parity.json (made for the new adapters/sac) for
#   SacPyTorchParityTest, which needs python3 with PyTorch (Debian's python3-torch will do) and the
#   kit's sac-examples.bin.xz (KIT, default .gpu).
# Everything is checked before the package is touched: the reassembled weights' SHA-256, each
# adapter's clean exit, and that each adapter's sac.json names the base it is installed beside (the
# engine refuses it otherwise). Usage: install_grown.sh RESULT PKG [KIT [LOG]]; LOG names the run's logs
# in the package (default gpu-grow-log.jsonl).
set -euo pipefail
R=${1:?result folder}
PKG=${2:?model package}
KIT=${3:-.gpu}
LOG=${4:-gpu-grow-log.jsonl}
VARIANTS=(sac sac-causal sac-no-anchor-emb)
die() { echo "install_grown.sh: $*; $PKG is unchanged" >&2; exit 1; }

parts=("$R"/base-model.part-*)
[ -f "${parts[0]}" ] || die "no base-model.part-* in $R"
config="$R/config.json"
[ -f "$config" ] || config="$KIT/config.json"   # results of runs before grow_demo_model.sh returned it
[ -f "$config" ] || die "no config.json in $R or $KIT"
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
mkdir -p "$STAGE/base" "$STAGE/base-run" "$STAGE/adapters"
cat "${parts[@]}" > "$STAGE/base/model.safetensors"
cp "$config" "$STAGE/base/config.json"
want=$(awk '{print $1}' "$R/base-model.sha256")
have=$(sha256sum "$STAGE/base/model.safetensors" | awk '{print $1}')
[ "$want" = "$have" ] || die "the reassembled base has SHA-256 $have, the GPU machine wrote $want"
tar xzf "$R/base-run.tgz" -C "$STAGE/base-run"
tar xzf "$R/adapters.tgz" -C "$STAGE/adapters"
for f in log.jsonl parity-logits.bin parity.json; do
  [ -f "$STAGE/base-run/$f" ] || die "base-run.tgz has no $f"
done
# the Java Fingerprints.baseModel of the staged base: what each adapter's sac.json must name
fingerprint=$(python3 scripts/gpu/fingerprint.py "$STAGE/base")
for v in "${VARIANTS[@]}"; do
  grep -qx "$v exited with 0" "$STAGE/adapters/$v.txt" 2>/dev/null || die "the $v run did not end cleanly (see its .txt in adapters.tgz)"
  grep -q "\"baseModel\": \"$fingerprint\"" "$STAGE/adapters/$v/sac.json" \
    || die "adapters.tgz's $v/sac.json does not name this base ($fingerprint)"
  grep -q "\"variant\": \"$v\"" "$STAGE/adapters/$v/sac.json" || die "adapters.tgz's $v/sac.json is not a $v adapter"
done

cp "$STAGE/base/config.json" "$PKG/base/config.json.partial"
cp "$STAGE/base/model.safetensors" "$PKG/base/model.safetensors.partial"
mv "$PKG/base/model.safetensors.partial" "$PKG/base/model.safetensors"
mv "$PKG/base/config.json.partial" "$PKG/base/config.json"
cp "$STAGE/base-run/log.jsonl" "$PKG/base/$LOG"
cp "$STAGE/base-run/parity-logits.bin" "$PKG/parity/hf-logits.bin"
cp "$STAGE/base-run/parity.json" "$PKG/parity/hf-parity.json"
for v in "${VARIANTS[@]}"; do
  mkdir -p "$PKG/adapters/$v"
  cp "$STAGE/adapters/$v/sac.json" "$STAGE/adapters/$v/sac.safetensors" "$PKG/adapters/$v/"
  cp "$STAGE/adapters/$v-log.jsonl" "$PKG/adapters/$v/$LOG"
done
echo "install_grown.sh: installed the grown base and its adapters in $PKG"
if ! python3 -c 'import torch' 2>/dev/null || [ ! -f "$KIT/sac-examples.bin.xz" ]; then
  echo "install_grown.sh: parity/sac-pytorch-parity.json is stale (needs python3 with PyTorch and" \
       "$KIT/sac-examples.bin.xz): run scripts/gpu/train_sac.py --examples $KIT/sac-examples.bin.xz" \
       "--spec $PKG/adapters/sac/sac.json --base $PKG/base --init $PKG/adapters/sac/sac.safetensors" \
       "--parity $PKG/parity/sac-pytorch-parity.json; SacPyTorchParityTest fails until then" >&2
  exit 1
fi
python3 scripts/gpu/train_sac.py --examples "$KIT/sac-examples.bin.xz" --spec "$PKG/adapters/sac/sac.json" \
  --base "$PKG/base" --init "$PKG/adapters/sac/sac.safetensors" --parity "$PKG/parity/sac-pytorch-parity.json"
