/*
 * test_tls_pin.c - SPKI pins: parsing, and the SHA-256 of the DER public key
 * rebuilt from libwebsockets' "opaque" key form (hex N,E or X,Y), checked
 * against keys generated here and written as DER by mbedtls directly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <errno.h>

#include <cmocka.h>
#include <mbedtls/base64.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>
#include <mbedtls/rsa.h>
#include <mbedtls/sha256.h>

#include "tls_pin.h"

static mbedtls_ctr_drbg_context drbg;
static mbedtls_entropy_context entropy;

static int setup(void **state)
{
    (void)state;
    mbedtls_entropy_init(&entropy);
    mbedtls_ctr_drbg_init(&drbg);
    return mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, (const unsigned char *)"pin", 3);
}

static int teardown(void **state)
{
    (void)state;
    mbedtls_ctr_drbg_free(&drbg);
    mbedtls_entropy_free(&entropy);
    return 0;
}

/* The reference: SHA-256 of mbedtls' own SPKI DER of the key. */
static void ref_pin(mbedtls_pk_context *pk, uint8_t out[32])
{
    unsigned char der[1200];
    int n = mbedtls_pk_write_pubkey_der(pk, der, sizeof(der));
    assert_true(n > 0);
    assert_int_equal(mbedtls_sha256_ret(der + sizeof(der) - n, (size_t)n, out, 0), 0);
}

/* The opaque form lws' mbedtls backend produces: hex a, NUL, hex b, NUL. */
static size_t opaque(const mbedtls_mpi *a, const mbedtls_mpi *b, char *buf, size_t cap)
{
    size_t u1 = 0, u2 = 0;
    assert_int_equal(mbedtls_mpi_write_string(a, 16, buf, cap, &u1), 0);
    assert_int_equal(mbedtls_mpi_write_string(b, 16, buf + u1, cap - u1, &u2), 0);
    return u1 + u2;
}

static void test_ec_keys_match_their_der_pin(void **state)
{
    static const mbedtls_ecp_group_id curves[] = { MBEDTLS_ECP_DP_SECP256R1, MBEDTLS_ECP_DP_SECP384R1,
                                                   MBEDTLS_ECP_DP_SECP521R1 };
    (void)state;
    for (unsigned k = 0; k < 3; k++)
        for (int rep = 0; rep < 4; rep++) {
            mbedtls_pk_context pk;
            uint8_t want[32], got[32];
            char buf[600];
            size_t len;

            mbedtls_pk_init(&pk);
            assert_int_equal(mbedtls_pk_setup(&pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)), 0);
            assert_int_equal(mbedtls_ecp_gen_key(curves[k], mbedtls_pk_ec(pk), mbedtls_ctr_drbg_random, &drbg), 0);
            ref_pin(&pk, want);
            len = opaque(&mbedtls_pk_ec(pk)->Q.X, &mbedtls_pk_ec(pk)->Q.Y, buf, sizeof(buf));
            assert_int_equal(tls_pin_spki_sha256(buf, len, got), 0);
            assert_memory_equal(got, want, 32);
            /* A different point gives a different pin, or is refused. */
            buf[2] = buf[2] == '1' ? '2' : '1';
            if (tls_pin_spki_sha256(buf, len, got) == 0)
                assert_memory_not_equal(got, want, 32);
            mbedtls_pk_free(&pk);
        }
}

static void test_rsa_key_matches_its_der_pin(void **state)
{
    mbedtls_pk_context pk;
    mbedtls_mpi N, E;
    uint8_t want[32], got[32];
    char buf[1200];
    size_t len;

    (void)state;
    mbedtls_pk_init(&pk);
    mbedtls_mpi_init(&N);
    mbedtls_mpi_init(&E);
    assert_int_equal(mbedtls_pk_setup(&pk, mbedtls_pk_info_from_type(MBEDTLS_PK_RSA)), 0);
    assert_int_equal(mbedtls_rsa_gen_key(mbedtls_pk_rsa(pk), mbedtls_ctr_drbg_random, &drbg, 1024, 65537), 0);
    ref_pin(&pk, want);
    assert_int_equal(mbedtls_rsa_export(mbedtls_pk_rsa(pk), &N, NULL, NULL, NULL, &E), 0);
    len = opaque(&N, &E, buf, sizeof(buf));
    assert_int_equal(tls_pin_spki_sha256(buf, len, got), 0);
    assert_memory_equal(got, want, 32);
    mbedtls_mpi_free(&N);
    mbedtls_mpi_free(&E);
    mbedtls_pk_free(&pk);
}

static void test_garbage_opaque_is_refused(void **state)
{
    uint8_t out[32];
    (void)state;
    assert_int_not_equal(tls_pin_spki_sha256("", 0, out), 0);
    assert_int_not_equal(tls_pin_spki_sha256("abc", 3, out), 0);                 /* one number only */
    assert_int_not_equal(tls_pin_spki_sha256("12\0zz", 6, out), 0);              /* not hex */
    assert_int_not_equal(tls_pin_spki_sha256("1\0" "2", 4, out), 0);            /* not on any curve */
    assert_int_not_equal(tls_pin_spki_sha256(NULL, 10, out), 0);
}

static void test_pin_lists_parse(void **state)
{
    uint8_t pins[TLS_PIN_MAX][32], raw[32];
    unsigned char b64[64];
    char spec[400];
    size_t olen;

    (void)state;
    for (int i = 0; i < 32; i++)
        raw[i] = (uint8_t)(i * 7 + 1);
    assert_int_equal(mbedtls_base64_encode(b64, sizeof(b64), &olen, raw, 32), 0);
    snprintf(spec, sizeof(spec), "sha256//%s", b64);
    assert_int_equal(tls_pin_parse(spec, pins, TLS_PIN_MAX), 1);
    assert_memory_equal(pins[0], raw, 32);
    snprintf(spec, sizeof(spec), "%s; sha256//%s ,%s", b64, b64, b64);
    assert_int_equal(tls_pin_parse(spec, pins, TLS_PIN_MAX), 3);
    assert_memory_equal(pins[2], raw, 32);
    assert_int_equal(tls_pin_parse("sha256//abc", pins, TLS_PIN_MAX), -EINVAL);      /* not 32 bytes */
    assert_int_equal(tls_pin_parse("", pins, TLS_PIN_MAX), -EINVAL);
    assert_int_equal(tls_pin_parse("sha256//!!!!", pins, TLS_PIN_MAX), -EINVAL);
    snprintf(spec, sizeof(spec), "%s;%s;%s;%s;%s", b64, b64, b64, b64, b64);
    assert_int_equal(tls_pin_parse(spec, pins, TLS_PIN_MAX), -EINVAL);              /* too many */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ec_keys_match_their_der_pin),
        cmocka_unit_test(test_rsa_key_matches_its_der_pin),
        cmocka_unit_test(test_garbage_opaque_is_refused),
        cmocka_unit_test(test_pin_lists_parse),
    };
    return cmocka_run_group_tests_name("tls_pin", tests, setup, teardown);
}
