"""sgns: fast, exact word2vec (skip-gram with negative sampling) in a Cython
C-extension that mirrors word2vec.c, with gensim's API names.

The public names are imported on first use (PEP 562), so a process that only
needs phrases or the vector tools does not load the trainer and NumPy."""

from __future__ import annotations

import importlib
import importlib.util
from typing import TYPE_CHECKING

from sgns.version import __version__

if TYPE_CHECKING:
    from sgns.corpus import LineSentence, PathLineSentences, Text8Corpus
    from sgns.errors import FormatError
    from sgns.formats import TruncationWarning
    from sgns.guards import DivergenceError, ParameterError
    from sgns.keyedvectors import KeyedVectors
    from sgns.model import Word2Vec
    from sgns.phrases import ENGLISH_CONNECTOR_WORDS, FrozenPhrases, Phraser, Phrases
    from sgns.runtime import EpochReport, Progress
    from sgns.softmax import SoftmaxSkipGram
    from sgns.vocab import Vocabulary

# Public name -> the module that defines it.
_HOMES = {
    "ENGLISH_CONNECTOR_WORDS": "sgns.phrases",
    "DivergenceError": "sgns.guards",
    "EpochReport": "sgns.runtime",
    "FormatError": "sgns.errors",
    "FrozenPhrases": "sgns.phrases",
    "KeyedVectors": "sgns.keyedvectors",
    "LineSentence": "sgns.corpus",
    "ParameterError": "sgns.guards",
    "PathLineSentences": "sgns.corpus",
    "Phraser": "sgns.phrases",
    "Phrases": "sgns.phrases",
    "Progress": "sgns.runtime",
    "SoftmaxSkipGram": "sgns.softmax",
    "Text8Corpus": "sgns.corpus",
    "TruncationWarning": "sgns.formats",
    "Vocabulary": "sgns.vocab",
    "Word2Vec": "sgns.model",
}

__all__ = [
    "ENGLISH_CONNECTOR_WORDS",
    "DivergenceError",
    "EpochReport",
    "FormatError",
    "FrozenPhrases",
    "KeyedVectors",
    "LineSentence",
    "ParameterError",
    "PathLineSentences",
    "Phraser",
    "Phrases",
    "Progress",
    "SoftmaxSkipGram",
    "Text8Corpus",
    "TruncationWarning",
    "Vocabulary",
    "Word2Vec",
    "__version__",
]


def __getattr__(name: str):
    home = _HOMES.get(name)
    if home is None:  # a submodule (sgns.formats, ...), as when they were all imported here
        if name.startswith("_") or importlib.util.find_spec(f"sgns.{name}") is None:
            raise AttributeError(f"module 'sgns' has no attribute {name!r}")
        return importlib.import_module(f"sgns.{name}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOMES))
