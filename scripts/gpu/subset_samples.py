#!/usr/bin/env python3
"""Cuts a SampleExport file (./sac train base --export-samples) to fit what a lent GPU machine
receives (64 MiB with the repository): the QA samples in file order up to --qa-tokens, every text
and held-out sample kept. Needs numpy only.

  python3 scripts/gpu/subset_samples.py IN.bin OUT.bin --qa-tokens 100000000
"""
import argparse
import os
import struct
import sys

import numpy as np

MAGIC = b"SACSAMP1"
QA = 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--qa-tokens", type=int, required=True, help="QA tokens to keep, whole samples in file order")
    a = ap.parse_args()
    data = open(a.input, "rb").read()
    if data[:8] != MAGIC:
        sys.exit(f"{a.input}: not a sample file (made by ./sac train base --export-samples)")
    n, t = struct.unpack_from("<iq", data, 8)
    off = 20
    kinds = np.frombuffer(data, np.uint8, n, off); off += n
    lengths = np.frombuffer(data, "<i4", n, off).astype(np.int64); off += 4 * n
    tokens = np.frombuffer(data, "<u2", t, off); off += 2 * t
    weights = np.frombuffer(data, np.uint8, t, off); off += t
    if off != len(data) or lengths.sum() != t:
        sys.exit(f"{a.input}: truncated or inconsistent ({len(data)} bytes, expected {off})")
    qa_before = np.cumsum(np.where(kinds == QA, lengths, 0)) - np.where(kinds == QA, lengths, 0)
    keep = (kinds != QA) | (qa_before + lengths <= a.qa_tokens)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    mask = np.repeat(keep, lengths)
    kept_tokens = int(lengths[keep].sum())
    tmp = a.output + ".partial"
    with open(tmp, "wb") as f:
        f.write(MAGIC)
        f.write(struct.pack("<iq", int(keep.sum()), kept_tokens))
        f.write(kinds[keep].tobytes())
        f.write(lengths[keep].astype("<i4").tobytes())
        f.write(tokens[mask].tobytes())
        f.write(weights[mask].tobytes())
    os.replace(tmp, a.output)
    assert starts[-1] + lengths[-1] == t
    print(f"{a.output}: {int((keep & (kinds == QA)).sum()):,} of {int((kinds == QA).sum()):,} QA samples, "
          f"{int((~(kinds == QA)).sum()):,} others; {kept_tokens:,} of {t:,} tokens")


if __name__ == "__main__":
    main()
