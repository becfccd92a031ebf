#ifndef COPENSSL_SHIM_H
#define COPENSSL_SHIM_H

// Only libcrypto is used: JWT signatures (RS256, ES256) are verified with
// OpenSSL's EVP interface, never with hand-written cryptography.
#include <openssl/evp.h>
#include <openssl/err.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/ecdsa.h>
#include <openssl/rand.h>
#include <openssl/crypto.h>

// EVP_PKEY_PUBLIC_KEY is a macro of macros, which Swift does not import.
static const int COPENSSL_PUBLIC_KEY = EVP_PKEY_PUBLIC_KEY;

#endif
