/* Phrase detection (word2phrase and gensim's Phrases) in plain C.
 *
 * sp_table: one compact open-addressing table from byte strings to an int64
 * value, used for unigram and phrase counts together (a phrase "a_b" and a
 * token "a_b" are the same key, as in both word2phrase and gensim), for the
 * scores of a frozen model (the value holds a double's bits) and for the set
 * of connector words. Records live in one arena in insertion order:
 *     int64 value | uint32 length | bytes | zero padding to 8 bytes
 * and a slot holds a 32-bit hash fingerprint and the record's arena offset/8,
 * so a probe touches one slot and, on a fingerprint match, one record.
 *
 * Nothing here knows Python. Functions return 0 or a negative SP_E* code. */
#ifndef SGNS_PHRASES_H
#define SGNS_PHRASES_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum { SP_OK = 0, SP_ENOMEM = -1, SP_EIO = -2, SP_ESTOP = -3, SP_EFORMAT = -4 };

/* word2phrase's limits: words keep their first 58 bytes (MAX_STRING 60 less the
 * terminator and its truncation rule), a joined pair its first 59. */
#define SP_W2P_WORD 58
#define SP_W2P_PAIR 59

typedef struct {
    uint64_t *slots;
    uint64_t cap;          /* slots, a power of two */
    int64_t n;             /* records */
    unsigned char *arena;
    uint64_t used, size;   /* arena bytes in use / allocated */
} sp_table;

int sp_init(sp_table *t, int64_t expected);
void sp_free(sp_table *t);
/* Offset of w's record, inserting it with value 0 if new; -1: out of memory. */
int64_t sp_insert(sp_table *t, const char *w, size_t n);
/* Offset of w's record, or -1. */
int64_t sp_find(const sp_table *t, const char *w, size_t n);
/* Remove every record whose value is below `below` (insertion order kept). */
int sp_prune(sp_table *t, int64_t below);
/* Add src's values to dst (new keys appended in src's order). */
int sp_merge(sp_table *dst, const sp_table *src);

static inline int64_t *sp_value(const sp_table *t, int64_t off) { return (int64_t *)(t->arena + off); }
static inline uint32_t sp_len(const sp_table *t, int64_t off)
{
    uint32_t n;
    memcpy(&n, t->arena + off + 8, 4);
    return n;
}
static inline const char *sp_key(const sp_table *t, int64_t off) { return (const char *)t->arena + off + 12; }
/* Offset of the record after off (start with 0); -1 at the end. */
int64_t sp_next(const sp_table *t, int64_t off);
static inline int64_t sp_add(sp_table *t, const char *w, size_t n, int64_t v)
{
    int64_t off = sp_insert(t, w, n);
    if (off >= 0) *sp_value(t, off) += v;
    return off;
}

/* Keys waiting to be added (one each) to a table in one go: their hashes are
 * computed and their slots prefetched first, so the cache misses of a batch
 * overlap instead of following each other. Order of insertion is kept. */
#define SP_BATCH 64
typedef struct {
    char *buf;
    size_t len, cap;
    size_t off[SP_BATCH];
    uint32_t n[SP_BATCH];
    int count;
} sp_batch;

int sp_batch_push(sp_table *t, sp_batch *b, const char *w, size_t n); /* flushes when full */
int sp_batch_flush(sp_table *t, sp_batch *b);
void sp_batch_free(sp_batch *b);

/* Serialised table: per record uint32 length (LE), bytes, int64 value (LE). */
uint64_t sp_dump_size(const sp_table *t);
void sp_dump(const sp_table *t, unsigned char *out);
/* SP_EFORMAT on a malformed buffer or a repeated key. */
int sp_load(sp_table *t, const unsigned char *buf, uint64_t len);
/* The records as they lie in memory (t->used bytes): per record int64 value,
 * uint32 length (both little-endian), bytes, zero padding to 8 bytes. */
void sp_dump_arena(const sp_table *t, unsigned char *out);
/* Fill an empty table from sp_dump_arena's bytes: one copy, then the slots.
 * SP_EFORMAT on a malformed buffer (bad length or padding) or a repeated key. */
int sp_load_arena(sp_table *t, const unsigned char *buf, uint64_t len);

/* ---- gensim's Phrases ---------------------------------------------------- */
enum { SP_SCORE_DEFAULT = 0, SP_SCORE_NPMI = 1 };

typedef struct {
    const sp_table *vocab;      /* counts, or scores when frozen */
    const sp_table *connectors; /* NULL: none */
    const char *delim;
    size_t dlen;
    int frozen;
    int scoring;
    double threshold, min_count;
    int64_t corpus_words;
} sp_model;

double sp_score(const sp_model *m, int64_t ca, int64_t cb, int64_t cab);

/* Counting state of one stream of sentences (gensim's learning rule: every
 * non-connector word is a unigram; it also closes the phrase begun by the
 * previous non-connector word of the sentence, connectors in between). */
typedef struct {
    sp_table *t;
    const sp_table *connectors;
    const char *delim;
    size_t dlen;
    int64_t bound;      /* > 0: prune after a sentence that leaves more records */
    int64_t min_reduce; /* next pruning drops values below this */
    int64_t words;
    int has_start;
    char *buf;          /* the phrase so far: start [delim connector]... */
    size_t len, cap;
    sp_batch batch;     /* keys counted but not yet in t */
} sp_counter;

void sp_counter_init(sp_counter *c, sp_table *t, const sp_table *connectors, const char *delim,
                     size_t dlen, int64_t bound);
void sp_counter_free(sp_counter *c);
int sp_count_word(sp_counter *c, const char *w, size_t n);
int sp_count_end(sp_counter *c);
/* A batch: token i is lens[i] bytes of arena (consecutive); lens[i] < 0 ends a sentence. */
int sp_count_batch(sp_counter *c, const char *arena, const int64_t *lens, int64_t n);
/* Count path[start:end) with sgns's reader (tokens as corpus_file= sees them,
 * a line is a sentence). peek: also count the phrase that a sentence crossing
 * `end` closes in the next range (its words are that range's). */
int sp_count_file(sp_counter *c, const char *path, int64_t start, int64_t end, int peek,
                  const int32_t *stop, int *err);

/* Analyse one sentence: outputs k cover tokens [s[k], e[k]); e - s > 1 is a
 * phrase scored score[k]. s, e, score have room for n. Returns the count. */
int64_t sp_analyze(const sp_model *m, const char *arena, const int64_t *lens, int64_t n, int64_t *s,
                   int64_t *e, double *score);
/* Text made in memory (a part of a file rewritten by one of several workers). */
typedef struct {
    char *p;
    size_t len, cap;
} sp_text;
void sp_text_free(sp_text *t);
/* Write all of t to descriptor fd: 0 or an errno. */
int sp_text_write(int fd, const sp_text *t);
/* Rewrite path[start:end) (end < 0: to the end of the file; both at the start
 * of a line) into the open descriptor fd, or with fd < 0 append it to *mem:
 * a line per line, tokens joined by single spaces, phrases by the delimiter. */
int sp_transform_file(const sp_model *m, const char *path, int64_t start, int64_t end, int fd, sp_text *mem,
                      const int32_t *stop, int *err);
/* Records of m->vocab (those starting in [from, to)) that contain the delimiter
 * and whose first and last parts are counted (gensim's export_phrases): their offsets, part counts and
 * (scored: only those that pass m's threshold) scores, for the first `cap` of
 * them. Returns how many there are (call again with room for all if > cap). */
int64_t sp_candidates(const sp_model *m, int scored, int64_t from, int64_t to, int64_t cap, int64_t *offs,
                      int64_t *ca, int64_t *cb, double *scores);
/* The offset of the first record at or after `byte` (t->used if none),
 * walking from the record at `from`: where a part of the records for
 * sp_candidates' [from, to) may start. */
int64_t sp_record_near(const sp_table *t, int64_t from, uint64_t byte);

/* ---- word2phrase --------------------------------------------------------- */
/* Count unigrams and joined pairs of path[start:end) by word2phrase's rules
 * (pairs run across newlines; tokens split on space, tab and newline, CR
 * dropped, "</s>" is a newline). A range's first word pairs with nothing
 * (word2phrase pairs the file's first word with uninitialised memory); peek:
 * count the pair its last word makes with
 * the next range's first word. bound > 0 prunes like word2phrase's
 * ReduceVocab (values <= min_reduce) whenever the table grows past it. */
int sp_w2p_learn(sp_table *t, const char *path, int64_t start, int64_t end, int peek, int64_t bound,
                 int64_t *min_reduce, int64_t *words, const int32_t *stop, int *err);
/* word2phrase's output for path (table already cut to min_count) into fd. */
int sp_w2p_transform(const sp_table *t, const char *path, int fd, int64_t min_count, float threshold,
                     int64_t train_words, const int32_t *stop, int *err);
#endif
