"""The flat sample files `./sac train base --export-samples` writes (`SampleExport`), read with
numpy alone, so that the CPU-side tools (subset_samples.py) need no PyTorch:
magic SACSAMP1, int32 n, int64 t, kinds u8[n], lengths i32[n], tokens u16[t], weights u8[t]
(the loss weight times 4)."""
import lzma
import struct
import sys

import numpy as np

MAGIC = b"SACSAMP1"
QA, TEXT, HELD_OUT = 0, 1, 2


def read_raw(path):
    """(kinds, lengths as int64, tokens, weights as stored) of one file, .xz allowed; exits naming the file if malformed."""
    opener = lzma.open if path.endswith(".xz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if data[:8] != MAGIC:
        sys.exit(f"{path}: not a sample file (made by ./sac train base --export-samples)")
    n, t = struct.unpack_from("<iq", data, 8)
    off = 8 + 12
    kinds = np.frombuffer(data, np.uint8, n, off); off += n
    lengths = np.frombuffer(data, "<i4", n, off).astype(np.int64); off += 4 * n
    tokens = np.frombuffer(data, "<u2", t, off); off += 2 * t
    weights = np.frombuffer(data, np.uint8, t, off); off += t
    if off != len(data) or lengths.sum() != t:
        sys.exit(f"{path}: truncated or inconsistent ({len(data)} bytes, expected {off})")
    return kinds, lengths, tokens, weights
