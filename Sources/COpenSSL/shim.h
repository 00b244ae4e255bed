// One-line static-inline wrappers for OpenSSL macros that Swift cannot call. Each carries the `eduvault_` prefix.
#ifndef EDUVAULT_COPENSSL_SHIM_H
#define EDUVAULT_COPENSSL_SHIM_H

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <openssl/core_names.h>
#include <openssl/params.h>

// BN_num_bytes is a macro.
static inline int eduvault_BN_num_bytes(const BIGNUM *a) { return BN_num_bytes(a); }
// OPENSSL_free is a macro that passes __FILE__/__LINE__.
static inline void eduvault_OPENSSL_free(void *p) { OPENSSL_free(p); }
// BN_one is a macro over BN_set_word.
static inline int eduvault_BN_one(BIGNUM *a) { return BN_one(a); }
// EVP_MD_CTX_size / EVP_PKEY_get_size style helpers are functions already; EVP_CIPHER_CTX_ctrl needs a void* adapter.
static inline int eduvault_gcm_set_tag(EVP_CIPHER_CTX *ctx, int len, unsigned char *tag) {
    return EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, len, (void *)tag);
}
static inline int eduvault_gcm_get_tag(EVP_CIPHER_CTX *ctx, int len, unsigned char *tag) {
    return EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, len, (void *)tag);
}

#endif
