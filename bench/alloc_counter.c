/* Counts heap allocations made anywhere in the process: the bench binary's own code, libstdc++
 * (operator new ends in malloc), OpenSSL, libsrtp2 and NSS. The executable's definitions of the
 * malloc family interpose on glibc's for every shared library (the executable comes first in the
 * symbol lookup scope), and forward to glibc's exported __libc_* entry points, so the allocator
 * itself is unchanged. Only allocation calls are counted; frees just forward. */
#include "alloc_counter.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

extern void* __libc_malloc(size_t size);
extern void* __libc_calloc(size_t count, size_t size);
extern void* __libc_realloc(void* pointer, size_t size);
extern void* __libc_memalign(size_t alignment, size_t size);
extern void __libc_free(void* pointer);

static unsigned long long allocations;

static void count(void) { __atomic_fetch_add(&allocations, 1, __ATOMIC_RELAXED); }

unsigned long long bench_allocation_count(void) {
  return __atomic_load_n(&allocations, __ATOMIC_RELAXED);
}

void* malloc(size_t size) {
  count();
  return __libc_malloc(size);
}

void* calloc(size_t count_, size_t size) {
  count();
  return __libc_calloc(count_, size);
}

void* realloc(void* pointer, size_t size) {
  count();
  return __libc_realloc(pointer, size);
}

void free(void* pointer) { __libc_free(pointer); }

void* memalign(size_t alignment, size_t size);
void* memalign(size_t alignment, size_t size) {
  count();
  return __libc_memalign(alignment, size);
}

void* aligned_alloc(size_t alignment, size_t size) {
  count();
  return __libc_memalign(alignment, size);
}

int posix_memalign(void** result, size_t alignment, size_t size) {
  /* POSIX: a power of two multiple of sizeof(void*). */
  if (alignment % sizeof(void*) != 0 || (alignment & (alignment - 1)) != 0) return EINVAL;
  count();
  void* pointer = __libc_memalign(alignment, size);
  if (pointer == NULL && size != 0) return ENOMEM;
  *result = pointer;
  return 0;
}
