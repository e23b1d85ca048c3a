/* Checks every kernel set this build and CPU run against float64 references,
 * without Python: so it runs under qemu-user for the aarch64 (NEON) build.
 *
 *   1. the worked example of the model (K=1, alpha=0.1, D=2);
 *   2. each operation of the sg_ops table against a float64 loop, for
 *      lengths that exercise vector bodies and every tail;
 *   3. finite-difference gradient checks of every update entry point
 *      (sg_pair_update, sg_batch_update, sg_cbow_update): (new - old) /
 *      (-alpha) must be the gradient of the float64 loss at the old values,
 *      and the returned loss that loss.
 *
 * Build: cc -O2 -Icsrc tests/c/check_kernels.c csrc/kernels.c -lm
 * (scripts/check_kernels.sh does this natively and for aarch64 under qemu).
 * Prints one line per kernel set and ends with "N passed, M failed". */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kernels.h"

#define MAXD 300
#define MAXN 24

static int passed, failed;

static void check(int ok, const char *set, const char *what, int a, int b)
{
    if (ok) {
        passed++;
        return;
    }
    failed++;
    if (failed <= 30) printf("  FAIL [%s] %s (%d, %d)\n", set, what, a, b);
}

/* |got - want| <= atol + rtol |want| */
static int close_to(double got, double want, double atol, double rtol)
{
    return isfinite(got) && fabs(got - want) <= atol + rtol * fabs(want);
}

static uint64_t rng_state = 12345;
static double uniform(void) /* in [-1, 1) */
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    return (double)(z >> 11) / 4503599627370496.0 - 1.0;
}

/* Rows of n x d floats with entries ~ d^-1/4: dot products of order 1. */
static void fill(float *x, int n, int d)
{
    int i;
    for (i = 0; i < n * d; i++) x[i] = (float)(uniform() * 1.7 * pow(d, -0.25));
}

static double sigma(double x) { return 1.0 / (1.0 + exp(-x)); }
static double log_sigma(double x) { return x >= 0 ? -log1p(exp(-x)) : x - log1p(exp(x)); }

static double dot64(const float *a, const float *b, int d)
{
    double s = 0;
    int i;
    for (i = 0; i < d; i++) s += (double)a[i] * b[i];
    return s;
}

/* ---- 1. the worked example -------------------------------------------------------------- */

static void worked_example(const char *set)
{
    /* v_king, u_rules (positive), u_table (negative); alpha 0.1 */
    float v[2] = {0.10f, 0.30f}, rules[2] = {0.20f, 0.90f}, table[2] = {0.70f, 0.10f};
    float *out[2] = {rules, table}, work[2];
    /* The exact step rounded to 4 decimals. */
    const double want_v[2] = {0.0718, 0.3333}, want_rules[2] = {0.2043, 0.9128},
                 want_table[2] = {0.6948, 0.0843};
    double g_pos = 0.1 * (1 - sigma(0.1 * 0.2 + 0.3 * 0.9)), g_neg = -0.1 * sigma(0.1 * 0.7 + 0.3 * 0.1);
    double loss = sg_pair_update(v, out, NULL, 2, 0.1f, 2, work, 1);
    int i;
    for (i = 0; i < 2; i++) {
        double v0 = i ? 0.30 : 0.10;
        check(fabs(v[i] - want_v[i]) <= 5e-5, set, "worked example v_king", i, 0);
        check(fabs(rules[i] - want_rules[i]) <= 5e-5, set, "worked example u_rules", i, 0);
        check(fabs(table[i] - want_table[i]) <= 5e-5, set, "worked example u_table", i, 0);
        /* and to float32 precision against the closed form */
        check(close_to(rules[i], (i ? 0.90 : 0.20) + g_pos * v0, 1e-6, 0), set, "worked example exact u_rules", i, 0);
        check(close_to(table[i], (i ? 0.10 : 0.70) + g_neg * v0, 1e-6, 0), set, "worked example exact u_table", i, 0);
    }
    check(close_to(v[0], 0.10 + g_pos * 0.20 + g_neg * 0.70, 1e-6, 0), set, "worked example exact v", 0, 0);
    check(close_to(v[1], 0.30 + g_pos * 0.90 + g_neg * 0.10, 1e-6, 0), set, "worked example exact v", 1, 0);
    check(close_to(loss, -log_sigma(0.29) - log_sigma(-0.10), 1e-6, 0), set, "worked example loss", 0, 0);
    printf("[%s] worked example: v_king=[%.4f,%.4f] u_rules=[%.4f,%.4f] u_table=[%.4f,%.4f]\n", set, v[0], v[1],
           rules[0], rules[1], table[0], table[1]);
}

/* ---- 2. each operation against float64 ------------------------------------------------ */

static const int LENGTHS[] = {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 37, 63, 64, 65, 100, 129, 300};
#define N_LENGTHS ((int)(sizeof LENGTHS / sizeof LENGTHS[0]))

static void operations(const char *set)
{
    static float a[MAXN * MAXD], b[MAXN * MAXD], c[MAXN * MAXD], G[MAXN * MAXN], delta[MAXN * MAXD];
    static double ref_in[MAXN * MAXD], ref_out[MAXN * MAXD];
    float *rows[MAXN], *outs[MAXN], res[MAXN];
    /* block_update's output counts: one group (1-8), every split into two (9-12), more groups */
    static const int UPDATE_OUTS[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 16, 17, 21, 24};
    int li, i, j, k, n, t;
    for (li = 0; li < N_LENGTHS; li++) {
        int d = LENGTHS[li];
        double tol = 2e-6 * sqrt((double)d);
        fill(a, 1, d), fill(b, 1, d), fill(c, 1, d);
        check(close_to(sg_active->dot(a, b, d), dot64(a, b, d), tol, 1e-5), set, "dot", d, 0);
        memcpy(delta, b, sizeof(float) * d);
        sg_active->axpy(0.3f, a, delta, d);
        for (k = 0; k < d; k++) check(close_to(delta[k], b[k] + 0.3 * a[k], 1e-6, 1e-6), set, "axpy", d, k);
        memcpy(delta, b, sizeof(float) * d);
        {
            static float acc[MAXD];
            memcpy(acc, c, sizeof(float) * d);
            sg_active->grad_step(0.2f, a, delta, acc, d);
            for (k = 0; k < d; k++) {
                check(close_to(acc[k], c[k] + 0.2 * b[k], 1e-6, 1e-6), set, "grad_step acc", d, k);
                check(close_to(delta[k], b[k] + 0.2 * a[k], 1e-6, 1e-6), set, "grad_step u", d, k);
            }
        }
        for (n = 1; n <= 9; n++) {
            fill(b, n, d);
            for (j = 0; j < n; j++) rows[j] = b + j * d;
            sg_active->dots(a, rows, n, d, res);
            for (j = 0; j < n; j++) check(close_to(res[j], dot64(a, rows[j], d), tol, 1e-5), set, "dots", d, n);
            /* pair_apply: v += Σ g_j out_j, out_j += g_j v (old values) */
            for (j = 0; j < n; j++) G[j] = (float)(0.1 * uniform());
            memcpy(c, a, sizeof(float) * d);
            for (k = 0; k < d; k++) {
                ref_in[k] = a[k];
                for (j = 0; j < n; j++) ref_in[k] += (double)G[j] * b[j * d + k];
                for (j = 0; j < n; j++) ref_out[j * d + k] = b[j * d + k] + (double)G[j] * a[k];
            }
            sg_active->pair_apply(c, rows, n, G, d);
            for (k = 0; k < d; k++) check(close_to(c[k], ref_in[k], 1e-6, 1e-5), set, "pair_apply v", d, n);
            for (k = 0; k < n * d; k++) check(close_to(b[k], ref_out[k], 1e-6, 1e-5), set, "pair_apply out", d, n);
            /* sum_rows: h = Σ rows (mean: / n); rows untouched */
            for (i = 0; i <= 1; i++) {
                sg_active->sum_rows(rows, n, d, c, i);
                for (k = 0; k < d; k++) {
                    double sum = 0;
                    for (j = 0; j < n; j++) sum += b[j * d + k];
                    check(close_to(c[k], i ? sum / n : sum, 1e-6, 1e-5), set, i ? "sum_rows mean" : "sum_rows", d, n);
                }
            }
            /* cbow_apply: e = Σ g_j out_j (old; / split), out_j += g_j h; h untouched */
            for (i = 1; i <= n; i += (n > 1 ? n - 1 : 1)) {
                for (k = 0; k < d; k++) {
                    ref_in[k] = 0;
                    for (j = 0; j < n; j++) ref_in[k] += (double)G[j] * b[j * d + k];
                    ref_in[k] /= i;
                    for (j = 0; j < n; j++) ref_out[j * d + k] = b[j * d + k] + (double)G[j] * a[k];
                }
                memcpy(c, a, sizeof(float) * d);
                sg_active->cbow_apply(c, rows, n, G, d, delta, i);
                for (k = 0; k < d; k++) {
                    check(close_to(delta[k], ref_in[k], 1e-6, 1e-5), set, "cbow_apply e", d, n);
                    check(c[k] == a[k], set, "cbow_apply h untouched", d, n);
                }
                for (k = 0; k < n * d; k++) check(close_to(b[k], ref_out[k], 1e-6, 1e-5), set, "cbow_apply out", d, n);
            }
        }
        /* pair_step: the exact step, unrolled for 1..8 outputs, general above (in fours);
         * labelled (a tree path) or the SGNS layout; rows ahead untouched */
        for (n = 1; n <= 13; n++) {
            int labelled;
            for (labelled = 0; labelled <= 1; labelled++) {
                float lab[MAXN], f[SG_PAIR_F], *ahead[2];
                const float alpha = 0.1f;
                fill(a, 1, d), fill(b, n, d), fill(c, 2, d);
                memcpy(delta, c, sizeof(float) * 2 * d);
                ahead[0] = c, ahead[1] = c + d;
                for (j = 0; j < n; j++) {
                    double fj = dot64(a, b + j * d, d);
                    lab[j] = labelled ? (float)((j * 5 + n) % 3 == 0) : (float)(j == 0);
                    G[j] = (float)(alpha * (lab[j] - sigma(fj)));
                    res[j] = (float)fj;
                    rows[j] = b + j * d;
                }
                for (k = 0; k < d; k++) {
                    ref_in[k] = a[k];
                    for (j = 0; j < n; j++) ref_in[k] += (double)G[j] * b[j * d + k];
                    for (j = 0; j < n; j++) ref_out[j * d + k] = b[j * d + k] + (double)G[j] * a[k];
                }
                sg_active->pair_step(a, rows, labelled ? lab : NULL, n, alpha, d, f, ahead, 2);
                for (j = 0; j < n; j++) check(close_to(f[j], res[j], tol, 1e-5), set, "pair_step dots", d, n);
                for (k = 0; k < d; k++) check(close_to(a[k], ref_in[k], 1e-6, 1e-4), set, "pair_step v", d, n);
                for (k = 0; k < n * d; k++)
                    check(close_to(b[k], ref_out[k], 1e-6, 1e-4), set, "pair_step out", d, n);
                check(memcmp(c, delta, sizeof(float) * 2 * d) == 0, set, "pair_step ahead", d, n);
            }
        }
        /* block_dots: every (n_in, n_out) up to 10 x 13 (odd inputs, partial output groups,
         * every split of a window's inputs into tiles, every remainder after tiles of four) */
        for (n = 1; n <= 13; n++) {
            int n_in;
            fill(b, n, d);
            for (j = 0; j < n; j++) outs[j] = b + j * d;
            for (n_in = 1; n_in <= 10; n_in++) {
                fill(a, n_in, d);
                for (i = 0; i < n_in; i++) rows[i] = a + i * d;
                sg_active->block_dots(rows, n_in, outs, n, d, G);
                for (i = 0; i < n_in; i++)
                    for (j = 0; j < n; j++)
                        check(close_to(G[i * n + j], dot64(rows[i], outs[j], d), tol, 1e-5), set, "block_dots", d,
                              n_in * 10 + n);
                /* block_coefs: the very floats of block_dots, sigmoids and the labels'
                 * step one after another (training's vectors do not depend on which
                 * runs), and close to the float64 coefficients */
                {
                    float lab[MAXN], scale[MAXN], *C = delta;
                    for (j = 0; j < n; j++)
                        lab[j] = (float)((j * 5 + n_in) % 3 == 0), scale[j] = 0.025f * (float)(1 + (j + n_in) % 3);
                    sg_active->sigmoids(G, G, n_in * n);
                    for (i = 0; i < n_in; i++)
                        for (j = 0; j < n; j++) G[i * n + j] = (lab[j] - G[i * n + j]) * scale[j];
                    sg_active->block_coefs(rows, n_in, outs, n, d, lab, scale, C);
                    for (i = 0; i < n_in; i++)
                        for (j = 0; j < n; j++) {
                            double want = (lab[j] - sigma(dot64(rows[i], outs[j], d))) * scale[j];
                            check(memcmp(&C[i * n + j], &G[i * n + j], sizeof(float)) == 0, set,
                                  "block_coefs = block_dots + sigmoids + labels", d, n_in * 10 + n);
                            check(close_to(C[i * n + j], want, 1e-7 + 0.25 * 0.075 * tol, 1e-5), set, "block_coefs", d,
                                  n_in * 10 + n);
                        }
                }
            }
        }
        /* block_update: every (n_in, n_out), in place up to 8 outputs, in two to three
         * groups above (9..24: every split of 9..12 outputs, and 16, 17, 21, 24);
         * rows ahead untouched */
        for (t = 0; t < (int)(sizeof UPDATE_OUTS / sizeof *UPDATE_OUTS); t++) {
            int n_in = 1 + (UPDATE_OUTS[t] + d) % 10;
            n = UPDATE_OUTS[t];
            float *ahead[2], ref_c[2 * MAXD];
            fill(a, n_in, d), fill(b, n, d);
            for (i = 0; i < n_in * n; i++) G[i] = (float)(0.1 * uniform());
            for (i = 0; i < n_in; i++) rows[i] = a + i * d;
            for (j = 0; j < n; j++) outs[j] = b + j * d;
            for (i = 0; i < n_in; i++)
                for (k = 0; k < d; k++) {
                    ref_in[i * d + k] = a[i * d + k];
                    for (j = 0; j < n; j++) ref_in[i * d + k] += (double)G[i * n + j] * b[j * d + k];
                }
            for (j = 0; j < n; j++)
                for (k = 0; k < d; k++) {
                    ref_out[j * d + k] = b[j * d + k];
                    for (i = 0; i < n_in; i++) ref_out[j * d + k] += (double)G[i * n + j] * a[i * d + k];
                }
            fill(c, 2, d);
            memcpy(ref_c, c, sizeof(float) * 2 * d);
            ahead[0] = c, ahead[1] = c + d;
            sg_active->block_update(rows, n_in, outs, n, G, d, delta, ahead, 2);
            for (k = 0; k < n_in * d; k++) check(close_to(a[k], ref_in[k], 1e-6, 1e-5), set, "block_update in", d, n);
            for (k = 0; k < n * d; k++) check(close_to(b[k], ref_out[k], 1e-6, 1e-5), set, "block_update out", d, n);
            check(memcmp(c, ref_c, sizeof(float) * 2 * d) == 0, set, "block_update ahead", d, n);
        }
    }
    /* sigmoids: every length up to 40 (vector body and tail), over [-100, 100] */
    for (n = 1; n <= 40; n++) {
        for (i = 0; i < n; i++) a[i] = (float)(100.0 * uniform() * (i % 3 ? 0.1 : 1.0));
        sg_active->sigmoids(a, c, n);
        for (i = 0; i < n; i++) check(close_to(c[i], sigma(a[i]), 2e-7, 5e-7), set, "sigmoids", n, i);
    }
}

/* ---- 3. finite differences of the loss --------------------------------------------------- */

/* One problem: inputs x (n_in x d), outputs u (n_out x d), labels t, weights w. */
typedef struct {
    int n_in, n_out, d, cbow, mean;
    double x[MAXN * MAXD], u[MAXN * MAXD], t[MAXN], w[MAXN];
} problem;

/* The float64 loss. Skip-gram: Σ_i Σ_j w_j ℓ(x_i·u_j, t_j). CBOW: h = mean or
 * sum of the x_i, Σ_j w_j ℓ(h·u_j, t_j). ℓ(f, t) = -[t log σ(f) + (1-t) log σ(-f)]. */
static double loss64(const problem *p)
{
    double h[MAXD], L = 0;
    int i, j, k, rows = p->cbow ? 1 : p->n_in;
    for (i = 0; i < rows; i++) {
        const double *xi = p->x + i * p->d;
        if (p->cbow) {
            for (k = 0; k < p->d; k++) {
                h[k] = 0;
                for (j = 0; j < p->n_in; j++) h[k] += p->x[j * p->d + k];
                if (p->mean) h[k] /= p->n_in;
            }
            xi = h;
        }
        for (j = 0; j < p->n_out; j++) {
            double f = 0;
            for (k = 0; k < p->d; k++) f += xi[k] * p->u[j * p->d + k];
            L -= p->w[j] * (p->t[j] * log_sigma(f) + (1 - p->t[j]) * log_sigma(-f));
        }
    }
    return L;
}

/* d loss / d z for every entry z of x (which = 0) or u (which = 1). */
static void gradient(problem *p, int which, double *grad)
{
    double *z = which ? p->u : p->x, h = 1e-6;
    int n = (which ? p->n_out : p->n_in) * p->d, k;
    for (k = 0; k < n; k++) {
        double old = z[k], up, down;
        z[k] = old + h;
        up = loss64(p);
        z[k] = old - h;
        down = loss64(p);
        z[k] = old;
        grad[k] = (up - down) / (2 * h);
    }
}

/* kind: 0 pair update, 1 batch update, 2 CBOW. */
static void finite_differences(const char *set, int kind, int d, int n_in, int n_out, int labelled, int weighted,
                               int mean)
{
    static problem p;
    static float x[MAXN * MAXD], u[MAXN * MAXD], scratch[MAXN * (MAXN + MAXD)];
    static double gx[MAXN * MAXD], gu[MAXN * MAXD];
    float *rows[MAXN], *outs[MAXN], t[MAXN], w[MAXN];
    const float alpha = 0.05f;
    const char *what = kind == 0 ? "pair_update" : kind == 1 ? "batch_update" : "cbow_update";
    double L, got;
    int i, j;
    p.n_in = n_in, p.n_out = n_out, p.d = d, p.cbow = kind == 2, p.mean = mean == SG_CBOW_MEAN;
    fill(x, n_in, d), fill(u, n_out, d);
    if (kind == 2 && mean != SG_CBOW_MEAN)
        for (i = 0; i < n_in * d; i++) x[i] *= 0.5f;
    for (i = 0; i < n_in * d; i++) p.x[i] = x[i];
    for (i = 0; i < n_out * d; i++) p.u[i] = u[i];
    for (j = 0; j < n_out; j++) {
        t[j] = labelled ? (float)((j * 7 + 3) % 3 == 0) : (float)(j == 0);
        w[j] = weighted ? (float)(1 + (j * 5) % 3) : 1.0f;
        p.t[j] = t[j], p.w[j] = w[j];
    }
    for (i = 0; i < n_in; i++) rows[i] = x + i * d;
    for (j = 0; j < n_out; j++) outs[j] = u + j * d;
    L = loss64(&p);
    gradient(&p, 0, gx);
    gradient(&p, 1, gu);
    if (kind == 0)
        got = sg_pair_update(rows[0], outs, labelled ? t : NULL, n_out, alpha, d, scratch, 1);
    else if (kind == 1)
        got = sg_batch_update(rows, n_in, outs, labelled ? t : NULL, w, n_out, alpha, d, scratch, 1);
    else
        got = sg_cbow_update(rows, n_in, mean, outs, labelled ? t : NULL, w, n_out, alpha, d, scratch, 1);
    check(close_to(got, L, 0, 1e-5), set, what, d, -1);
    /* CBOW: every input row receives the whole error, -alpha dL/dh (not
     * divided by the context size): the finite difference w.r.t. one x_i
     * is dL/dh / n_in with the mean, dL/dh with the sum. SG_CBOW_SUM_SPLIT
     * (a sum) divides the error: dL/dh / n_in. */
    for (i = 0; i < n_in * d; i++) {
        double want = kind == 2 && mean == SG_CBOW_MEAN        ? gx[i] * n_in
                      : kind == 2 && mean == SG_CBOW_SUM_SPLIT ? gx[i] / n_in
                                                               : gx[i];
        check(close_to((x[i] - p.x[i]) / -alpha, want, 3e-5, 1e-4), set, what, d, i);
    }
    for (i = 0; i < n_out * d; i++) check(close_to((u[i] - p.u[i]) / -alpha, gu[i], 3e-5, 1e-4), set, what, d, i);
}

/* A row given twice (a noise word drawn twice) is word2vec.c's sequential
 * step: the second use sees the first update. Short lists and long ones
 * (a tree path) find the repeat by different means. */
static void repeated_rows(const char *set)
{
    static const int NS[] = {3, 6, 11, 20, 40};
    static float v[MAXD], u[64 * MAXD], work[MAXD];
    static double rv[MAXD], ru[64 * MAXD], acc[MAXD];
    float *outs[64], lab[64];
    const float alpha = 0.05f;
    int c, i, j, k, d = 37;
    /* Even c: sg_pair_update, which checks every row; odd c: the trainer's
     * call, told that the first n / 2 rows cannot repeat (the repeat is of
     * row n / 2, past them). */
    for (c = 0; c < 10; c++) {
        int n = NS[c / 2];
        fill(v, 1, d), fill(u, n - 1, d);
        for (j = 0; j < n - 1; j++) outs[j] = u + j * d, lab[j] = (float)(j % 3 == 0);
        outs[n - 1] = outs[n / 2], lab[n - 1] = 0.0f;
        for (k = 0; k < d; k++) rv[k] = v[k], acc[k] = 0.0;
        for (k = 0; k < (n - 1) * d; k++) ru[k] = u[k];
        for (j = 0; j < n; j++) {
            double f = 0.0, g, *o = ru + (outs[j] - u);
            for (k = 0; k < d; k++) f += rv[k] * o[k];
            g = (lab[j] - sigma(f)) * alpha;
            for (k = 0; k < d; k++) acc[k] += g * o[k], o[k] += g * rv[k];
        }
        if (c % 2 == 0)
            sg_pair_update(v, outs, lab, n, alpha, d, work, 0);
        else
            sg_pair_update_ahead(v, outs, lab, n, n / 2, alpha, d, work, 0, NULL, 0);
        for (k = 0; k < d; k++) check(close_to(v[k], rv[k] + acc[k], 1e-6, 1e-5), set, "repeated rows v", n, k);
        for (i = 0; i < (n - 1) * d; i++) check(close_to(u[i], ru[i], 1e-6, 1e-5), set, "repeated rows out", n, i);
    }
}

/* The CBOW step that prefetches later rows during its last pass gives the
 * same numbers as the plain step, and leaves the rows ahead as they were
 * (rows long and short, a masked or plain-C tail, each mean mode). */
static void cbow_ahead(const char *set)
{
    static const int DS[] = {5, 37, 100, 300};
    static float x1[4 * MAXD], x2[4 * MAXD], u1[6 * MAXD], u2[6 * MAXD], c[3 * MAXD], ref_c[3 * MAXD];
    static float work[2 * MAXD];
    float *in1[4], *in2[4], *out1[6], *out2[6], *ahead[3];
    int k, i, j, mean;
    for (k = 0; k < 4; k++) {
        int d = DS[k];
        for (mean = 0; mean <= 2; mean++) {
            double l1, l2;
            fill(x1, 4, d), fill(u1, 6, d), fill(c, 3, d);
            memcpy(x2, x1, sizeof(float) * 4 * d), memcpy(u2, u1, sizeof(float) * 6 * d);
            memcpy(ref_c, c, sizeof(float) * 3 * d);
            for (i = 0; i < 4; i++) in1[i] = x1 + i * d, in2[i] = x2 + i * d;
            for (j = 0; j < 6; j++) out1[j] = u1 + j * d, out2[j] = u2 + j * d;
            for (i = 0; i < 3; i++) ahead[i] = c + i * d;
            l1 = sg_cbow_update(in1, 4, mean, out1, NULL, NULL, 6, 0.05f, d, work, 1);
            l2 = sg_cbow_update_ahead(in2, 4, mean, out2, NULL, NULL, 6, 0.05f, d, work, 1, ahead, 3);
            check(l1 == l2, set, "cbow_ahead loss", d, mean);
            check(memcmp(x1, x2, sizeof(float) * 4 * d) == 0, set, "cbow_ahead inputs", d, mean);
            check(memcmp(u1, u2, sizeof(float) * 6 * d) == 0, set, "cbow_ahead outputs", d, mean);
            check(memcmp(c, ref_c, sizeof(float) * 3 * d) == 0, set, "cbow_ahead rows ahead", d, mean);
        }
    }
}

static void gradients(const char *set)
{
    static const int DK[][2] = {{16, 3}, {37, 4}, {100, 5}, {19, 12}};
    int c, labelled;
    for (c = 0; c < 4; c++) {
        int d = DK[c][0], n_out = 1 + DK[c][1];
        for (labelled = 0; labelled <= 1; labelled++) {
            finite_differences(set, 0, d, 1, n_out, labelled, 0, 0);
            finite_differences(set, 1, d, 1 + c % 3 + 2, n_out, labelled, 0, 0);
            finite_differences(set, 1, d, 4, n_out, labelled, 1, 0);
            finite_differences(set, 2, d, 4, n_out, labelled, 1, 1);
            finite_differences(set, 2, d, 4, n_out, labelled, 1, SG_CBOW_SUM_SPLIT);
            finite_differences(set, 2, d, 3, n_out, labelled, 0, 0);
        }
    }
}

/* The CPUID/XGETBV detection (the same code under MSVC) agrees with the
 * compiler's own where there is one. */
static void detection(void)
{
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();
    check(sg_supported("avx2") == (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")), "avx2",
          "CPUID detection", 0, 0);
    check(sg_supported("avx512") == !!__builtin_cpu_supports("avx512f"), "avx512", "CPUID detection", 0, 0);
    check(!sg_supported("neon"), "neon", "not on x86", 0, 0);
#elif defined(__aarch64__)
    check(sg_supported("neon") && !sg_supported("avx2") && !sg_supported("avx512"), "neon", "aarch64 sets", 0, 0);
#endif
    check(sg_select("auto") == 0, "auto", "select auto", 0, 0);
    printf("auto selects %s\n", sg_active_name());
}

int main(void)
{
    const char *set;
    int i, ran = 0;
    detection();
    for (i = 0; (set = sg_kernel_name(i)) != NULL; i++) {
        int before = failed, checks = passed + failed;
        if (!sg_supported(set)) {
            printf("[%s] not run: this build or CPU cannot run it\n", set);
            continue;
        }
        if (sg_select(set) != 0 || strcmp(sg_active_name(), set) != 0) {
            check(0, set, "select", 0, 0);
            continue;
        }
        worked_example(set);
        operations(set);
        gradients(set);
        repeated_rows(set);
        cbow_ahead(set);
        printf("[%s] %d checks, %d failed\n", set, passed + failed - checks, failed - before);
        ran++;
    }
    check(ran >= 2 || (ran == 1 && !sg_supported("avx2") && !sg_supported("neon")), "all", "sets run", ran, 0);
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
