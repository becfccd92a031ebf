#ifndef CMONGOC_SHIM_H
#define CMONGOC_SHIM_H

// Swift imports libmongoc through this header rather than <mongoc/mongoc.h>
// directly so the few things Swift cannot call have one audited home.
#include <mongoc/mongoc.h>

// Debian's libbson declares bson_t with 128-byte alignment; Swift cannot lay
// out such a struct, so it imports as OpaquePointer. Only heap documents
// (bson_new / bson_destroy) are used from Swift, never stack bson_t values.

#endif
