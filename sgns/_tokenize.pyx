# C-speed corpus scanning: counts words of a file (or a byte range of it)
# without creating a Python object per token. Words are raw bytes here; the
# Python layer decides how to decode them. Also the rows of word2vec vector
# files (vector_rows, for sgns.formats), parsed and written (vector_file_rows)
# without a Python object per value.
import os

import numpy as np

from libc.stdint cimport int32_t, int64_t, uint8_t, uint64_t
from cpython.unicode cimport PyUnicode_Decode
from cpython.dict cimport PyDict_GetItemWithError
from cpython.ref cimport PyObject
from cpython.sequence cimport PySequence_Fast, PySequence_Fast_GET_ITEM, PySequence_Fast_GET_SIZE
from libc.string cimport strerror

from sgns._csrc cimport (
    SG_MAX_WORD, SG_TOK_ERROR, SG_WORD_LEN_BITS, SG_TOK_NEWLINE, SG_TOK_WORD, sg_countfilter,
    sg_countfilter_count, sg_countfilter_free, sg_countfilter_init, sg_countfilter_merge,
    sg_countfilter_pass, sg_hash_bytes, sg_huffman_lengths, sg_huffman_paths, sg_reader, sg_reader_close,
    sg_reader_next, sg_reader_open, sg_wordhash_add, sg_wordhash_count, sg_wordhash_find,
    sg_wordhash_free, sg_wordhash_init, sg_wordhash_merge, sg_wordhash_prune, sg_wordhash_word,
    SG_ROWS_DONE, SG_ROWS_FULL, SG_ROWS_MAX_BINARY_WORD, SG_ROWS_MORE, SG_ROWS_SLOW, sg_rows_out,
    sg_binary_rows, sg_text_rows, sg_parse_float, SG_ROW_MAX_TEXT_VALUE, sg_write_row,
)

# Tokens longer than this many bytes are cut (csrc/reader.h).
MAX_WORD_BYTES = SG_MAX_WORD


# The longest word a table stores (csrc/wordhash.h); corpus files cut words at MAX_WORD_BYTES.
MAX_TABLE_WORD_BYTES = (1 << SG_WORD_LEN_BITS) - 1


def word_hash(bytes word):
    """The 64-bit hash the word tables use for word (csrc/wordhash.h): a slot
    keeps its low 32 bits, and its top bits pick the slot. For tests."""
    return sg_hash_bytes(word, len(word))


cdef _check_storable(bytes word):
    if len(word) > MAX_TABLE_WORD_BYTES:
        raise ValueError(
            f"a word of {len(word)} bytes ({word[:20]!r}...) is longer than the word table's "
            f"limit of {MAX_TABLE_WORD_BYTES} bytes"
        )


cdef class WordHash:
    """Bytes -> id table with a count per id; ids follow first insertion."""

    def __cinit__(self, int64_t expected=0):
        if sg_wordhash_init(&self.h, expected) != 0:
            raise MemoryError("cannot allocate the word table")
        self.ready = True

    def __dealloc__(self):
        if self.ready:
            sg_wordhash_free(&self.h)

    @staticmethod
    def from_words(words):
        """Table whose id i is words[i] (bytes, all distinct)."""
        cdef WordHash t = WordHash(len(words))
        cdef bytes w
        for w in words:
            _check_storable(w)
            if sg_wordhash_add(&t.h, w, len(w), 1) != t.h.n - 1:
                raise ValueError(f"duplicate or unstorable word {w[:100]!r}")
        return t

    def __len__(self):
        return self.h.n

    def add(self, bytes word, int64_t count=1):
        _check_storable(word)
        cdef int64_t i = sg_wordhash_add(&self.h, word, len(word), count)
        if i < 0:
            raise MemoryError("word table full")
        return i

    def merge(self, WordHash other not None):
        """Add other's words and counts; words new to self keep other's order."""
        cdef int rc
        with nogil:
            rc = sg_wordhash_merge(&self.h, &other.h)
        if rc != 0:
            raise MemoryError("word table full")

    def find(self, bytes word):
        return sg_wordhash_find(&self.h, word, len(word))

    def prune(self, int64_t min_count):
        if sg_wordhash_prune(&self.h, min_count) != 0:
            raise MemoryError("cannot rebuild the word table")

    def word(self, int64_t i):
        """The bytes of word i."""
        cdef size_t n
        cdef const char *p
        if not 0 <= i < self.h.n:
            raise IndexError(i)
        p = sg_wordhash_word(&self.h, i, &n)
        return p[:n]

    def words_at(self, ids, encoding=None, errors="strict"):
        """The word of each id in ids (a sequence or an integer array): bytes,
        or str decoded with encoding and errors when an encoding is given."""
        cdef const int64_t[::1] at = np.ascontiguousarray(ids, dtype=np.int64).reshape(-1)
        cdef size_t n
        cdef const char *p
        cdef int64_t i, k
        cdef bytes enc = encoding.encode() if encoding is not None else None
        cdef bytes err = errors.encode()
        out = [None] * at.shape[0]
        for k in range(at.shape[0]):
            i = at[k]
            if not 0 <= i < self.h.n:
                raise IndexError(i)
            p = sg_wordhash_word(&self.h, i, &n)
            out[k] = p[:n] if enc is None else PyUnicode_Decode(p, n, enc, err)
        return out

    def words(self):
        cdef size_t n
        cdef const char *p
        out = []
        for i in range(self.h.n):
            p = sg_wordhash_word(&self.h, i, &n)
            out.append(p[:n])
        return out

    def counts(self):
        out = np.empty(self.h.n, dtype=np.int64)
        cdef int64_t[::1] c = out
        cdef int64_t i
        for i in range(self.h.n):
            c[i] = sg_wordhash_count(&self.h, i)
        return out


cdef bytes _open(sg_reader *r, path, int64_t start, int64_t end, stop):
    """Open r on path[start:end) with the optional int32 stop flag array;
    returns the encoded path (r keeps no reference to it)."""
    cdef int32_t[::1] stop_view = stop
    cdef bytes p = os.fsencode(path)
    cdef int rc
    if os.path.isdir(p):
        raise IsADirectoryError(f"corpus path {os.fsdecode(p)!r} is a directory")
    rc = sg_reader_open(r, p, start, end)
    if rc != 0:
        raise OSError(rc, f"cannot open corpus file: {strerror(rc).decode()}", os.fsdecode(p))
    if stop_view is not None:
        r.stop = &stop_view[0]
    return p


cdef _check_read(sg_reader *r, int status, bytes p):
    if status == SG_TOK_ERROR:
        raise OSError(r.err, f"read error in corpus file: {strerror(r.err).decode()}", os.fsdecode(p))


def count_file(path, int64_t start=0, int64_t end=-1, WordHash table=None,
               int64_t max_vocab_size=0, stop=None, int64_t sentence_words=10000):
    """Count the words of path[start:end) into table (a new one if None).

    max_vocab_size > 0 bounds memory the way gensim does: whenever the table
    grows past it, words seen fewer than `min_reduce` times are dropped and
    min_reduce goes up by one (counts of dropped words are lost). It checks
    after every sentence: a non-empty line, or sentence_words words of a longer
    line, as training (max_sentence_length) and gensim's LineSentence cut them,
    so a text8-style file of one endless line is bounded too.
    stop: an int32 array whose first element, once non-zero, ends the scan
    within the next 1 MiB of input (the counts are then partial).
    Returns (table, n_tokens, n_newlines, min_reduce_used).
    """
    cdef sg_reader r
    cdef const char *tok
    cdef size_t n
    cdef int t
    cdef int64_t tokens = 0, lines = 0, min_reduce = 1, grow_err = 0, in_sentence = 0
    cdef int prune_err = 0, nomem = 0
    if table is None:
        table = WordHash(1 << 16)
    p = _open(&r, path, start, end, stop)
    if max_vocab_size <= 0:  # no pruning: tokens counted a batch at a time
        try:
            with nogil:
                t = sg_countfilter_count(&r, NULL, &table.h, &tokens, &lines, &nomem)
            if nomem:
                raise MemoryError("out of memory while counting the vocabulary")
            _check_read(&r, t, p)
        finally:
            sg_reader_close(&r)
        return table, tokens, lines, 0
    try:
        with nogil:
            while True:
                t = sg_reader_next(&r, &tok, &n)
                if t == SG_TOK_WORD:
                    tokens += 1
                    if sg_wordhash_add(&table.h, tok, n, 1) < 0:
                        grow_err = 1
                        break
                    in_sentence += 1
                    if in_sentence < sentence_words:
                        continue
                elif t == SG_TOK_NEWLINE:
                    lines += 1
                # Like gensim over LineSentence: prune after each sentence (a
                # line's words up to the end of the line or the file, or
                # sentence_words of them; an empty line is none), so a file and
                # its sentences as lists agree.
                if in_sentence > 0:
                    in_sentence = 0
                    if table.h.n > max_vocab_size:
                        if sg_wordhash_prune(&table.h, min_reduce) != 0:
                            prune_err = 1
                            break
                        min_reduce += 1
                if t != SG_TOK_NEWLINE and t != SG_TOK_WORD:
                    break
        _check_read(&r, t, p)
        if grow_err or prune_err:
            raise MemoryError("out of memory while counting the vocabulary")
    finally:
        sg_reader_close(&r)
    return table, tokens, lines, min_reduce - 1


cdef class CountFilter:
    """Byte counters over word hashes that never under-count a word (up to
    `cap`): words whose estimate stays below cap occur fewer than cap times.
    See csrc/countfilter.h."""

    cdef sg_countfilter f
    cdef bint ready

    def __cinit__(self, uint64_t nbytes, int cap):
        if not 1 <= cap <= 255:
            raise ValueError(f"cap must be in 1..255, got {cap}")
        if sg_countfilter_init(&self.f, nbytes, cap) != 0:
            raise MemoryError(f"cannot allocate a {nbytes}-byte count filter")
        self.ready = True

    def __dealloc__(self):
        if self.ready:
            sg_countfilter_free(&self.f)

    @property
    def nbytes(self):
        return 64 << self.f.block_bits

    def merge(self, CountFilter other not None):
        """Add other's counters (saturating): the filter of both corpora."""
        if other.f.block_bits != self.f.block_bits or other.f.cap != self.f.cap:
            raise ValueError("count filters differ in size or cap")
        with nogil:
            sg_countfilter_merge(&self.f, &other.f)


def filter_file(path, int64_t start, int64_t end, CountFilter into not None, stop=None):
    """Pass 1 of filtered counting: every token of path[start:end) into the
    filter. Returns (n_tokens, n_newlines); stop as for count_file."""
    cdef sg_reader r
    cdef int t
    cdef int64_t tokens = 0, lines = 0
    p = _open(&r, path, start, end, stop)
    try:
        with nogil:
            t = sg_countfilter_pass(&r, &into.f, &tokens, &lines)
        _check_read(&r, t, p)
    finally:
        sg_reader_close(&r)
    return tokens, lines


def count_filtered(path, int64_t start, int64_t end, CountFilter through not None, stop=None):
    """Pass 2: count the words of path[start:end) that the (complete) filter
    passes into a new table, in first-seen order. Every word occurring at
    least `cap` times in the filter's corpus is there with its exact count."""
    cdef WordHash table = WordHash(1 << 16)
    cdef sg_reader r
    cdef int t, nomem = 0
    cdef int64_t tokens = 0, lines = 0
    p = _open(&r, path, start, end, stop)
    try:
        with nogil:
            t = sg_countfilter_count(&r, &through.f, &table.h, &tokens, &lines, &nomem)
        if nomem:
            raise MemoryError("out of memory while counting the vocabulary")
        _check_read(&r, t, p)
    finally:
        sg_reader_close(&r)
    return table


cdef object sentence_tokens(object sentence, object check):
    """sentence's tokens as a list or tuple: check is called first with a
    sentence that is neither (it raises for a str or bytes, which would be
    read as characters); one that is not iterable raises TypeError."""
    if type(sentence) is not list and type(sentence) is not tuple:
        check(sentence)
    return PySequence_Fast(sentence, "each sentence must be an iterable of str tokens")


def count_sentences(sentences, check, Py_ssize_t max_vocab_size=0):
    """The words of an iterable of token sequences: (word types in first-seen
    order, their counts as int64, tokens, sentences). check is called with
    every sentence that is not a list or tuple, before it is read (it raises
    for a str or bytes). With max_vocab_size, whenever a sentence leaves more
    types than that, the types counted fewer than min_reduce times go and
    min_reduce grows by one (word2vec.c's and gensim's pruning). An
    unhashable token raises TypeError."""
    cdef dict slot = {}
    cdef list words = []
    cdef Py_ssize_t n = 0, cap = 1024, size, k, i, j, min_reduce = 1
    cdef int64_t tokens = 0, n_sentences = 0
    cdef int64_t[::1] counts = np.zeros(cap, dtype=np.int64)
    cdef PyObject *found
    cdef object seq, tok
    for sentence in sentences:
        seq = sentence_tokens(sentence, check)
        size = PySequence_Fast_GET_SIZE(seq)
        n_sentences += 1
        tokens += size
        for k in range(size):
            tok = <object>PySequence_Fast_GET_ITEM(seq, k)
            found = PyDict_GetItemWithError(slot, tok)
            if found != NULL:
                counts[<Py_ssize_t><object>found] += 1
                continue
            if n == cap:
                cap *= 2
                grown = np.zeros(cap, dtype=np.int64)
                grown[:n] = counts[:n]
                counts = grown
            slot[tok] = n
            words.append(tok)
            counts[n] = 1
            n += 1
        if 0 < max_vocab_size < n:
            j = 0
            for i in range(n):
                if counts[i] >= min_reduce:
                    words[j] = words[i]
                    counts[j] = counts[i]
                    j += 1
            del words[j:]
            n = j
            slot = {w: i for i, w in enumerate(words)}
            min_reduce += 1
    return words, np.asarray(counts[:n]).copy(), tokens, n_sentences


def huffman(counts):
    """word2vec.c's Huffman tree over counts (descending, at least 2):
    (offsets int64[V+1], points int32, codes uint8); see csrc/huffman.h."""
    cdef const int64_t[::1] c = np.ascontiguousarray(counts, dtype=np.int64)
    cdef int64_t v = c.shape[0], total
    if v < 2 or v > (1 << 30):
        raise ValueError(f"a Huffman tree needs 2..2^30 words, got {v}")
    parent = np.empty(2 * v - 1, dtype=np.int32)
    branch = np.empty(2 * v - 1, dtype=np.uint8)
    offsets = np.empty(v + 1, dtype=np.int64)
    cdef int32_t[::1] par = parent
    cdef uint8_t[::1] br = branch
    cdef int64_t[::1] off = offsets
    with nogil:
        total = sg_huffman_lengths(&c[0], v, &par[0], &br[0], &off[0])
    if total < 0:
        raise MemoryError("cannot build the Huffman tree")
    points = np.empty(total, dtype=np.int32)
    codes = np.empty(total, dtype=np.uint8)
    cdef int32_t[::1] pts = points
    cdef uint8_t[::1] cds = codes
    if total:
        with nogil:
            sg_huffman_paths(&par[0], &br[0], &off[0], v, &pts[0], &cds[0])
    return offsets, points, codes


# ---- rows of word2vec vector files (csrc/vecrows.h) ----------------------------

ROWS_DONE = SG_ROWS_DONE
ROWS_MORE = SG_ROWS_MORE
ROWS_SLOW = SG_ROWS_SLOW
ROWS_FULL = SG_ROWS_FULL


def vector_rows(bint binary, const uint8_t[::1] data, Py_ssize_t pos, int dim, float[:, ::1] vectors,
                Py_ssize_t row, Py_ssize_t max_rows, Py_ssize_t max_row=0, bint final=False):
    """The rows of a word2vec vector file in data[pos:] that are plainly well
    formed, into vectors[row:], at most max_rows of them (csrc/vecrows.h;
    max_row: a text row's longest line, newline included). Returns (status,
    rows, pos, words, word_at): status ROWS_DONE (max_rows taken), ROWS_MORE
    (the next row may go on past data; with final, data ends the file and it
    is ROWS_SLOW), ROWS_SLOW (the row at pos is for the exact reader) or
    ROWS_FULL (this call's words are a megabyte or more: call again); pos
    where the rows taken end; words their words, each followed by b"\\n";
    word_at (int64) each word's offset in data."""
    cdef Py_ssize_t n = data.shape[0], min_row = 4 * dim + 2 if binary else 2 * dim + 2
    cdef size_t p = pos
    cdef sg_rows_out out
    cdef int status
    cdef const char *buf
    if dim < 1 or pos < 0 or pos > n or row < 0 or max_rows < 0 or vectors.shape[1] != dim:
        raise ValueError("vector_rows: bad dimension, position or rows")
    if not binary and max_row < 1:
        raise ValueError("vector_rows: a text row needs max_row >= 1")
    # Never more rows than the bytes left can hold, nor than vectors has room for.
    max_rows = min(max_rows, (n - pos) // min_row + 1, vectors.shape[0] - row)
    if max_rows <= 0:
        return SG_ROWS_DONE, 0, pos, bytearray(), np.empty(0, dtype=np.int64)
    # Room for the words: what is left of data, at most a megabyte unless one
    # word may need more (a call with many rows left to the exact reader
    # must not cost the whole buffer).
    words = bytearray(min(n - pos, max(1 << 20, SG_ROWS_MAX_BINARY_WORD if binary else max_row)))
    word_at = np.empty(max_rows, dtype=np.int64)
    cdef int64_t[::1] at = word_at
    cdef char *w = words
    out.vectors = &vectors[row, 0]
    out.words = w
    out.words_cap = len(words)
    out.word_at = &at[0]
    buf = <const char *>&data[0] if n else NULL  # nothing is read from an empty buffer
    with nogil:
        if binary:
            status = sg_binary_rows(buf, n, &p, dim, max_rows, final, &out)
        else:
            status = sg_text_rows(buf, n, &p, dim, max_rows, max_row, final, &out)
    del words[out.words_len:]
    return status, out.rows, p, words, word_at[:out.rows]


def parse_float(bytes s):
    """The text reader's fast path for one number (csrc/vecrows.h): a float32,
    or None where Python's float() must decide. For tests."""
    cdef float v
    if sg_parse_float(s, len(s), &v):
        return v
    return None


def vector_file_rows(bint binary, list words, const float[:, ::1] block, bytearray out):
    """The rows of a vector file for words (each encoded bytes) and the rows
    of block (csrc/vecrows.h), into out (made larger when it must be; reused
    between calls, its pages are not faulted in again): binary, or text with
    word2vec.c's "%f " per value. Returns the bytes written, or -1 when a
    value is not finite, or a text value is 2^43 or more in magnitude (the
    caller formats or refuses those rows)."""
    cdef Py_ssize_t n = block.shape[0], dim = block.shape[1], i, used = 0, need
    cdef size_t w
    cdef bytes word
    cdef char *o
    if len(words) != n:
        raise ValueError("vector_file_rows: a word per row")
    if n == 0 or dim == 0:
        return -1
    need = n * (2 + dim * (4 if binary else SG_ROW_MAX_TEXT_VALUE)) + sum(map(len, words))
    if len(out) < need:
        out.extend(bytes(need - len(out)))
    o = out
    for i in range(n):
        word = words[i]
        w = sg_write_row(o + used, word, len(word), &block[i, 0], <int>dim, binary)
        if w == 0:
            return -1
        used += w
    return used
