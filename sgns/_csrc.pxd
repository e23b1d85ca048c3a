# Declarations of the C sources in csrc/: the one place Cython learns their
# signatures and constants. Constants are declared as enums so that Cython
# treats them as compile-time values (usable as array sizes).
from libc.stdint cimport int32_t, int64_t, uint8_t, uint32_t, uint64_t
from libc.stdio cimport FILE

cdef extern from "kernels.h" nogil:
    enum: SG_MAX_OUT, SG_MAX_IN, SG_MAX_NEGATIVE
    const char *sg_kernel_name(int i)
    int sg_select(const char *name)
    const char *sg_active_name()
    int sg_supported(const char *name)
    float sg_sigmoid(float x)
    double sg_log_sigmoid(double x)
    double sg_pair_update(float *v, float **out, const float *label, int n_out, float alpha,
                          int d, float *work, int want_loss)
    double sg_cbow_update(float **inp, int n_in, int mean, float **out, const float *label,
                          const float *weight, int n_out, float alpha, int d, float *work,
                          int want_loss)
    void sg_prefetch_row(const float *row, int d)
    double sg_batch_update(float **inp, int n_in, float **out, const float *label,
                           const float *weight, int n_out, float alpha, int d, float *scratch,
                           int want_loss)

cdef extern from "rng.h" nogil:
    uint64_t sg_rng_next(uint64_t *state)
    uint32_t sg_rng_below(uint64_t *state, uint32_t n)

cdef extern from "noise.h" nogil:
    ctypedef struct sg_alias_entry:
        uint32_t threshold
        int32_t alias
    int sg_alias_build(const double *p, int32_t n, sg_alias_entry *table)
    int32_t sg_alias_draw(const sg_alias_entry *table, uint32_t n, uint64_t *rng)

cdef extern from "reader.h" nogil:
    enum: SG_MAX_WORD
    enum: SG_TOK_END, SG_TOK_WORD, SG_TOK_NEWLINE, SG_TOK_STOP, SG_TOK_ERROR
    ctypedef struct sg_reader:
        int err
        const int32_t *stop
    int sg_reader_open(sg_reader *r, const char *path, int64_t start, int64_t end)
    int sg_reader_next(sg_reader *r, const char **tok, size_t *len)
    void sg_reader_close(sg_reader *r)

cdef extern from "wordhash.h" nogil:
    ctypedef struct sg_wordhash:
        int64_t n
    int sg_wordhash_init(sg_wordhash *h, int64_t expected)
    void sg_wordhash_free(sg_wordhash *h)
    int64_t sg_wordhash_add(sg_wordhash *h, const char *w, size_t len, int64_t count)
    int64_t sg_wordhash_find(const sg_wordhash *h, const char *w, size_t len)
    int sg_wordhash_prune(sg_wordhash *h, int64_t min_count)
    int sg_wordhash_merge(sg_wordhash *dst, const sg_wordhash *src)
    const char *sg_wordhash_word(const sg_wordhash *h, int64_t id, size_t *len)
    int64_t sg_wordhash_count(const sg_wordhash *h, int64_t id)

cdef extern from "countfilter.h" nogil:
    ctypedef struct sg_countfilter:
        int block_bits
        uint8_t cap
    int sg_countfilter_init(sg_countfilter *f, uint64_t nbytes, int cap)
    void sg_countfilter_free(sg_countfilter *f)
    void sg_countfilter_merge(sg_countfilter *dst, const sg_countfilter *src)
    int sg_countfilter_pass(sg_reader *r, sg_countfilter *f, int64_t *tokens, int64_t *lines)
    int sg_countfilter_count(sg_reader *r, const sg_countfilter *f, sg_wordhash *h, int *nomem)

cdef extern from "huffman.h" nogil:
    int64_t sg_huffman_lengths(const int64_t *counts, int64_t v, int32_t *parent, uint8_t *branch,
                               int64_t *offsets)
    void sg_huffman_paths(const int32_t *parent, const uint8_t *branch, const int64_t *offsets, int64_t v,
                          int32_t *points, uint8_t *codes)

cdef extern from "atomics.h" nogil:
    int64_t sg_atomic_add(int64_t *p, int64_t v)
    int64_t sg_atomic_load(const int64_t *p)
    int32_t sg_atomic_load32(const int32_t *p)

cdef extern from "encode.h" nogil:
    int64_t sg_encode_chunk(sg_reader *r, const sg_wordhash *h, int32_t *out, int64_t cap,
                            int64_t max_sentence, int64_t *sent_len, int *status)
