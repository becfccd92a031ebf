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
// For the tests only: they forge HS256 tokens keyed with a public key's DER.
#include <openssl/hmac.h>
#include <openssl/x509.h>

// EVP_PKEY_PUBLIC_KEY is a macro of macros, which Swift does not import.
static const int COPENSSL_PUBLIC_KEY = EVP_PKEY_PUBLIC_KEY;

// OSSL_PARAM_BLD keeps the key-name pointers it is given until OSSL_PARAM_BLD_to_param, so names
// must outlive the call: a Swift string literal passed as `const char *` is a temporary.
static const char *const COPENSSL_PARAM_RSA_N = OSSL_PKEY_PARAM_RSA_N;
static const char *const COPENSSL_PARAM_RSA_E = OSSL_PKEY_PARAM_RSA_E;
static const char *const COPENSSL_PARAM_GROUP = OSSL_PKEY_PARAM_GROUP_NAME;
static const char *const COPENSSL_PARAM_PUB = OSSL_PKEY_PARAM_PUB_KEY;
static const char *const COPENSSL_GROUP_P256 = SN_X9_62_prime256v1;

#endif
