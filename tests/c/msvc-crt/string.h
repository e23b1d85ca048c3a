/* Stands in for the MSVC C runtime's header in scripts/check_kernels.sh's
 * syntax check of the MSVC code paths with clang (no MSVC here). */
#pragma once
typedef unsigned long long size_t;
#define NULL ((void *)0)
void *memset(void *, int, size_t);
void *memcpy(void *, const void *, size_t);
int strcmp(const char *, const char *);
