#!/usr/bin/env python3
"""The Java Fingerprints.baseModel of a base folder, with the standard library alone (so that
install_grown.sh needs no PyTorch): SHA-256 over the name and bytes of config.json and every
*.safetensors file, in name order. An adapter's sac.json records the base it was trained on, and
the engine refuses to load it on another.

  python3 scripts/gpu/fingerprint.py BASE_DIR
"""
import hashlib
import os
import sys


def base_fingerprint(folder):
    md = hashlib.sha256()
    for name in sorted(n for n in os.listdir(folder) if n == "config.json" or n.endswith(".safetensors")):
        md.update(name.encode())
        with open(os.path.join(folder, name), "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                md.update(chunk)
    return md.hexdigest()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    print(base_fingerprint(sys.argv[1]))
