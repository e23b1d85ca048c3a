"""sgns: fast, exact word2vec (skip-gram with negative sampling) in a Cython
C-extension that mirrors word2vec.c, with gensim's API names."""

from sgns.corpus import LineSentence, PathLineSentences, Text8Corpus
from sgns.formats import FormatError, TruncationWarning
from sgns.keyedvectors import KeyedVectors
from sgns.model import EpochReport, Progress, Word2Vec
from sgns.softmax import SoftmaxSkipGram
from sgns.vocab import Vocabulary

__version__ = "0.1.0"

__all__ = [
    "Word2Vec",
    "SoftmaxSkipGram",
    "KeyedVectors",
    "Vocabulary",
    "FormatError",
    "TruncationWarning",
    "EpochReport",
    "Progress",
    "LineSentence",
    "PathLineSentences",
    "Text8Corpus",
    "__version__",
]
