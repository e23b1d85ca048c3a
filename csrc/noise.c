#include <stdlib.h>
#include <math.h>
#include "noise.h"

int sg_alias_build(const double *p, int32_t n, sg_alias_entry *table)
{
    double sum = 0.0, *scaled;
    int32_t *small, *large, ns = 0, nl = 0, i;
    if (n <= 0) return -1;
    for (i = 0; i < n; i++) {
        if (!(p[i] >= 0.0) || isinf(p[i])) return -1;
        sum += p[i];
    }
    if (!(sum > 0.0)) return -1;
    scaled = (double *)malloc(sizeof(double) * (size_t)n);
    small = (int32_t *)malloc(sizeof(int32_t) * (size_t)n);
    large = (int32_t *)malloc(sizeof(int32_t) * (size_t)n);
    if (!scaled || !small || !large) {
        free(scaled); free(small); free(large);
        return -1;
    }
    for (i = 0; i < n; i++) {
        scaled[i] = p[i] * (double)n / sum;
        if (scaled[i] < 1.0) small[ns++] = i; else large[nl++] = i;
    }
    while (ns > 0 && nl > 0) {
        int32_t s = small[--ns], l = large[--nl];
        table[s].threshold = (uint32_t)fmin(4294967295.0, floor(scaled[s] * 4294967296.0));
        table[s].alias = l;
        scaled[l] = (scaled[l] + scaled[s]) - 1.0;
        if (scaled[l] < 1.0) small[ns++] = l; else large[nl++] = l;
    }
    /* Left-overs have probability 1 up to rounding. */
    while (nl > 0) { i = large[--nl]; table[i].threshold = 0xFFFFFFFFu; table[i].alias = i; }
    while (ns > 0) { i = small[--ns]; table[i].threshold = 0xFFFFFFFFu; table[i].alias = i; }
    free(scaled); free(small); free(large);
    return 0;
}
