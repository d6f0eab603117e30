"""Prints an adapter spec (sac.json) with its LoRA on TARGETS at RANK, alpha scaled to keep the
spec's own alpha / rank, so an adapter widened to it with train_sac.py --widen-init starts from
exactly what the narrower adapter computes. Usage: widen_spec.py SAC_JSON TARGET[,TARGET...] RANK
(the capacity A/B's arms, capacity_ab.sh, and the gpu-words kit, train-demo-model.sh)."""
import json
import sys

if len(sys.argv) != 4 or not sys.argv[3].isdigit() or int(sys.argv[3]) < 1:
    sys.exit("usage: widen_spec.py SAC_JSON TARGET[,TARGET...] RANK")
spec = json.load(open(sys.argv[1]))
rank = int(sys.argv[3])
scale = spec["loraAlpha"] / spec["loraRank"]
spec.update(loraTargets=sys.argv[2].split(","), loraRank=rank, loraAlpha=scale * rank)
print(json.dumps(spec, indent=2))
