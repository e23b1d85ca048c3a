"""Phrase detection ("new york" -> "new_york") with gensim 4.4's API and meaning:
Phrases, FrozenPhrases (alias Phraser), ENGLISH_CONNECTOR_WORDS, original_scorer,
npmi_scorer.

Counts of unigrams and phrases live in one compact C table (sgns._phrases),
not in a dict of Python strings; sentences are counted in batches with the
GIL released, a corpus_file by several threads over byte ranges, and
phrases[sentence] / transform_file run the analysis in C whenever the model
scores with a built-in scorer ('default' or 'npmi'). A custom scorer or a
subclass that overrides score_candidate gets gensim's behaviour through the
same Python code path gensim uses.

save() writes the documented non-pickle file of sgns.phrasefile; load() reads
it, and also pickles (of sgns or of gensim, old versions included).
"""

from __future__ import annotations

import importlib
import inspect
import itertools
import logging
import math
import os
import pickle
import time
from collections.abc import Iterable, Mapping
from typing import Any

from sgns import phrasecount, phrasefile
from sgns._phrases import SCORE_DEFAULT, SCORE_NPMI, Counter, PhraseTable, Scorer
from sgns.errors import FormatError
from sgns.outputs import atomic_write
from sgns.textfiles import ENCODING, ERRORS

logger = logging.getLogger(__name__)

# Words a phrase may contain but not start or end with ("bank_of_america").
ENGLISH_CONNECTOR_WORDS = frozenset(
    ["a", "an", "the", "for", "of", "with", "without", "at", "from", "to", "in", "on", "by", "and", "or"]
)

SCORING_PARAMS = ("worda_count", "wordb_count", "bigram_count", "len_vocab", "min_count", "corpus_word_count")


def original_scorer(worda_count, wordb_count, bigram_count, len_vocab, min_count, corpus_word_count):
    """Mikolov et al. (2013): (count(ab) - min_count) / (count(a) count(b)) x
    vocabulary size; -inf when a word count is 0. corpus_word_count is unused."""
    denominator = worda_count * wordb_count
    if denominator == 0:
        return -math.inf
    return (bigram_count - min_count) / float(denominator) * len_vocab


def npmi_scorer(worda_count, wordb_count, bigram_count, len_vocab, min_count, corpus_word_count):
    """Normalised pointwise mutual information (Bouma 2009), in [-1, 1]; -inf
    for a phrase seen fewer than min_count times. len_vocab is unused."""
    if bigram_count < min_count:
        return -math.inf
    total = float(corpus_word_count)
    pa, pb, pab = worda_count / total, wordb_count / total, bigram_count / total
    try:
        return math.log(pab / (pa * pb)) / -math.log(pab)
    except ValueError:  # a zero count: log's domain
        return -math.inf


SCORERS = {"default": original_scorer, "npmi": npmi_scorer}


def _key(word: str) -> bytes:
    return word.encode(ENCODING, ERRORS)


def _word(key: bytes) -> str:
    return key.decode(ENCODING, ERRORS)


def _score_code(scoring) -> int | None:
    """The C scorer for a built-in scoring function, else None."""
    if scoring is original_scorer:
        return SCORE_DEFAULT
    if scoring is npmi_scorer:
        return SCORE_NPMI
    return None


def resolve_scoring(scoring):
    """A scoring function from 'default', 'npmi' or a callable taking
    SCORING_PARAMS by name (checked, as gensim does, and pickle-able)."""
    if isinstance(scoring, str):
        if scoring not in SCORERS:
            raise ValueError(f"unknown scoring method string {scoring} specified")
        return SCORERS[scoring]
    if not callable(scoring):
        raise TypeError(f"scoring must be 'default', 'npmi' or a function, got {scoring!r}")
    missing = [p for p in SCORING_PARAMS if p not in inspect.getfullargspec(scoring).args]
    if missing:
        raise ValueError(f"scoring function missing expected parameters {missing}")
    try:
        pickle.loads(pickle.dumps(scoring))
    except (pickle.PickleError, AttributeError, TypeError) as e:
        raise pickle.PickleError(f"custom scoring function must be pickle-able: {e}") from None
    return scoring


def _scoring_name(scoring) -> str:
    for name, fn in SCORERS.items():
        if scoring is fn:
            return name
    module, qualname = getattr(scoring, "__module__", None), getattr(scoring, "__qualname__", "")
    if not module or "<" in qualname:
        raise ValueError(
            f"cannot save scoring function {scoring!r} by name (not importable); pickle the model instead"
        )
    return f"{module}:{qualname}"


def _scoring_from_name(name: str, path):
    if name in SCORERS:
        return SCORERS[name]
    module, _, qualname = name.partition(":")
    try:
        obj = importlib.import_module(module)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError, ValueError) as e:
        raise FormatError(
            path, f"cannot import the scoring function {name!r} ({e}); pass scoring= to load()"
        ) from None
    return obj


class TableView(Mapping):
    """A dict-like view of a model's C table: str keys, int counts (vocab) or
    float scores (phrasegrams). Values can be set; keys cannot be deleted."""

    def __init__(self, table: PhraseTable):
        self._table = table

    def __getitem__(self, word):
        value = self._table.get(_key(word)) if isinstance(word, str) else None
        if value is None:
            raise KeyError(word)
        return value

    def get(self, word, default=None):
        value = self._table.get(_key(word)) if isinstance(word, str) else None
        return default if value is None else value

    def __contains__(self, word) -> bool:
        return isinstance(word, str) and self._table.get(_key(word)) is not None

    def __setitem__(self, word: str, value) -> None:
        self._table.set(_key(word), value)

    def __iter__(self):
        return (_word(k) for k, _ in self._table.items())

    def __len__(self) -> int:
        return len(self._table)

    def items(self):
        return _Items(self._table)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {len(self)} keys>"


class _Items:
    """(key, value) pairs of a table in one pass (not a key lookup each)."""

    def __init__(self, table):
        self._table = table

    def __iter__(self):
        return ((_word(k), v) for k, v in self._table.items())

    def __len__(self) -> int:
        return len(self._table)


def _table_from(mapping, as_float: bool) -> PhraseTable:
    table = PhraseTable(len(mapping), as_float)
    for k, v in mapping.items():
        table.set(k if isinstance(k, bytes) else _key(k), v)
    return table


def table_property(attr: str, as_float: bool, doc: str) -> property:
    """A model attribute seen as a TableView of its C table; assigning a
    mapping replaces the table."""

    def get(self) -> TableView:
        return TableView(getattr(self, attr))

    def put(self, mapping) -> None:
        setattr(self, attr, _table_from(mapping, as_float))

    return property(get, put, doc=doc)


def _single_or_corpus(obj):
    """(True, tokens) when obj is one sentence (empty, or its first item a
    str), else (False, sentences); a one-shot iterator is re-chained."""
    it = iter(obj)
    try:
        first = next(it)
    except StopIteration:
        return True, obj
    if isinstance(first, str):
        return True, itertools.chain([first], it)
    if it is obj:
        return False, itertools.chain([first], it)
    return False, obj


class PhrasedCorpus:
    """model[corpus]: each sentence phrased when iterated; re-iterable when
    the corpus is."""

    def __init__(self, model, corpus):
        self.model, self.corpus = model, corpus

    def __iter__(self):
        model = self.model
        for sentence in self.corpus:
            yield model[sentence]

    def __len__(self) -> int:
        return len(self.corpus)


class PhrasesTransformation:
    """What Phrases and FrozenPhrases share: connector words, the analysis of
    sentences (a candidate starts at a non-connector word, may take
    connectors, and ends at the next non-connector word), transforms, and
    files. A subclass supplies score_candidate()."""

    _TABLE = "_table"
    _FLOAT = False
    _KIND = ""
    _NOUN = "vocab"  # what the table holds, for str()
    _STR_EXTRA: tuple[str, ...] = ()
    # Threads that count a corpus_file and rewrite files (None: one per CPU, at
    # most 8). Not saved: a setting of this machine.
    workers: int | None = None
    # Set by each subclass's constructor.
    min_count: float
    threshold: float
    delimiter: str
    scoring: Any

    def __init__(self, connector_words: Iterable[str] = frozenset()):
        self.connector_words = connector_words

    @property
    def connector_words(self) -> frozenset:
        return self._connector_words

    @connector_words.setter
    def connector_words(self, words) -> None:
        words = frozenset(words)
        table = None
        if words:
            table = PhraseTable(len(words))
            for w in words:
                if isinstance(w, str):
                    table.add(_key(w), 1)
        self._connector_words, self._connector_table = words, table

    def __str__(self) -> str:
        extra = "".join(f", {name}={getattr(self, name)}" for name in self._STR_EXTRA)
        return (
            f"{type(self).__name__}<{len(self._table_obj())} {self._NOUN}, min_count={self.min_count}, "
            f"threshold={self.threshold}{extra}>"
        )

    def score_candidate(self, word_a, word_b, in_between):
        """(joined phrase, score) if word_a, in_between..., word_b is a
        phrase, else (None, None)."""
        raise NotImplementedError("a subclass scores phrase candidates")

    def _scorer(self):
        """The C analysis for this model, or None for the Python path."""
        return

    def analyze_sentence(self, sentence):
        """Yield (token, None) for words left alone and (phrase, score) for
        detected phrases, in order."""
        scorer = self._scorer()
        if scorer is not None:
            sentence = sentence if isinstance(sentence, list) else list(sentence)
            try:
                found = scorer.analyze(sentence, True)
            except TypeError:  # a token that is not str: gensim's path copes
                found = self._analyze_python(sentence)
            yield from found
            return
        yield from self._analyze_python(sentence)

    def _analyze_python(self, sentence):
        """gensim's analysis through score_candidate (a custom scorer, a
        subclass, or tokens that are not all str)."""
        start, between = None, []
        for word in sentence:
            if word in self.connector_words:
                if start:
                    between.append(word)
                else:
                    yield word, None
                continue
            if start:
                phrase, score = self.score_candidate(start, word, between)
                if score is not None:
                    yield phrase, score
                    start, between = None, []
                    continue
                yield start, None
                yield from ((w, None) for w in between)
            start, between = word, []
        if start:
            yield start, None
            yield from ((w, None) for w in between)

    def __getitem__(self, sentence):
        """A phrased sentence (list of str) for a sentence; a lazy phrased
        corpus for an iterable of sentences."""
        single, sentence = _single_or_corpus(sentence)
        if not single:
            return PhrasedCorpus(self, sentence)
        scorer = self._scorer()
        if scorer is not None:
            sentence = sentence if isinstance(sentence, list) else list(sentence)
            try:
                return scorer.analyze(sentence)
            except TypeError:  # a token that is not str: gensim's path copes
                pass
        return [token for token, _ in self._analyze_python(sentence)]

    def find_phrases(self, sentences) -> dict:
        """Every phrase detected in sentences, with its score."""
        found = {}
        for sentence in sentences:
            for token, score in self.analyze_sentence(sentence):
                if score is not None:
                    found[token] = score
        return found

    def transform_file(self, src, dst) -> None:
        """Write src phrased to dst (atomically): one line per line, tokens
        split as Word2Vec(corpus_file=...) splits them, joined by spaces; in C
        on `workers` threads (parts of the file, each from a line start) when
        the model scores with a built-in scorer."""
        scorer = self._scorer()
        if scorer is not None:
            phrasecount.rewrite_file(scorer, src, dst, self.workers)
            return
        from sgns.corpus import LineSentence  # here: the corpus readers load NumPy, the C path needs neither

        with atomic_write(dst) as f:
            for sentence in LineSentence(src, max_sentence_length=2**62):
                f.write(" ".join(self[sentence]).encode(ENCODING, ERRORS) + b"\n")

    # ---- files and pickles --------------------------------------------------

    def _table_obj(self) -> PhraseTable:
        return getattr(self, self._TABLE)

    def _params(self) -> dict:
        return {
            "min_count": self.min_count,
            "threshold": self.threshold,
            "delimiter": self.delimiter,
            "connector_words": sorted(w for w in self.connector_words if isinstance(w, str)),
            "scoring": _scoring_name(self.scoring),
        }

    def save(self, fname, *args, **kwargs) -> None:
        """Write the model to fname in sgns's phrases format (see
        sgns.phrasefile), atomically. gensim's extra save() arguments are
        accepted and ignored."""
        table = self._table_obj()
        with table.stored() as records:
            phrasefile.write(fname, self._KIND, self._params(), len(table), records)

    @classmethod
    def load(cls, fname, scoring=None):
        """Read a model saved by save(), or a pickled Phrases / FrozenPhrases
        of sgns or gensim (any version gensim 4.4 reads). scoring: the
        function to use when a saved custom scorer cannot be imported."""
        path = os.fspath(fname)
        if phrasefile.is_phrases_file(path):
            header, table = phrasefile.read(path)
            return _from_file(header, table, path, scoring)
        return _unpickle(path)

    def __getstate__(self) -> dict:
        state = {k: v for k, v in self.__dict__.items() if not k.startswith("_")}
        state["connector_words"] = self.connector_words
        state["sgns_arena"] = self._table_obj().arena()
        return state

    def __setstate__(self, state: dict) -> None:
        state = dict(state)
        if "sgns_arena" in state:
            table = PhraseTable.from_arena(state.pop("sgns_arena"), self._FLOAT)
        elif "sgns_table" in state:  # pickled by sgns before the arena layout
            table = PhraseTable.load(state.pop("sgns_table"), self._FLOAT)
        else:
            table = self._upgrade(state)
        self.connector_words = state.pop("connector_words", frozenset())
        setattr(self, self._TABLE, table)
        self.__dict__.update(state)

    def _upgrade(self, state: dict) -> PhraseTable:
        """A gensim pickle's state made ours: its table, str delimiter and
        connector words, and a scoring function for a name or none."""
        for k in [k for k in state if k.startswith("__")]:
            del state[k]
        if isinstance(state.get("delimiter", "_"), bytes):
            state["delimiter"] = state["delimiter"].decode("utf-8")
        scoring = state.get("scoring", "default")
        if getattr(scoring, "__module__", None) == "gensim.models.phrases":
            scoring = {"original_scorer": "default", "npmi_scorer": "npmi"}.get(scoring.__name__, scoring)
        state["scoring"] = resolve_scoring(scoring) if isinstance(scoring, str) else scoring
        words = state.pop("connector_words", state.pop("common_terms", frozenset()))
        state["connector_words"] = frozenset(w.decode("utf-8") if isinstance(w, bytes) else w for w in words)
        state.setdefault("corpus_word_count", 0)
        state.setdefault("min_count", 5)
        state.setdefault("threshold", 10.0)
        return self._upgrade_table(state)

    def _upgrade_table(self, state: dict) -> PhraseTable:
        raise NotImplementedError


def _from_file(header: dict, raw: bytes, path, scoring):
    cls = Phrases if header["kind"] == "phrases" else FrozenPhrases
    try:
        load = PhraseTable.from_arena if header["version"] == 2 else PhraseTable.load
        table = load(raw, cls._FLOAT, min(header["entries"], len(raw) // 12))  # 12+ bytes a key
    except ValueError:
        raise FormatError(path, "corrupt table (malformed records or a repeated key)") from None
    if len(table) != header["entries"]:
        raise FormatError(path, f"table holds {len(table)} keys, header says {header['entries']}")
    params = dict(header["params"])
    try:
        params["scoring"] = scoring if scoring is not None else _scoring_from_name(params["scoring"], path)
        obj = cls.__new__(cls)
        obj.connector_words = params.pop("connector_words")
        for name in cls._SAVED:
            setattr(obj, name, params[name])
        _check_saved(obj)
    except (KeyError, TypeError) as e:
        raise FormatError(path, f"bad or missing parameter in header: {e}") from None
    setattr(obj, cls._TABLE, table)
    return obj


def _check_saved(model) -> None:
    """TypeError unless the parameters read from a file have sane types."""
    number = (int, float)
    if not isinstance(model.delimiter, str):
        raise TypeError("delimiter is not a string")
    for name in ("min_count", "threshold"):
        if not isinstance(getattr(model, name), number) or isinstance(getattr(model, name), bool):
            raise TypeError(f"{name} is not a number")
    for name in ("progress_per", "corpus_word_count", "min_reduce"):
        if hasattr(model, name) and not isinstance(getattr(model, name), int):
            raise TypeError(f"{name} is not an integer")
    if getattr(model, "max_vocab_size", None) is not None and not isinstance(model.max_vocab_size, int):
        raise TypeError("max_vocab_size is not an integer")


def _unpickle(path):
    try:
        with open(path, "rb") as f:
            obj = pickle.load(f)
    except (
        pickle.UnpicklingError,
        EOFError,
        AttributeError,
        ImportError,
        IndexError,
        TypeError,
        ValueError,
    ) as e:
        raise FormatError(path, f"neither an sgns phrases file nor a readable pickle ({e})") from None
    if isinstance(obj, PhrasesTransformation):
        return obj
    state = getattr(obj, "__dict__", None)
    if isinstance(state, dict) and ("vocab" in state or "phrasegrams" in state):
        cls = FrozenPhrases if "phrasegrams" in state else Phrases
        model = cls.__new__(cls)
        model.__setstate__(state)
        return model
    raise FormatError(path, f"the pickle holds a {type(obj).__name__}, not a phrases model")


class Phrases(PhrasesTransformation):
    """Detect phrases from unigram and phrase counts (gensim's Phrases).

    sentences: iterable of lists of str (or give corpus_file, a text file with
    a sentence per line, counted in C by `workers` threads over byte ranges).
    min_count, threshold, max_vocab_size (the table is pruned past it: by
    each of n workers past max_vocab_size / n), delimiter, progress_per,
    scoring ('default', 'npmi' or a function of SCORING_PARAMS),
    connector_words: as in gensim 4.4.
    """

    _KIND = "phrases"
    _STR_EXTRA = ("max_vocab_size",)
    _SAVED = (
        "min_count",
        "threshold",
        "delimiter",
        "scoring",
        "max_vocab_size",
        "progress_per",
        "corpus_word_count",
        "min_reduce",
    )

    def __init__(
        self,
        sentences=None,
        min_count=5,
        threshold=10.0,
        max_vocab_size=40000000,
        delimiter="_",
        progress_per=10000,
        scoring="default",
        connector_words=frozenset(),
        *,
        corpus_file=None,
        workers: int | None = None,
    ):
        super().__init__(connector_words)
        if min_count <= 0:
            raise ValueError("min_count should be at least 1")
        if threshold <= 0 and scoring == "default":
            raise ValueError("threshold should be positive for default scoring")
        if scoring == "npmi" and not -1 <= threshold <= 1:
            raise ValueError("threshold should be between -1 and 1 for npmi scoring")
        self.scoring = resolve_scoring(scoring)
        self.min_count, self.threshold, self.max_vocab_size = min_count, threshold, max_vocab_size
        if not isinstance(delimiter, str):
            raise TypeError(f"delimiter must be a str, got {delimiter!r}")
        self.delimiter, self.progress_per = delimiter, progress_per
        self.corpus_word_count, self.min_reduce, self.workers = 0, 1, workers
        self._table = PhraseTable(0)
        if sentences is not None or corpus_file is not None:
            start = time.perf_counter()
            self.add_vocab(sentences, corpus_file=corpus_file)
            logger.info("built %s in %.2fs", self, time.perf_counter() - start)

    vocab = table_property("_table", False, "Counts of unigrams and joined phrases (a dict-like view).")

    def _learn(self, sentences, corpus_file) -> phrasecount.Counts:
        if (sentences is None) == (corpus_file is None):
            raise TypeError("give exactly one of sentences or corpus_file")
        delimiter = _key(self.delimiter)
        bound = self.max_vocab_size or 0
        logger.info("collecting all words and their counts")
        if corpus_file is not None:
            return phrasecount.count_file(corpus_file, self._connector_table, delimiter, bound, self.workers)
        table = PhraseTable(1 << 16)
        counter = Counter(table, self._connector_table, delimiter, bound)

        def report(sentence_no: int, words: int, types: int) -> None:
            logger.info(
                "PROGRESS: at sentence #%i, processed %i words and %i word types", sentence_no, words, types
            )

        n = counter.count_sentences(sentences, self.progress_per or 0, report)
        logger.info(
            "collected %i token types (unigram + bigrams) from a corpus of %i words and %i sentences",
            len(table),
            counter.words,
            n,
        )
        return phrasecount.Counts(table, counter.words, counter.min_reduce)

    def add_vocab(self, sentences=None, *, corpus_file=None) -> None:
        """Count more sentences (or a corpus_file) into the model. As in
        gensim, they are counted apart, then merged, then pruned once if the
        table passed max_vocab_size."""
        counts = self._learn(sentences, corpus_file)
        if len(self._table):
            self._table.merge(counts.table)
            self.min_reduce = max(self.min_reduce, counts.min_reduce)
            if self.max_vocab_size and len(self._table) > self.max_vocab_size:
                self._table.prune(self.min_reduce)
                self.min_reduce += 1
        else:
            self._table = counts.table
        self.corpus_word_count += counts.words

    def _c_scorer(self, code: int) -> Scorer:
        return Scorer(
            self._table,
            self._connector_table,
            self.delimiter,
            False,
            code,
            float(self.threshold),
            float(self.min_count),
            int(self.corpus_word_count),
        )

    def _scorer(self):
        code = _score_code(self.scoring)
        if code is None or type(self).score_candidate is not Phrases.score_candidate:
            return None
        return self._c_scorer(code)

    def _count(self, word) -> int:
        return self._table.get(_key(word), 0) if isinstance(word, str) else 0

    def score_candidate(self, word_a, word_b, in_between):
        count_a = self._count(word_a)
        if count_a <= 0:
            return None, None
        count_b = self._count(word_b)
        if count_b <= 0:
            return None, None
        phrase = self.delimiter.join([word_a, *in_between, word_b])
        count_ab = self._count(phrase)
        if count_ab <= 0:
            return None, None
        score = self.scoring(
            worda_count=count_a,
            wordb_count=count_b,
            bigram_count=count_ab,
            len_vocab=len(self._table),
            min_count=self.min_count,
            corpus_word_count=self.corpus_word_count,
        )
        if score <= self.threshold:
            return None, None
        return phrase, score

    def export_phrases(self) -> dict:
        """Every phrase in the vocabulary that scores above threshold: {phrase: score}."""
        if type(self).score_candidate is not Phrases.score_candidate:
            return self._export_python()
        code = _score_code(self.scoring)
        scorer = self._c_scorer(SCORE_DEFAULT if code is None else code)
        keys, ca, cb, cab, scores = phrasecount.candidates(
            scorer, self._table, code is not None, self.workers
        )
        if code is not None:
            return {_word(k): s for k, s in zip(keys, scores.tolist())}
        scores = [
            self.scoring(
                worda_count=int(a),
                wordb_count=int(b),
                bigram_count=int(ab),
                len_vocab=len(self._table),
                min_count=self.min_count,
                corpus_word_count=self.corpus_word_count,
            )
            for a, b, ab in zip(ca, cb, cab)
        ]
        return {_word(k): s for k, s in zip(keys, scores) if not s <= self.threshold}

    def _export_python(self) -> dict:
        found = {}
        for token in self.vocab:
            parts = token.split(self.delimiter)
            if len(parts) > 1:
                phrase, score = self.score_candidate(parts[0], parts[-1], parts[1:-1])
                if score is not None:
                    found[phrase] = score
        return found

    def freeze(self) -> FrozenPhrases:
        """A FrozenPhrases holding only the phrases that pass threshold."""
        return FrozenPhrases(self)

    def _params(self) -> dict:
        params = super()._params()
        for name in ("max_vocab_size", "progress_per", "corpus_word_count", "min_reduce"):
            params[name] = getattr(self, name)
        return params

    def _upgrade_table(self, state: dict) -> PhraseTable:
        for name, default in (("min_reduce", 1), ("progress_per", 10000), ("max_vocab_size", 40000000)):
            state.setdefault(name, default)
        state.setdefault("workers", None)
        return _table_from(state.pop("vocab"), False)


class FrozenPhrases(PhrasesTransformation):
    """The phrases of a trained Phrases model and their scores, and nothing
    else: smaller and faster; cannot learn more (gensim's FrozenPhrases)."""

    _TABLE = "_grams"
    _FLOAT = True
    _KIND = "frozen"
    _NOUN = "phrases"
    _SAVED = ("min_count", "threshold", "delimiter", "scoring")

    def __init__(self, phrases_model):
        super().__init__(phrases_model.connector_words)
        self.threshold, self.min_count = phrases_model.threshold, phrases_model.min_count
        self.delimiter, self.scoring = phrases_model.delimiter, phrases_model.scoring
        self.workers = phrases_model.workers
        logger.info("exporting phrases from %s", phrases_model)
        start = time.perf_counter()
        self._grams = _table_from(phrases_model.export_phrases(), True)
        logger.info("exported %s in %.2fs", self, time.perf_counter() - start)

    phrasegrams = table_property("_grams", True, "{phrase: score} (a dict-like view).")

    def _scorer(self):
        if type(self).score_candidate is not FrozenPhrases.score_candidate:
            return None
        return Scorer(
            self._grams, self._connector_table, self.delimiter, True, 0, float(self.threshold), 0.0, 0
        )

    def score_candidate(self, word_a, word_b, in_between):
        phrase = self.delimiter.join([word_a, *in_between, word_b])
        score = self._grams.get(_key(phrase), -math.inf)
        if score > self.threshold:
            return phrase, score
        return None, None

    def _upgrade_table(self, state: dict) -> PhraseTable:
        grams = state.pop("phrasegrams", {})
        delimiter = _key(state["delimiter"])
        table = PhraseTable(len(grams), True)
        for key, value in grams.items():
            if isinstance(key, tuple):  # gensim 3.x: (b"new", b"york") -> (count, score)
                key = delimiter.join(k if isinstance(k, bytes) else _key(k) for k in key)
            table.set(
                key if isinstance(key, bytes) else _key(key), value[1] if isinstance(value, tuple) else value
            )
        return table


Phraser = FrozenPhrases  # gensim's older name
