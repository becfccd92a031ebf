#ifndef CCRYPTOBENCH_SHIM_H
#define CCRYPTOBENCH_SHIM_H
// The Hummingbird reference server checks API keys as the api does: SHA-256 with libcrypto,
// compared with CRYPTO_memcmp.
#include <openssl/evp.h>
#include <openssl/crypto.h>
#endif
