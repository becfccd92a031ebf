// glibc's heap statistics; Swift's Glibc module does not export <malloc.h>.
#include <malloc.h>
#include <stddef.h>

/// Bytes allocated with malloc and still in use (arena chunks plus mmapped blocks).
static inline size_t cmalloc_heap_in_use(void) {
    struct mallinfo2 info = mallinfo2();
    return info.uordblks + info.hblkhd;
}

/// Returns freed heap pages to the system (glibc keeps them resident otherwise).
static inline void cmalloc_trim(void) {
    malloc_trim(0);
}
