# C-speed corpus scanning: counts words of a file (or a byte range of it)
# without creating a Python object per token. Words are raw bytes here; the
# Python layer decides how to decode them.
import os

import numpy as np

from libc.stdint cimport int32_t, int64_t
from libc.string cimport strerror

from sgns._csrc cimport (
    SG_MAX_WORD, SG_TOK_ERROR, SG_TOK_NEWLINE, SG_TOK_WORD, sg_reader,
    sg_reader_close, sg_reader_next, sg_reader_open, sg_wordhash_add, sg_wordhash_find,
    sg_wordhash_free, sg_wordhash_init, sg_wordhash_prune, sg_wordhash_word,
)

# Tokens longer than this many bytes are cut (csrc/reader.h).
MAX_WORD_BYTES = SG_MAX_WORD


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
            if sg_wordhash_add(&t.h, w, len(w), 1) != t.h.n - 1:
                raise ValueError(f"duplicate or unstorable word {w!r}")
        return t

    def __len__(self):
        return self.h.n

    def add(self, bytes word, int64_t count=1):
        cdef int64_t i = sg_wordhash_add(&self.h, word, len(word), count)
        if i < 0:
            raise MemoryError("word table full")
        return i

    def merge(self, WordHash other not None):
        """Add other's words and counts; words new to self keep other's order."""
        cdef int64_t i
        cdef size_t n
        cdef const char *p
        for i in range(other.h.n):
            p = sg_wordhash_word(&other.h, i, &n)
            if sg_wordhash_add(&self.h, p, n, other.h.counts[i]) < 0:
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

    def words_at(self, ids):
        """The bytes of each word id in ids."""
        cdef size_t n
        cdef const char *p
        cdef int64_t i
        out = []
        for i in ids:
            if not 0 <= i < self.h.n:
                raise IndexError(i)
            p = sg_wordhash_word(&self.h, i, &n)
            out.append(p[:n])
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
            c[i] = self.h.counts[i]
        return out


def count_file(path, int64_t start=0, int64_t end=-1, WordHash table=None,
               int64_t max_vocab_size=0, stop=None):
    """Count the words of path[start:end) into table (a new one if None).

    max_vocab_size > 0 bounds memory the way gensim does: whenever the table
    grows past it, words seen fewer than `min_reduce` times are dropped and
    min_reduce goes up by one (counts of dropped words are lost).
    stop: an int32 array whose first element, once non-zero, ends the scan
    within the next 1 MiB of input (the counts are then partial).
    Returns (table, n_tokens, n_newlines, min_reduce_used).
    """
    cdef int32_t[::1] stop_view = stop
    cdef bytes p = os.fsencode(path)
    cdef sg_reader r
    cdef const char *tok
    cdef size_t n
    cdef int t, rc
    cdef int64_t tokens = 0, lines = 0, min_reduce = 1, grow_err = 0
    cdef int prune_err = 0
    if table is None:
        table = WordHash(1 << 16)
    if os.path.isdir(p):
        raise IsADirectoryError(f"corpus path {os.fsdecode(p)!r} is a directory")
    rc = sg_reader_open(&r, p, start, end)
    if rc != 0:
        raise OSError(rc, f"cannot open corpus file: {strerror(rc).decode()}", os.fsdecode(p))
    if stop_view is not None:
        r.stop = &stop_view[0]
    try:
        with nogil:
            while True:
                t = sg_reader_next(&r, &tok, &n)
                if t == SG_TOK_WORD:
                    tokens += 1
                    if sg_wordhash_add(&table.h, tok, n, 1) < 0:
                        grow_err = 1
                        break
                    continue
                if t == SG_TOK_NEWLINE:
                    lines += 1
                # Like gensim, prune once per sentence (and at the end), so a
                # file and the same sentences given as lists agree.
                if max_vocab_size > 0 and table.h.n > max_vocab_size:
                    if sg_wordhash_prune(&table.h, min_reduce) != 0:
                        prune_err = 1
                        break
                    min_reduce += 1
                if t != SG_TOK_NEWLINE:
                    break
        if t == SG_TOK_ERROR:
            raise OSError(r.err, f"read error in corpus file: {strerror(r.err).decode()}",
                          os.fsdecode(p))
        if grow_err or prune_err:
            raise MemoryError("out of memory while counting the vocabulary")
    finally:
        sg_reader_close(&r)
    return table, tokens, lines, min_reduce - 1
