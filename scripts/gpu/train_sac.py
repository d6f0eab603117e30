#!/usr/bin/env python3
"""Trains a SAC adapter on a GPU: the recipe of the Java `SacTrainer`, written in PyTorch.

On the 2-core CPU the Java trainer sees each training question about once in its 90-minute
budget, and the adapter never learns to read (models/sac-demo/MODEL_CARD.md). When a GPU
machine is lent, this script runs the same training there, much longer:

* the examples are not rebuilt here: `./sac train sac ... --export-examples FILE` tokenises the
  training data with the Java code (`SacExamples`: documents = BOS + context prompt + text,
  questions = question prompt + question + answer prompt, answers + EOS) and writes it with the
  adapter's sac.json; this script draws from them as `SacExamples.continuation` / `.qa` do (the
  same rules, its own random numbers);
* the graph is `AnchorGraph`'s: documents cut into chunks of `chunkSize`, anchors at the
  midpoints of every r tokens, the anchor table added at layer 0, bidirectional attention
  inside a chunk (causal for the sac-causal ablation), LoRA on the compressor only, the
  post-RoPE K/V of the anchors kept, documents composed one after another, [LM] at position T,
  then the question and answer teacher-forced through the frozen decoder against the anchors;
* loss as `SacTrainer`: stage 1 continuation (compress the first half of a text, predict up to
  256 tokens of the second), stage 2 answer tokens + EOS only, each example's loss averaged
  over its weighted tokens, the batch averaged over examples; AdamW (0.9, 0.95, wd 0.1, none on
  the anchor table and [LM]), gradient norm clipped at 2, one ratio drawn per step.

Deviations, each for the GPU: (1) compressor RoPE positions are offset + 1 + j directly instead
of 1 + j followed by a rotation by the offset (rotations compose, so the keys are the same up to
rounding; the serving path rotates, and `--parity` checks the two agree); (2) many examples per
step (`--batch`) and a cosine decay of the stage-2 learning rate over the time budget, where the
CPU run used 8 and a constant rate; (3) bf16 autocast on CUDA (weights, the output head and the loss in float32; the committed
adapters were trained before the head was taken out of autocast, with bf16 logits).

Bases: what the Java engine runs (Llama, with llama3 RoPE scaling; Qwen2 with q/k/v biases; Qwen3
with q/k norms; tied or untied heads; F32, F16 or BF16, one file or shards), e.g. Llama-3.2-1B
(not yet run on one: the weights are held in float32, so size --batch to the GPU's memory).

Writes OUT/NAME/sac.json and OUT/NAME/sac.safetensors (the adapter folder `sac eval` reads),
snapshots OUT/NAME-step<N>.safetensors every --snapshot-every seconds, OUT/NAME-log.jsonl, and
a resumable OUT/NAME-checkpoint.pt.

`--parity FIXTURE` runs no training: it computes, in float32 on the CPU, the loss of the
adapter given by --init on one fixed stage-2 example (the first question's document composed
with the next two documents) and writes FIXTURE; `SacPyTorchParityTest` recomputes that loss
with the Java graph. The committed adapters came from scripts/gpu/train_sac_adapters.sh, which
runs this script for the adapter and both ablations side by side; one run alone:
  python3 scripts/gpu/train_sac.py --examples sac-examples.bin.xz --spec sac.json \\
      --base models/sac-demo/base --out $OUT --name sac --minutes 6 --batch 64 --lr1 1.5e-3 --lr2 1.5e-3
"""
import argparse
import hashlib
import json
import lzma
import math
import os
import queue
import struct
import sys
import threading
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fingerprint import base_fingerprint  # noqa: E402
from pretrain_base import grow_layers, write_safetensors  # noqa: E402

MAGIC = b"SACEXMP2"
ATTENTION_DTYPE = torch.float32           # bf16 when training under CUDA autocast
TARGETS = {  # name -> (input width, output width) in terms of the config
    "q_proj": ("e", "q"), "k_proj": ("e", "kv"), "v_proj": ("e", "kv"), "o_proj": ("q", "e"),
    "gate_proj": ("e", "i"), "up_proj": ("e", "i"), "down_proj": ("i", "e"),
}


# ---------------------------------------------------------------------------------------------
# Examples (SacExamples.export's file) and the draws SacExamples makes
# ---------------------------------------------------------------------------------------------

class Examples:
    def __init__(self, path, questions_per_example, rng):
        opener = lzma.open if path.endswith(".xz") else open
        with opener(path, "rb") as f:
            data = f.read()
        if data[:8] != MAGIC:
            sys.exit(f"{path}: not an examples file (made by ./sac train sac --export-examples)")
        nd, nq, nx, self.body_start, self.max_composed, np_, width = struct.unpack_from("<7i", data, 8)
        if width not in (2, 4):
            sys.exit(f"{path}: token width {width}, expected 2 or 4")
        dtype = "<u2" if width == 2 else "<u4"
        off = 8 + 28
        self.prefix = np.frombuffer(data, dtype, np_, off).astype(np.int64)
        off += width * np_

        def ints(n):
            nonlocal off
            a = np.frombuffer(data, "<i4", n, off).astype(np.int64)
            off += 4 * n
            return a

        doc_len, q_doc, q_plen, q_alen, x_len = ints(nd), ints(nq), ints(nq), ints(nq), ints(nx)
        total = int(doc_len.sum() + q_plen.sum() + q_alen.sum() + x_len.sum())
        tok = np.frombuffer(data, dtype, total, off).astype(np.int64 if width == 4 else np.int32)
        off += width * total
        if off != len(data):
            sys.exit(f"{path}: {len(data)} bytes, the header implies {off}: truncated or not this format")
        at = 0

        def take(n):
            nonlocal at
            a = tok[at:at + n]
            at += n
            return a

        self.docs = [take(n) for n in doc_len]
        self.questions = []
        for p, a in zip(q_plen, q_alen):
            self.questions.append((take(p), take(a)))
        extra = [take(n) for n in x_len]
        self.q_doc = q_doc
        self.doc_questions = [[] for _ in range(nd)]
        for q, d in enumerate(q_doc):
            self.doc_questions[d].append(q)
        self.texts = [d[self.body_start:] for d in self.docs] + extra
        self.text_share = None   # --text-share: the chance a continuation text is plain text (None: all alike)
        self.qpe = questions_per_example
        self.rng = rng
        print(f"examples: {nd:,} documents, {nq:,} questions, {len(self.texts):,} stage-1 texts "
              f"({nx:,} beside the document bodies), {total:,} tokens", flush=True)

    def continuation(self):
        """A text window of 128-1024 tokens: compress BOS + prompt + its first half, predict <= 256 more."""
        r = self.rng
        nd, plain = len(self.docs), len(self.texts) - len(self.docs)
        if self.text_share is None:
            t = self.texts[r.integers(len(self.texts))]
        elif r.random() < self.text_share:   # as SacExamples.continuation with plainTextShare
            t = self.texts[nd + int(r.integers(plain))]
        else:
            t = self.texts[int(r.integers(nd))]
        n = min(len(t), 128 + int(r.integers(897)))
        s = int(r.integers(len(t) - n + 1))
        t = t[s:s + n]
        half = len(t) // 2
        ctx = np.concatenate([self.prefix, t[:half]])
        target = t[half:half + 256]
        return [ctx], [(target[:-1], target, np.ones(len(target), np.float32))]

    def qa(self):
        """A question's document with 0-3 others (<= max composed tokens), up to N questions about them."""
        r = self.rng
        qi = int(r.integers(len(self.questions)))
        answer_doc = int(self.q_doc[qi])
        chosen = [answer_doc]
        tokens = len(self.docs[answer_doc])
        k = 1 + int(r.integers(4))
        tries = 0
        while len(chosen) < k and tries < 10:
            d = int(r.integers(len(self.docs)))
            if d not in chosen and tokens + len(self.docs[d]) <= self.max_composed:
                chosen.append(d)
                tokens += len(self.docs[d])
            tries += 1
        others = [q for d in (chosen if self.qpe > 1 else []) for q in self.doc_questions[d] if q != qi]
        r.shuffle(others)
        asked = [qi] + others[:self.qpe - 1]
        r.shuffle(chosen)
        return [self.docs[d] for d in chosen], [qa_row(*self.questions[q]) for q in asked]


def qa_row(prompt, answer):
    """SacTrainer.QaRows for one question: decoder input (after [LM]), targets, weights (answer + EOS)."""
    target = np.concatenate([prompt, answer])
    w = np.zeros(len(target), np.float32)
    w[len(prompt):] = 1
    return target[:-1], target, w                 # [LM] predicts prompt[0] (weight 0) ... the last input predicts EOS


def anchor_offsets(n, r):
    """AnchorPositions.inChunk: the middle of every r tokens, or the first token when there is none."""
    first = (r - 1) // 2
    return np.array([0]) if first >= n else np.arange(first, n, r)


def build_batch(examples, ratio, chunk_size):
    """Flat arrays for one step: compressor chunks, anchors, decoder rows (numpy, CPU)."""
    c_ids, c_pos, c_len = [], [], []
    a_chunk, a_pos, a_slot, a_ex, a_idx = [], [], [], [], []
    r_in, r_tgt, r_w, r_ex, r_start = [], [], [], [], []
    ex_anchors = []
    for e, (docs, rows) in enumerate(examples):
        offset, n_anchor = 0, 0
        for doc in docs:
            for start in range(0, len(doc), chunk_size):
                piece = doc[start:start + chunk_size]
                ci = len(c_ids)
                c_ids.append(piece)
                c_pos.append(offset + start + 1 + np.arange(len(piece)))
                c_len.append(len(piece))
                offs = anchor_offsets(len(piece), ratio)
                a_chunk.append(np.full(len(offs), ci))
                a_pos.append(offs)
                a_slot.append(np.arange(len(offs)))
                a_ex.append(np.full(len(offs), e))
                a_idx.append(n_anchor + np.arange(len(offs)))
                n_anchor += len(offs)
            offset += len(doc)
        ex_anchors.append(n_anchor)
        for inp, tgt, w in rows:
            r_in.append(inp)
            r_tgt.append(tgt)
            r_w.append(w)
            r_ex.append(e)
            r_start.append(offset)                  # [LM] sits at position T = the composed length
    t = max(c_len)
    ids = np.zeros((len(c_ids), t), np.int64)
    pos = np.zeros((len(c_ids), t), np.int64)
    for i, (x, p) in enumerate(zip(c_ids, c_pos)):
        ids[i, :len(x)] = x
        pos[i, :len(x)] = p
    valid = np.arange(t)[None, :] < np.array(c_len)[:, None]
    width = 1 + max(len(x) for x in r_in)
    d_ids = np.zeros((len(r_in), width - 1), np.int64)
    d_tgt = np.zeros((len(r_in), width), np.int64)
    d_w = np.zeros((len(r_in), width), np.float32)
    for i, (x, y, w) in enumerate(zip(r_in, r_tgt, r_w)):
        d_ids[i, :len(x)] = x
        d_tgt[i, :len(y)] = y
        d_w[i, :len(w)] = w
    d_pos = np.array(r_start)[:, None] + np.arange(width)[None, :]
    n_max = max(ex_anchors)
    a_valid = np.arange(n_max)[None, :] < np.array(ex_anchors)[:, None]
    cat = np.concatenate
    return dict(ids=ids, pos=pos, valid=valid, a_chunk=cat(a_chunk), a_pos=cat(a_pos), a_slot=cat(a_slot),
                a_ex=cat(a_ex), a_idx=cat(a_idx), a_valid=a_valid, d_ids=d_ids, d_pos=d_pos, d_tgt=d_tgt, d_w=d_w,
                r_ex=np.array(r_ex), examples=len(examples),
                tokens=int(sum(c_len) + sum(len(x) + 1 for x in r_in)))


# ---------------------------------------------------------------------------------------------
# The frozen base, the adapter, the graph
# ---------------------------------------------------------------------------------------------

def read_tensors(path):
    """One safetensors file as float32 tensors; F32, F16 and BF16 (what real checkpoints ship).
    (pretrain_base.read_safetensors reads F32 only: the demo base it trains is F32.)"""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        body = f.read()
    out = {}
    for key, meta in header.items():
        if key == "__metadata__":
            continue
        a, b = meta["data_offsets"]
        raw = body[a:b]
        if meta["dtype"] == "F32":
            v = np.frombuffer(raw, "<f4")
        elif meta["dtype"] == "F16":
            v = np.frombuffer(raw, "<f2").astype(np.float32)
        elif meta["dtype"] == "BF16":
            v = (np.frombuffer(raw, "<u2").astype(np.uint32) << 16).view(np.float32)
        else:
            sys.exit(f"{path}: {key} is {meta['dtype']}; this script reads F32, F16 and BF16")
        out[key] = torch.from_numpy(v.copy()).view(meta["shape"])
    return out


def read_checkpoint(folder):
    """A Hugging Face folder's weights: model.safetensors, or the shards its index names."""
    index = os.path.join(folder, "model.safetensors.index.json")
    files = sorted(set(json.load(open(index))["weight_map"].values())) if os.path.exists(index) else ["model.safetensors"]
    out = {}
    for name in files:
        out.update(read_tensors(os.path.join(folder, name)))
    return out


class Base:
    """Frozen weights of a Llama-family decoder (Hugging Face names) and the pieces of its
    forward, as the Java Transformer runs them: Llama (llama3 RoPE scaling too), Qwen2 (q/k/v
    biases), Qwen3 (RMSNorm of each q and k head before RoPE), a tied or separate output head."""

    def __init__(self, folder, device):
        c = json.load(open(os.path.join(folder, "config.json")))
        self.c = c
        w = read_checkpoint(folder)
        self.w = {k: v.to(device) for k, v in w.items()}
        self.embed = self.w["model.embed_tokens.weight"]
        tied = c.get("tie_word_embeddings", False) or "lm_head.weight" not in self.w   # as Weights.load
        self.head = self.embed if tied else self.w["lm_head.weight"]
        self.layers = c["num_hidden_layers"]
        self.h, self.kv = c["num_attention_heads"], c["num_key_value_heads"]
        self.d = c.get("head_dim") or c["hidden_size"] // self.h
        self.eps = c["rms_norm_eps"]
        self.inv_freq = torch.tensor(inverse_frequencies(c, self.d), dtype=torch.float64, device=device)
        self.widths = {"e": c["hidden_size"], "q": self.h * self.d, "kv": self.kv * self.d,
                       "i": c["intermediate_size"]}

    def lw(self, i, name):
        group = "mlp" if name in ("gate_proj", "up_proj", "down_proj") else "self_attn"
        return self.w[f"model.layers.{i}.{group}.{name}.weight"]

    def bias(self, i, name):
        """Qwen2's q/k/v biases; None for the projections and models without one."""
        return self.w.get(f"model.layers.{i}.self_attn.{name}.bias")

    def qk_norm(self, i, q, k):
        """Qwen3: RMSNorm over head_dim of every q and k head (q, k [B, heads, T, D]), before RoPE."""
        p = f"model.layers.{i}.self_attn."
        if p + "q_norm.weight" not in self.w:
            return q, k
        return self.rms(q, self.w[p + "q_norm.weight"]), self.rms(k, self.w[p + "k_norm.weight"])

    def rms(self, x, weight):
        xf = x.float()
        return (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)).to(x.dtype) * weight

    def rope(self, pos):
        """cos, sin [B, 1, T, D] for integer positions [B, T]; angles in float64 as Rope.tables."""
        ang = pos.double()[..., None] * self.inv_freq
        ang = torch.cat((ang, ang), dim=-1)
        return ang.cos().float()[:, None], ang.sin().float()[:, None]

    @staticmethod
    def rotate(x, cos, sin):
        h = x.shape[-1] // 2
        return x * cos + torch.cat((-x[..., h:], x[..., :h]), dim=-1) * sin


def inverse_frequencies(c, d):
    """Rope.inverseFrequencies: 1/theta^(2i/D), rescaled by the llama3 rule when the config asks."""
    f = [1.0 / (c["rope_theta"] ** (2.0 * i / d)) for i in range(d // 2)]
    s = c.get("rope_scaling")
    if s:
        kind = s.get("rope_type", s.get("type", ""))
        if kind != "llama3":
            sys.exit(f"rope_scaling type {kind!r} is not implemented (llama3 is)")
        old = s["original_max_position_embeddings"]
        low, high = old / s["low_freq_factor"], old / s["high_freq_factor"]
        for i, x in enumerate(f):
            wavelen = 2 * math.pi / x
            if wavelen > low:
                f[i] = x / s["factor"]
            elif wavelen >= high:
                smooth = (old / wavelen - s["low_freq_factor"]) / (s["high_freq_factor"] - s["low_freq_factor"])
                f[i] = (1 - smooth) * x / s["factor"] + smooth * x
    return f


def proj(base, i, name, x, lora, scale):
    y = x @ base.lw(i, name).t()
    b = base.bias(i, name) if name in ("q_proj", "k_proj", "v_proj") else None
    if b is not None:
        y = y + b
    if lora is not None and (i, name) in lora:
        a, b = lora[(i, name)]
        y = y + (x @ a.t() @ b.t()) * scale
    return y


def attend(q, k, v, mask, rep):
    """q [B, H, T, D], k/v [B, Hkv, S, D] (head j reads KV head j // rep), mask bool [B|1, 1, T, S]."""
    dt = ATTENTION_DTYPE                      # RoPE leaves q and k in float32 under autocast, v in bf16
    q, k, v = q.to(dt), k.repeat_interleave(rep, dim=1).to(dt), v.repeat_interleave(rep, dim=1).to(dt)
    if hasattr(F, "scaled_dot_product_attention"):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    s = (q @ k.transpose(-1, -2)) / math.sqrt(q.shape[-1])
    s = s.masked_fill(~mask, float("-inf"))
    return torch.softmax(s.float(), dim=-1).to(v.dtype) @ v


class Adapter(torch.nn.Module):
    def __init__(self, base, spec, seed):
        super().__init__()
        self.spec = spec
        g = torch.Generator().manual_seed(seed)
        e = base.c["hidden_size"]
        rank = spec["loraRank"]
        self.scale = spec["loraAlpha"] / rank
        self.names = []
        for i in range(base.layers):
            for t in spec["loraTargets"]:
                fin, fout = (base.widths[x] for x in TARGETS[t])
                bound = math.sqrt(1.0 / fin)   # kaiming_uniform(a=sqrt(5)), B zeros: training starts at the base
                a = (torch.rand(rank, fin, generator=g) * 2 - 1) * bound
                self.register_parameter(self.key(i, t, "A"), torch.nn.Parameter(a))
                self.register_parameter(self.key(i, t, "B"), torch.nn.Parameter(torch.zeros(fout, rank)))
                self.names.append((i, t))
        emb = base.embed.float().cpu()   # the paper initialises the anchor table and [LM] from these statistics
        mean, std = float(emb.mean()), float(emb.std(unbiased=False))
        self.anchor_embedding = torch.nn.Parameter(mean + std * torch.randn(spec["anchorSlots"], e, generator=g))
        self.lm_token = torch.nn.Parameter(mean + std * torch.randn(e, generator=g))

    @staticmethod
    def key(i, t, ab):
        return f"l{i}_{t}_{ab}"

    def lora(self):
        return {(i, t): (getattr(self, self.key(i, t, "A")), getattr(self, self.key(i, t, "B"))) for i, t in self.names}

    def tensors(self):
        """SacAdapter's names: lora.layers.{i}.{target}.lora_A / lora_B, anchor_embedding, lm_token."""
        out = {"anchor_embedding": self.anchor_embedding, "lm_token": self.lm_token}
        for (i, t), (a, b) in self.lora().items():
            out[f"lora.layers.{i}.{t}.lora_A"] = a
            out[f"lora.layers.{i}.{t}.lora_B"] = b
        return out

    def load(self, path, grow=False, widen=False):
        state = read_tensors(path)
        if grow:
            state = grown_adapter(state, len({i for i, _ in self.names}), path)
        if widen:
            state = self.widened(state, path)
        with torch.no_grad():
            for name, p in self.tensors().items():
                if name not in state or tuple(state[name].shape) != tuple(p.shape):
                    sys.exit(f"{path}: no tensor {name} of shape {tuple(p.shape)}")
                p.copy_(state[name])

    def widened(self, state, path):
        """--widen-init: an adapter with fewer LoRA targets or a smaller rank, brought to this spec's. A
        target it lacks keeps this adapter's fresh initialisation (B zero); a smaller rank r0 fills
        A's first r0 rows and B's first r0 columns, the rest staying fresh (B's zero). With the same
        alpha/rank scale the widened adapter computes exactly what the saved one did, so training
        starts there with more capacity (used to test whether q/v at rank 16 is what holds the demo
        adapter back; the paper's LoRA is q/v only)."""
        spec_file = os.path.join(os.path.dirname(os.path.abspath(path)), "sac.json")
        if not os.path.exists(spec_file):
            sys.exit(f"--widen-init: no sac.json beside {path} to check its LoRA scale against")
        saved = json.load(open(spec_file))
        saved_scale = saved["loraAlpha"] / saved["loraRank"]
        if abs(saved_scale - self.scale) > 1e-9:
            sys.exit(f"--widen-init: {spec_file} scales LoRA by alpha / rank = {saved_scale:g}, --spec by {self.scale:g}; "
                     f"set --spec's loraAlpha to {saved_scale:g} x its rank so the widened adapter starts from what the "
                     "saved one computes")
        mine = self.tensors()
        dropped = sorted(k for k in state if k.startswith("lora.") and k not in mine)
        if dropped:
            sys.exit(f"--widen-init: --spec has no place for {len(dropped)} LoRA tensors of {path} (e.g. {dropped[0]}): "
                     "widening adds targets or rank, it does not drop them")
        out = dict(state)
        for name, p in mine.items():
            if not name.startswith("lora."):
                continue
            if name not in state:
                out[name] = p.detach().clone()
                continue
            old, fresh = state[name], p.detach().clone()
            if old.shape == fresh.shape:
                continue
            if name.endswith("lora_A") and old.shape[1] == fresh.shape[1] and old.shape[0] < fresh.shape[0]:
                fresh[:old.shape[0]] = old
            elif name.endswith("lora_B") and old.shape[0] == fresh.shape[0] and old.shape[1] < fresh.shape[1]:
                fresh[:, :old.shape[1]] = old
            else:
                sys.exit(f"{path}: {name} has shape {tuple(old.shape)}, which --widen-init cannot widen to "
                         f"{tuple(fresh.shape)} (only a larger rank or a new target)")
            out[name] = fresh
        return out


def grown_adapter(state, layers, path):
    """An adapter of a base grown in depth (pretrain_base.py --grow: layer i of k*n copies layer i // k):
    layer i gets the LoRA of layer i // k; on the zero-output copies (i % k > 0) B is zero, so on the
    grown base before any training the adapter computes what it did (on a grown base trained since,
    it starts near there), and A is the original's, so B learns from the first step."""
    return grow_layers(state, "lora.layers", layers, lambda rest: rest.endswith("lora_B"), path)


def attention_inputs(base, i, x, lora, scale, cos, sin):
    """Layer i's q [B, H, T, D] and post-RoPE k, v [B, Hkv, T, D] for x [B, T, E]."""
    bsz, t, _ = x.shape
    a = base.rms(x, base.w[f"model.layers.{i}.input_layernorm.weight"])
    q = proj(base, i, "q_proj", a, lora, scale).view(bsz, t, base.h, base.d).transpose(1, 2)
    k = proj(base, i, "k_proj", a, lora, scale).view(bsz, t, base.kv, base.d).transpose(1, 2)
    v = proj(base, i, "v_proj", a, lora, scale).view(bsz, t, base.kv, base.d).transpose(1, 2)
    q, k = base.qk_norm(i, q, k)
    return base.rotate(q, cos, sin), base.rotate(k, cos, sin), v


def rest_of_layer(base, i, x, q, k, v, mask, lora, scale):
    """x after layer i's attention over k, v (o_proj, residual) and its MLP."""
    bsz, t, _ = x.shape
    o = attend(q, k, v, mask, base.h // base.kv).transpose(1, 2).reshape(bsz, t, base.h * base.d)
    x = x + proj(base, i, "o_proj", o, lora, scale)
    m = base.rms(x, base.w[f"model.layers.{i}.post_attention_layernorm.weight"])
    gate = proj(base, i, "gate_proj", m, lora, scale)
    up = proj(base, i, "up_proj", m, lora, scale)
    return x + proj(base, i, "down_proj", F.silu(gate) * up, lora, scale)


def compress(base, adapter, b):
    """Anchor K and V per layer, [N, Hkv, D] each, in the order of b's anchor arrays."""
    spec = adapter.spec
    x = base.embed[b["ids"]]                                                     # [C, T, E]
    if spec["anchorEmbedding"]:
        x = x.index_put((b["a_chunk"], b["a_pos"]), adapter.anchor_embedding[b["a_slot"]].to(x.dtype), accumulate=True)
    cos, sin = base.rope(b["pos"])
    t = b["ids"].shape[1]
    mask = b["valid"][:, None, None, :]                                          # [C, 1, 1, T]
    if not spec["bidirectional"]:
        mask = mask & torch.ones(t, t, dtype=torch.bool, device=x.device).tril()[None, None]
    lora, scale = adapter.lora(), adapter.scale
    keys, values = [], []
    for i in range(base.layers):
        q, k, v = attention_inputs(base, i, x, lora, scale, cos, sin)
        keys.append(k[b["a_chunk"], :, b["a_pos"]])                              # [N, Hkv, D]
        values.append(v[b["a_chunk"], :, b["a_pos"]])
        if i == base.layers - 1:
            break                                                                # the rest never reaches the anchors
        x = rest_of_layer(base, i, x, q, k, v, mask, lora, scale)
    return keys, values


def decode(base, adapter, b, keys, values):
    """Teacher-forced logits [R, 1 + L, V]: [LM] + each row's tokens against its example's anchors."""
    n_ex, n_max = b["a_valid"].shape
    rows = b["d_ids"].shape[0]
    x = torch.cat((adapter.lm_token.to(base.embed.dtype).expand(rows, 1, -1), base.embed[b["d_ids"]]), dim=1)
    n = x.shape[1]
    cos, sin = base.rope(b["d_pos"])
    causal = torch.ones(n, n, dtype=torch.bool, device=x.device).tril()
    mask = torch.cat((b["a_valid"][b["r_ex"]][:, None, None, :].expand(rows, 1, n, n_max),
                      causal[None, None].expand(rows, 1, n, n)), dim=-1).contiguous()  # [R, 1, n, Nmax + n]
    for i in range(base.layers):
        ak = keys[i].new_zeros(n_ex, n_max, base.kv, base.d).index_put((b["a_ex"], b["a_idx"]), keys[i])
        av = values[i].new_zeros(n_ex, n_max, base.kv, base.d).index_put((b["a_ex"], b["a_idx"]), values[i])
        q, k, v = attention_inputs(base, i, x, None, 0, cos, sin)               # the decoder: no LoRA
        k = torch.cat((ak[b["r_ex"]].transpose(1, 2).to(k.dtype), k), dim=2)    # [R, Hkv, Nmax + n, D]
        v = torch.cat((av[b["r_ex"]].transpose(1, 2).to(v.dtype), v), dim=2)
        x = rest_of_layer(base, i, x, q, k, v, mask, None, 0)
    with torch.autocast(x.device.type, enabled=False):      # the head and the loss in float32
        x = base.rms(x.float(), base.w["model.norm.weight"])
        return x @ base.head.t()


def loss_of(logits, b):
    """Each example's weighted mean of -log p over its rows' scored tokens; the batch's mean over examples."""
    ce = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), b["d_tgt"].reshape(-1),
                         reduction="none").view(b["d_tgt"].shape)
    n = b["examples"]
    per_ex = torch.zeros(n, device=ce.device).index_add(0, b["r_ex"], (ce * b["d_w"]).sum(1))
    weight = torch.zeros(n, device=ce.device).index_add(0, b["r_ex"], b["d_w"].sum(1))
    return (per_ex / weight.clamp_min(1e-6)).mean()


def dev_batches(path, spec, questions, per_batch=64):
    """Held-out examples for --dev-examples: the first N questions, each against its own document
    alone, fixed for the whole run; batches per ratio, built once."""
    ex = Examples(path, 1, np.random.default_rng(0))
    items = [([ex.docs[int(ex.q_doc[q])]], [qa_row(*ex.questions[q])])
             for q in range(min(questions, len(ex.questions)))]
    return {r: [build_batch(items[i:i + per_batch], r, spec["chunkSize"]) for i in range(0, len(items), per_batch)]
            for r in spec["ratios"]}


@torch.no_grad()
def held_out(base, adapter, dev, device, amp):
    """Per ratio: answer loss (nats/token) and the share of answers whose every token (EOS too) is
    the argmax, teacher forced, as the Java base trainer's held-out score."""
    out = {}
    for ratio, bs in dev.items():
        total, weight, exact, n = 0.0, 0.0, 0, 0
        for b in bs:
            bd = to_device(b, device)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
                keys, values = compress(base, adapter, bd)
                logits = decode(base, adapter, bd, keys, values)
            ce = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), bd["d_tgt"].reshape(-1),
                                 reduction="none").view(bd["d_tgt"].shape)
            total += float((ce * bd["d_w"]).sum())
            weight += float(bd["d_w"].sum())
            right = (logits.argmax(-1) == bd["d_tgt"]) | (bd["d_w"] == 0)
            exact += int(right.all(dim=1).sum())
            n += bd["d_tgt"].shape[0]
        out[str(ratio)] = {"loss": total / max(weight, 1e-6), "exact": exact / max(n, 1)}
    return out


def to_device(b, device):
    return {k: (torch.from_numpy(v).to(device, non_blocking=True) if isinstance(v, np.ndarray) else v)
            for k, v in b.items()}


def batches(ex, spec, a, stage1_steps, start_step, rng):
    """Builds step batches ahead on a thread (numpy), so the GPU does not wait for Python."""
    q = queue.Queue(maxsize=8)

    def work():
        step = start_step
        try:
            while True:
                ratio = int(spec["ratios"][rng.integers(len(spec["ratios"]))])   # one ratio per batch
                stage1 = step < stage1_steps
                # --continuation-share: stage-2 examples drawn as continuation instead (SacTrainer's continuationShare)
                items = [ex.continuation() if stage1 or (a.continuation_share > 0 and ex.rng.random() < a.continuation_share)
                         else ex.qa() for _ in range(a.batch)]
                q.put((step, stage1, ratio, build_batch(items, ratio, spec["chunkSize"])))
                step += 1
        except BaseException as e:   # the trainer must stop (and save) rather than wait for ever
            q.put(e)

    threading.Thread(target=work, daemon=True).start()
    while True:
        item = q.get()
        if isinstance(item, BaseException):
            raise RuntimeError("building a batch failed") from item
        yield item


# ---------------------------------------------------------------------------------------------
# Training, parity
# ---------------------------------------------------------------------------------------------

def load_spec(path):
    """The adapter's sac.json; this script places the paper's uniform anchors only."""
    spec = json.load(open(path))
    if spec.get("variant") == "sac-names":
        sys.exit(f"{path}: variant sac-names puts anchors on capitalised words too; this script places uniform "
                 "anchors only: train it with `sac train sac --variant sac-names`")
    return spec


def train(a):
    spec = load_spec(a.spec)
    rng = np.random.default_rng(a.seed)
    torch.manual_seed(a.seed)
    device = torch.device(a.device)
    amp = device.type == "cuda"
    if amp:
        global ATTENTION_DTYPE
        ATTENTION_DTYPE = torch.bfloat16
        torch.backends.cuda.matmul.allow_tf32 = True
    base = Base(a.base, device)
    trained_on = base_fingerprint(a.base)
    if spec.get("baseModel") != trained_on:
        # the spec came from an export against another base (e.g. before the base was grown or retrained),
        # or names none: what this run writes is trained on --base, and says so
        print(f"sac.json names base {str(spec.get('baseModel'))[:12]}...; this run trains on {trained_on[:12]}... "
              f"({a.base}), which the written sac.json names", flush=True)
        spec = {**spec, "baseModel": trained_on}
    adapter = Adapter(base, spec, a.seed)
    if a.init:
        adapter.load(a.init, a.grow_init, a.widen_init)
    adapter.to(device)
    ex = Examples(a.examples, a.questions_per_example, rng)
    if a.text_share is not None:
        if len(ex.texts) == len(ex.docs) and a.text_share > 0:
            sys.exit(f"--text-share {a.text_share}: {a.examples} holds no plain text beside its documents")
        ex.text_share = a.text_share
    os.makedirs(os.path.join(a.out, a.name), exist_ok=True)
    named = adapter.tensors()
    no_decay = [named["anchor_embedding"], named["lm_token"]]
    decay = [p for n, p in named.items() if n not in ("anchor_embedding", "lm_token")]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=a.lr2, betas=(0.9, 0.95), eps=1e-8)
    ckpt = os.path.join(a.out, a.name + "-checkpoint.pt")
    recipe = {"spec": spec, "batch": a.batch, "stage1_steps": a.stage1_steps,
              "questions_per_example": a.questions_per_example, "seed": a.seed}
    if a.continuation_share > 0:   # absent at 0, so checkpoints written before the flag still resume
        recipe["continuation_share"] = a.continuation_share
    if a.text_share is not None:
        recipe["text_share"] = a.text_share
    step, elapsed_before, s2_start = 0, 0.0, None
    if a.resume and os.path.exists(ckpt):
        s = torch.load(ckpt, map_location=device)
        saved = s.get("recipe")
        if saved is not None and saved != recipe:
            flat = lambda r: {**{k: v for k, v in r.items() if k != "spec"}, **r["spec"]}   # noqa: E731
            was, now = flat(saved), flat(recipe)
            diff = {k: (was.get(k), now.get(k)) for k in sorted(set(was) | set(now)) if was.get(k) != now.get(k)}
            sys.exit(f"{ckpt} was trained otherwise (setting: (checkpoint, this run)) {diff}; resume with the "
                     f"same sac.json and flags, or train into another --name / --out")
        adapter.load_state_dict(s["adapter"])
        opt.load_state_dict(s["opt"])
        step, elapsed_before, s2_start = s["step"], s["seconds"], s["stage2_start"]
        rng = np.random.default_rng([a.seed, step])
        ex.rng = rng
        print(f"resumed at step {step} ({elapsed_before:.0f} s trained)", flush=True)
    log = open(os.path.join(a.out, a.name + "-log.jsonl"), "a")
    dev = dev_batches(a.dev_examples, spec, a.dev_questions) if a.dev_examples else None

    def score(at):
        if dev is None:
            return
        d = held_out(base, adapter, dev, device, amp)
        print(f"  held-out at step {at}: " + ", ".join(f"{r}x loss {v['loss']:.3f} exact {100 * v['exact']:.1f} %"
                                                        for r, v in d.items()), flush=True)
        log.write(json.dumps({"step": at, "dev": d}) + "\n")
        log.flush()

    score(step)
    budget = a.minutes * 60
    t0 = time.time()
    last_save = last_snap = last_score = t0
    seen, smooth, skipped = 0, None, 0
    params = list(adapter.parameters())

    def save(final=False):
        torch.save({"adapter": adapter.state_dict(), "opt": opt.state_dict(), "step": step,
                    "seconds": elapsed_before + time.time() - t0, "stage2_start": s2_start, "recipe": recipe},
                   ckpt + ".partial")
        os.replace(ckpt + ".partial", ckpt)
        write_safetensors(os.path.join(a.out, a.name, "sac.safetensors"), adapter.tensors())
        spec_file = os.path.join(a.out, a.name, "sac.json")
        with open(spec_file + ".partial", "w") as f:
            json.dump(spec, f, indent=2)
        os.replace(spec_file + ".partial", spec_file)

    for step_no, stage1, ratio, b in batches(ex, spec, a, a.stage1_steps, step, rng):
        elapsed = elapsed_before + time.time() - t0
        if elapsed >= budget:
            break
        step = step_no
        if stage1:
            lr = a.lr1 * min(1.0, (step + 1) / a.warmup)
        else:
            if s2_start is None:
                s2_start = elapsed
            frac = min(1.0, (elapsed - s2_start) / max(1.0, budget - s2_start))  # the cosine spans stage 2's time
            lr = a.lr2 * min(1.0, (step - a.stage1_steps + 1) / a.warmup)
            lr *= a.min_lr_fraction + (1 - a.min_lr_fraction) * 0.5 * (1 + math.cos(math.pi * frac))
        for g in opt.param_groups:
            g["lr"] = lr
        bd = to_device(b, device)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
            keys, values = compress(base, adapter, bd)
            logits = decode(base, adapter, bd, keys, values)
        loss = loss_of(logits, bd)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(params, 2.0)
        if torch.isfinite(norm):
            opt.step()
        else:
            skipped += 1
        step += 1
        seen += b["tokens"]
        if step % a.log_every == 0:
            lv = float(loss)
            smooth = lv if smooth is None else 0.9 * smooth + 0.1 * lv
            now = time.time() - t0
            print(f"step {step:6d} {'sac-1' if stage1 else 'sac-2'} {ratio:2d}x  loss {smooth:.3f}  lr {lr:.2e}  "
                  f"{seen / now / 1e3:.0f} k tok/s  {elapsed_before + now:5.0f}/{budget:.0f} s", flush=True)
            log.write(json.dumps({"step": step, "stage": 1 if stage1 else 2, "ratio": ratio, "loss": lv, "lr": lr,
                                  "tokens": seen, "s": elapsed_before + now, "skipped": skipped}) + "\n")
            log.flush()
        if time.time() - last_save > a.save_every:
            save()
            last_save = time.time()
        if a.snapshot_every > 0 and time.time() - last_snap > a.snapshot_every:
            write_safetensors(os.path.join(a.out, f"{a.name}-step{step}.safetensors"), adapter.tensors())
            last_snap = time.time()
        if dev is not None and time.time() - last_score > a.eval_every:
            score(step)
            last_score = time.time()
    save()
    score(step)
    summary = {"steps": step, "tokens": seen, "seconds": elapsed_before + time.time() - t0, "skipped": skipped,
               "batch": a.batch, "device": torch.cuda.get_device_name(0) if amp else "cpu"}
    if device.type == "cuda":   # several runs share one GPU (train_sac_adapters.sh): what each needed at most
        summary["peak_gpu_gib"] = round(torch.cuda.max_memory_allocated(device) / 2**30, 2)
    print("done: " + json.dumps(summary), flush=True)
    log.write(json.dumps(summary) + "\n")
    log.close()


def parity(a):
    """The loss of one fixed stage-2 example in float32 on the CPU, and the Java graph's rotation path checked."""
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    spec = load_spec(a.spec)
    base = Base(a.base, torch.device("cpu"))
    adapter = Adapter(base, spec, a.seed)
    adapter.load(a.init)
    if a.parity_input:        # given tokens (the architecture fixtures of SacPyTorchParityTest)
        given = json.load(open(a.parity_input))
        docs = [np.array(d, np.int64) for d in given["documents"]]
        pairs = [(np.array(p, np.int64), np.array(q, np.int64)) for p, q in given["questions"]]
    else:                     # the first training question's document and the next two
        ex = Examples(a.examples, a.questions_per_example, np.random.default_rng(0))
        d0 = int(ex.q_doc[0])
        docs = [ex.docs[d0], ex.docs[(d0 + 1) % len(ex.docs)], ex.docs[(d0 + 2) % len(ex.docs)]]
        pairs = [ex.questions[q] for q in ex.doc_questions[d0][:4]]
    rows = [qa_row(p, ans) for p, ans in pairs]
    out = {"ratios": {}, "documents": [d.tolist() for d in docs],
           "questions": [[p.tolist(), q.tolist()] for p, q in pairs]}
    with torch.no_grad():
        for ratio in spec["ratios"]:
            b = to_device(build_batch([(docs, rows)], ratio, spec["chunkSize"]), torch.device("cpu"))
            keys, values = compress(base, adapter, b)
            loss = float(loss_of(decode(base, adapter, b, keys, values), b))
            # the serving path: each document at positions 1.., then its keys rotated by its offset
            alone, offset = [], 0
            for d in docs:
                bd = to_device(build_batch([([d], rows[:1])], ratio, spec["chunkSize"]), torch.device("cpu"))
                k, _ = compress(base, adapter, bd)
                cos, sin = base.rope(torch.tensor([[offset]]))
                alone.append(Base.rotate(k[0], cos[0, 0], sin[0, 0]))
                offset += len(d)
            drift = float((torch.cat(alone) - keys[0]).abs().max())
            out["ratios"][str(ratio)] = {"loss": loss, "layer0_key_rotation_drift": drift}
            print(f"parity {ratio:2d}x: loss {loss:.6f}; layer-0 anchor keys, shifted positions vs rotated: "
                  f"max |diff| {drift:.2e}", flush=True)
    with open(a.init, "rb") as f:
        out["adapter_sha256"] = hashlib.sha256(f.read()).hexdigest()
    weights = os.path.join(a.base, "model.safetensors")
    if os.path.exists(weights):
        with open(weights, "rb") as f:
            out["base_sha256"] = hashlib.sha256(f.read()).hexdigest()
    with open(a.parity + ".tmp", "w") as f:   # replaced whole: a cut write never stands as the fixture
        json.dump(out, f)
    os.replace(a.parity + ".tmp", a.parity)
    print(f"wrote {a.parity}", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--examples", help="file from ./sac train sac --export-examples (.xz allowed)")
    ap.add_argument("--spec", required=True, help="the adapter's sac.json (written beside the export)")
    ap.add_argument("--base", required=True, help="the base model folder (config.json, model.safetensors)")
    ap.add_argument("--out", help="output folder (training)")
    ap.add_argument("--name", default="sac", help="adapter name (default sac)")
    ap.add_argument("--init", help="adapter sac.safetensors to start from (default: the paper's initialisation)")
    ap.add_argument("--grow-init", action="store_true", help="--init is an adapter of a base with k times fewer "
                    "layers, grown in depth since (pretrain_base.py --grow): layer i starts from the LoRA of i // k, "
                    "with B zero on the copies")
    ap.add_argument("--widen-init", action="store_true", help="--init has fewer LoRA targets or a smaller rank than "
                    "--spec: new targets and the added rank start at B zero, so training starts from what --init "
                    "computes (keep loraAlpha / loraRank the same)")
    ap.add_argument("--resume", action="store_true", help="continue from OUT/NAME-checkpoint.pt")
    ap.add_argument("--minutes", type=float, default=5.0, help="training time, stage 1 included (default 5)")
    ap.add_argument("--batch", type=int, default=64, help="examples per step (default 64)")
    ap.add_argument("--stage1-steps", type=int, default=150, help="continuation steps first (default 150)")
    ap.add_argument("--questions-per-example", type=int, default=16)
    ap.add_argument("--continuation-share", type=float, default=0.0,
                    help="share of stage-2 examples that are stage-1 continuation examples (default 0: QA only, "
                         "as the paper; a small base forgets continuation without some)")
    ap.add_argument("--text-share", type=float, default=None,
                    help="chance that a continuation example's text is plain text rather than a document body "
                         "(as `sac train sac --text-share`; default: every text equally likely)")
    ap.add_argument("--lr1", type=float, default=1e-3)
    ap.add_argument("--lr2", type=float, default=1e-3)
    ap.add_argument("--min-lr-fraction", type=float, default=0.1)
    ap.add_argument("--warmup", type=int, default=30)
    ap.add_argument("--log-every", type=int, default=25)
    ap.add_argument("--save-every", type=float, default=60, help="seconds between checkpoints (default 60)")
    ap.add_argument("--snapshot-every", type=float, default=0, help="seconds between kept adapter snapshots (0: none)")
    ap.add_argument("--dev-examples", help="held-out examples, the same format (export a dev split: --data a folder "
                    "whose synthetic-train.jsonl is the dev file); scored before, during and after training")
    ap.add_argument("--dev-questions", type=int, default=400, help="held-out questions scored (default 400)")
    ap.add_argument("--eval-every", type=float, default=60, help="seconds between held-out scores (default 60)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--parity", metavar="FIXTURE", help="write the parity fixture for --init and stop (no training)")
    ap.add_argument("--parity-input", metavar="JSON", help="with --parity: {documents, questions} token ids to use "
                    "instead of the first example of --examples")
    a = ap.parse_args()
    if not 0 <= a.continuation_share <= 1:
        sys.exit(f"--continuation-share must be in [0, 1], got {a.continuation_share}")
    if a.text_share is not None and not 0 <= a.text_share <= 1:
        sys.exit(f"--text-share must be in [0, 1], got {a.text_share}")
    if not a.examples and not (a.parity and a.parity_input):
        sys.exit("--examples is required (or --parity with --parity-input)")
    if a.parity:
        if not a.init:
            sys.exit("--parity needs --init (the adapter to check)")
        parity(a)
    else:
        if not a.out:
            sys.exit("--out is required for training")
        train(a)


if __name__ == "__main__":
    main()
