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
    int sg_active_width()
    int sg_has_prefetchw
    int sg_supported(const char *name)
    float sg_sigmoid(float x)
    double sg_log_sigmoid(double x)
    double sg_pair_update(float *v, float **out, const float *label, int n_out, float alpha,
                          int d, float *work, int want_loss)
    double sg_pair_update_ahead(float *v, float **out, const float *label, int n_out, int n_distinct,
                                float alpha, int d, float *work, int want_loss, float **ahead,
                                int n_ahead)
    double sg_cbow_update(float **inp, int n_in, int mean, float **out, const float *label,
                          const float *weight, int n_out, float alpha, int d, float *work,
                          int want_loss)
    double sg_cbow_update_ahead(float **inp, int n_in, int mean, float **out, const float *label,
                                const float *weight, int n_out, float alpha, int d, float *work,
                                int want_loss, float **ahead, int n_ahead)
    void sg_prefetch_row(const float *row, int d)
    double sg_batch_update(float **inp, int n_in, float **out, const float *label,
                           const float *weight, int n_out, float alpha, int d, float *scratch,
                           int want_loss)
    double sg_batch_update_ahead(float **inp, int n_in, float **out, const float *label,
                                 const float *weight, int n_out, float alpha, int d, float *scratch,
                                 int want_loss, float **ahead, int n_ahead)
    double sg_counts_update_ahead(float **inp, int n_in, float **out, int n_out, const float *pos,
                                  const float *neg, float alpha, int d, float *scratch, int want_loss,
                                  float **ahead, int n_ahead)

cdef extern from "rng.h" nogil:
    uint64_t sg_rng_next(uint64_t *state)
    uint32_t sg_rng_below(uint64_t *state, uint32_t n)

cdef extern from "subsample.h" nogil:
    const uint32_t SG_KEEP_ALWAYS
    int64_t sg_subsample(const int32_t *ids, int64_t n, int64_t *pos, const uint32_t *keep, int64_t max_len,
                         uint64_t *rng, int32_t *out, int64_t *seen)

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
    enum: SG_WORD_LEN_BITS
    uint64_t sg_hash_bytes(const char *w, size_t n)
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
    int sg_countfilter_count(sg_reader *r, const sg_countfilter *f, sg_wordhash *h, int64_t *tokens,
                             int64_t *lines, int *nomem)

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
    ctypedef struct sg_encoder:
        pass
    void sg_encoder_init(sg_encoder *e)
    int64_t sg_encode_chunk(sg_reader *r, const sg_wordhash *h, sg_encoder *e, int32_t *out, int64_t cap,
                            int64_t max_sentence, int *status)

cdef extern from "phrases.h" nogil:
    int SP_OK, SP_ENOMEM, SP_EIO, SP_ESTOP, SP_EFORMAT
    int SP_SCORE_DEFAULT, SP_SCORE_NPMI
    ctypedef struct sp_table:
        int64_t n
        uint64_t cap, used, size
        unsigned char *arena
    int sp_init(sp_table *t, int64_t expected)
    void sp_free(sp_table *t)
    int64_t sp_insert(sp_table *t, const char *w, size_t n)
    int64_t sp_find(const sp_table *t, const char *w, size_t n)
    int sp_prune(sp_table *t, int64_t below)
    int sp_merge(sp_table *dst, const sp_table *src)
    int64_t *sp_value(const sp_table *t, int64_t off)
    uint32_t sp_len(const sp_table *t, int64_t off)
    const char *sp_key(const sp_table *t, int64_t off)
    int64_t sp_next(const sp_table *t, int64_t off)
    uint64_t sp_dump_size(const sp_table *t)
    void sp_dump(const sp_table *t, unsigned char *out)
    int sp_load(sp_table *t, const unsigned char *buf, uint64_t len)
    void sp_dump_arena(const sp_table *t, unsigned char *out)
    int sp_load_arena(sp_table *t, const unsigned char *buf, uint64_t len)
    ctypedef struct sp_model:
        const sp_table *vocab
        const sp_table *connectors
        const char *delim
        size_t dlen
        int frozen
        int scoring
        double threshold, min_count
        int64_t corpus_words
    double sp_score(const sp_model *m, int64_t ca, int64_t cb, int64_t cab)
    ctypedef struct sp_counter:
        int64_t min_reduce
        int64_t words
    void sp_counter_init(sp_counter *c, sp_table *t, const sp_table *connectors, const char *delim,
                         size_t dlen, int64_t bound)
    void sp_counter_free(sp_counter *c)
    int sp_count_batch(sp_counter *c, const char *arena, const int64_t *lens, int64_t n)
    int sp_count_end(sp_counter *c)
    int sp_count_file(sp_counter *c, const char *path, int64_t start, int64_t end, int peek,
                      const int32_t *stop, int *err)
    int64_t sp_analyze(const sp_model *m, const char *arena, const int64_t *lens, int64_t n, int64_t *s,
                       int64_t *e, double *score)
    ctypedef struct sp_text:
        char *p
        size_t len
    void sp_text_free(sp_text *t)
    int sp_text_write(int fd, const sp_text *t)
    int sp_transform_file(const sp_model *m, const char *path, int64_t start, int64_t end, int fd,
                          sp_text *mem, const int32_t *stop, int *err)
    int64_t sp_candidates(const sp_model *m, int scored, int64_t start, int64_t end, int64_t cap,
                          int64_t *offs, int64_t *ca, int64_t *cb, double *scores)
    int64_t sp_record_near(const sp_table *t, int64_t start, uint64_t byte)
    int sp_w2p_learn(sp_table *t, const char *path, int64_t start, int64_t end, int peek, int64_t bound,
                     int64_t *min_reduce, int64_t *words, const int32_t *stop, int *err)
    int sp_w2p_transform(const sp_table *t, const char *path, int fd, int64_t min_count, float threshold,
                         int64_t train_words, const int32_t *stop, int *err)

cdef extern from "vecrows.h" nogil:
    enum: SG_ROWS_DONE, SG_ROWS_MORE, SG_ROWS_SLOW, SG_ROWS_FULL, SG_ROWS_MAX_BINARY_WORD
    ctypedef struct sg_rows_out:
        float *vectors
        char *words
        size_t words_cap
        size_t words_len
        int64_t *word_at
        int64_t rows
    int sg_binary_rows(const char *buf, size_t len, size_t *pos, int dim, int64_t max_rows, int final,
                       sg_rows_out *out)
    int sg_text_rows(const char *buf, size_t len, size_t *pos, int dim, int64_t max_rows, size_t max_row,
                     int final, sg_rows_out *out)
    int sg_parse_float(const char *s, size_t n, float *out)
    enum: SG_ROW_MAX_TEXT_VALUE
    size_t sg_write_row(char *out, const char *word, size_t word_len, const float *v, int dim, int binary)
