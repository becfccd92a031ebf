#ifndef CMONGOC_SHIM_H
#define CMONGOC_SHIM_H

// Swift imports libmongoc through this header rather than <mongoc/mongoc.h>
// directly so the few things Swift cannot call have one audited home.
#include <mongoc/mongoc.h>

// Debian's libbson declares bson_t with 128-byte alignment; Swift cannot lay
// out such a struct, so it imports as OpaquePointer. Only heap documents
// (bson_new / bson_destroy) are used from Swift, never stack bson_t values.
//
// Two places still need caller-provided storage: libmongoc's "reply" out
// parameters (they bson_init the bson_t they are given) and bson_iter_t,
// which carries the same 128-byte alignment. Swift allocates that storage on
// the heap with the alignment below, sized by these functions, since Swift
// cannot take sizeof of a type it does not import.
static inline size_t cmongoc_bson_size(void) { return sizeof(bson_t); }
static inline size_t cmongoc_iter_size(void) { return sizeof(bson_iter_t); }
static inline size_t cmongoc_storage_alignment(void) { return 128; }

#endif
