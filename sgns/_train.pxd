# The C-level contract of the trainer: plain structs of raw pointers and the
# nogil loops that use them. Nothing here touches a Python object.
from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t
from sgns._csrc cimport sg_alias_entry

cdef struct Config:
    float *syn0              # input vectors: vocab_size rows of dim values, ld apart
    float *syn1neg           # output vectors for negative sampling (NULL if negative == 0)
    float *syn1              # inner-node vectors for hierarchical softmax (NULL if hs == 0)
    const int64_t *code_offsets   # word i's tree path: [code_offsets[i], code_offsets[i+1])
    const int32_t *points    # inner-node index at each step of a path
    const float *code_labels  # 1 - code at each step: the target of that node
    int max_codelen
    int sg                   # 1 skip-gram, 0 CBOW
    int cbow_mean            # CBOW: mean (1) or sum (0) of the context vectors
    int hs
    int dim                  # floats of a row the kernels take: D, or D rounded up into zero padding
    int ld                   # floats from one row to the next in syn0, syn1neg and syn1 (>= dim)
    int window
    int negative
    int shared_negatives     # 1: one set of negatives per window (batched)
    int group                # > 1: this many consecutive centre words share one draw (one block)
    int shrink_windows       # 1: radius drawn from 1..window per centre word; 0: always window
    const float *lockf       # per-word factor on input-vector updates, NULL: all 1 (gensim's vectors_lockf)
    int want_loss
    int64_t max_sentence
    const uint32_t *keep     # subsampling thresholds, NULL for none
    const sg_alias_entry *noise
    uint32_t vocab_size
    float alpha0
    float min_alpha
    int64_t total_words      # words the learning-rate schedule spans
    int64_t *words_done      # shared by all threads
    const int32_t *stop      # set to 1 to stop every thread
    # Hierarchical softmax with several workers: each trains its own copy of
    # this many inner nodes nearest the root (0: none; see sync_private).
    int private_top
    # With several workers, each also trains its own copy of the output rows
    # syn1neg[0 .. private_neg): the most frequent words, the most drawn
    # noise rows (0: none; see sync_private).
    int private_neg

cdef struct Batch:
    # The updates of one centre word: its context rows and their output rows.
    int n_in
    int n_out                # shared mode: outputs common to all inputs
    float **inp              # 2*window input rows
    float **out              # per-pair: (2*window) x stride; shared/CBOW: stride
    float *label             # target of each output row (same layout as out)
    int *n_outs              # per-pair: output rows of input i
    int n_distinct           # per-pair: leading output rows that cannot repeat (tree path, positive)
    int32_t *out_id          # shared/CBOW: noise-word ids, to merge repeats
    float *weight            # shared/CBOW: multiplicity of each output
    int n_locked             # inputs with a lock factor != 1, trained on a copy
    float **lock_row         # their rows in syn0
    float *lock_factor       # their factors
    float *lock_buf          # per locked input: the copy trained, then the row as copied
    # Groups of centre words (Config.group > 1): one block for all of them.
    int n_centres            # centre words in the group
    int64_t *win_lo          # centre k's window: positions [win_lo[k], win_hi[k]) but its own
    int64_t *win_hi
    int *centre_col          # centre k's positive output (its word's column)
    float *draws             # per output: how often the group's draw of noise picked its word
    float *cnt_pos           # n_in x n_out: times input i meets output j as a positive
    float *cnt_neg           # n_in x n_out: ... as a noise word
    float **cold             # rows of this group not read by the group before it (prefetched then)
    int n_cold
    int n_pairs              # (input, centre word) pairs of the group
    int64_t reach            # one past the group's last input position

cdef struct Worker:
    uint64_t rng
    float alpha
    int64_t unsynced         # words read since the shared counter was updated
    int64_t words            # words read (in-vocabulary, before subsampling)
    int64_t kept             # words kept by subsampling (gensim's "effective words")
    int64_t examples         # (input, output-set) updates done
    double loss
    int32_t *sentence
    float *work              # 2*dim floats
    float *scratch           # (2*window) x (stride + dim) floats
    int stride               # most output rows of one input: max_codelen + negative + 1
    Batch batch[2]           # current and next centre word (prefetch pipeline)
    int32_t *noise           # pre-drawn noise words
    int noise_next           # next unused entry of noise
    int64_t fetched_to       # sentence positions below this had their input rows prefetched
    float **ahead            # shared mode: rows of a later centre, prefetched during this update
    int n_ahead
    float *top_rows          # private_top rows this worker trains (NULL: none)
    float *top_base          # the shared rows as last read: top_rows - top_base is the worker's change
    float *neg_rows          # private_neg rows of syn1neg this worker trains (NULL: none)
    float *neg_base          # the same for them
    void *top_block          # the allocations holding top_base/top_rows and neg_base/neg_rows (to free)
    void *neg_block
    int64_t top_centres      # centre words trained since the last sync_private
