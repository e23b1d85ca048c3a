# Training entry points. Python builds a Trainer once per train() call (it
# pins the weight matrices and tables); each worker thread then makes one call
# that trains its whole share of an epoch with the GIL released.
import os

import numpy as np

from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t, uintptr_t
from libc.stdlib cimport free, malloc, realloc
from libc.string cimport memcpy, memset
from libc.string cimport strerror
from cpython.dict cimport PyDict_GetItemWithError
from cpython.ref cimport PyObject
from cpython.sequence cimport PySequence_Fast_GET_ITEM, PySequence_Fast_GET_SIZE

from sgns._csrc cimport (
    SG_MAX_IN, SG_MAX_NEGATIVE, SG_MAX_OUT, SG_TOK_ERROR, SG_TOK_STOP, sg_active_name, sg_active_width,
    sg_alias_build, sg_has_prefetchw,
    sg_alias_draw, sg_alias_entry, sg_atomic_add, sg_atomic_load, sg_atomic_load32, sg_batch_update,
    sg_batch_update_ahead, sg_counts_update_ahead,
    sg_cbow_update, sg_cbow_update_ahead, sg_encode_chunk, sg_encoder, sg_encoder_init, sg_log_sigmoid,
    sg_pair_update, sg_pair_update_ahead,
    sg_prefetch_row, sg_reader, sg_subsample, SG_KEEP_ALWAYS,
    sg_kernel_name, sg_reader_close, sg_reader_open, sg_rng_below, sg_select, sg_sigmoid,
    sg_supported,
)
from sgns._tokenize cimport WordHash, sentence_tokens

# word2vec.c updates the shared counter (and alpha) every 10k words.
cdef int64_t SYNC_EVERY = 10000
cdef int64_t CHUNK_IDS = 1 << 20
# Noise words are drawn this many at a time: a tight loop of independent
# table loads that the CPU overlaps, instead of one cache miss per draw.
cdef enum:
    NOISE_BATCH = 2048
# The exact mode prefetches the noise rows of the pair this many pairs ahead
# while it updates (measured best of 2-5 at D = 100 and 300: farther is
# evicted or crowds the nearer pairs' own misses).
cdef enum:
    PAIRS_AHEAD = 2
# The shared mode prefetches the rows of the centre this many centres ahead
# while it updates (one ahead arrives late at D = 100, three is no better).
cdef enum:
    CENTRES_AHEAD = 2
# CBOW collects the rows ahead (as the shared mode) when a row is longer than
# this (see rows_collected_ahead).
cdef enum:
    CBOW_AHEAD_ROW_BYTES = 800
# The shared update of a window with more inputs than this (a group's
# windows: this + its centres) runs as consecutive blocks of at most that many
# inputs, each reading the output rows the one before changed. Windows up to
# 10 stay one block: 10 inputs a block also bounds wide windows, but cost
# window 10 about a tenth of its speed for the same quality.
cdef enum:
    BLOCK_INPUTS = 20

# With several workers, hierarchical softmax trains each worker's own copy of
# the inner nodes nearest the root (on every path) and adds its change to the
# shared rows every TOP_SYNC_CENTRES centre words (sync_private); the same
# for the output rows of the most frequent words under negative sampling.
cdef enum:
    TOP_SYNC_CENTRES = 256


cdef tuple _kernel_names():
    cdef int i = 0
    names = []
    while sg_kernel_name(i) != NULL:
        names.append(sg_kernel_name(i).decode())
        i += 1
    return tuple(names)


# Every kernel set any build knows ("generic", "avx2", "avx512", "neon"),
# slowest first; supported_kernels() says which this build and CPU run.
KERNELS = _kernel_names()
# The most negatives per positive the kernels take (csrc/kernels.h).
MAX_NEGATIVE = SG_MAX_NEGATIVE


def supported_kernels():
    """Kernel sets this CPU can run, slowest first."""
    return tuple(k for k in KERNELS if sg_supported(k.encode()))


def active_kernels():
    return sg_active_name().decode()


def prefetches_for_writing():
    """Whether the trainer prefetches rows with x86's PREFETCHW (the CPU has
    it), so that a row another thread wrote arrives ready to be changed.
    False elsewhere (aarch64 asks for writing with PRFM PST regardless)."""
    return bool(sg_has_prefetchw)


def select_kernels(name="auto"):
    """Use the named kernel set: 'auto' (the fastest this CPU runs) or one of KERNELS."""
    rc = sg_select(name.encode())
    if rc == -1:
        raise ValueError(f"unknown kernel set {name!r}; choose from auto, {', '.join(KERNELS)}")
    if rc == -2:
        raise RuntimeError(f"this build or CPU cannot run the {name!r} kernels")
    return active_kernels()


def _select_from_environment():
    """SGNS_KERNELS picks the kernel set at import; empty means auto. A name
    this CPU cannot run, or no set at all, warns and falls back to the best
    available set instead of making `import sgns` fail."""
    name = os.environ.get("SGNS_KERNELS", "").strip() or "auto"
    try:
        select_kernels(name)
    except (ValueError, RuntimeError) as e:
        import warnings
        best = select_kernels("auto")
        warnings.warn(f"SGNS_KERNELS={name!r} ignored ({e}); using the {best!r} kernels")


_select_from_environment()


cdef inline void sync_alpha(const Config *c, Worker *w) noexcept nogil:
    cdef int64_t done = sg_atomic_add(c.words_done, w.unsynced)
    cdef double frac
    w.words += w.unsynced
    w.unsynced = 0
    frac = <double>done / <double>c.total_words if c.total_words > 0 else 1.0
    w.alpha = <float>(c.alpha0 - (c.alpha0 - c.min_alpha) * frac)
    if w.alpha < c.min_alpha:
        w.alpha = c.min_alpha


cdef inline int32_t next_noise(const Config *c, Worker *w) noexcept nogil:
    cdef int i
    if w.noise_next == NOISE_BATCH:
        for i in range(NOISE_BATCH):
            w.noise[i] = sg_alias_draw(c.noise, c.vocab_size, &w.rng)
        w.noise_next = 0
    w.noise_next += 1
    return w.noise[w.noise_next - 1]


cdef inline float *out_row(const Config *c, const Worker *w, int32_t word) noexcept nogil:
    """word's output row for negative sampling: the worker's own copy for
    the most frequent words when it keeps one (sync_private)."""
    if word < c.private_neg and w.neg_rows != NULL:
        return w.neg_rows + <size_t>word * c.ld
    return c.syn1neg + <size_t>word * c.ld


cdef inline int add_tree_path(const Config *c, const Worker *w, float **out, float *label,
                              int32_t centre) noexcept nogil:
    """Hierarchical softmax: the inner nodes on the centre word's path (the
    worker's own copy of the nodes nearest the root, if it keeps one)."""
    cdef int64_t s, top_lo = <int64_t>c.vocab_size - 1 - c.private_top
    cdef int n = 0
    for s in range(c.code_offsets[centre], c.code_offsets[centre + 1]):
        if w.top_rows != NULL and c.points[s] >= top_lo:
            out[n] = w.top_rows + <size_t>(c.points[s] - top_lo) * c.ld
        else:
            out[n] = c.syn1 + <size_t>c.points[s] * c.ld
        label[n] = c.code_labels[s]
        sg_prefetch_row(out[n], c.dim)
        n += 1
    return n


cdef inline void lock_input(const Config *c, Batch *b, int i, float factor) noexcept nogil:
    """Train input i of the batch on a copy of its row; unlock_inputs then
    adds factor x the copy's change to the row (gensim's vectors_lockf)."""
    cdef float *copy = b.lock_buf + <size_t>b.n_locked * 2 * c.dim
    memcpy(copy, b.inp[i], sizeof(float) * c.dim)
    memcpy(copy + c.dim, b.inp[i], sizeof(float) * c.dim)
    b.lock_row[b.n_locked] = b.inp[i]
    b.lock_factor[b.n_locked] = factor
    b.inp[i] = copy
    b.n_locked += 1


cdef inline void unlock_inputs(const Config *c, Batch *b) noexcept nogil:
    cdef int k, d
    cdef float *copy
    cdef float *row
    for k in range(b.n_locked):
        copy = b.lock_buf + <size_t>k * 2 * c.dim
        row = b.lock_row[k]
        if b.lock_factor[k] != 0.0:
            for d in range(c.dim):
                row[d] += b.lock_factor[k] * (copy[d] - copy[c.dim + d])
    b.n_locked = 0


cdef inline bint prefetch_pairs_ahead(const Config *c) noexcept nogil:
    """Skip-gram with negative sampling alone, per pair: update_rows
    prefetches each pair's input and noise rows PAIRS_AHEAD pairs ahead, and
    prepare only the centre's row. Otherwise (shared outputs, CBOW, a tree
    path of 20-odd rows) prepare prefetches every row of the next centre."""
    return c.sg and not c.shared_negatives and not c.hs


cdef inline bint rows_collected_ahead(const Config *c) noexcept nogil:
    """The shared skip-gram update, and CBOW with long rows: collect_ahead
    names the rows of the centre two ahead, prefetched during the current
    update; prepare then only prefetches for a sentence's first centres.
    CBOW's update is short: with rows of D = 100 the prefetches in prepare
    measured faster (5-7%), from D = 300 those spread over the update (7-10%;
    even at D = 200)."""
    return (c.sg and c.shared_negatives) or (not c.sg and c.dim * sizeof(float) > CBOW_AHEAD_ROW_BYTES)


cdef inline int window_radius(const Config *c, Worker *w) noexcept nogil:
    """A centre word's window radius: word2vec.c's reduced window, drawn
    from 1..window (or the full window without shrinking)."""
    return c.window - <int>sg_rng_below(&w.rng, <uint32_t>c.window) if c.shrink_windows else c.window


cdef inline void shared_outputs(const Config *c, Worker *w, Batch *b, int32_t centre, float *centre_row,
                                bint burst) noexcept nogil:
    """Shared mode and CBOW: the outputs of the whole window (burst: prefetch
    the noise rows here; else collect_ahead did)."""
    cdef int k, m, n_out, ns_start, _draw
    cdef int32_t t
    # One set of outputs for the whole window: the tree path, the centre
    # and one draw of negatives; a repeated noise word gets weight 2
    # instead of a second slot (the block update reads each row once).
    n_out = add_tree_path(c, w, b.out, b.label, centre) if c.hs else 0
    for k in range(n_out):
        b.weight[k] = 1.0
        b.out_id[k] = -1
    if c.negative:
        ns_start = n_out
        b.out[n_out] = centre_row
        b.label[n_out] = 1.0
        b.out_id[n_out] = centre
        b.weight[n_out] = 1.0
        n_out += 1
        for _draw in range(c.negative):
            t = next_noise(c, w)
            if t == centre:
                continue
            for m in range(ns_start + 1, n_out):
                if b.out_id[m] == t:
                    b.weight[m] += 1.0
                    break
            else:
                b.out[n_out] = out_row(c, w, t)
                b.label[n_out] = 0.0
                b.out_id[n_out] = t
                b.weight[n_out] = 1.0
                # Drawn soon after a new batch of noise: not seen by collect_ahead.
                if burst or w.noise_next <= CENTRES_AHEAD * c.negative:
                    sg_prefetch_row(b.out[n_out], c.dim)
                n_out += 1
    b.n_out = n_out


cdef inline void prepare(const Config *c, Worker *w, Batch *b, const int32_t *sen,
                         int64_t n, int64_t pos) noexcept nogil:
    """Pick the window and the output rows of centre sen[pos] and prefetch
    the rows not yet in cache, one centre word ahead of the arithmetic (see
    prefetch_pairs_ahead). The shared mode's rows past its first centres were
    prefetched during an earlier update instead (collect_ahead)."""
    cdef int64_t j, lo, hi
    cdef int r, n_out, n_path = 0, _draw
    cdef int32_t t, centre = sen[pos]
    cdef float *centre_row = NULL
    cdef float **outs
    cdef float *labs
    cdef bint burst = not rows_collected_ahead(c) or pos < CENTRES_AHEAD
    r = window_radius(c, w)
    lo = pos - r if pos >= r else 0
    hi = pos + r + 1 if pos + r + 1 <= n else n
    if c.negative:
        centre_row = out_row(c, w, centre)
        if burst:
            sg_prefetch_row(centre_row, c.dim)
    if burst and not prefetch_pairs_ahead(c):
        fetch_context(c, w, sen, n, pos)
    b.n_in = 0
    b.n_locked = 0
    for j in range(lo, hi):
        if j != pos:
            b.inp[b.n_in] = c.syn0 + <size_t>sen[j] * c.ld
            if c.lockf != NULL and c.lockf[sen[j]] != 1.0:
                lock_input(c, b, b.n_in, c.lockf[sen[j]])
            b.n_in += 1
    if c.shared_negatives or not c.sg:
        shared_outputs(c, w, b, centre, centre_row, burst)
    else:
        # word2vec.c: fresh negatives for every (context, centre) pair. The
        # centre's tree path is the same for every pair: collected (and its
        # rows prefetched) once, copied to the other pairs.
        for j in range(b.n_in):
            outs = b.out + j * w.stride
            labs = b.label + j * w.stride
            if c.hs and j == 0:
                n_path = add_tree_path(c, w, outs, labs, centre)
            elif c.hs:
                memcpy(outs, b.out, sizeof(float *) * n_path)
                memcpy(labs, b.label, sizeof(float) * n_path)
            n_out = n_path
            if c.negative:
                outs[n_out] = centre_row
                labs[n_out] = 1.0
                n_out += 1
                for _draw in range(c.negative):
                    t = next_noise(c, w)
                    if t == centre:
                        continue
                    outs[n_out] = out_row(c, w, t)
                    labs[n_out] = 0.0
                    if not prefetch_pairs_ahead(c):
                        sg_prefetch_row(outs[n_out], c.dim)
                    n_out += 1
            b.n_outs[j] = n_out
        # The path's nodes and the positive row never repeat (a noise word
        # equal to the centre was skipped): only noise rows are checked.
        b.n_distinct = n_path + (1 if c.negative else 0)


cdef inline void fetch_context(const Config *c, Worker *w, const int32_t *sen, int64_t n,
                               int64_t pos) noexcept nogil:
    """Prefetch the context rows of the widest window around pos that no
    earlier centre of the sentence prefetched (the window slides by one)."""
    cdef int64_t j, hi = pos + c.window + 1 if pos + c.window + 1 <= n else n
    for j in range(w.fetched_to, hi):
        if j != pos:
            sg_prefetch_row(c.syn0 + <size_t>sen[j] * c.ld, c.dim)
    if hi > w.fetched_to:
        w.fetched_to = hi


cdef inline void collect_ahead(const Config *c, Worker *w, const int32_t *sen, int64_t n,
                               int64_t q) noexcept nogil:
    """Shared mode and CBOW: the rows centre q (not yet prepared; the one
    after next) will read that may be out of cache: its positive row, the
    context row entering the widest window, and its noise rows: the next draws
    of the batch of noise (unless a new batch is drawn first)."""
    cdef int64_t k = w.noise_next + (CENTRES_AHEAD - 2) * c.negative, end = k + c.negative
    w.n_ahead = 0
    if q >= n:
        return
    if c.negative:
        w.ahead[w.n_ahead] = out_row(c, w, sen[q])
        w.n_ahead += 1
    if q + c.window < n:
        w.ahead[w.n_ahead] = c.syn0 + <size_t>sen[q + c.window] * c.ld
        w.n_ahead += 1
    if end > NOISE_BATCH:
        end = NOISE_BATCH
    while k < end:
        w.ahead[w.n_ahead] = out_row(c, w, w.noise[k])
        w.n_ahead += 1
        k += 1
    if q + c.window + 1 > w.fetched_to:
        w.fetched_to = q + c.window + 1


cdef inline void update(const Config *c, Worker *w, Batch *b, const Batch *nxt) noexcept nogil:
    update_rows(c, w, b, nxt)
    if b.n_locked:
        unlock_inputs(c, b)


cdef inline int rows_ahead(const Config *c, const Worker *w, const Batch *b, const Batch *nxt, int i,
                           float **rows) noexcept nogil:
    """Into rows: the input row and noise rows of pair i in the order of b's
    pairs then nxt's (the positive, the centre's row, is warm). Returns how
    many (0 past nxt's last pair, or if prepare prefetches instead)."""
    cdef int j
    cdef float **outs
    if not prefetch_pairs_ahead(c):
        return 0
    if i >= b.n_in:
        i -= b.n_in
        b = nxt
        if i >= b.n_in:
            return 0
    rows[0] = b.inp[i]
    outs = b.out + i * w.stride
    for j in range(1, b.n_outs[i]):
        rows[j] = outs[j]
    return b.n_outs[i]


cdef inline int block_part(int done, int n, int most) noexcept nogil:
    """Inputs of the next block of a shared update whose first done of n
    inputs are updated: the n inputs in the fewest consecutive blocks of at
    most `most`, of nearly equal sizes. One block updates every output
    row with the sum of all its inputs' gradients, taken from the rows before
    the block: with wide windows (hundreds of inputs) that step overshoots
    and the rows grow without bound; consecutive blocks see each other's
    changes, as word2vec.c's pairs do."""
    cdef int left = n - done, parts = (left + most - 1) // most
    return (left + parts - 1) // parts


cdef inline void update_rows(const Config *c, Worker *w, Batch *b, const Batch *nxt) noexcept nogil:
    cdef int i, n_ahead, n_part
    cdef float *ahead[SG_MAX_OUT + 1]
    if b.n_in == 0:
        return
    if not c.sg:
        w.loss += sg_cbow_update_ahead(b.inp, b.n_in, c.cbow_mean, b.out, b.label, b.weight, b.n_out,
                                       w.alpha, c.dim, w.work, c.want_loss, w.ahead, w.n_ahead)
        w.examples += 1
        return
    if c.shared_negatives:
        i = 0
        while i < b.n_in:
            n_part = block_part(i, b.n_in, BLOCK_INPUTS)
            w.loss += sg_batch_update_ahead(b.inp + i, n_part, b.out, b.label, b.weight, b.n_out, w.alpha,
                                            c.dim, w.scratch, c.want_loss,
                                            w.ahead, w.n_ahead if i == 0 else 0)
            i += n_part
    else:
        for i in range(b.n_in):
            n_ahead = rows_ahead(c, w, b, nxt, i + PAIRS_AHEAD, ahead)
            w.loss += sg_pair_update_ahead(b.inp[i], b.out + i * w.stride, b.label + i * w.stride,
                                           b.n_outs[i], b.n_distinct, w.alpha, c.dim, w.work,
                                           c.want_loss, ahead, n_ahead)
    w.examples += b.n_in


cdef inline void sync_rows(float *shared, float *mine, float *base, size_t n) noexcept nogil:
    """Add a worker's change of its private rows (mine - base) to the shared
    rows and continue from the shared rows' current values (which hold the
    other workers' changes)."""
    cdef size_t i
    for i in range(n):
        shared[i] += mine[i] - base[i]
    memcpy(base, shared, sizeof(float) * n)
    memcpy(mine, base, sizeof(float) * n)


cdef inline size_t rows_span(const Config *c, int rows) noexcept nogil:
    """Floats from the first of `rows` consecutive rows to the end of the
    last one's values (not past them: the floats after the last row may
    belong to no one)."""
    return <size_t>(rows - 1) * c.ld + c.dim if rows > 0 else 0


cdef void sync_private(const Config *c, Worker *w) noexcept nogil:
    """Merge the worker's private rows (if it keeps any) into the shared ones. Rows every
    worker writes on nearly every centre word (the tree nodes nearest the
    root; the noise rows of the most frequent words), written to shared
    memory each time, move their cache lines between cores on every pair
    (SG + HS on 2 workers trained slower than on 1)."""
    if w.top_rows != NULL:
        sync_rows(c.syn1 + <size_t>(c.vocab_size - 1 - c.private_top) * c.ld, w.top_rows, w.top_base,
                  rows_span(c, c.private_top))
    if w.neg_rows != NULL:
        sync_rows(c.syn1neg, w.neg_rows, w.neg_base, rows_span(c, c.private_neg))
    w.top_centres = 0


cdef inline void centres_done(const Config *c, Worker *w, int n) noexcept nogil:
    """n more centre words trained: merge the private rows every TOP_SYNC_CENTRES."""
    if w.top_rows != NULL or w.neg_rows != NULL:
        w.top_centres += n
        if w.top_centres >= TOP_SYNC_CENTRES:
            sync_private(c, w)


cdef inline int output_column(const Batch *b, int32_t word) noexcept nogil:
    """The group's output column of word, or -1."""
    cdef int j
    for j in range(b.n_out):
        if b.out_id[j] == word:
            return j
    return -1


cdef inline int add_output(const Config *c, const Worker *w, Batch *b, int32_t word) noexcept nogil:
    """word's column, added (with no noise draws yet) if it has none."""
    cdef int j = output_column(b, word)
    if j >= 0:
        return j
    j = b.n_out
    b.out_id[j] = word
    b.out[j] = out_row(c, w, word)
    b.draws[j] = 0.0
    b.cold[b.n_cold] = b.out[j]
    b.n_cold += 1
    b.n_out = j + 1
    return j


cdef void prepare_group(const Config *c, Worker *w, Batch *b, const int32_t *sen, int64_t n,
                        int64_t pos, int64_t warm_to) noexcept nogil:
    """Shared mode with c.group > 1: the centre words sen[pos .. pos + group)
    (fewer at a sentence's end) and one draw of negatives for all of them, as
    one block. Outputs: the distinct centre words, then the noise words not
    among them. Inputs: the positions from the first window's start to the
    last one's end (neighbouring windows overlap, so each such position is in
    some window but its own, except a lone centre's), with counts of how
    often each meets each output as a positive and as a noise word: a pair
    (input, centre) gets every noise draw except its centre's own word, as in
    word2vec.c. b.cold: the rows the group before did not read (the outputs;
    inputs at warm_to or later)."""
    cdef int k, j, col, idx, n_in, n_out, nb = c.group, r, _draw
    cdef int64_t q, centre, first = pos
    cdef float d_col, m
    cdef float *N
    cdef float *members = b.label   # per input: pairs it is in (labels are unused here)
    if nb > n - pos:
        nb = <int>(n - pos)
    b.n_centres = nb
    b.n_locked = 0
    b.n_cold = 0
    b.n_out = 0
    b.reach = pos + nb
    for k in range(nb):
        r = window_radius(c, w)
        b.win_lo[k] = pos + k - r if pos + k >= r else 0
        b.win_hi[k] = pos + k + r + 1 if pos + k + r + 1 <= n else n
        if b.win_lo[k] < first:
            first = b.win_lo[k]
        if b.win_hi[k] > b.reach:
            b.reach = b.win_hi[k]
        b.centre_col[k] = add_output(c, w, b, sen[pos + k])
    for _draw in range(c.negative):
        j = add_output(c, w, b, next_noise(c, w))
        b.draws[j] += 1.0
    n_out = b.n_out
    n_in = <int>(b.reach - first)
    memset(b.cnt_pos, 0, sizeof(float) * n_in * n_out)
    memset(b.cnt_neg, 0, sizeof(float) * n_in * n_out)
    memset(members, 0, sizeof(float) * n_in)
    for k in range(nb):
        col = b.centre_col[k]
        d_col = b.draws[col]
        centre = pos + k
        for q in range(b.win_lo[k], b.win_hi[k]):
            if q != centre:
                idx = <int>(q - first)
                members[idx] += 1.0
                b.cnt_pos[idx * n_out + col] += 1.0
                b.cnt_neg[idx * n_out + col] -= d_col
    b.n_pairs = 0
    for idx in range(n_in):
        m = members[idx]
        N = b.cnt_neg + idx * n_out
        for j in range(n_out):
            N[j] += m * b.draws[j]
        b.n_pairs += <int>m
        q = first + idx
        b.inp[idx] = c.syn0 + <size_t>sen[q] * c.ld
        if q >= warm_to:
            b.cold[b.n_cold] = b.inp[idx]
            b.n_cold += 1
        if c.lockf != NULL and c.lockf[sen[q]] != 1.0:
            lock_input(c, b, idx, c.lockf[sen[q]])
    b.n_in = n_in


cdef void train_sentence_groups(const Config *c, Worker *w, int64_t n) noexcept nogil:
    """The sentence's centre words c.group at a time; while a group updates,
    the rows of the next one that may be cold are prefetched into L2."""
    cdef int64_t pos = 0, k = 0
    cdef int j, i, n_part
    cdef Batch *cur
    cdef Batch *nxt
    if n > 0:
        prepare_group(c, w, &w.batch[0], w.sentence, n, 0, 0)
        for j in range(w.batch[0].n_cold):
            sg_prefetch_row(w.batch[0].cold[j], c.dim)
    while pos < n:
        cur = &w.batch[k % 2]   # the two batches take turns: this group, the next
        nxt = &w.batch[(k + 1) % 2]
        k += 1
        nxt.n_in = 0
        nxt.n_cold = 0
        if pos + cur.n_centres < n:
            prepare_group(c, w, nxt, w.sentence, n, pos + cur.n_centres, cur.reach)
        i = 0
        while i < cur.n_in:
            n_part = block_part(i, cur.n_in, BLOCK_INPUTS + c.group)
            w.loss += sg_counts_update_ahead(cur.inp + i, n_part, cur.out, cur.n_out,
                                             cur.cnt_pos + i * cur.n_out, cur.cnt_neg + i * cur.n_out,
                                             w.alpha, c.dim, w.scratch, c.want_loss,
                                             nxt.cold, nxt.n_cold if i == 0 else 0)
            i += n_part
        if cur.n_in:
            w.examples += cur.n_pairs
            if cur.n_locked:
                unlock_inputs(c, cur)
        centres_done(c, w, cur.n_centres)
        pos += cur.n_centres


cdef void train_sentence(const Config *c, Worker *w, int64_t n) noexcept nogil:
    cdef int64_t pos
    cdef Batch *cur = &w.batch[0]
    cdef Batch *nxt = &w.batch[1]
    cdef Batch *tmp
    if n == 0:
        return
    w.fetched_to = 0
    prepare(c, w, cur, w.sentence, n, 0)
    for pos in range(n):
        nxt.n_in = 0
        if pos + 1 < n:
            prepare(c, w, nxt, w.sentence, n, pos + 1)
        if rows_collected_ahead(c):
            collect_ahead(c, w, w.sentence, n, pos + CENTRES_AHEAD)
        update(c, w, cur, nxt)
        centres_done(c, w, 1)
        tmp = cur
        cur = nxt
        nxt = tmp


cdef int train_ids(const Config *c, Worker *w, const int32_t *ids, int64_t n) noexcept nogil:
    """Train on ids (-1 ends a sentence). Returns 1 if asked to stop."""
    cdef int64_t i = 0, slen
    while i < n:
        if sg_atomic_load32(c.stop):
            return 1
        slen = sg_subsample(ids, n, &i, c.keep, c.max_sentence, &w.rng, w.sentence, &w.unsynced)
        w.kept += slen
        if w.unsynced >= SYNC_EVERY:
            sync_alpha(c, w)
        if c.group > 1:
            train_sentence_groups(c, w, slen)
        else:
            train_sentence(c, w, slen)
    return 0


cdef inline int group_inputs(const Config *c) noexcept nogil:
    """Most inputs of one update: a window, or a group's windows."""
    return 2 * c.window + (c.group if c.group > 1 else 0)


cdef inline int group_outputs(const Config *c, int stride) noexcept nogil:
    """Most outputs of one update: an input's, or a group's centres and noise."""
    return stride if c.group <= 1 or stride > c.group + c.negative else c.group + c.negative


cdef int batch_init(const Config *c, Batch *b, int stride) noexcept nogil:
    cdef int max_in = group_inputs(c), max_out = group_outputs(c, stride), groups = c.group > 1
    b.inp = <float **>malloc(sizeof(float *) * max_in)
    b.out = <float **>malloc(sizeof(float *) * max_in * stride)
    b.label = <float *>malloc(sizeof(float) * max_in * stride)
    b.n_outs = <int *>malloc(sizeof(int) * max_in)
    b.out_id = <int32_t *>malloc(sizeof(int32_t) * max_out)
    b.weight = <float *>malloc(sizeof(float) * max_out)
    b.n_in = 0
    b.n_out = 0
    b.n_locked = 0
    b.lock_row = <float **>malloc(sizeof(float *) * max_in)
    b.lock_factor = <float *>malloc(sizeof(float) * max_in)
    b.lock_buf = <float *>malloc(sizeof(float) * max_in * 2 * c.dim) if c.lockf != NULL else NULL
    b.win_lo = <int64_t *>malloc(sizeof(int64_t) * c.group) if groups else NULL
    b.win_hi = <int64_t *>malloc(sizeof(int64_t) * c.group) if groups else NULL
    b.centre_col = <int *>malloc(sizeof(int) * c.group) if groups else NULL
    b.draws = <float *>malloc(sizeof(float) * max_out) if groups else NULL
    b.cnt_pos = <float *>malloc(sizeof(float) * max_in * max_out) if groups else NULL
    b.cnt_neg = <float *>malloc(sizeof(float) * max_in * max_out) if groups else NULL
    b.cold = <float **>malloc(sizeof(float *) * (max_in + max_out)) if groups else NULL
    b.n_cold = 0
    b.n_centres = 0
    b.n_pairs = 0
    b.reach = 0
    if (b.inp == NULL or b.out == NULL or b.label == NULL or b.n_outs == NULL
            or b.out_id == NULL or b.weight == NULL or b.lock_row == NULL or b.lock_factor == NULL
            or (c.lockf != NULL and b.lock_buf == NULL)):
        return -1
    if groups and (b.win_lo == NULL or b.win_hi == NULL or b.centre_col == NULL or b.draws == NULL
                   or b.cnt_pos == NULL or b.cnt_neg == NULL or b.cold == NULL):
        return -1
    return 0


cdef void batch_free(Batch *b) noexcept nogil:
    free(b.inp); free(b.out); free(b.label); free(b.n_outs); free(b.out_id); free(b.weight)
    free(b.lock_row); free(b.lock_factor); free(b.lock_buf)
    free(b.win_lo); free(b.win_hi); free(b.centre_col); free(b.draws); free(b.cnt_pos); free(b.cnt_neg)
    free(b.cold)


cdef inline size_t private_half(size_t n) noexcept nogil:
    """Floats from a private copy's base to the worker's rows: n rounded up
    to whole 64-byte lines, so that both copies start on a line."""
    return (n + 15) & ~(<size_t>15)


cdef float *private_copy(const float *shared, size_t n, void **block) noexcept nogil:
    """shared[0 .. n) twice, each copy starting on a 64-byte line like the
    padded shared rows (sgns.padded_rows): the rows as last read (the
    returned base), then the worker's own copy it trains (base +
    private_half(n)). *block is the allocation to free; NULL if out of memory."""
    cdef char *raw = <char *>malloc(sizeof(float) * 2 * private_half(n) + 64)
    cdef float *base
    block[0] = raw
    if raw == NULL:
        return NULL
    base = <float *>(raw + (64 - <uintptr_t>raw % 64) % 64)
    memcpy(base, shared, sizeof(float) * n)
    memcpy(base + private_half(n), shared, sizeof(float) * n)
    return base


cdef int worker_init(const Config *c, Worker *w, uint64_t seed) noexcept nogil:
    cdef int rc = 0
    w.rng = seed
    w.unsynced = 0
    w.words = 0
    w.kept = 0
    w.examples = 0
    w.loss = 0.0
    w.stride = (c.max_codelen if c.hs else 0) + (c.negative + 1 if c.negative else 0)
    w.sentence = <int32_t *>malloc(sizeof(int32_t) * c.max_sentence)
    w.work = <float *>malloc(sizeof(float) * 2 * c.dim)
    w.scratch = <float *>malloc(sizeof(float) * group_inputs(c) * (group_outputs(c, w.stride) + c.dim))
    w.noise = <int32_t *>malloc(sizeof(int32_t) * NOISE_BATCH)
    w.noise_next = NOISE_BATCH
    w.ahead = <float **>malloc(sizeof(float *) * (c.negative + 2))
    w.n_ahead = 0
    w.top_centres = 0
    w.top_block = NULL
    w.neg_block = NULL
    w.top_base = private_copy(c.syn1 + <size_t>(c.vocab_size - 1 - c.private_top) * c.ld,
                              rows_span(c, c.private_top), &w.top_block) if c.private_top else NULL
    w.top_rows = w.top_base + private_half(rows_span(c, c.private_top)) if w.top_base != NULL else NULL
    w.neg_base = private_copy(c.syn1neg, rows_span(c, c.private_neg), &w.neg_block) if c.private_neg else NULL
    w.neg_rows = w.neg_base + private_half(rows_span(c, c.private_neg)) if w.neg_base != NULL else NULL
    rc |= batch_init(c, &w.batch[0], w.stride)
    rc |= batch_init(c, &w.batch[1], w.stride)
    if rc or w.sentence == NULL or w.work == NULL or w.scratch == NULL or w.noise == NULL or w.ahead == NULL:
        return -1
    if (c.private_top and w.top_base == NULL) or (c.private_neg and w.neg_base == NULL):
        return -1
    sync_alpha(c, w)
    return 0


cdef void worker_free(Worker *w) noexcept nogil:
    free(w.sentence); free(w.work); free(w.scratch); free(w.noise); free(w.ahead)
    free(w.top_block); free(w.neg_block)
    batch_free(&w.batch[0])
    batch_free(&w.batch[1])


cdef int row_stride(float[:, :] rows, str name) except -1:
    """Floats from one row of rows to the next; each row's values must be
    contiguous."""
    if rows.shape[1] > 1 and rows.strides[1] != sizeof(float):
        raise ValueError(f"{name}: each row's values must be contiguous")
    cdef Py_ssize_t stride = rows.strides[0]
    if rows.shape[0] > 1 and (stride % sizeof(float) or stride < rows.shape[1] * sizeof(float)):
        raise ValueError(f"{name}: rows must be whole, non-overlapping runs of floats")
    return stride // sizeof(float) if rows.shape[0] > 1 else rows.shape[1]


cdef class Trainer:
    """One training run's shared state: weights, tables, schedule, counters.

    The arrays are kept referenced here so their memory outlives every
    worker call. words_done and the stop flag are shared by all workers.
    """
    cdef Config c
    cdef object _refs
    cdef int64_t[::1] _done
    cdef int32_t[::1] _stop

    def __init__(self, float[:, :] syn0 not None, syn1neg, keep_prob, noise_prob, *,
                 int window, int negative, float alpha, float min_alpha, int64_t total_words,
                 syn1=None, huffman=None, bint sg=True, bint cbow_mean=True,
                 bint shared_negatives=False, bint compute_loss=False,
                 int64_t max_sentence=10000, int64_t words_done=0,
                 bint shrink_windows=True, lockf=None, bint split_cbow_error=False,
                 int private_top_nodes=0, int centres_per_draw=1, int private_noise_rows=0,
                 bint zero_padding=False):
        """syn0: input vectors (V x D, float32), trained in place: each row's
        D values contiguous, rows any whole number of floats apart (rows padded
        to whole cache lines start on a line and share none with a neighbour).
        syn1neg, syn1: laid out like syn0 (the same row stride).
        syn1neg: output vectors for negative sampling (V x D) or None when
        negative == 0. syn1 + huffman=(offsets, points, codes) from
        Vocabulary.huffman(): hierarchical softmax (syn1 has V - 1 rows, or
        more: the tree uses the first V - 1). shrink_windows=False: every
        centre word uses the full window. lockf: None, or one float32 per word
        scaling the updates of its input vector (0: frozen). split_cbow_error:
        CBOW over the sum (cbow_mean=False) divides the error among the
        context rows (gensim 4) instead of giving each the whole error (word2vec.c).
        private_top_nodes: with hierarchical softmax, each worker trains its own
        copy of this many inner nodes nearest the root and adds its change to
        the shared rows every few hundred centre words (for several workers:
        those rows are on every path; 0 = all rows shared, as word2vec.c).
        private_noise_rows: the same for the output rows syn1neg[0 ..
        private_noise_rows), the most frequent words' (drawn as noise all the
        time). centres_per_draw: with shared negatives in skip-gram, this many
        consecutive centre words share one draw and one block (1: one each).
        zero_padding: the caller vouches that every matrix's floats between a
        row's D values and the next row are zero; the kernels then take each
        row as D rounded up to their vector width (within the stride), with no
        masked tail, and those floats stay zero (0 * anything + 0)."""
        cdef float[::1] lock_view
        cdef float[:, :] neg_view
        cdef float[:, :] hs_view
        cdef int64_t[::1] off_view
        cdef int32_t[::1] pts_view
        cdef float[::1] lab_view
        cdef uint32_t[::1] keep_view
        cdef double[::1] noise_view
        cdef uint32_t[:, ::1] table
        v = syn0.shape[0]
        d = syn0.shape[1]
        if v < 1 or d < 1:
            raise ValueError("empty vocabulary or zero dimensions")
        ld = row_stride(syn0, "syn0")
        if window < 1 or negative < 0:
            raise ValueError("window must be >= 1 and negative >= 0")
        if negative == 0 and syn1 is None:
            raise ValueError("nothing to train: negative == 0 and no hierarchical softmax")
        refs = [syn0]
        self.c.syn1neg = NULL
        table_arr = None
        if negative:
            neg_view = syn1neg
            if (neg_view.shape[0] != v or neg_view.shape[1] != d
                    or (v > 1 and row_stride(neg_view, "syn1neg") != ld)):
                raise ValueError("syn1neg must have the shape and the row stride of syn0")
            self.c.syn1neg = &neg_view[0, 0]
            noise = np.ascontiguousarray(noise_prob, dtype=np.float64)
            if noise.shape != (v,):
                raise ValueError("noise distribution must have one weight per word")
            table_arr = np.zeros((v, 2), dtype=np.uint32)
            table = table_arr
            noise_view = noise
            if sg_alias_build(&noise_view[0], <int32_t>v, <sg_alias_entry *>&table[0, 0]) != 0:
                raise ValueError("noise weights must be finite, >= 0, and not all 0")
            self.c.noise = <sg_alias_entry *>&table[0, 0]
            refs += [syn1neg, table_arr]
        self.c.hs = syn1 is not None
        self.c.max_codelen = 0
        self.c.private_top = 0
        if self.c.hs:
            if huffman is None:
                raise ValueError("hierarchical softmax needs the Huffman tree")
            hs_view = syn1
            if (hs_view.shape[0] < v - 1 or hs_view.shape[1] != d
                    or (hs_view.shape[0] > 1 and row_stride(hs_view, "syn1") != ld)):
                raise ValueError("syn1 must have at least V - 1 rows of D values, with syn0's row stride")
            offsets, points, codes = huffman
            offsets = np.ascontiguousarray(offsets, dtype=np.int64)
            points = np.ascontiguousarray(points, dtype=np.int32)
            labels = np.ascontiguousarray(1.0 - np.asarray(codes, dtype=np.float32))
            if (offsets.shape != (v + 1,) or points.shape[0] != offsets[v] or labels.shape[0] != offsets[v]
                    or (points.shape[0] and (points.min() < 0 or points.max() >= v - 1))):
                raise ValueError("inconsistent Huffman tree")
            off_view = offsets
            pts_view = points
            lab_view = labels
            self.c.syn1 = &hs_view[0, 0]
            self.c.private_top = max(0, min(private_top_nodes, v - 1))
            self.c.code_offsets = &off_view[0]
            self.c.points = &pts_view[0]
            self.c.code_labels = &lab_view[0]
            self.c.max_codelen = int(np.diff(offsets).max())
            refs += [syn1, offsets, points, labels]
        if self.c.max_codelen + (negative + 1 if negative else 0) > SG_MAX_OUT:
            raise ValueError(f"tree depth + negative + 1 must be <= {SG_MAX_OUT}")
        keep_arr = None
        self.c.keep = NULL
        if keep_prob is not None:
            kp = np.asarray(keep_prob, dtype=np.float64)
            if kp.shape != (v,):
                raise ValueError("keep probabilities must have one entry per word")
            keep_arr = np.where(kp >= 1.0, SG_KEEP_ALWAYS,
                                np.floor(np.clip(kp, 0.0, 1.0) * 4294967296.0)).astype(np.uint32)
            keep_view = keep_arr
            self.c.keep = &keep_view[0]
        done_arr = np.array([words_done], dtype=np.int64)
        stop_arr = np.zeros(1, dtype=np.int32)
        self._done = done_arr
        self._stop = stop_arr
        self._refs = tuple(refs) + (keep_arr, done_arr, stop_arr)
        self.c.syn0 = &syn0[0, 0]
        self.c.ld = ld
        self.c.dim = d
        if zero_padding:
            width = sg_active_width()
            self.c.dim = min(ld, (d + width - 1) // width * width)
        self.c.window = window
        self.c.negative = negative
        self.c.sg = sg
        self.c.cbow_mean = cbow_mean
        self.c.shared_negatives = shared_negatives
        if centres_per_draw < 1 or centres_per_draw + negative > SG_MAX_OUT:
            raise ValueError(f"centres_per_draw must be 1..{SG_MAX_OUT} - negative")
        if centres_per_draw > 1 and not (sg and shared_negatives and negative and syn1 is None):
            raise ValueError(
                "centres_per_draw > 1 needs skip-gram with shared negatives and no hierarchical softmax")
        self.c.group = centres_per_draw
        self.c.private_neg = max(0, min(private_noise_rows, v)) if negative else 0
        self.c.shrink_windows = shrink_windows
        if not cbow_mean and split_cbow_error:
            self.c.cbow_mean = 2  # SG_CBOW_SUM_SPLIT
        self.c.lockf = NULL
        if lockf is not None:
            lock_arr = np.ascontiguousarray(lockf, dtype=np.float32)
            if lock_arr.shape != (v,):
                raise ValueError("lockf must have one factor per word")
            lock_view = lock_arr
            self.c.lockf = &lock_view[0]
            self._refs = self._refs + (lock_arr,)
        self.c.want_loss = compute_loss
        self.c.max_sentence = max_sentence
        self.c.vocab_size = <uint32_t>v
        self.c.alpha0 = alpha
        self.c.min_alpha = min_alpha
        self.c.total_words = total_words
        self.c.words_done = &self._done[0]
        self.c.stop = &self._stop[0]

    @property
    def words_done(self):
        """Words processed by all workers so far (updated every ~10k words)."""
        return sg_atomic_load(&self._done[0])

    @words_done.setter
    def words_done(self, int64_t value):
        """Move the learning-rate position (distributed training sets the
        global count between rounds). Only while no worker is running."""
        if value < 0:
            raise ValueError("words_done must be >= 0")
        self._done[0] = value

    @property
    def alpha(self):
        done = self.words_done
        frac = done / self.c.total_words if self.c.total_words > 0 else 1.0
        return max(self.c.min_alpha, self.c.alpha0 - (self.c.alpha0 - self.c.min_alpha) * frac)

    def request_stop(self):
        """Make every worker return at its next sentence (or, while it only
        reads text, at its next 1 MiB of input)."""
        self._stop[0] = 1

    @property
    def stop_flag(self):
        """The shared stop flag (int32 array of one element): pass it to
        encode_file so that request_stop() also cancels encoding."""
        return np.asarray(self._stop)

    @property
    def stopped(self):
        return bool(self._stop[0])

    def train_ids(self, int32_t[::1] ids not None, uint64_t seed):
        """Train on an id array (-1 = sentence end). Returns (words, examples, loss, stopped)."""
        cdef Worker w
        cdef int stopped = 0, rc
        with nogil:
            rc = worker_init(&self.c, &w, seed)
            if rc == 0:
                if ids.shape[0] > 0:
                    stopped = train_ids(&self.c, &w, &ids[0], ids.shape[0])
                sync_alpha(&self.c, &w)
                sync_private(&self.c, &w)
            worker_free(&w)
        if rc != 0:
            raise MemoryError("cannot allocate worker buffers")
        return w.words, w.examples, w.loss, bool(stopped), w.kept

    def train_file(self, path, int64_t start, int64_t end, WordHash vocab not None, uint64_t seed):
        """Read path[start:end), map tokens through vocab, train.

        Returns (words, examples, loss, stopped). Memory use is one chunk of
        ids, whatever the size of the file or of its lines."""
        cdef bytes p = os.fsencode(path)
        cdef sg_reader r
        cdef Worker w
        cdef int stopped = 0, status = 0, rc
        cdef int64_t n
        cdef int32_t *ids
        cdef sg_encoder *enc
        rc = sg_reader_open(&r, p, start, end)
        if rc != 0:
            raise OSError(rc, f"cannot open corpus file: {strerror(rc).decode()}", os.fsdecode(p))
        r.stop = self.c.stop  # text without vocabulary words must not delay a stop
        with nogil:
            ids = <int32_t *>malloc(sizeof(int32_t) * (CHUNK_IDS + self.c.max_sentence + 2))
            enc = <sg_encoder *>malloc(sizeof(sg_encoder))
            rc = worker_init(&self.c, &w, seed)
            if rc == 0 and ids != NULL and enc != NULL:
                sg_encoder_init(enc)
                while True:
                    n = sg_encode_chunk(&r, &vocab.h, enc, ids, CHUNK_IDS + self.c.max_sentence + 2,
                                        self.c.max_sentence, &status)
                    if train_ids(&self.c, &w, ids, n) or status == SG_TOK_STOP:
                        stopped = 1
                        break
                    if status != 1:
                        break
                sync_alpha(&self.c, &w)
                sync_private(&self.c, &w)
            free(ids)
            free(enc)
            worker_free(&w)
        err = r.err
        sg_reader_close(&r)
        if rc != 0 or ids == NULL or enc == NULL:
            raise MemoryError("cannot allocate worker buffers")
        if status == SG_TOK_ERROR:
            raise OSError(err, f"read error in corpus file: {strerror(err).decode()}",
                          os.fsdecode(p))
        return w.words, w.examples, w.loss, bool(stopped), w.kept


cdef object ids_array(const int32_t *buf, int64_t n):
    """A new int32 array of buf[0..n)."""
    cdef int32_t[::1] view
    out = np.empty(n, dtype=np.int32)
    if n:
        view = out
        memcpy(&view[0], buf, sizeof(int32_t) * n)
    return out


def encode_file(path, int64_t start, int64_t end, WordHash vocab not None,
                int64_t max_sentence=10000, stop=None):
    """The ids of path[start:end) as an int32 array, -1 ending each sentence
    (and every max_sentence words of a longer line); unknown words dropped.

    stop: an int32 array whose first element, once non-zero, cancels the
    scan within the next 1 MiB of input (e.g. Trainer.stop_flag); the
    result is then None."""
    cdef int32_t[::1] stop_view = None
    cdef bytes p = os.fsencode(path)
    cdef sg_reader r
    cdef int status = 1, rc
    cdef int64_t n = 0, cap = 1 << 20, got
    cdef int32_t *buf
    cdef sg_encoder *enc
    cdef int32_t *grown
    cdef bint oom = False
    if stop is not None:
        stop_view = stop
    rc = sg_reader_open(&r, p, start, end)
    if rc != 0:
        raise OSError(rc, f"cannot open corpus file: {strerror(rc).decode()}", os.fsdecode(p))
    if stop_view is not None:
        r.stop = &stop_view[0]
    buf = <int32_t *>malloc(sizeof(int32_t) * cap)
    enc = <sg_encoder *>malloc(sizeof(sg_encoder))
    if enc == NULL:
        free(buf)
        buf = NULL
    else:
        sg_encoder_init(enc)
    with nogil:
        while buf != NULL and status == 1:
            # One chunk may write CHUNK_IDS + max_sentence + 2 ids: grow
            # until that fits (once is not enough for a huge max_sentence).
            while buf != NULL and cap - n < CHUNK_IDS + max_sentence + 2:
                grown = <int32_t *>realloc(buf, sizeof(int32_t) * cap * 2)
                if grown == NULL:
                    oom = True
                    break
                buf = grown
                cap *= 2
            if oom:
                break
            got = sg_encode_chunk(&r, &vocab.h, enc, buf + n, CHUNK_IDS + max_sentence + 2,
                                  max_sentence, &status)
            n += got
    err = r.err
    sg_reader_close(&r)
    free(enc)
    if buf == NULL or oom:
        free(buf)
        raise MemoryError("cannot hold the corpus ids in memory")
    try:
        if status == SG_TOK_ERROR:
            raise OSError(err, f"read error in corpus file: {strerror(err).decode()}",
                          os.fsdecode(p))
        if status == SG_TOK_STOP:
            return None
        out = ids_array(buf, n)
    finally:
        free(buf)
    return out


def encode_sentences(sentences, dict index not None, int64_t max_sentence, int64_t chunk, check,
                     stop=None):
    """Word ids of the next sentences of the iterator `sentences`, as
    encode_file gives a file's: unknown words dropped, -1 after each sentence
    and after every max_sentence words of a longer one (an empty sentence is
    a lone -1). Pulls sentences until at least `chunk` ids are collected or
    the iterator ends. Returns (ids as int32, tokens read, ended).

    check: called with every sentence that is not a list or tuple, before it
    is read (it raises for a str or bytes, which would be read as characters).
    stop: an int32 array whose first element, once non-zero, ends the pull
    after the current sentence (e.g. Trainer.stop_flag). A sentence that is
    not iterable, or an unhashable token, raises TypeError."""
    cdef int32_t[::1] stop_view = None
    cdef int64_t n = 0, cap = chunk + 1024, raw = 0, kept, room, k, size
    cdef int32_t *buf
    cdef int32_t *grown
    cdef PyObject *found
    cdef object seq
    cdef bint ended = True
    if max_sentence < 1 or chunk < 1:
        raise ValueError("max_sentence and chunk must be at least 1")
    if stop is not None:
        stop_view = stop
    buf = <int32_t *>malloc(sizeof(int32_t) * cap)
    if buf == NULL:
        raise MemoryError("cannot hold a chunk of word ids")
    try:
        for sentence in sentences:
            seq = sentence_tokens(sentence, check)
            size = PySequence_Fast_GET_SIZE(seq)
            raw += size
            # At most every token, a -1 per max_sentence of them, and the last.
            if cap - n < size + size // max_sentence + 2:
                cap = 2 * (n + size + size // max_sentence + 2)
                grown = <int32_t *>realloc(buf, sizeof(int32_t) * cap)
                if grown == NULL:
                    raise MemoryError("cannot hold a chunk of word ids")
                buf = grown
            kept = 0
            room = max_sentence  # words the current piece still takes
            for k in range(size):
                found = PyDict_GetItemWithError(index, <object>PySequence_Fast_GET_ITEM(seq, k))
                if found == NULL:
                    continue
                buf[n] = <int32_t><object>found
                n += 1
                kept += 1
                room -= 1
                if room == 0:
                    buf[n] = -1
                    n += 1
                    room = max_sentence
            if kept == 0 or room != max_sentence:
                buf[n] = -1
                n += 1
            if n >= chunk or (stop_view is not None and stop_view[0] != 0):
                ended = False
                break
        out = ids_array(buf, n)
    finally:
        free(buf)
    return out, raw, ended


# ---- single updates, exposed for tests and teaching -------------------------

def sigmoid(float x):
    return sg_sigmoid(x)


def log_sigmoid(double x):
    return sg_log_sigmoid(x)


def _labels(labels, int n):
    if labels is None:
        return None
    lab = np.ascontiguousarray(labels, dtype=np.float32)
    if lab.shape != (n,):
        raise ValueError("one label per output row")
    return lab


cdef void row_pointers(float[:, ::1] m, float **rows) noexcept:
    """rows[i] = the address of row i of m (for the single-update entry points)."""
    cdef Py_ssize_t i
    for i in range(m.shape[0]):
        rows[i] = &m[i, 0]


def pair_update(float[::1] v not None, float[:, ::1] out not None, float alpha,
                labels=None, bint compute_loss=True):
    """One skip-gram step in place: input row v against the rows of out.
    labels=None: out[0] is the positive row, out[1:] negatives (SGNS);
    otherwise labels[j] is row j's target (hierarchical softmax: 1 - code).
    Returns the loss before the step."""
    cdef int n_out = out.shape[0], d = v.shape[0]
    cdef float *rows[SG_MAX_OUT]
    cdef float[::1] lv
    if out.shape[1] != d or not 1 <= n_out <= SG_MAX_OUT:
        raise ValueError(f"out must be (1..{SG_MAX_OUT}, len(v))")
    lab = _labels(labels, n_out)
    work = np.empty(d, dtype=np.float32)
    cdef float[::1] wv = work
    row_pointers(out, rows)
    if lab is None:
        return sg_pair_update(&v[0], rows, NULL, n_out, alpha, d, &wv[0], compute_loss)
    lv = lab
    return sg_pair_update(&v[0], rows, &lv[0], n_out, alpha, d, &wv[0], compute_loss)


def batch_update(float[:, ::1] inp not None, float[:, ::1] out not None, float alpha,
                 weight=None, labels=None, bint compute_loss=True):
    """Shared-output step in place: every row of inp against the rows of out
    (distinct), all from the old values; weight[j] multiplies row j's terms.
    Returns the loss before the step."""
    cdef int n_in = inp.shape[0], n_out = out.shape[0], d = inp.shape[1]
    cdef float *irows[SG_MAX_IN]
    cdef float *orows[SG_MAX_OUT]
    cdef float[::1] lv
    if out.shape[1] != d or not 1 <= n_out <= SG_MAX_OUT or not 1 <= n_in <= SG_MAX_IN:
        raise ValueError(f"inp must be (1..{SG_MAX_IN}, d) and out (1..{SG_MAX_OUT}, d)")
    wt = np.ones(n_out, dtype=np.float32) if weight is None else np.ascontiguousarray(weight, np.float32)
    if wt.shape != (n_out,):
        raise ValueError("one weight per output row")
    cdef float[::1] wv = wt
    lab = _labels(labels, n_out)
    scratch = np.empty(n_in * (n_out + d), dtype=np.float32)
    cdef float[::1] sv = scratch
    row_pointers(inp, irows)
    row_pointers(out, orows)
    if lab is None:
        return sg_batch_update(irows, n_in, orows, NULL, &wv[0], n_out, alpha, d, &sv[0], compute_loss)
    lv = lab
    return sg_batch_update(irows, n_in, orows, &lv[0], &wv[0], n_out, alpha, d, &sv[0], compute_loss)


def counts_update(float[:, ::1] inp not None, float[:, ::1] out not None, float alpha, pos, neg,
                  bint compute_loss=True):
    """A block of pairs with counts in place: pos[i, j] and neg[i, j] times
    input i meets output j (distinct rows) as a positive and as a noise
    word, every gradient from the old values. Returns the loss before the
    step."""
    cdef int n_in = inp.shape[0], n_out = out.shape[0], d = inp.shape[1]
    cdef float *irows[SG_MAX_IN]
    cdef float *orows[SG_MAX_OUT]
    if out.shape[1] != d or not 1 <= n_out <= SG_MAX_OUT or not 1 <= n_in <= SG_MAX_IN:
        raise ValueError(f"inp must be (1..{SG_MAX_IN}, d) and out (1..{SG_MAX_OUT}, d)")
    p = np.ascontiguousarray(pos, dtype=np.float32)
    q = np.ascontiguousarray(neg, dtype=np.float32)
    if p.shape != (n_in, n_out) or q.shape != (n_in, n_out):
        raise ValueError("pos and neg must be (len(inp), len(out))")
    cdef float[:, ::1] pv = p
    cdef float[:, ::1] qv = q
    scratch = np.empty(n_in * (n_out + d), dtype=np.float32)
    cdef float[::1] sv = scratch
    row_pointers(inp, irows)
    row_pointers(out, orows)
    return sg_counts_update_ahead(irows, n_in, orows, n_out, &pv[0, 0], &qv[0, 0], alpha, d, &sv[0],
                                  compute_loss, NULL, 0)


def cbow_update(float[:, ::1] inp not None, float[:, ::1] out not None, float alpha,
                bint mean=True, labels=None, bint compute_loss=True):
    """One CBOW step in place: the mean (or sum) of the rows of inp against
    the rows of out (distinct); every input row receives the whole error.
    Returns the loss before the step."""
    cdef int n_in = inp.shape[0], n_out = out.shape[0], d = inp.shape[1]
    cdef float *irows[SG_MAX_IN]
    cdef float *orows[SG_MAX_OUT]
    cdef float[::1] lv
    if out.shape[1] != d or not 1 <= n_out <= SG_MAX_OUT or not 1 <= n_in <= SG_MAX_IN:
        raise ValueError(f"inp must be (1..{SG_MAX_IN}, d) and out (1..{SG_MAX_OUT}, d)")
    lab = _labels(labels, n_out)
    work = np.empty(2 * d, dtype=np.float32)
    cdef float[::1] wk = work
    row_pointers(inp, irows)
    row_pointers(out, orows)
    if lab is None:
        return sg_cbow_update(irows, n_in, mean, orows, NULL, NULL, n_out, alpha, d, &wk[0], compute_loss)
    lv = lab
    return sg_cbow_update(irows, n_in, mean, orows, &lv[0], NULL, n_out, alpha, d, &wk[0], compute_loss)


def alias_draws(p, int n, uint64_t seed=1):
    """n draws from the alias table of weights p (for testing the sampler)."""
    pv = np.ascontiguousarray(p, dtype=np.float64)
    cdef double[::1] pw = pv
    table = np.zeros((pv.shape[0], 2), dtype=np.uint32)
    cdef uint32_t[:, ::1] t = table
    if sg_alias_build(&pw[0], <int32_t>pv.shape[0], <sg_alias_entry *>&t[0, 0]) != 0:
        raise ValueError("bad weights")
    out = np.empty(n, dtype=np.int32)
    cdef int32_t[::1] o = out
    cdef uint64_t rng = seed
    cdef int i
    for i in range(n):
        o[i] = sg_alias_draw(<sg_alias_entry *>&t[0, 0], <uint32_t>pv.shape[0], &rng)
    return out


def subsample(ids, keep, uint64_t seed, int64_t max_len):
    """The trainer's sentence cutting and subsampling alone (for testing):
    ids (-1 ends a sentence) cut into the kept words of each sentence (at most
    max_len a piece), with keep[w] the 32-bit threshold of word w (keep None:
    no subsampling). Returns (pieces, words seen, the generator's state)."""
    iv = np.ascontiguousarray(ids, dtype=np.int32)
    cdef int32_t[::1] idv = iv
    cdef uint32_t[::1] kv
    cdef const uint32_t *kp = NULL
    if keep is not None:
        kv = np.ascontiguousarray(keep, dtype=np.uint32)
        if iv.shape[0] and iv.max() >= kv.shape[0]:
            raise ValueError("an id has no keep threshold")
        if kv.shape[0]:
            kp = &kv[0]
    if max_len < 1:
        raise ValueError("max_len must be at least 1")
    out = np.empty(max(1, min(<int64_t>iv.shape[0], max_len)), dtype=np.int32)
    cdef int32_t[::1] ov = out
    cdef int64_t pos = 0, seen = 0, n = iv.shape[0], kept
    cdef uint64_t state = seed
    pieces = []
    while pos < n:
        kept = sg_subsample(&idv[0], n, &pos, kp, max_len, &state, &ov[0], &seen)
        pieces.append(out[:kept].tolist())
    return pieces, seen, state
