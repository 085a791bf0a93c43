/*
 * b64.c - strict base64 over mbedtls (see b64.h).
 *
 * mbedtls does the conversion (constant-time table lookups); this file adds
 * the size arithmetic, a strict syntax check in front of the decoder and the
 * -errno mapping.
 */
#include "b64.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include <mbedtls/base64.h>

size_t b64_encoded_len(size_t n)
{
    size_t groups = n / 3 + (n % 3 != 0);

    if (groups > SIZE_MAX / 4)
        return SIZE_MAX;
    return groups * 4;
}

size_t b64_decoded_max(size_t n)
{
    return (n / 4 + (n % 4 != 0)) * 3;   /* never overflows: 3/4 of n, rounded up */
}

int b64_encode(char *dst, size_t cap, const void *src, size_t n)
{
    size_t need = b64_encoded_len(n), olen = 0;

    if (!dst || (!src && n))
        return -EINVAL;
    if (need > INT_MAX)
        return -EINVAL;
    if (cap < need + 1)
        return -ENOSPC;
    if (n == 0) {                 /* mbedtls writes nothing, not even the NUL */
        dst[0] = '\0';
        return 0;
    }
    if (mbedtls_base64_encode((unsigned char *)dst, cap, &olen, src, n) != 0 || olen != need)
        return -ENOSPC;           /* not reached: cap was checked above */
    return (int)olen;
}

static bool b64_char_ok(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '+' || c == '/';
}

/* Syntax check mbedtls does not do: no whitespace, length a multiple of 4,
 * '=' only as the last one or two characters. */
static bool b64_syntax_ok(const char *src, size_t n)
{
    size_t body = n;

    if (n % 4 != 0)
        return false;
    if (n == 0)
        return true;
    if (src[n - 1] == '=') {
        body = n - 1;
        if (src[n - 2] == '=')
            body = n - 2;
    }
    for (size_t i = 0; i < body; i++)
        if (!b64_char_ok((unsigned char)src[i]))
            return false;
    return true;
}

int b64_decode(void *dst, size_t cap, const char *src, size_t n)
{
    size_t olen = 0;
    int r;

    if ((!src && n) || (!dst && cap))
        return -EINVAL;
    if (n == 0)
        return 0;
    if (!b64_syntax_ok(src, n))
        return -EINVAL;
    if (b64_decoded_max(n) > INT_MAX)
        return -EINVAL;
    if (!dst)
        return -ENOSPC;
    r = mbedtls_base64_decode(dst, cap, &olen, (const unsigned char *)src, n);
    if (r == MBEDTLS_ERR_BASE64_BUFFER_TOO_SMALL)
        return -ENOSPC;
    if (r != 0)
        return -EINVAL;
    return (int)olen;
}
