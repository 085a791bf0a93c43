/*
 * b64.h - base64 (RFC 4648 standard alphabet, '=' padded, no line breaks)
 * for audio payloads of the realtime protocol, on top of mbedtls.
 *
 * Everything writes into caller buffers; nothing allocates, blocks or logs,
 * so these may be called from any thread (the realtime code calls them from
 * the network thread, in the audio-append hot path).
 *
 * Decoding is strict: the input length must be a multiple of 4, only the
 * alphabet A-Z a-z 0-9 + / is allowed, and '=' only as one or two final
 * padding characters. Whitespace, line breaks and the URL-safe alphabet are
 * rejected (mbedtls alone would accept PEM-style whitespace).
 */
#ifndef HARK_B64_H
#define HARK_B64_H

#include <stddef.h>

/* Characters needed to encode n bytes, without the NUL terminator
 * (4 * ceil(n / 3)). Saturates at SIZE_MAX for absurd n. */
size_t b64_encoded_len(size_t n);

/* Upper bound of the bytes that n base64 characters decode to
 * (3 * ceil(n / 4)); the exact figure is up to 2 less (padding). */
size_t b64_decoded_max(size_t n);

/* Encode n bytes of src into dst as a NUL-terminated string. cap must be at
 * least b64_encoded_len(n) + 1. Returns the characters written (without the
 * NUL), -ENOSPC when cap is too small (dst untouched), -EINVAL on NULL
 * pointers or a result longer than INT_MAX. */
int b64_encode(char *dst, size_t cap, const void *src, size_t n);

/* Decode n characters of src (no NUL needed) into dst. Returns the bytes
 * written, -EINVAL on malformed input (see above) or NULL pointers, -ENOSPC
 * when the decoded data does not fit cap (b64_decoded_max(n) always fits).
 * On error dst contents are unspecified. */
int b64_decode(void *dst, size_t cap, const char *src, size_t n);

#endif
