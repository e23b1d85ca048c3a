# Phrase counting and rewriting at C speed: the Python face of csrc/phrases.c.
# Tokens cross into C as UTF-8 bytes (surrogate escapes kept); no Python
# object is made per counted token, and the GIL is released while C works.
import os
import sys
from array import array

from libc.stdint cimport int32_t, int64_t, uint64_t
from libc.stdlib cimport free, malloc, realloc
from libc.string cimport memcpy, strerror
from cpython.buffer cimport PyBuffer_FillInfo

from sgns._csrc cimport (
    SP_EFORMAT, SP_EIO, SP_ENOMEM, SP_ESTOP, SP_SCORE_DEFAULT, SP_SCORE_NPMI, sp_analyze,
    sp_candidates, sp_count_batch, sp_count_file, sp_counter, sp_counter_free,
    sp_counter_init, sp_dump, sp_dump_size, sp_find, sp_free, sp_init, sp_insert, sp_key, sp_len,
    sp_dump_arena, sp_load, sp_load_arena, sp_merge, sp_model, sp_next, sp_prune, sp_record_near, sp_score,
    sp_table,
    sp_text, sp_text_free, sp_text_write, sp_transform_file, sp_value,
    sp_w2p_learn, sp_w2p_transform,
)

cdef extern from "Python.h":
    const char *PyUnicode_AsUTF8AndSize(object s, Py_ssize_t *size) except NULL
    bytes PyBytes_FromStringAndSize(const char *v, Py_ssize_t n)
    char *PyBytes_AS_STRING(object b)

LITTLE_ENDIAN = sys.byteorder == "little"
SCORE_DEFAULT = SP_SCORE_DEFAULT
SCORE_NPMI = SP_SCORE_NPMI
_BATCH_BYTES = 1 << 22  # a batch of sentences is counted once it holds this much text


class Interrupted(Exception):
    """A scan stopped by its stop flag."""


cdef raise_for(int rc, int err, path):
    if rc == SP_ENOMEM:
        raise MemoryError("out of memory in the phrase table")
    if rc == SP_EIO:
        raise OSError(err, strerror(err).decode(), os.fsdecode(path) if path is not None else None)
    if rc == SP_ESTOP:
        raise Interrupted()
    if rc == SP_EFORMAT:
        raise ValueError("malformed phrase table")


cdef inline const char *utf8(object w, Py_ssize_t *n, list keep) except NULL:
    """UTF-8 of token w; a token with lone surrogates is encoded with
    surrogate escapes into a bytes object kept alive in `keep`."""
    cdef bytes b
    if not isinstance(w, str):
        raise TypeError(f"tokens must be str, got {type(w).__name__}: {w!r}")
    try:
        return PyUnicode_AsUTF8AndSize(w, n)
    except UnicodeEncodeError:
        b = w.encode("utf-8", "surrogateescape")
        keep.append(b)
        n[0] = len(b)
        return b


cdef class PhraseTable:
    """Byte-string keys (unigrams and joined phrases) with an int64 value
    each, in insertion order; with as_float the value is a float64 score."""

    cdef sp_table t
    cdef bint ready
    cdef public bint as_float
    cdef Py_ssize_t views  # read-only views of the memory held (stored()): it must not move

    cdef int changing(self) except -1:
        if self.views:
            raise BufferError("the phrase table is being saved (a view of its memory is held)")
        return 0

    def __cinit__(self, int64_t expected=0, bint as_float=False):
        if sp_init(&self.t, expected) != 0:
            raise MemoryError("cannot allocate the phrase table")
        self.ready = True
        self.as_float = as_float

    def __dealloc__(self):
        if self.ready:
            sp_free(&self.t)

    def __len__(self):
        return self.t.n

    cdef object _value(self, int64_t off):
        cdef double d
        if self.as_float:
            memcpy(&d, sp_value(&self.t, off), 8)
            return d
        return sp_value(&self.t, off)[0]

    def get(self, bytes key, default=None):
        cdef int64_t off = sp_find(&self.t, key, len(key))
        return default if off < 0 else self._value(off)

    def set(self, bytes key, value):
        self.changing()
        cdef int64_t off = sp_insert(&self.t, key, len(key))
        cdef double d
        if off < 0:
            raise MemoryError("phrase table full")
        if self.as_float:
            d = value
            memcpy(sp_value(&self.t, off), &d, 8)
        else:
            sp_value(&self.t, off)[0] = value

    def add(self, bytes key, int64_t count):
        self.changing()
        cdef int64_t off = sp_insert(&self.t, key, len(key))
        if off < 0:
            raise MemoryError("phrase table full")
        sp_value(&self.t, off)[0] += count

    def items(self):
        """(key bytes, value) in insertion order, one at a time."""
        cdef int64_t off = 0 if self.t.n else -1
        while off >= 0:
            yield sp_key(&self.t, off)[:sp_len(&self.t, off)], self._value(off)
            off = sp_next(&self.t, off)

    def prune(self, int64_t below):
        """Drop every key whose value is below `below`."""
        self.changing()
        if sp_prune(&self.t, below) != 0:
            raise MemoryError("cannot rebuild the phrase table")

    def merge(self, PhraseTable other not None):
        self.changing()
        if sp_merge(&self.t, &other.t) != 0:
            raise MemoryError("phrase table full")

    def parts(self, int n):
        """n + 1 record offsets cutting the records into n parts of about
        equal bytes (for Scorer.candidates on several threads)."""
        cdef list cuts = [0]
        cdef int64_t cut = 0
        cdef int k
        for k in range(1, n):
            cut = sp_record_near(&self.t, cut, self.t.used * k // n)
            cuts.append(cut)
        cuts.append(self.t.used)
        return cuts

    def nbytes(self):
        """Memory held: slots plus the record arena."""
        return self.t.cap * 8 + self.t.size

    def dump(self):
        """The serialised records: per key uint32 length, bytes, int64 value (little-endian)."""
        cdef uint64_t n = sp_dump_size(&self.t)
        cdef bytes out = PyBytes_FromStringAndSize(NULL, n)  # filled in place: no copy
        if n:
            sp_dump(&self.t, <unsigned char *>PyBytes_AS_STRING(out))
        return out

    def __getbuffer__(self, Py_buffer *view, int flags):
        PyBuffer_FillInfo(view, self, <void *>self.t.arena, <Py_ssize_t>self.t.used, 1, flags)
        self.views += 1

    def __releasebuffer__(self, Py_buffer *view):
        self.views -= 1

    def stored(self):
        """A memoryview of the bytes arena() returns: the table's memory itself
        (no copy; the table cannot change until the view is released) where
        that is already the stored layout (little-endian hosts), else a copy."""
        return memoryview(self if LITTLE_ENDIAN else self.arena())

    def arena(self):
        """The records as they lie in memory (sgns.phrasefile's version 2 layout):
        per key int64 value, uint32 length (little-endian), bytes, zero padding to 8."""
        cdef bytes out = PyBytes_FromStringAndSize(NULL, self.t.used)
        if self.t.used:
            sp_dump_arena(&self.t, <unsigned char *>PyBytes_AS_STRING(out))
        return out

    @staticmethod
    def from_arena(const unsigned char[::1] data, bint as_float=False, int64_t expected=0):
        """A table from arena() bytes; ValueError if they are malformed."""
        return table_from(data, as_float, expected, True)

    @staticmethod
    def load(const unsigned char[::1] data, bint as_float=False, int64_t expected=0):
        """A table from version 1 records; ValueError if they are malformed."""
        return table_from(data, as_float, expected, False)


cdef PhraseTable table_from(const unsigned char[::1] data, bint as_float, int64_t expected, bint arena):
    """A table from stored bytes: arena() records (version 2) or version 1's."""
    cdef PhraseTable t = PhraseTable(expected, as_float)
    cdef int rc = 0
    if data.shape[0]:
        with nogil:
            if arena:
                rc = sp_load_arena(&t.t, &data[0], data.shape[0])
            else:
                rc = sp_load(&t.t, &data[0], data.shape[0])
    raise_for(rc, 0, None)
    return t

cdef class Counter:
    """gensim's learning pass into a PhraseTable: sentences of str tokens in
    batches, or a byte range of a file."""

    cdef sp_counter c
    cdef PhraseTable table
    cdef object connectors, delim
    cdef char *arena
    cdef int64_t *lens
    cdef size_t arena_len, arena_cap
    cdef int64_t nlens, lens_cap

    def __cinit__(self, PhraseTable table not None, PhraseTable connectors, bytes delim, int64_t bound):
        self.table, self.connectors, self.delim = table, connectors, delim
        sp_counter_init(&self.c, &table.t, &connectors.t if connectors is not None else NULL,
                        delim, len(delim), bound)

    def __dealloc__(self):
        sp_counter_free(&self.c)
        free(self.arena)
        free(self.lens)

    @property
    def words(self):
        return self.c.words

    @property
    def min_reduce(self):
        return self.c.min_reduce

    cdef int push(self, const char *p, int64_t n) except -1:
        cdef void *q
        if self.arena_len + <size_t>max(n, 0) > self.arena_cap:
            self.arena_cap = max(2 * self.arena_cap, self.arena_len + n, 1 << 16)
            q = realloc(self.arena, self.arena_cap)
            if q == NULL:
                raise MemoryError()
            self.arena = <char *>q
        if self.nlens == self.lens_cap:
            self.lens_cap = max(2 * self.lens_cap, 1 << 14)
            q = realloc(self.lens, self.lens_cap * sizeof(int64_t))
            if q == NULL:
                raise MemoryError()
            self.lens = <int64_t *>q
        if n > 0:
            memcpy(self.arena + self.arena_len, p, n)
            self.arena_len += n
        self.lens[self.nlens] = n
        self.nlens += 1
        return 0

    cdef flush(self):
        self.table.changing()
        cdef int rc
        with nogil:
            rc = sp_count_batch(&self.c, self.arena, self.lens, self.nlens)
        self.arena_len = 0
        self.nlens = 0
        raise_for(rc, 0, None)

    def count_sentences(self, sentences, int64_t progress_per=0, report=None):
        """Count an iterable of sentences; report(sentence_no, words, types)
        every progress_per sentences. Returns the number of sentences."""
        cdef Py_ssize_t n
        cdef const char *p
        cdef int64_t no = 0
        cdef list keep = []
        for sentence in sentences:
            if isinstance(sentence, (str, bytes)):
                raise TypeError("each sentence must be a list of str tokens, not a single str")
            if report is not None and progress_per > 0 and no % progress_per == 0:
                self.flush()
                report(no, self.c.words, self.table.t.n)
            for w in sentence:
                p = utf8(w, &n, keep)
                self.push(p, n)
            self.push(NULL, -1)
            no += 1
            if self.arena_len >= _BATCH_BYTES or self.nlens >= (_BATCH_BYTES >> 2):
                self.flush()
                keep.clear()
        self.flush()
        return no

    def count_file(self, path, int64_t start, int64_t end, bint peek, stop):
        cdef bytes p = os.fsencode(path)
        cdef const char *cpath = p
        cdef int32_t[::1] flag = stop
        cdef int rc, err = 0
        self.table.changing()
        with nogil:
            rc = sp_count_file(&self.c, cpath, start, end, peek, &flag[0], &err)
        raise_for(rc, err, path)


cdef class Text:
    """Rewritten text held in memory (a worker's part of a file) until written."""

    cdef sp_text t

    def __dealloc__(self):
        sp_text_free(&self.t)

    def __len__(self):
        return self.t.len

    def write_to(self, int fd):
        """Write the text to descriptor fd and free it."""
        cdef int e
        with nogil:
            e = sp_text_write(fd, &self.t)
        sp_text_free(&self.t)
        if e:
            raise OSError(e, strerror(e).decode())


cdef class Scorer:
    """A model's scoring setup for analysing sentences and rewriting files."""

    cdef sp_model m
    cdef PhraseTable vocab, connectors
    cdef bytes delim
    cdef str delim_str

    def __cinit__(self, PhraseTable vocab not None, PhraseTable connectors, str delimiter, bint frozen,
                  int scoring, double threshold, double min_count, int64_t corpus_words):
        self.vocab, self.connectors = vocab, connectors
        self.delim_str = delimiter
        self.delim = delimiter.encode("utf-8", "surrogateescape")
        self.m.vocab = &vocab.t
        self.m.connectors = &connectors.t if connectors is not None else NULL
        self.m.delim = self.delim
        self.m.dlen = len(self.delim)
        self.m.frozen = frozen
        self.m.scoring = scoring
        self.m.threshold = threshold
        self.m.min_count = min_count
        self.m.corpus_words = corpus_words

    def score(self, int64_t ca, int64_t cb, int64_t cab):
        return sp_score(&self.m, ca, cb, cab)

    def analyze(self, sentence, bint with_scores=False):
        """The phrased tokens of one sentence; with_scores: (token, score or None) pairs."""
        cdef list tokens = sentence if type(sentence) is list else list(sentence)
        cdef Py_ssize_t k = len(tokens), i, n, total = 0
        cdef int64_t m
        cdef list keep = [], out = []
        if k == 0:
            return out
        cdef const char **ptrs = <const char **>malloc(k * sizeof(char *))
        cdef int64_t *ints = <int64_t *>malloc(k * 3 * sizeof(int64_t))
        cdef double *sc = <double *>malloc(k * sizeof(double))
        cdef char *text = NULL
        try:
            if ptrs == NULL or ints == NULL or sc == NULL:
                raise MemoryError()
            for i in range(k):
                ptrs[i] = utf8(tokens[i], &n, keep)
                ints[i] = n
                total += n
            text = <char *>malloc(total + 1)
            if text == NULL:
                raise MemoryError()
            total = 0
            for i in range(k):
                memcpy(text + total, ptrs[i], ints[i])
                total += ints[i]
            m = sp_analyze(&self.m, text, ints, k, ints + k, ints + 2 * k, sc)
            if m < 0:
                raise MemoryError()
            for i in range(m):
                if ints[2 * k + i] - ints[k + i] == 1:
                    w = tokens[ints[k + i]]
                    out.append((w, None) if with_scores else w)
                else:
                    w = self.delim_str.join(tokens[ints[k + i]:ints[2 * k + i]])
                    out.append((w, sc[i]) if with_scores else w)
            return out
        finally:
            free(ptrs)
            free(ints)
            free(sc)
            free(text)

    def transform_file(self, path, int fd, stop, int64_t start=0, int64_t end=-1, Text into=None):
        """Rewrite path[start:end) (end -1: to the end; both at line starts)
        into descriptor fd, or into a Text held in memory."""
        cdef bytes p = os.fsencode(path)
        cdef const char *cpath = p
        cdef int32_t[::1] flag = stop
        cdef int rc, err = 0
        cdef sp_text *mem = NULL
        if into is not None:
            mem = &into.t
            fd = -1
        with nogil:
            rc = sp_transform_file(&self.m, cpath, start, end, fd, mem, &flag[0], &err)
        raise_for(rc, err, path)

    def candidates(self, bint scored, int64_t start=0, int64_t end=-1):
        """Keys that split into a first and last part with counts (gensim's
        export_phrases): (keys as bytes, then arrays: count of first part, of last part,
        of the key, scores). scored: only keys whose built-in score passes
        the threshold, with their scores. start, end: only the records at
        those offsets (PhraseTable.parts; end -1: to the last)."""
        cdef int64_t cap = 1 << 14, k, i
        if end < 0:
            end = self.vocab.t.used
        cdef int64_t[::1] ov, av, bv, abv
        cdef double[::1] sv
        while True:  # once, unless there are more than cap (then again with room for all)
            offs, ca, cb, cab = (array("q", bytes(8 * cap)) for _ in range(4))
            scores = array("d", bytes(8 * cap))
            ov, av, bv, abv, sv = offs, ca, cb, cab, scores
            with nogil:
                k = sp_candidates(&self.m, scored, start, end, cap, &ov[0], &av[0], &bv[0], &sv[0])
            if k <= cap:
                break
            cap = k
        keys = []
        for i in range(k):
            keys.append(sp_key(&self.vocab.t, ov[i])[:sp_len(&self.vocab.t, ov[i])])
            abv[i] = sp_value(&self.vocab.t, ov[i])[0]
        ca, cb, cab, scores = ca[:k], cb[:k], cab[:k], scores[:k]
        return keys, ca, cb, cab, scores


def w2p_learn(PhraseTable table not None, path, int64_t start, int64_t end, bint peek, int64_t bound, stop):
    """word2phrase's counting of path[start:end). Returns (words, reductions)."""
    cdef bytes p = os.fsencode(path)
    cdef const char *cpath = p
    cdef int32_t[::1] flag = stop
    cdef int rc, err = 0
    cdef int64_t words = 0, min_reduce = 1
    table.changing()
    with nogil:
        rc = sp_w2p_learn(&table.t, cpath, start, end, peek, bound, &min_reduce, &words, &flag[0], &err)
    raise_for(rc, err, path)
    return words, min_reduce - 1


def w2p_transform(PhraseTable table not None, path, int fd, int64_t min_count, float threshold,
                  int64_t train_words, stop):
    """word2phrase's rewriting of path into descriptor fd."""
    cdef bytes p = os.fsencode(path)
    cdef const char *cpath = p
    cdef int32_t[::1] flag = stop
    cdef int rc, err = 0
    with nogil:
        rc = sp_w2p_transform(&table.t, cpath, fd, min_count, threshold, train_words, &flag[0], &err)
    raise_for(rc, err, path)
