"""gensim 4.4's Word2Vec API over sgns: a drop-in for `gensim.models`.

    from sgns.gensim import Word2Vec, KeyedVectors, LineSentence, Text8Corpus, PathLineSentences, BrownCorpus

The classes are thin subclasses of sgns's: gensim's defaults (CBOW, workers=3,
...), gensim's parameters in gensim's positional order, and gensim's
semantics where they differ from sgns's:

* train() needs epochs and total_examples or total_words (raw tokens, as
  gensim counts them); the learning rate falls over that span, and train()
  returns (effective words, raw words). The loss accumulates over one train()
  call (get_latest_training_loss(), running_training_loss).
* build_vocab() is scan_vocab() + prepare_vocab(), with trim_rule,
  keep_raw_vocab, build_vocab_from_freq(); a corpus that leaves no word makes
  train() raise RuntimeError, as in gensim.
* load() reads sgns model files and, when gensim is installed, models and
  vectors saved by gensim's save() (a pickle), converted to sgns; save()
  always writes sgns's file format (gensim's pickle arguments are accepted
  and ignored).
* Corpus readers split lines as str.split() does (Unicode whitespace too).

Everything else (training, vocabulary, files, queries) is sgns's one
implementation. Deliberate differences are listed in README.md.
"""

from __future__ import annotations

import functools
import logging
import os
import platform
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

import numpy as np

from sgns import corpus, keyedvectors, migrate
from sgns import model as core
from sgns.model import extend_vocab
from sgns.version import __version__ as sgns_version
from sgns.vocab import Vocabulary, keep_probabilities

logger = logging.getLogger(__name__)

MAX_WORDS_IN_BATCH = 10000
# trim_rule results, as gensim.utils defines them.
RULE_DEFAULT, RULE_DISCARD, RULE_KEEP = 0, 1, 2


class LineSentence(corpus.LineSentence):
    """gensim's LineSentence: one sentence per line, tokens as str.split()."""

    str_split = True


class Text8Corpus(corpus.Text8Corpus):
    """gensim's Text8Corpus: one stream of str.split() tokens in sentences
    of max_sentence_length."""

    str_split = True


class PathLineSentences(corpus.PathLineSentences):
    """gensim's PathLineSentences: LineSentence over every file of a directory."""

    line_sentence = LineSentence


BrownCorpus = corpus.BrownCorpus


class _ClassOnly:
    """A classmethod that refuses to be called on an instance (gensim's
    load: model.load(path) would silently return another model)."""

    def __init__(self, fn):
        self.fn = fn
        functools.update_wrapper(self, fn)

    def __get__(self, obj, cls):
        if obj is not None:
            raise AttributeError(
                f"load() is a class method: call {cls.__name__}.load(path), not on an instance"
            )
        return functools.partial(self.fn, cls)


class _Lifecycle:
    """gensim's lifecycle_events: a list of dicts recording what happened
    to an object (set lifecycle_events = None to stop recording)."""

    lifecycle_events: list | None = None

    def add_lifecycle_event(self, event_name: str, log_level=logging.INFO, **event) -> None:
        event = dict(event, event=event_name, datetime=datetime.now().isoformat())
        event.update(python=sys.version, platform=platform.platform(), sgns=sgns_version)
        if log_level:
            logger.log(log_level, "%s lifecycle event %s", type(self).__name__, event)
        if "lifecycle_events" not in vars(self):
            self.lifecycle_events = []
        if self.lifecycle_events is not None:
            self.lifecycle_events.append(event)


class KeyedVectors(_Lifecycle, keyedvectors.KeyedVectors):
    """sgns.KeyedVectors with gensim's text precision (every float32 digit)
    and gensim's load(): sgns files, or gensim's save() when gensim is
    installed. get_vecattr(key, "code" / "point") reads the Huffman tree of
    a hierarchical-softmax model."""

    text_float_format = "%.9g "
    huffman_tree = None  # set by Word2Vec with hs=1

    def get_vecattr(self, key, attr: str):
        if attr in ("code", "point") and attr not in self.expandos and self.huffman_tree is not None:
            offsets, points, codes = self.huffman_tree
            i = self.get_index(key)
            return (codes if attr == "code" else points)[offsets[i] : offsets[i + 1]]
        return super().get_vecattr(key, attr)

    def intersect_word2vec_format(
        self,
        fname,
        lockf: float = 0.0,
        binary: bool = False,
        encoding: str = "utf8",
        unicode_errors: str = "strict",
    ) -> None:
        """gensim's way to start from pretrained vectors: every key of these
        vectors that the word2vec file fname also holds takes the file's
        vector, and its vectors_lockf factor becomes lockf (0.0: training
        leaves it alone, 1.0: it trains freely). Other keys keep theirs. The
        file's dimension must be this one's."""
        other = keyedvectors.KeyedVectors.load_word2vec_format(
            fname, binary=binary, encoding=encoding, unicode_errors=unicode_errors
        )
        if other.vector_size != self.vector_size:
            raise ValueError(f"incompatible vector size {other.vector_size} in file {fname}")
        factors = np.asarray(getattr(self, "vectors_lockf", np.ones(1)), dtype=np.float32)
        if factors.shape != (len(self),):  # gensim's default: one factor for all
            factors = np.full(len(self), factors.flat[0] if factors.size else 1.0, dtype=np.float32)
        pairs = [
            (self.key_to_index[k], j) for j, k in enumerate(other.index_to_key) if k in self.key_to_index
        ]
        if pairs:
            mine, theirs = np.array(pairs).T
            with self.changing():  # cached norms are of the old rows
                self.vectors[mine] = other.vectors[theirs]
            factors[mine] = lockf
        self.vectors_lockf = factors
        logger.info("merged %d vectors into %s matrix from %s", len(pairs), self.vectors.shape, fname)

    def _load(cls, fname, mmap: str | None = None) -> KeyedVectors:
        """Read vectors saved by KeyedVectors.save (sgns's format) or, with
        gensim installed, by gensim's KeyedVectors.save (converted)."""
        if migrate.is_pickle(fname):
            return migrate.keyed_vectors(migrate.load_gensim(fname, "KeyedVectors", mmap), cls)
        return keyedvectors.KeyedVectors.load.__func__(cls, fname, mmap=mmap)  # type: ignore[attr-defined]

    load = _ClassOnly(_load)


class _LossSoFar:
    """Runs before the user's callbacks: running_training_loss (what
    get_latest_training_loss() returns) is the loss of this train() call so
    far at every epoch's end, as gensim's per-epoch loss recipe reads it."""

    def __init__(self, first_report: int):
        self.first_report = first_report

    def on_epoch_end(self, model) -> None:
        model.running_training_loss = sum(r.loss for r in model.epoch_reports[self.first_report :])


class Word2Vec(_Lifecycle, core.Word2Vec):
    """gensim.models.Word2Vec's signature, defaults and semantics over sgns's trainer.

    Parameters as gensim 4.4's. Accepted for compatibility with no effect on
    sgns's training: hashfxn (input vectors are drawn from seed's generator,
    not per-word hashes), batch_words (sgns's learning rate steps every 10k
    words), comment (kept as an attribute)."""

    _train_runs_model_callbacks = False  # gensim: train() runs only the callbacks given to it

    keyed_vectors_class = KeyedVectors
    split_cbow_error = True  # gensim 4's CBOW over the sum: the error is shared among the context rows

    def __init__(
        self,
        sentences: Iterable[Sequence[str]] | None = None,
        corpus_file: str | os.PathLike | None = None,
        vector_size: int = 100,
        alpha: float = 0.025,
        window: int = 5,
        min_count: int = 5,
        max_vocab_size: int | None = None,
        sample: float = 1e-3,
        seed: int = 1,
        workers: int = 3,
        min_alpha: float = 0.0001,
        sg: int = 0,
        hs: int = 0,
        negative: int = 5,
        ns_exponent: float = 0.75,
        cbow_mean: int = 1,
        hashfxn: Callable = hash,
        epochs: int = 5,
        null_word: int = 0,
        trim_rule: Callable | None = None,
        sorted_vocab: int = 1,
        batch_words: int = MAX_WORDS_IN_BATCH,
        compute_loss: bool = False,
        callbacks: Sequence = (),
        comment: str | None = None,
        max_final_vocab: int | None = None,
        shrink_windows: bool = True,
    ):
        self.hashfxn, self.null_word, self.sorted_vocab = hashfxn, int(null_word), int(sorted_vocab)
        self.batch_words, self.comment, self.shrink_windows = batch_words, comment, bool(shrink_windows)
        self.running_training_loss = 0.0
        self.min_alpha_yet_reached = float(alpha)
        self.train_count = 0
        self._raw: tuple | None = None
        self._corpus_stats: tuple = (0, 0)
        super().__init__(
            vector_size=vector_size, alpha=alpha, window=window, min_count=min_count,
            max_vocab_size=max_vocab_size, sample=sample, seed=seed, workers=workers,
            min_alpha=min_alpha, sg=sg, hs=hs, negative=negative, ns_exponent=ns_exponent,
            cbow_mean=cbow_mean, epochs=epochs, max_final_vocab=max_final_vocab,
            compute_loss=compute_loss, callbacks=callbacks,
        )  # fmt: skip
        if self.hs and self.negative:
            logger.warning(
                "Both hierarchical softmax and negative sampling are activated. Both losses are trained."
            )
        self._build_and_train(sentences, corpus_file, trim_rule, callbacks)
        self.add_lifecycle_event("created", params=str(self))

    def _build_and_train(self, sentences, corpus_file, trim_rule, callbacks) -> None:
        """The constructor's work with a corpus: build_vocab, then train over it."""
        if sentences is None and corpus_file is None:
            if trim_rule is not None:
                logger.warning("trim_rule is used only while building a vocabulary: ignored without a corpus")
            return
        if sentences is not None and corpus_file is not None:
            raise TypeError("give sentences or corpus_file, not both")
        self.build_vocab(sentences, corpus_file, trim_rule=trim_rule)
        self.train(
            sentences, corpus_file, total_examples=self.corpus_count,
            total_words=self.corpus_total_words, epochs=self.epochs, start_alpha=self.alpha,
            end_alpha=self.min_alpha, compute_loss=self.compute_loss, callbacks=callbacks,
        )  # fmt: skip

    # ---- gensim's attributes ----------------------------------------------

    @property
    def corpus_count(self):
        """Sentences of the corpus last scanned (None for some migrated models)."""
        return self._corpus_stats[0]

    @corpus_count.setter
    def corpus_count(self, value) -> None:
        self._corpus_stats = (value, self._corpus_stats[1])

    @property
    def corpus_total_words(self):
        """Raw tokens of the corpus last scanned (None for some migrated models)."""
        return self._corpus_stats[1]

    @corpus_total_words.setter
    def corpus_total_words(self, value) -> None:
        self._corpus_stats = (self._corpus_stats[0], value)

    @property
    def raw_vocab(self) -> dict[str, int]:
        """{word: count} of the corpus last scanned, until prepare_vocab
        (kept with keep_raw_vocab=True)."""
        if self._raw is None:
            return {}
        words, counts = self._raw
        names = words.take(range(len(counts))) if hasattr(words, "take") else words
        return dict(zip(names, counts.tolist()))

    @property
    def layer1_size(self) -> int:
        return self.vector_size

    @property
    def effective_min_count(self) -> int:
        return self.vocab.effective_min_count if self.vocab is not None else self.min_count

    @property
    def cum_table(self) -> np.ndarray:
        """gensim's noise table: cumulative count**ns_exponent scaled to
        2**31 - 1 (uint32). sgns samples with an alias table; this is derived."""
        if self.vocab is None or not self.negative:
            return np.zeros(0, dtype=np.uint32)
        weights = np.cumsum(self.vocab.noise_weights(self.ns_exponent))
        return np.round(weights / weights[-1] * (2**31 - 1)).astype(np.uint32)

    def __str__(self) -> str:
        return (
            f"{type(self).__name__}<vocab={len(self.wv)}, vector_size={self.vector_size}, alpha={self.alpha}>"
        )

    # ---- vocabulary -------------------------------------------------------

    def build_vocab(
        self,
        corpus_iterable: Iterable[Sequence[str]] | None = None,
        corpus_file: str | os.PathLike | None = None,
        update: bool = False,
        progress_per: int = 10000,
        keep_raw_vocab: bool = False,
        trim_rule: Callable | None = None,
        **kwargs,
    ) -> None:
        """Scan the corpus and build (update=True: extend) the vocabulary.
        kwargs go to prepare_vocab (min_count, sample, dry_run)."""
        self.scan_vocab(corpus_iterable, corpus_file, progress_per=progress_per, trim_rule=trim_rule)
        self.prepare_vocab(update=update, keep_raw_vocab=keep_raw_vocab, trim_rule=trim_rule, **kwargs)
        self.add_lifecycle_event("build_vocab", update=update, trim_rule=str(trim_rule))

    def scan_vocab(
        self,
        corpus_iterable: Iterable[Sequence[str]] | None = None,
        corpus_file: str | os.PathLike | None = None,
        progress_per: int = 10000,
        workers: int | None = None,
        trim_rule: Callable | None = None,
    ) -> tuple[int, int]:
        """Count the corpus (max_vocab_size prunes while counting). Returns
        (raw tokens, sentences); the counts wait in raw_vocab for prepare_vocab."""
        if corpus_iterable is not None and corpus_file is not None:
            raise TypeError("give corpus_iterable or corpus_file, not both")
        if corpus_file is not None and not isinstance(corpus_file, (str, os.PathLike)):
            raise TypeError(f"corpus_file must be a path, got {type(corpus_file).__name__}")
        if corpus_iterable is not None:
            corpus_iterable = _split_string_sentences(corpus_iterable)
        words, counts, tokens, sentences = self.scan_corpus(corpus_iterable, corpus_file)
        self._raw = (words, np.asarray(counts, dtype=np.int64))
        self.corpus_count, self.corpus_total_words = int(sentences), int(tokens)
        return int(tokens), int(sentences)

    def build_vocab_from_freq(
        self,
        word_freq: dict[str, int],
        keep_raw_vocab: bool = False,
        corpus_count: int | None = None,
        trim_rule: Callable | None = None,
        update: bool = False,
    ) -> None:
        """Build (update=True: extend) the vocabulary from {word: count}."""
        counts = np.fromiter(word_freq.values(), dtype=np.int64, count=len(word_freq))
        self._raw = (list(word_freq), counts)
        self.corpus_count, self.corpus_total_words = int(corpus_count or 0), int(counts.sum())
        self.prepare_vocab(update=update, keep_raw_vocab=keep_raw_vocab, trim_rule=trim_rule)

    def prepare_vocab(
        self,
        update: bool = False,
        keep_raw_vocab: bool = False,
        trim_rule: Callable | None = None,
        min_count: int | None = None,
        sample: float | None = None,
        dry_run: bool = False,
    ) -> dict[str, int]:
        """Apply min_count / max_final_vocab / trim_rule to the scanned counts
        and (unless dry_run) install the vocabulary. Returns gensim's report:
        drop_unique, retain_total, downsample_unique, downsample_total,
        num_retained_words."""
        if self._raw is None:
            raise RuntimeError("scan a corpus first (scan_vocab or build_vocab)")
        words, counts = self._raw
        min_count = min_count or self.min_count
        sample = sample or self.sample
        effective = _effective_min_count(counts, min_count, self.max_final_vocab)
        keep = _kept(words, counts, effective, trim_rule)
        report = _report(counts, keep, sample)
        if dry_run:
            return report
        self.min_count, self.sample = min_count, sample
        if update:
            # gensim 4.4 adds the new counts of every word already in the
            # vocabulary, kept by min_count in this batch or not.
            index = self.wv.key_to_index
            every = words.take(range(len(counts))) if hasattr(words, "take") else list(words)
            known = np.fromiter((w in index for w in every), dtype=bool, count=len(counts))
            rows = np.flatnonzero(keep | known).tolist()
            self._update_vocab([every[i] for i in rows], counts[rows])
        else:
            rows = np.flatnonzero(keep).tolist()
            kept_words = words.take(rows) if hasattr(words, "take") else [words[i] for i in rows]
            self._install_vocab(kept_words, counts[keep], effective)
        self.add_lifecycle_event(
            "prepare_vocab",
            msg=f"min_count={min_count} retains {report['num_retained_words']} unique words "
            f"({report['retain_total']} words); update={update}",
        )
        if not keep_raw_vocab:
            self._raw = None
        return report

    def _install_vocab(self, words: list[str], counts: np.ndarray, effective: int) -> None:
        if self.null_word:
            words, counts = words + ["\0"], np.append(counts, 1)
        if self.hs and not self.sorted_vocab:
            raise ValueError(
                "sorted_vocab=0 with hs=1 is not supported: the Huffman tree needs sorted counts"
            )
        # gensim's order: descending counts, ties latest-seen first.
        order = (
            np.lexsort((-np.arange(len(counts)), -counts)) if self.sorted_vocab else np.arange(len(counts))
        )
        vocab = Vocabulary(
            [words[i] for i in order],
            counts[order],
            corpus_words=self.corpus_total_words or 0,
            corpus_sentences=self.corpus_count or 0,
            effective_min_count=effective,
        )
        if len(vocab) == 0:  # gensim raises at train(), not here
            self.vocab = None
            self.wv.replace_contents(self.keyed_vectors_class(self.vector_size))
            return
        super().build_vocab(vocab=vocab)
        self._after_vocab()

    def _update_vocab(self, words: list[str], counts: np.ndarray) -> None:
        if self.vocab is None:
            raise RuntimeError("update=True needs a vocabulary: build one without update first")
        extend_vocab(
            self,
            words,
            counts,
            corpus_words=self.corpus_total_words or 0,
            corpus_sentences=self.corpus_count or 0,
        )
        self._after_vocab()

    def _after_vocab(self) -> None:
        self.wv.vectors_lockf = np.ones(1, dtype=np.float32)  # type: ignore[attr-defined]  # gensim's
        self.wv.huffman_tree = self.huffman_tree() if self.hs and self.vocab is not None else None  # type: ignore[attr-defined]

    def estimate_memory(self, vocab_size: int | None = None, report: dict | None = None) -> dict[str, int]:
        """Bytes the model needs for vocab_size words (default: its own):
        vectors and output layers of float32, plus ~500 bytes of keys and
        dictionaries per word. Returns a dict of parts and their "total"."""
        n = len(self.wv) if vocab_size is None else int(vocab_size)
        report = dict(report or {})
        report["vocab"] = 500 * n
        report["vectors"] = 4 * n * self.vector_size
        if self.hs:
            report["syn1"] = 4 * n * self.vector_size
        if self.negative:
            report["syn1neg"] = 4 * n * self.vector_size
        report["total"] = sum(v for k, v in report.items() if k != "total")
        return report

    def reset_from(self, other_model: core.Word2Vec) -> None:
        """Take other_model's vocabulary (and corpus statistics) and start
        from fresh weights."""
        self.corpus_count, self.corpus_total_words = other_model.corpus_count, other_model.corpus_total_words
        core.Word2Vec.build_vocab(self, vocab=other_model.vocab)
        self._after_vocab()

    # ---- training ---------------------------------------------------------

    def train(
        self,
        corpus_iterable: Iterable[Sequence[str]] | None = None,
        corpus_file: str | os.PathLike | None = None,
        total_examples: int | None = None,
        total_words: int | None = None,
        epochs: int | None = None,
        start_alpha: float | None = None,
        end_alpha: float | None = None,
        word_count: int = 0,
        queue_factor: int = 2,
        report_delay: float = 1.0,
        compute_loss: bool = False,
        callbacks: Sequence = (),
        **kwargs,
    ) -> tuple[int, int]:
        """Train epochs passes over the corpus. The learning rate falls from
        start_alpha (alpha) to end_alpha (min_alpha) over epochs x
        total_examples sentences or total_words raw tokens (one is required,
        with epochs, as in gensim). Returns (effective words: kept by
        subsampling, raw words read). word_count, queue_factor and
        report_delay are accepted for gensim's signature."""
        self._check_training(epochs, total_examples, total_words, start_alpha)
        if corpus_iterable is not None:
            corpus_iterable = _split_string_sentences(corpus_iterable)
        # gensim's train() keeps its arguments as the model's settings
        self.alpha, self.min_alpha = start_alpha or self.alpha, end_alpha or self.min_alpha
        self.epochs = int(epochs)  # type: ignore[arg-type]  # _check_training refused None
        self.compute_loss = bool(compute_loss)
        self.running_training_loss = 0.0
        first = len(self.epoch_reports)
        self.add_lifecycle_event(
            "train",
            msg=f"training model with {self.workers} workers on {len(self.wv)} vocabulary and "
            f"{self.vector_size} features, using sg={self.sg} hs={self.hs} sample={self.sample} "
            f"negative={self.negative} window={self.window} shrink_windows={self.shrink_windows}",
        )
        t0 = time.perf_counter()
        super().train(
            corpus_iterable=corpus_iterable,
            corpus_file=corpus_file,
            total_words=self.words_per_epoch(total_examples, total_words) if self.vocab is not None else None,
            epochs=epochs,
            start_alpha=start_alpha,
            end_alpha=end_alpha,
            compute_loss=self.compute_loss,
            callbacks=[_LossSoFar(first), *callbacks],
        )
        reports = self.epoch_reports[first:]
        self.running_training_loss = sum(r.loss for r in reports)
        self.min_alpha_yet_reached = self.min_alpha if end_alpha is None else end_alpha
        self.train_count += 1
        raw = sum(r.raw_words for r in reports)
        if corpus_file is not None:  # the C reader does not count the words it drops
            raw = int(total_words if total_words is not None else self.corpus_total_words or 0) * len(reports)
        effective, seconds = sum(r.effective_words for r in reports), time.perf_counter() - t0
        self.add_lifecycle_event(
            "train",
            msg=f"training on {raw} raw words ({effective} effective words) took {seconds:.1f}s, "
            f"{effective / max(seconds, 1e-9):.0f} effective words/s",
        )
        return effective, raw

    def _check_training(self, epochs, total_examples, total_words, start_alpha) -> None:
        """gensim's order of checks: a vocabulary, then the schedule's span."""
        if (start_alpha or self.alpha) > self.min_alpha_yet_reached:
            logger.warning("Effective 'alpha' higher than previous training cycles")
        if not self.wv.key_to_index:
            raise RuntimeError("you must first build vocabulary before training the model")
        if not len(self.wv.vectors):
            raise RuntimeError("you must initialize vectors before training the model")
        if epochs is None or epochs <= 0:
            raise ValueError("train() needs epochs (e.g. epochs=model.epochs), as gensim's does")
        if total_examples is None and total_words is None:
            raise ValueError(
                "train() needs total_examples (sentences, e.g. model.corpus_count) or total_words "
                "(raw tokens, e.g. model.corpus_total_words), as gensim's does"
            )

    def get_latest_training_loss(self) -> float:
        """Loss summed over the last train() call (compute_loss=True)."""
        return self.running_training_loss

    def init_sims(self, replace: bool = False) -> None:
        """Deprecated in gensim 4 (norms are computed when needed)."""
        warnings.warn("init_sims() is deprecated: norms are computed when needed", DeprecationWarning, 2)
        self.wv.init_sims(replace=replace)

    # ---- using the output layer -------------------------------------------

    def predict_output_word(self, context_words_list: Sequence, topn: int = 10):
        """The topn words most probable at the centre of these context words
        (softmax over the negative-sampling output layer), as [(word, p)];
        None when no context word is known."""
        if not self.negative or not len(self.syn1neg):
            raise RuntimeError(
                "predict_output_word needs the negative-sampling output layer "
                "(a model trained with negative > 0, not vectors loaded from a file)"
            )
        rows = [self.wv.get_index(w) for w in context_words_list if self.wv.has_index_for(w)]
        if not rows:
            logger.warning("none of the context words %s is in the vocabulary", context_words_list)
            return None
        hidden = np.sum(self.wv.vectors[rows], axis=0)
        if self.cbow_mean:
            hidden /= len(rows)
        scores = self.syn1neg @ hidden
        probs = np.exp(scores - scores.max())
        probs /= probs.sum()
        best = np.argsort(-probs, kind="stable")[:topn]
        return [(self.wv.index_to_key[i], float(probs[i])) for i in best]

    def score(
        self, sentences, total_sentences: int = int(1e6), chunksize: int = 100, queue_factor=2, report_delay=1
    ):
        """Log-probability of each sentence under a hierarchical-softmax
        model (Taddy 2015, as gensim): skip-gram sums log p(word | neighbour)
        over the full window, CBOW log p(word | window mean or sum). Returns
        float32 scores, one per sentence (at most total_sentences)."""
        if not self.hs:
            raise RuntimeError("score() needs hierarchical softmax (hs=1), as in gensim")
        scores = []
        for n, sentence in enumerate(sentences):
            if n >= total_sentences:
                break
            ids = [self.wv.key_to_index[w] for w in sentence if w in self.wv.key_to_index]
            scores.append(self._score_ids(ids))
        return np.array(scores, dtype=np.float32)

    def _score_ids(self, ids: list[int]) -> float:
        offsets, points, codes = self.huffman_tree()
        total = 0.0
        for pos, word in enumerate(ids):
            lo, hi = max(0, pos - self.window), min(len(ids), pos + self.window + 1)
            context = [ids[j] for j in range(lo, hi) if j != pos]
            if self.sg and not context:
                continue
            nodes = self.syn1[points[offsets[word] : offsets[word + 1]]]
            signs = 1.0 - 2.0 * codes[offsets[word] : offsets[word + 1]]
            if self.sg:
                dots = self.wv.vectors[context] @ nodes.T
            else:  # an empty window is a zero input, as in gensim
                hidden = self.wv.vectors[context].sum(axis=0)
                dots = (hidden / max(1, len(context)) if self.cbow_mean else hidden) @ nodes.T
            total -= float(np.logaddexp(0.0, -signs * dots).sum())
        return total

    # ---- files ------------------------------------------------------------

    def save(self, fname_or_handle, *args, **kwargs) -> None:
        """Write the model in sgns's file format (see sgns.persist). gensim's
        pickle options (separately, sep_limit, ignore, pickle_protocol) are
        accepted and have no effect: the format is one file, no pickle."""
        self.add_lifecycle_event("saving", fname_or_handle=str(fname_or_handle))
        super().save(fname_or_handle)

    def _load(cls, fname, mmap: str | None = None, **kwargs) -> Word2Vec:
        """Read a model saved by save() (sgns's format) or, with gensim
        installed, by gensim's save() (converted; it then trains on and saves
        in sgns's format)."""
        if migrate.is_pickle(fname):
            model = migrate.word2vec(migrate.load_gensim(fname, "Word2Vec", mmap), cls)
        else:
            model = core.Word2Vec.load.__func__(cls, fname, mmap=mmap)  # type: ignore[attr-defined]
            if model.vocab is not None:
                model.corpus_count = model.vocab.corpus_sentences
                model.corpus_total_words = model.vocab.corpus_words
        model._after_vocab()
        model.add_lifecycle_event("loaded", fname=str(fname))
        return model

    load = _ClassOnly(_load)


def _split_string_sentences(corpus_iterable):
    """gensim accepts str sentences (each character a word) with a warning;
    sgns's scanner takes token lists, so such a corpus is wrapped."""
    if isinstance(corpus_iterable, (str, bytes)):
        raise TypeError("the corpus must be an iterable of token lists, not one string")
    try:
        first = next(iter(corpus_iterable), None)
    except TypeError:
        raise TypeError(
            f"the corpus must be an iterable of token lists, got {type(corpus_iterable).__name__}"
        ) from None
    if not isinstance(first, str):
        return corpus_iterable
    logger.warning(
        "Each 'sentences' item should be a list of words (usually unicode strings). "
        "First item here is instead plain %s: each character is taken as a word.",
        type(first),
    )
    return _CharacterSentences(corpus_iterable)


class _CharacterSentences:
    def __init__(self, corpus_iterable):
        self.corpus_iterable = corpus_iterable

    def __iter__(self):
        for sentence in self.corpus_iterable:
            yield list(sentence) if isinstance(sentence, str) else sentence


def _effective_min_count(counts: np.ndarray, min_count: int, max_final_vocab: int | None) -> int:
    """gensim's rule: max_final_vocab raises min_count to one more than the
    count of the (max_final_vocab + 1)-th most frequent word."""
    effective = int(min_count)
    if max_final_vocab is not None and max_final_vocab < len(counts):
        ranked = np.sort(counts)[::-1]
        effective = max(effective, int(ranked[max_final_vocab]) + 1)
    return effective


def _kept(words, counts: np.ndarray, min_count: int, trim_rule) -> np.ndarray:
    """Which words stay: count >= min_count, unless trim_rule(word, count,
    min_count) says RULE_KEEP or RULE_DISCARD."""
    keep = counts >= min_count
    if trim_rule is None:
        return keep
    names = words.take(range(len(counts))) if hasattr(words, "take") else words
    for i, (word, count) in enumerate(zip(names, counts.tolist())):
        rule = trim_rule(word, count, min_count)
        if rule == RULE_KEEP:
            keep[i] = True
        elif rule == RULE_DISCARD:
            keep[i] = False
    return keep


def _report(counts: np.ndarray, keep: np.ndarray, sample: float) -> dict[str, int]:
    kept = counts[keep]
    retain_total = int(kept.sum())
    probs = keep_probabilities(kept, sample)
    if probs is None:
        probs = np.ones(len(kept))
    return {
        "drop_unique": int((~keep).sum()),
        "retain_total": retain_total,
        "downsample_unique": int((probs < 1.0).sum()),
        "downsample_total": int((probs * kept).sum()),
        "num_retained_words": int(keep.sum()),
    }


def use_in_gensim() -> None:
    """Bind sgns's classes to gensim's names (gensim.models.Word2Vec,
    gensim.models.word2vec.{Word2Vec, LineSentence, Text8Corpus,
    PathLineSentences, BrownCorpus}, gensim.models[.keyedvectors].KeyedVectors),
    so that code importing them from gensim runs sgns. gensim's own classes
    stay reachable for reading gensim's saved models."""
    import gensim.models
    import gensim.models.keyedvectors
    import gensim.models.word2vec

    for module in (gensim.models, gensim.models.word2vec):
        migrate.rebind(module, "Word2Vec", Word2Vec)
    for name, value in (
        ("LineSentence", LineSentence),
        ("Text8Corpus", Text8Corpus),
        ("PathLineSentences", PathLineSentences),
        ("BrownCorpus", BrownCorpus),
    ):
        migrate.rebind(gensim.models.word2vec, name, value)
    for module in (gensim.models, gensim.models.keyedvectors):
        migrate.rebind(module, "KeyedVectors", KeyedVectors)


__all__ = [
    "BrownCorpus",
    "KeyedVectors",
    "LineSentence",
    "PathLineSentences",
    "Text8Corpus",
    "Word2Vec",
    "use_in_gensim",
]
