/* The few atomic operations the trainer needs: a shared word counter that
 * drives the learning rate, and a stop flag. */
#ifndef SGNS_ATOMICS_H
#define SGNS_ATOMICS_H
#include <stdint.h>

#if defined(_MSC_VER) && !defined(__clang__)
#include <intrin.h>
static __inline int64_t sg_atomic_add(int64_t *p, int64_t v)
{ return _InterlockedExchangeAdd64((volatile __int64 *)p, v) + v; }
static __inline int64_t sg_atomic_load(const int64_t *p)
{ return *(volatile const __int64 *)p; }
static __inline int32_t sg_atomic_load32(const int32_t *p)
{ return *(volatile const long *)p; }
#else
/* Returns the new value. */
static inline int64_t sg_atomic_add(int64_t *p, int64_t v)
{ return __atomic_add_fetch(p, v, __ATOMIC_RELAXED); }
static inline int64_t sg_atomic_load(const int64_t *p)
{ return __atomic_load_n(p, __ATOMIC_RELAXED); }
static inline int32_t sg_atomic_load32(const int32_t *p)
{ return __atomic_load_n(p, __ATOMIC_RELAXED); }
#endif
#endif
