"""sgns: fast, exact word2vec (skip-gram with negative sampling) in a Cython
C-extension that mirrors word2vec.c, with gensim's API names."""

from sgns import distributed  # noqa: F401  (registers the "mpi" training backend)
from sgns.corpus import LineSentence, PathLineSentences, Text8Corpus
from sgns.formats import FormatError, TruncationWarning
from sgns.guards import DivergenceError, ParameterError
from sgns.keyedvectors import KeyedVectors
from sgns.model import Word2Vec
from sgns.phrases import ENGLISH_CONNECTOR_WORDS, FrozenPhrases, Phraser, Phrases
from sgns.runtime import EpochReport, Progress
from sgns.softmax import SoftmaxSkipGram
from sgns.version import __version__
from sgns.vocab import Vocabulary

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
