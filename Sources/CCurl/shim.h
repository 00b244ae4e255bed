// libcurl for every client request (`--server`): FoundationNetworking's URLSession cannot be told a CA file
// (`--ca-cert`) and spins the CPU while it waits for a slow server. curl_easy_setopt and curl_easy_getinfo are
// variadic, which Swift cannot call: one typed wrapper per argument kind.
#ifndef ECURL_SHIM_H
#define ECURL_SHIM_H
#include <curl/curl.h>

static inline CURLcode ecurl_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode ecurl_setopt_pointer(CURL *handle, CURLoption option, const void *value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode ecurl_setopt_offset(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}
typedef size_t (*ecurl_write_callback)(char *data, size_t size, size_t count, void *context);
static inline CURLcode ecurl_setopt_write(CURL *handle, CURLoption option, ecurl_write_callback callback) {
    return curl_easy_setopt(handle, option, callback);
}
static inline CURLcode ecurl_response_code(CURL *handle, long *code) {
    return curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, code);
}
static inline CURLcode ecurl_getinfo_double(CURL *handle, CURLINFO info, double *value) {
    return curl_easy_getinfo(handle, info, value);
}
#endif
