"""SHA-256 of the trained weights for a few configurations, per kernel set.

With one worker and a fixed seed training is deterministic, so a refactor of
the C kernels that claims "no change in behaviour" must leave every line of
this output unchanged (run it before and after; compare with diff).

    PYTHONPATH=. python scripts/train_hashes.py CORPUS [BYTES]

CORPUS is any whitespace-tokenised text (e.g. the shared small8); only its
first BYTES (default 600000) are used, cut at a newline.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile

import sgns
from sgns import _train

CONFIGS = {
    "sg-shared-neg5-d100": {"sg": 1, "negative": 5, "vector_size": 100},
    "sg-exact-neg5-d100": {"sg": 1, "negative": 5, "vector_size": 100, "shared_negatives": False},
    "sg-groups3-neg5-d100": {"sg": 1, "negative": 5, "vector_size": 100, "shared_negatives": 3},
    "sg-shared-neg15-d37": {"sg": 1, "negative": 15, "vector_size": 37},
    "sg-exact-neg3-d300": {"sg": 1, "negative": 3, "vector_size": 300, "shared_negatives": False},
    "cbow-neg5-d100": {"sg": 0, "negative": 5, "vector_size": 100},
    "sg-hs-d50": {"sg": 1, "hs": 1, "negative": 0, "vector_size": 50},
    "sg-hs-neg3-d37": {"sg": 1, "hs": 1, "negative": 3, "vector_size": 37},
    "cbow-hs-neg2-d19": {"sg": 0, "hs": 1, "negative": 2, "vector_size": 19},
}


def weights_digest(model) -> str:
    h = hashlib.sha256()
    # syn1's last row is gensim's unused one (the tree has V - 1 inner nodes)
    for arr in (model.wv.vectors, model.syn1neg, model.syn1[: max(0, len(model.wv) - 1)]):
        h.update(arr.tobytes())
    return h.hexdigest()[:16]


def main(argv: list[str]) -> int:
    corpus, size = argv[0], int(argv[1]) if len(argv) > 1 else 600_000
    with open(corpus, "rb") as f:
        data = f.read(size)
    data = data[: data.rfind(b"\n") + 1] or data
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "corpus.txt")
        with open(path, "wb") as f:
            f.write(data)
        for kernels in _train.supported_kernels():
            _train.select_kernels(kernels)
            for name, params in CONFIGS.items():
                model = sgns.Word2Vec(
                    corpus_file=path, workers=1, seed=7, epochs=1, min_count=3, window=4, **params
                )
                print(f"{kernels:8s} {name:22s} {weights_digest(model)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
