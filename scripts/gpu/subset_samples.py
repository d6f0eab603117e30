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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sample_files import MAGIC, QA, read_raw  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--qa-tokens", type=int, required=True, help="QA tokens to keep, whole samples in file order")
    a = ap.parse_args()
    kinds, lengths, tokens, weights = read_raw(a.input)
    t = int(lengths.sum())
    qa_before = np.cumsum(np.where(kinds == QA, lengths, 0)) - np.where(kinds == QA, lengths, 0)
    keep = (kinds != QA) | (qa_before + lengths <= a.qa_tokens)
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
    print(f"{a.output}: {int((keep & (kinds == QA)).sum()):,} of {int((kinds == QA).sum()):,} QA samples, "
          f"{int((~(kinds == QA)).sum()):,} others; {kept_tokens:,} of {t:,} tokens")


if __name__ == "__main__":
    main()
