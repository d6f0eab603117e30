#!/usr/bin/env python3
"""Continues (or starts) the demo base model's pretraining on a GPU.

The project's trainer is Java (`./sac train base`, DJL autograd on the CPU build of libtorch),
and on a 2-core machine it runs out of time long before a 3.5 M-parameter model reads well.
When a GPU machine is lent, this script runs the same training on it:

* the samples are not rebuilt here: `./sac train base ... --export-samples FILE` builds them
  with the Java code (`TrainingSamples`: prompt format, packed questions, text windows,
  induction drills, held-out questions) and writes them flat (`SampleExport`); this script
  reads those files, so the two trainers see identical token sequences and loss weights;
* the model is the Hugging Face Llama computation written out (RMSNorm in float32, "rotate
  half" RoPE, grouped-query attention, SwiGLU, tied embeddings), the one the Java engine
  implements; with transformers installed the script checks its logits against
  `LlamaForCausalLM` on the trained weights and writes that reference for the Java parity test;
* loss, as in `BaseTrainer`: next-token cross-entropy weighted per position, divided by the
  batch's total weight; batches of one kind (QA or text) and one length bucket.

Writes OUT/model.safetensors (float32, Hugging Face names, tied head left out, as the Java
trainer writes it) every --save-every seconds and at the end, OUT/log.jsonl, and with
--parity-tokens N the reference logits OUT/parity-logits.bin and OUT/parity.json.

Example (what made models/sac-demo; see its MODEL_CARD):
  python3 scripts/gpu/pretrain_base.py --samples full40.bin.xz short30.bin.xz \\
      --config models/sac-demo/base/config.json --init models/sac-demo/base/model.safetensors \\
      --out $OUT --minutes 6.5
"""
import argparse
import json
import math
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sample_files import HELD_OUT, QA, TEXT, read_raw  # noqa: E402
BUCKETS = [32, 64, 128, 192, 256, 384, 512, 768, 1024, 1280, 1600]


def read_samples(path):
    """One SampleExport file (optionally .xz): kinds, lengths, tokens (uint16), weights (float32)."""
    kinds, lengths, tokens, weights = read_raw(path)
    w = weights.astype(np.float32) / 4
    # A sample's last weight predicts nothing (Java's Batch.of drops it); text windows and drills
    # carry a 1 there. Zero it, or a right-padded row would learn to predict the pad after its end.
    w[np.cumsum(lengths) - 1] = 0
    return kinds, lengths, tokens, w


class RmsNorm(torch.nn.Module):
    def __init__(self, n, eps):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(n))
        self.eps = eps

    def forward(self, x):
        xf = x.float()
        xf = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * xf.to(x.dtype)


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


class Block(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        e, h, kv, d, i = c["hidden_size"], c["num_attention_heads"], c["num_key_value_heads"], c["head_dim"], c["intermediate_size"]
        self.h, self.kv, self.d = h, kv, d
        self.input_layernorm = RmsNorm(e, c["rms_norm_eps"])
        self.post_attention_layernorm = RmsNorm(e, c["rms_norm_eps"])
        self.q_proj = torch.nn.Linear(e, h * d, bias=False)
        self.k_proj = torch.nn.Linear(e, kv * d, bias=False)
        self.v_proj = torch.nn.Linear(e, kv * d, bias=False)
        self.o_proj = torch.nn.Linear(h * d, e, bias=False)
        self.gate_proj = torch.nn.Linear(e, i, bias=False)
        self.up_proj = torch.nn.Linear(e, i, bias=False)
        self.down_proj = torch.nn.Linear(i, e, bias=False)

    def forward(self, x, cos, sin):
        b, t, _ = x.shape
        a = self.input_layernorm(x)
        q = self.q_proj(a).view(b, t, self.h, self.d).transpose(1, 2)
        k = self.k_proj(a).view(b, t, self.kv, self.d).transpose(1, 2)
        v = self.v_proj(a).view(b, t, self.kv, self.d).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        rep = self.h // self.kv
        k = k.repeat_interleave(rep, dim=1)   # head j reads KV head j // rep, as HF's repeat_kv
        v = v.repeat_interleave(rep, dim=1)
        o = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.o_proj(o.transpose(1, 2).reshape(b, t, self.h * self.d))
        m = self.post_attention_layernorm(x)
        return x + self.down_proj(F.silu(self.gate_proj(m)) * self.up_proj(m))


class Llama(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.embed_tokens = torch.nn.Embedding(c["vocab_size"], c["hidden_size"])
        self.layers = torch.nn.ModuleList(Block(c) for _ in range(c["num_hidden_layers"]))
        self.norm = RmsNorm(c["hidden_size"], c["rms_norm_eps"])
        d = c["head_dim"]
        inv = 1.0 / (c["rope_theta"] ** (torch.arange(0, d, 2, dtype=torch.float64) / d))
        self.register_buffer("inv_freq", inv.float(), persistent=False)
        for name, p in self.named_parameters():
            if p.dim() == 2:
                torch.nn.init.normal_(p, std=0.02)

    def forward(self, ids):
        t = ids.shape[1]
        freqs = torch.arange(t, device=ids.device, dtype=torch.float32)[:, None] * self.inv_freq[None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos(), emb.sin()
        x = self.embed_tokens(ids)
        for layer in self.layers:
            x = layer(x, cos.to(x.dtype), sin.to(x.dtype))
        x = self.norm(x)
        return x @ self.embed_tokens.weight.t().to(x.dtype)

    def hf_state(self):
        """Parameters under Hugging Face Llama names (lm_head tied, left out)."""
        out = {"model.embed_tokens.weight": self.embed_tokens.weight, "model.norm.weight": self.norm.weight}
        for i, l in enumerate(self.layers):
            p = f"model.layers.{i}."
            for n in ("input_layernorm", "post_attention_layernorm"):
                out[p + n + ".weight"] = getattr(l, n).weight
            for n in ("q_proj", "k_proj", "v_proj", "o_proj"):
                out[p + "self_attn." + n + ".weight"] = getattr(l, n).weight
            for n in ("gate_proj", "up_proj", "down_proj"):
                out[p + "mlp." + n + ".weight"] = getattr(l, n).weight
        return out


def grow_layers(state, prefix, layers, zeroed, path):
    """`state` (tensors named PREFIX.{i}.rest) with its n layers made `layers` = k * n: layer i
    copies layer i // k, and on all but the first copy the tensors `zeroed(rest)` names are zero.
    Shared by this script's --grow and train_sac.py's --grow-init."""
    have = 1 + max(int(n[len(prefix) + 1:].split(".")[0]) for n in state if n.startswith(prefix + "."))
    if layers % have != 0 or layers == have:
        sys.exit(f"{path}: {have} layers cannot grow to {layers} (growing needs a multiple of {have})")
    k = layers // have
    out = {n: t for n, t in state.items() if not n.startswith(prefix + ".")}
    for n, t in state.items():
        if not n.startswith(prefix + "."):
            continue
        i, rest = n[len(prefix) + 1:].split(".", 1)
        for j in range(k):
            out[f"{prefix}.{int(i) * k + j}.{rest}"] = t.new_zeros(t.shape) if j > 0 and zeroed(rest) else t.clone()
    print(f"{path}: grew {have} layers to {layers}, each copied {k} times", flush=True)
    return out


def grown(state, layers, path):
    """State of `layers` layers from one of fewer (depth up-scaling, as LLaMA Pro's block expansion):
    layer i of k*n is a copy of layer i // k; all but the first copy have o_proj and down_proj zeroed,
    so each adds nothing to the residual stream until training moves those two."""
    return grow_layers(state, "model.layers", layers,
                       lambda rest: rest.split(".")[-2] in ("o_proj", "down_proj"), path)


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        body = f.read()
    out = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        if meta["dtype"] != "F32":
            sys.exit(f"{path}: {name} is {meta['dtype']}, expected F32")
        a, b = meta["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(body[a:b], "<f4").copy()).view(meta["shape"])
    return out


def write_safetensors(path, tensors):
    """Float32 safetensors, written through a temporary file so a cut run never leaves half a file."""
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        b = tensors[name].detach().float().cpu().contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    tmp = path + ".partial"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


class Batches:
    """Length-bucketed batches of one kind, samples drawn uniformly within a bucket chosen by its token share."""

    def __init__(self, idx, lengths, batch_tokens, rng):
        self.rng, self.batch_tokens = rng, batch_tokens
        self.buckets = []
        lo = 0
        for hi in BUCKETS:
            members = idx[(lengths[idx] > lo) & (lengths[idx] <= hi)]
            if len(members):
                self.buckets.append((hi, members))
            lo = hi
        tokens = np.array([lengths[m].sum() for _, m in self.buckets], dtype=np.float64)
        self.p = tokens / tokens.sum()

    def next(self):
        hi, members = self.buckets[self.rng.choice(len(self.buckets), p=self.p)]
        return self.rng.choice(members, size=max(1, self.batch_tokens // hi), replace=True)


def gather(ids_all, w_all, starts, lengths, pick, device):
    """Right-padded [B, L] tokens and weights (pads: token 0, weight 0; causal attention never looks right)."""
    s = torch.as_tensor(starts[pick], device=device)
    n = torch.as_tensor(lengths[pick], device=device)
    width = int(lengths[pick].max())
    ar = torch.arange(width, device=device)
    valid = ar[None, :] < n[:, None]
    pos = torch.where(valid, s[:, None] + ar[None, :], torch.zeros_like(s[:, None]))
    return ids_all[pos] * valid, w_all[pos] * valid


def weighted_loss(logits, ids, w):
    ce = F.cross_entropy(logits[:, :-1].float().reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1), reduction="none")
    ww = w[:, :-1].reshape(-1)
    return (ce * ww).sum() / ww.sum().clamp_min(1e-6)


@torch.no_grad()
def held_out(model, ids_all, w_all, starts, lengths, idx, device):
    """Answer loss and the share of answers whose every weighted token is the argmax (teacher forced), as
    BaseTrainer's validation; in float32, so argmax ties fall as in the Java engine."""
    model.eval()
    total, weight, exact = 0.0, 0.0, 0
    for i in range(0, len(idx), 64):
        pick = idx[i:i + 64]
        ids, w = gather(ids_all, w_all, starts, lengths, pick, device)
        lf = model(ids)[:, :-1].float()
        ce = F.cross_entropy(lf.reshape(-1, lf.shape[-1]), ids[:, 1:].reshape(-1), reduction="none").view(ids.shape[0], -1)
        ww = w[:, :-1]
        total += float((ce * ww).sum())
        weight += float(ww.sum())
        right = (lf.argmax(-1) == ids[:, 1:]) | (ww == 0)
        exact += int(right.all(dim=1).sum())
    model.train()
    return total / max(weight, 1e-6), exact / max(len(idx), 1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--samples", nargs="+", required=True, help="files from ./sac train base --export-samples (.xz allowed)")
    ap.add_argument("--config", required=True, help="the base model's config.json (Hugging Face Llama fields)")
    ap.add_argument("--init", help="float32 safetensors to start from (default: fresh weights, std 0.02)")
    ap.add_argument("--grow", action="store_true",
                    help="--init has fewer layers than --config (a divisor of it, k times fewer): each of its layers "
                         "becomes k, the first a copy, the others copies whose o_proj and down_proj are zero, so "
                         "the grown model starts computing exactly what --init computes (depth up-scaling)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--minutes", type=float, default=6.5, help="training time; the LR schedule spans it (default 6.5)")
    ap.add_argument("--batch-tokens", type=int, default=131072, help="padded tokens per batch (default 131072)")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--min-lr-fraction", type=float, default=0.05)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--qa-share", type=float, default=0.6, help="share of QA batches against text (default 0.6)")
    ap.add_argument("--eval-every", type=int, default=200, help="steps between held-out scores; 0 = only before and after")
    ap.add_argument("--save-every", type=float, default=90, help="seconds between checkpoints (default 90)")
    ap.add_argument("--parity-tokens", type=int, default=48)
    ap.add_argument("--keep-best", action="store_true",
                    help="write the model of the best held-out score (exact, then answer loss) instead of the last")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    a = ap.parse_args()

    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    device = torch.device(a.device)
    amp = device.type == "cuda"
    os.makedirs(a.out, exist_ok=True)
    log = open(os.path.join(a.out, "log.jsonl"), "a")

    parts = [read_samples(p) for p in a.samples]
    kinds = np.concatenate([p[0] for p in parts])
    lengths = np.concatenate([p[1] for p in parts])
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    ids_all = torch.from_numpy(np.concatenate([p[2] for p in parts]).astype(np.int64)).to(device)
    w_all = torch.from_numpy(np.concatenate([p[3] for p in parts])).to(device)
    allidx = np.arange(len(kinds))
    too_long = int(((lengths > BUCKETS[-1]) & (kinds != HELD_OUT)).sum())
    qa_idx = allidx[(kinds == QA) & (lengths <= BUCKETS[-1])]
    text_idx = allidx[(kinds == TEXT) & (lengths <= BUCKETS[-1])]
    first = allidx < len(parts[0][0])
    dev_idx = allidx[(kinds == HELD_OUT) & first]   # every file carries the same held-out set: score the first file's
    print(f"samples: {len(qa_idx):,} QA ({int(lengths[qa_idx].sum()):,} tokens), {len(text_idx):,} text "
          f"({int(lengths[text_idx].sum()):,} tokens), {len(dev_idx)} held-out; left out for length: {too_long}", flush=True)

    c = json.load(open(a.config))
    model = Llama(c).to(device)
    if a.init:
        state = read_safetensors(a.init)
        if a.grow:
            state = grown(state, c["num_hidden_layers"], a.init)
        own = model.hf_state()
        missing = set(own) - set(state)
        if missing:
            sys.exit(f"{a.init}: missing {sorted(missing)[:3]}")
        with torch.no_grad():
            for k, p in own.items():
                p.copy_(state[k])
    n_params = sum(p.numel() for p in model.parameters())
    decay = [p for p in model.parameters() if p.dim() == 2]
    other = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": other, "weight_decay": 0.0}],
                            lr=a.lr, betas=(0.9, 0.95), eps=1e-8, fused=device.type == "cuda")
    if len(qa_idx) == 0:
        sys.exit("no QA samples in " + " ".join(a.samples))
    qa_batches = Batches(qa_idx, lengths, a.batch_tokens, rng)
    text_batches = Batches(text_idx, lengths, a.batch_tokens, rng) if len(text_idx) else None
    if text_batches is None:
        a.qa_share = 1.0

    loss, acc = held_out(model, ids_all, w_all, starts, lengths, dev_idx, device)
    print(f"params {n_params:,}; held-out before: answer loss {loss:.3f}, exact {100 * acc:.1f} %", flush=True)
    log.write(json.dumps({"step": 0, "dev_loss": loss, "dev_exact": acc}) + "\n")

    budget = a.minutes * 60
    t0 = time.time()
    last_save = t0
    step, seen, smooth = 0, 0, None
    best = None   # (held-out exact, -answer loss, step) of best.safetensors, the best model scored so far
    if a.keep_best:   # the starting model counts: a run that never beats it returns it
        best = (acc, -loss, 0)
        write_safetensors(os.path.join(a.out, "best.safetensors"), model.hf_state())
    while True:
        elapsed = time.time() - t0
        if elapsed >= budget:
            break
        frac = elapsed / budget
        lr = a.lr * min(1.0, (step + 1) / a.warmup)
        lr *= a.min_lr_fraction + (1 - a.min_lr_fraction) * 0.5 * (1 + math.cos(math.pi * frac))
        for g in opt.param_groups:
            g["lr"] = lr
        kind = QA if rng.random() < a.qa_share else TEXT
        pick = (qa_batches if kind == QA else text_batches).next()
        ids, w = gather(ids_all, w_all, starts, lengths, pick, device)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
            logits = model(ids)
        loss = weighted_loss(logits, ids, w)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        if torch.isfinite(norm):
            opt.step()
        step += 1
        seen += int(lengths[pick].sum())
        if step % 25 == 0:
            lv = float(loss)
            smooth = lv if smooth is None else 0.9 * smooth + 0.1 * lv
            rate = seen / (time.time() - t0)
            print(f"step {step:6d}  {100 * frac:5.1f} %  loss {smooth:.3f}  lr {lr:.2e}  {rate / 1e6:.2f} M tok/s  "
                  f"ETA {budget - elapsed:5.0f} s", flush=True)
            log.write(json.dumps({"step": step, "loss": lv, "lr": lr, "tokens": seen, "s": time.time() - t0}) + "\n")
        if a.eval_every > 0 and step % a.eval_every == 0:
            dl, da = held_out(model, ids_all, w_all, starts, lengths, dev_idx, device)
            print(f"  held-out at step {step}: answer loss {dl:.3f}, exact {100 * da:.1f} %", flush=True)
            log.write(json.dumps({"step": step, "dev_loss": dl, "dev_exact": da}) + "\n")
            log.flush()
            if best is None or (da, -dl) > best[:2]:
                best = (da, -dl, step)
                write_safetensors(os.path.join(a.out, "best.safetensors"), model.hf_state())
        if time.time() - last_save > a.save_every:
            write_safetensors(os.path.join(a.out, "model.safetensors"), model.hf_state())
            last_save = time.time()

    dl, da = held_out(model, ids_all, w_all, starts, lengths, dev_idx, device)
    log.write(json.dumps({"step": step, "dev_loss": dl, "dev_exact": da}) + "\n")   # the last model's, kept or not
    kept = step
    if a.keep_best and best is not None and best[:2] > (da, -dl):
        # an earlier score was better (the run overfitted after it): that model is the output
        state = read_safetensors(os.path.join(a.out, "best.safetensors"))
        with torch.no_grad():
            for k, p in model.hf_state().items():
                p.copy_(state[k].to(p.device))
        da, dl, kept = best[0], -best[1], best[2]
        print(f"keeping the model of step {kept} (held-out exact {100 * da:.1f} %), the best scored", flush=True)
    write_safetensors(os.path.join(a.out, "model.safetensors"), model.hf_state())
    summary = {"steps": step, "tokens": seen, "seconds": time.time() - t0, "dev_loss": dl, "dev_exact": da,
               "kept_step": kept, "device": torch.cuda.get_device_name(0) if device.type == "cuda" else "cpu",
               "params": n_params}
    print(f"done: {json.dumps(summary)}", flush=True)
    log.write(json.dumps(summary) + "\n")
    log.close()
    parity(model, c, ids_all, starts, lengths, dev_idx, a)


@torch.no_grad()
def parity(model, c, ids_all, starts, lengths, dev_idx, a):
    """Reference logits for the Java engine: float32, the first N tokens of the first held-out sample."""
    if a.parity_tokens <= 0:
        return
    model = model.float().cpu().eval()
    n = min(a.parity_tokens, int(lengths[dev_idx[0]]))
    ids = ids_all[int(starts[dev_idx[0]]): int(starts[dev_idx[0]]) + n].cpu()[None, :]
    mine = model(ids)[0]
    reference, source = mine, "this script"
    try:
        from transformers import LlamaConfig, LlamaForCausalLM
        hf = LlamaForCausalLM(LlamaConfig(**{k: v for k, v in c.items() if k not in ("architectures", "torch_dtype")}))
        result = hf.load_state_dict({k: v.detach().clone() for k, v in model.hf_state().items()}, strict=False)
        if set(result.missing_keys) - {"lm_head.weight"} or result.unexpected_keys:
            raise ValueError(f"names differ: missing {result.missing_keys}, unexpected {result.unexpected_keys}")
        hf.tie_weights()
        hf = hf.float().eval()
        theirs = hf(input_ids=ids).logits[0]
        diff = float((theirs - mine).abs().max())
        print(f"parity: max |logit difference| vs transformers LlamaForCausalLM = {diff:.2e}", flush=True)
        reference, source = theirs, "transformers LlamaForCausalLM"
    except Exception as e:  # the reference is still this script's own forward
        print(f"parity: transformers not usable ({type(e).__name__}: {e}); writing this script's logits", flush=True)
    reference.float().numpy().astype("<f4").tofile(os.path.join(a.out, "parity-logits.bin"))
    json.dump({"tokens": ids[0].tolist(), "vocab": int(reference.shape[-1]), "source": source},
              open(os.path.join(a.out, "parity.json"), "w"))


if __name__ == "__main__":
    main()
