/*
 * tls_pin.c - SPKI SHA-256 pins (see tls_pin.h). Pure functions on mbedtls.
 */
#include "tls_pin.h"

#include <errno.h>
#include <string.h>

#include <mbedtls/base64.h>
#include <mbedtls/ecp.h>
#include <mbedtls/pk.h>
#include <mbedtls/rsa.h>
#include <mbedtls/sha256.h>

int tls_pin_parse(const char *spec, uint8_t pins[][32], int max)
{
    int n = 0;
    const char *p = spec;

    if (!spec)
        return -EINVAL;
    while (*p) {
        const char *end = p + strcspn(p, ";,");
        char b64[64];
        size_t len, olen = 0;

        while (p < end && *p == ' ')
            p++;
        if (!strncmp(p, "sha256//", 8))
            p += 8;
        len = (size_t)(end - p);
        while (len > 0 && p[len - 1] == ' ')
            len--;
        if (n >= max || len == 0 || len >= sizeof(b64))
            return -EINVAL;
        memcpy(b64, p, len);
        b64[len] = '\0';
        if (mbedtls_base64_decode(pins[n], 32, &olen, (const unsigned char *)b64, len) != 0 || olen != 32)
            return -EINVAL;
        n++;
        p = *end ? end + 1 : end;
    }
    return n > 0 ? n : -EINVAL;
}

static int hexlen_ok(const char *s, size_t len)
{
    if (len == 0)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!strchr("0123456789abcdefABCDEF", s[i]))
            return 0;
    return 1;
}

int tls_pin_spki_sha256(const char *opaque, size_t len, uint8_t out[32])
{
    const char *a = opaque, *b;
    size_t la, lb;
    unsigned char der[1200];
    mbedtls_pk_context pk;
    int r = -EINVAL, n;

    if (!opaque || len < 4)
        return -EINVAL;
    la = strnlen(a, len);
    if (la + 1 >= len)
        return -EINVAL;
    b = a + la + 1;
    lb = strnlen(b, len - la - 1);
    if (la + 1 + lb > len || !hexlen_ok(a, la) || !hexlen_ok(b, lb))
        return -EINVAL;
    mbedtls_pk_init(&pk);
    if (la > 200) {                      /* RSA: N is >= 1024 bits, E is short */
        mbedtls_mpi N, E;
        mbedtls_mpi_init(&N);
        mbedtls_mpi_init(&E);
        if (mbedtls_pk_setup(&pk, mbedtls_pk_info_from_type(MBEDTLS_PK_RSA)) == 0 &&
            mbedtls_mpi_read_string(&N, 16, a) == 0 && mbedtls_mpi_read_string(&E, 16, b) == 0 &&
            mbedtls_rsa_import(mbedtls_pk_rsa(pk), &N, NULL, NULL, NULL, &E) == 0 &&
            mbedtls_rsa_complete(mbedtls_pk_rsa(pk)) == 0)
            r = 0;
        mbedtls_mpi_free(&N);
        mbedtls_mpi_free(&E);
    } else {                             /* EC: the curve follows from the coordinate size */
        size_t l = la > lb ? la : lb;
        mbedtls_ecp_group_id g = l <= 64 ? MBEDTLS_ECP_DP_SECP256R1
                               : l <= 96 ? MBEDTLS_ECP_DP_SECP384R1
                               : l <= 132 ? MBEDTLS_ECP_DP_SECP521R1 : MBEDTLS_ECP_DP_NONE;
        mbedtls_ecp_keypair *kp;
        if (g != MBEDTLS_ECP_DP_NONE && mbedtls_pk_setup(&pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)) == 0) {
            kp = mbedtls_pk_ec(pk);
            if (mbedtls_ecp_group_load(&kp->grp, g) == 0 &&
                mbedtls_mpi_read_string(&kp->Q.X, 16, a) == 0 &&
                mbedtls_mpi_read_string(&kp->Q.Y, 16, b) == 0 &&
                mbedtls_mpi_lset(&kp->Q.Z, 1) == 0 &&
                mbedtls_ecp_check_pubkey(&kp->grp, &kp->Q) == 0)
                r = 0;
        }
    }
    if (r == 0) {
        /* mbedtls writes the DER at the end of the buffer. */
        n = mbedtls_pk_write_pubkey_der(&pk, der, sizeof(der));
        if (n <= 0 || mbedtls_sha256_ret(der + sizeof(der) - n, (size_t)n, out, 0) != 0)
            r = -EINVAL;
    }
    mbedtls_pk_free(&pk);
    return r;
}
