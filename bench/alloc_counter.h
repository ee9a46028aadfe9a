/* Process-wide heap allocation counter for the benchmarks (see alloc_counter.c). */
#pragma once

#ifdef __cplusplus
extern "C" {
#endif

/* Number of malloc/calloc/realloc/memalign-family calls since the process started. */
unsigned long long bench_allocation_count(void);

#ifdef __cplusplus
}
#endif
