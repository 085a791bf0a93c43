/*
 * test_fixture.h - reading the committed test fixtures (tests/data/) in the
 * unit tests: a whole file as bytes, and a raw s16le file as float samples.
 * Any failure (missing file, short read, no memory) fails the calling test
 * through cmocka's assertions.
 *
 * Header-only (static inline) so each test binary stays one source file;
 * include it after <cmocka.h>.
 */
#ifndef HARK_TEST_FIXTURE_H
#define HARK_TEST_FIXTURE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* The whole file; *len = its size. The caller frees the buffer. */
static inline uint8_t *fixture_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf;
    long n;

    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    assert_true(n > 0);
    assert_int_equal(fseek(f, 0, SEEK_SET), 0);
    buf = malloc((size_t) n);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t) n, f), (size_t) n);
    fclose(f);
    *len = (size_t) n;
    return buf;
}

/* A raw s16le file as floats in [-1, 1), after pad zero samples;
 * *n = pad + the file's samples. The caller frees the buffer. */
static inline float *fixture_s16(const char *path, size_t pad, size_t *n)
{
    size_t len, samples;
    uint8_t *raw = fixture_read(path, &len);
    float *x;

    samples = len / 2;
    x = calloc(pad + samples, sizeof(*x));
    assert_non_null(x);
    for (size_t i = 0; i < samples; i++)
        x[pad + i] = (float) (int16_t) (raw[2 * i] | (raw[2 * i + 1] << 8)) / 32768.0f;
    free(raw);
    *n = pad + samples;
    return x;
}

#endif
