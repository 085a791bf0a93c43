/*
 * test_nn_model.c - .hkm model files and the streaming engine
 * (src/nn_model.c):
 *  - C against the numpy reference: tests/data/nn_tiny.hkm (every layer
 *    type; made by tools/train/make_nn_fixture.py) on the committed input
 *    sequence of tests/data/nn_tiny_io.txt, |C - python| < 1e-4;
 *  - streaming == batch: a dilated causal convolution and a GRU run frame
 *    by frame equal the whole-sequence computation done here directly;
 *    reset restarts; two states on one model do not interfere;
 *  - hostile files are refused with a reason: every truncation, every
 *    single flipped byte (checksum), wrong magic/version, and - with the
 *    checksum recomputed so that validation itself is exercised - absurd
 *    sizes, unknown layer types, kernel 0, chaining mismatches, parameter
 *    count mismatches, trailing data, NaN weights, unterminated text;
 *  - metadata lookup; CRC-32 check value.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_model.h"
#include "test_fixture.h"

#define TINY "tests/data/nn_tiny.hkm"
#define TINY_IO "tests/data/nn_tiny_io.txt"


static void put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

static void fix_crc(uint8_t *buf, size_t len)
{
    put32(buf + 12, nn_crc32(0, buf + 16, len - 16));
}

/* ---- building small models in memory ----------------------------------- */

struct builder {
    uint8_t buf[1 << 16];
    size_t len;
    unsigned layers, n_in, n_out;
};

static void b_start(struct builder *b, unsigned n_in)
{
    memset(b, 0, sizeof(*b));
    b->len = NN_HEADER_SIZE;
    b->n_in = b->n_out = n_in;
}

static float *b_layer(struct builder *b, unsigned type, unsigned n_in, unsigned n_out, unsigned a, unsigned bb,
                      unsigned c, unsigned n_params)
{
    uint32_t h[8] = {type, n_in, n_out, a, bb, c, n_params, 0};
    float *p;

    memcpy(b->buf + b->len, h, sizeof(h));
    b->len += sizeof(h);
    p = (float *) (b->buf + b->len);
    b->len += n_params * sizeof(float);
    b->layers++;
    b->n_out = n_out;
    return p;
}

static void b_finish(struct builder *b)
{
    memcpy(b->buf, NN_MAGIC, 4);
    put32(b->buf + 4, NN_VERSION);
    put32(b->buf + 8, (uint32_t) b->len);
    put32(b->buf + 16, b->layers);
    put32(b->buf + 20, b->n_in);
    put32(b->buf + 24, b->n_out);
    strcpy((char *) b->buf + 32, "test");
    strcpy((char *) b->buf + 48, "built");
    strcpy((char *) b->buf + 96, "threshold=0.7;phrase=hey nova;bad=x1");
    fix_crc(b->buf, b->len);
}

static unsigned rng = 777;
static float frand(void)
{
    rng = rng * 1664525u + 1013904223u;
    return (float) ((rng >> 8) / 16777216.0 * 2.0 - 1.0);
}

/* conv1d 3 -> 4, K = 3, D = 2, then a GRU 4 -> 5 */
static void build_conv_gru(struct builder *b)
{
    float *p;

    b_start(b, 3);
    p = b_layer(b, NN_CONV1D, 3, 4, 3, 2, 1, 4 * 3 * 3 + 4);
    for (int i = 0; i < 4 * 3 * 3 + 4; i++)
        p[i] = frand();
    p = b_layer(b, NN_GRU, 4, 5, 0, 0, 0, 3 * 5 * 4 + 3 * 5 * 5 + 6 * 5);
    for (int i = 0; i < 3 * 5 * 4 + 3 * 5 * 5 + 6 * 5; i++)
        p[i] = frand();
    b_finish(b);
}

static double sig(double x)
{
    return 1.0 / (1.0 + exp(-x));
}

/* ---- tests ----------------------------------------------------------- */

static void test_crc(void **st)
{
    (void) st;
    assert_int_equal(nn_crc32(0, "123456789", 9), 0xCBF43926u);
    assert_int_equal(nn_crc32(nn_crc32(0, "1234", 4), "56789", 5), 0xCBF43926u);
}

static void test_against_python(void **st)
{
    struct nn_model *m;
    struct nn_state *s;
    char err[256];
    FILE *f;
    unsigned T, ni, no;
    double worst = 0;

    (void) st;
    assert_int_equal(nn_model_load(TINY, &m, err, sizeof(err)), 0);
    assert_string_equal(nn_model_kind(m), "test");
    assert_string_equal(nn_model_name(m), "nn_tiny");
    assert_true(fabs(nn_model_meta_double(m, "threshold", -1) - 0.25) < 1e-12);
    f = fopen(TINY_IO, "r");
    assert_non_null(f);
    assert_int_equal(fscanf(f, "%u %u %u", &T, &ni, &no), 3);
    assert_int_equal(ni, nn_model_n_in(m));
    assert_int_equal(no, nn_model_n_out(m));
    assert_true(T >= 32 && ni <= 64 && no <= 16);
    s = nn_state_create(m);
    assert_non_null(s);
    for (int pass = 0; pass < 2; pass++) { /* the second pass after a reset */
        rewind(f);
        assert_int_equal(fscanf(f, "%u %u %u", &T, &ni, &no), 3);
        nn_state_reset(s);
        for (unsigned t = 0; t < T; t++) {
            float x[64], y[16];
            double ref[16];

            for (unsigned i = 0; i < ni; i++)
                assert_int_equal(fscanf(f, "%f", &x[i]), 1);
            for (unsigned i = 0; i < no; i++)
                assert_int_equal(fscanf(f, "%lf", &ref[i]), 1);
            assert_int_equal(nn_step(m, s, x, y), 0);
            for (unsigned i = 0; i < no; i++)
                if (fabs(y[i] - ref[i]) > worst)
                    worst = fabs(y[i] - ref[i]);
        }
    }
    printf("nn_tiny: %u frames, max |C - numpy| = %.2e\n", T, worst);
    assert_true(worst < 1e-4);
    fclose(f);
    nn_state_destroy(s);
    nn_model_free(m);
}

static void test_streaming_equals_batch(void **st)
{
    static struct builder b;
    struct nn_model *m;
    struct nn_state *s1, *s2;
    char err[256];
    enum { T = 40 };
    float x[T][3];
    double conv[T][4], h[5] = {0}, worst = 0;
    const float *W, *bias, *g;

    (void) st;
    build_conv_gru(&b);
    assert_int_equal(nn_model_load_mem(b.buf, b.len, &m, err, sizeof(err)), 0);
    assert_int_equal(nn_model_n_params(m), 4 * 3 * 3 + 4 + 3 * 5 * 4 + 3 * 5 * 5 + 6 * 5);
    for (int t = 0; t < T; t++)
        for (int i = 0; i < 3; i++)
            x[t][i] = 2.0f * frand();
    /* batch: causal dilated convolution over the whole sequence */
    W = (const float *) (b.buf + NN_HEADER_SIZE + NN_LAYER_HEADER_SIZE);
    bias = W + 4 * 3 * 3;
    for (int t = 0; t < T; t++)
        for (int o = 0; o < 4; o++) {
            double acc = bias[o];

            for (int k = 0; k < 3; k++) {
                int src = t - (3 - 1 - k) * 2;

                for (int i = 0; i < 3 && src >= 0; i++)
                    acc += W[(o * 3 + i) * 3 + k] * x[src][i];
            }
            conv[t][o] = acc;
        }
    g = bias + 4 + NN_LAYER_HEADER_SIZE / sizeof(float);
    s1 = nn_state_create(m);
    s2 = nn_state_create(m);
    for (int t = 0; t < T; t++) {
        const float *Wih = g, *Whh = g + 60, *bih = g + 135, *bhh = g + 150;
        double gi[15], gh[15], hn[5];
        float y1[5], y2[5], junk[3] = {9, -9, 9};

        for (int r = 0; r < 15; r++) {
            gi[r] = bih[r];
            gh[r] = bhh[r];
            for (int i = 0; i < 4; i++)
                gi[r] += Wih[r * 4 + i] * conv[t][i];
            for (int i = 0; i < 5; i++)
                gh[r] += Whh[r * 5 + i] * h[i];
        }
        for (int j = 0; j < 5; j++) {
            double rr = sig(gi[j] + gh[j]), z = sig(gi[5 + j] + gh[5 + j]);
            double n = tanh(gi[10 + j] + rr * gh[10 + j]);

            hn[j] = (1 - z) * n + z * h[j];
        }
        memcpy(h, hn, sizeof(h));
        assert_int_equal(nn_step(m, s1, x[t], y1), 0);
        assert_int_equal(nn_step(m, s2, junk, y2), 0); /* another stream in between */
        for (int j = 0; j < 5; j++)
            if (fabs(y1[j] - h[j]) > worst)
                worst = fabs(y1[j] - h[j]);
    }
    printf("conv(K3,D2)+GRU: streaming vs batch max diff %.2e\n", worst);
    assert_true(worst < 1e-5);
    /* reset: the same input gives the same first outputs again */
    {
        float a[5], c[5];
        nn_state_reset(s1);
        nn_state_reset(s2);
        nn_step(m, s1, x[0], a);
        nn_step(m, s2, x[0], c);
        assert_memory_equal(a, c, sizeof(a));
    }
    nn_state_destroy(s1);
    nn_state_destroy(s2);
    nn_model_free(m);
}

static int load_buf(const uint8_t *buf, size_t len, char *err, size_t errlen)
{
    struct nn_model *m = (struct nn_model *) 1;
    int rc = nn_model_load_mem(buf, len, &m, err, errlen);

    if (rc == 0)
        nn_model_free(m);
    else
        assert_null(m);
    return rc;
}

static void expect_refused(uint8_t *buf, size_t len, const char *needle)
{
    char err[256] = "";
    int rc;

    fix_crc(buf, len);
    rc = load_buf(buf, len, err, sizeof(err));
    if (rc != -EINVAL || !strstr(err, needle))
        fail_msg("expected refusal mentioning '%s', got rc %d: %s", needle, rc, err);
}

static void test_corrupt_files(void **st)
{
    size_t len;
    uint8_t *good = fixture_read(TINY, &len), *buf = malloc(len + 64);
    char err[256];
    unsigned refused = 0;
    struct nn_model *m;

    (void) st;
    assert_int_equal(load_buf(good, len, err, sizeof(err)), 0);
    /* every truncation */
    for (size_t n = 0; n < len; n++) {
        err[0] = 0;
        assert_int_equal(load_buf(good, n, err, sizeof(err)), -EINVAL);
        assert_true(strlen(err) > 5);
    }
    /* every single flipped byte */
    for (size_t i = 0; i < len; i++) {
        memcpy(buf, good, len);
        buf[i] ^= 0x40;
        if (load_buf(buf, len, err, sizeof(err)) == -EINVAL)
            refused++;
    }
    assert_int_equal(refused, len);
    memcpy(buf, good, len);
    buf[len - 3] ^= 1;
    assert_int_equal(load_buf(buf, len, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "checksum"));
    memcpy(buf, good, len);
    buf[0] = 'X';
    assert_int_equal(load_buf(buf, len, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "magic"));

    /* structural problems behind a valid checksum */
#define FRESH() memcpy(buf, good, len)
    FRESH(); put32(buf + 4, 2); expect_refused(buf, len, "version");
    FRESH(); put32(buf + 16, 100000); expect_refused(buf, len, "layer count");
    FRESH(); put32(buf + 16, 0); expect_refused(buf, len, "layer count");
    FRESH(); put32(buf + 20, 1u << 30); expect_refused(buf, len, "model sizes");
    FRESH(); put32(buf + 28, 1); expect_refused(buf, len, "flags");
    FRESH(); memset(buf + 32, 'a', NN_KIND_LEN); expect_refused(buf, len, "NUL-terminated");
    FRESH(); buf[50] = 0x07; expect_refused(buf, len, "printable");
    /* first layer (norm, 12 -> 12) header at 256 */
    FRESH(); put32(buf + 256, 99); expect_refused(buf, len, "unknown layer type");
    FRESH(); put32(buf + 256 + 4, 4000000); expect_refused(buf, len, "outside");
    FRESH(); put32(buf + 256 + 24, 25); expect_refused(buf, len, "parameters");
    FRESH(); put32(buf + 256 + 28, 5); expect_refused(buf, len, "reserved");
    FRESH(); put32(buf + 256 + 24, 0xFFFFFFF0u); put32(buf + 256 + 4, 12); expect_refused(buf, len, "parameters");
    {
        float nan = NAN;
        FRESH(); memcpy(buf + 256 + 32 + 8, &nan, 4); expect_refused(buf, len, "not finite");
    }
    /* second layer (conv1d 12 -> 8, K3 D2) follows the 24 norm parameters */
    {
        size_t l2 = 256 + 32 + 24 * 4;
        FRESH(); put32(buf + l2 + 12, 0); expect_refused(buf, len, "kernel");
        FRESH(); put32(buf + l2 + 16, 1000); expect_refused(buf, len, "dilation");
        FRESH(); put32(buf + l2 + 20, 5); expect_refused(buf, len, "groups");
        FRESH(); put32(buf + l2 + 4, 11); expect_refused(buf, len, "conv1d");
    }
    /* output size mismatch, trailing data, size field */
    FRESH(); put32(buf + 24, 4); expect_refused(buf, len, "last layer");
    FRESH(); memset(buf + len, 0, 8); put32(buf + 8, (uint32_t) len + 8);
    fix_crc(buf, len + 8);
    assert_int_equal(load_buf(buf, len + 8, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "trailing"));
    FRESH(); put32(buf + 8, (uint32_t) len + 4); expect_refused(buf, len, "truncated");
#undef FRESH

    /* files */
    assert_int_equal(nn_model_load("tests/data/does-not-exist.hkm", &m, err, sizeof(err)), -ENOENT);
    assert_null(m);
    assert_non_null(strstr(err, "does-not-exist"));
    free(buf);
    free(good);
}

static void test_meta(void **st)
{
    static struct builder b;
    struct nn_model *m;
    char err[128], v[32];

    (void) st;
    build_conv_gru(&b);
    assert_int_equal(nn_model_load_mem(b.buf, b.len, &m, err, sizeof(err)), 0);
    assert_int_equal(nn_model_meta_get(m, "phrase", v, sizeof(v)), 0);
    assert_string_equal(v, "hey nova");
    assert_int_equal(nn_model_meta_get(m, "phrase", v, 4), -ENOSPC);
    assert_int_equal(nn_model_meta_get(m, "phras", v, sizeof(v)), -ENOENT);
    assert_true(nn_model_meta_double(m, "threshold", 0) == 0.7);
    assert_true(nn_model_meta_double(m, "bad", -2) == -2);
    assert_true(nn_model_meta_double(m, "missing", 3) == 3);
    nn_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc),
        cmocka_unit_test(test_against_python),
        cmocka_unit_test(test_streaming_equals_batch),
        cmocka_unit_test(test_corrupt_files),
        cmocka_unit_test(test_meta),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
