/*
 * test_g711.c - G.711 µ-law / A-law: reference values from the standard's
 * tables (segment edges, full scale, the zero codes), exact round trips of
 * all 256 codes, monotonic encoding over every int16 input, error never
 * more than half a step, the buffer functions, and the SNR of a -10 dBFS
 * sine (both laws give about 38 dB there; 35 dB is the floor).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>

#include "g711.h"

/* ---- reference values ------------------------------------------------------------ */

static void test_ulaw_reference(void **state)
{
    (void)state;
    /* silence: +0 is all ones on the wire; -0 (0x7F) decodes to 0 too */
    assert_int_equal(g711_ulaw_encode(0), 0xFF);
    assert_int_equal(g711_ulaw_decode(0xFF), 0);
    assert_int_equal(g711_ulaw_decode(0x7F), 0);
    /* full scale: 8031 at 14-bit = 32124 */
    assert_int_equal(g711_ulaw_encode(32767), 0x80);
    assert_int_equal(g711_ulaw_encode(-32768), 0x00);
    assert_int_equal(g711_ulaw_decode(0x80), 32124);
    assert_int_equal(g711_ulaw_decode(0x00), -32124);
    /* clipping starts above 8158 (14-bit) = 32635 */
    assert_int_equal(g711_ulaw_encode(32635), 0x80);
    assert_int_equal(g711_ulaw_encode(30000), 0x82);     /* nearest level 30076 */
    /* segment 0: outputs 0, 2, .., 30 (14-bit), decision levels 1, 3, .. */
    assert_int_equal(g711_ulaw_decode(0xFE), 8);
    assert_int_equal(g711_ulaw_decode(0xF0), 120);
    assert_int_equal(g711_ulaw_encode(3), 0xFF);
    assert_int_equal(g711_ulaw_encode(4), 0xFE);
    assert_int_equal(g711_ulaw_encode(-4), 0x7E);
    /* segment 1 starts at decision level 31 (124) with output 33 (132) */
    assert_int_equal(g711_ulaw_encode(123), 0xF0);
    assert_int_equal(g711_ulaw_encode(124), 0xEF);
    assert_int_equal(g711_ulaw_decode(0xEF), 132);
    assert_int_equal(g711_ulaw_decode(0x6F), -132);
    /* segment 7 starts at decision level 4063 (16252) with output 4191 (16764) */
    assert_int_equal(g711_ulaw_decode(0x8F), 16764);
    assert_int_equal(g711_ulaw_encode(16252), 0x8F);
    assert_int_equal(g711_ulaw_encode(16251), 0x90);
}

static void test_alaw_reference(void **state)
{
    (void)state;
    /* no zero level: +8 / -8 (1 at 13-bit), codes 0xD5 / 0x55 */
    assert_int_equal(g711_alaw_encode(0), 0xD5);
    assert_int_equal(g711_alaw_decode(0xD5), 8);
    assert_int_equal(g711_alaw_encode(-1), 0x55);
    assert_int_equal(g711_alaw_decode(0x55), -8);
    /* full scale: 4032 at 13-bit = 32256 */
    assert_int_equal(g711_alaw_encode(32767), 0xAA);
    assert_int_equal(g711_alaw_encode(-32768), 0x2A);
    assert_int_equal(g711_alaw_decode(0xAA), 32256);
    assert_int_equal(g711_alaw_decode(0x2A), -32256);
    /* segments 0 and 1 are one linear piece, steps of 2 (16 at our scale) */
    assert_int_equal(g711_alaw_decode(0xD4), 24);
    assert_int_equal(g711_alaw_encode(15), 0xD5);
    assert_int_equal(g711_alaw_encode(16), 0xD4);
    assert_int_equal(g711_alaw_decode((0x80 | 0x10) ^ 0x55), 264);   /* 33 */
    assert_int_equal(g711_alaw_encode(256), (0x80 | 0x10) ^ 0x55);
    /* segment 7 starts at 2048 (16384) with output 2112 (16896) */
    assert_int_equal(g711_alaw_decode((0x80 | 0x70) ^ 0x55), 16896);
    assert_int_equal(g711_alaw_encode(16384), (0x80 | 0x70) ^ 0x55);
    assert_int_equal(g711_alaw_encode(16383), (0x80 | 0x6F) ^ 0x55);
    /* negative values mirror x -> -x - 1 */
    for (int x = 0; x <= 32767; x += 7)
        assert_int_equal(g711_alaw_encode((int16_t)x) ^ 0x80, g711_alaw_encode((int16_t)(-x - 1)));
}

/* ---- all codes, all inputs ------------------------------------------------------- */

static void test_roundtrip_all_codes(void **state)
{
    (void)state;
    for (int c = 0; c < 256; c++) {
        int16_t u = g711_ulaw_decode((uint8_t)c), a = g711_alaw_decode((uint8_t)c);
        assert_int_equal(g711_ulaw_decode(g711_ulaw_encode(u)), u);
        assert_int_equal(g711_alaw_decode(g711_alaw_encode(a)), a);
        /* every code is its own encoding, but for µ-law's -0 */
        if (c != 0x7F)
            assert_int_equal(g711_ulaw_encode(u), c);
        assert_int_equal(g711_alaw_encode(a), c);
        /* on the grid of the standard: multiples of 4 (µ) and 8 (A) */
        assert_int_equal(u % 4, 0);
        assert_int_equal(a % 8, 0);
        /* sign symmetry of the code space */
        assert_int_equal(g711_ulaw_decode((uint8_t)(c ^ 0x80)), -u);
        assert_int_equal(g711_alaw_decode((uint8_t)(c ^ 0x80)), -a);
    }
}

/* decode(encode(x)) is non-decreasing in x and within half a step of x. */
static void check_law(uint8_t (*enc)(int16_t), int16_t (*dec)(uint8_t), int max_out, int shift)
{
    int prev = -32769;
    int distinct = 0;

    for (int x = -32768; x <= 32767; x++) {
        int y = dec(enc((int16_t)x));
        int clipped = x > max_out ? max_out : x < -max_out ? -max_out : x;
        int seg = enc((int16_t)x);
        int step;

        assert_true(y >= prev);
        if (y != prev)
            distinct++;
        prev = y;
        /* the step size of x's segment, at our scale; error <= one step */
        seg = shift == 2 ? ((uint8_t)~seg >> 4) & 7 : ((seg ^ 0x55) >> 4) & 7;
        step = shift == 2 ? 8 << seg : (seg == 0 ? 16 : 8 << seg);
        if (abs(y - clipped) > step)
            fail_msg("x=%d decoded %d, step %d", x, y, step);
    }
    /* µ-law: 255 levels (two codes for 0); A-law: 256 */
    assert_int_equal(distinct, shift == 2 ? 255 : 256);
}

static void test_monotonic_ulaw(void **state)
{
    (void)state;
    check_law(g711_ulaw_encode, g711_ulaw_decode, 32124, 2);
}

static void test_monotonic_alaw(void **state)
{
    (void)state;
    check_law(g711_alaw_encode, g711_alaw_decode, 32256, 3);
}

static void test_buffers(void **state)
{
    int16_t in[1000], out[1000];
    uint8_t codes[1000];
    uint32_t x = 12345;

    (void)state;
    for (size_t i = 0; i < 1000; i++) {
        x = x * 1664525u + 1013904223u;
        in[i] = (int16_t)(x >> 16);
    }
    g711_encode(G711_ULAW, codes, in, 1000);
    g711_decode(G711_ULAW, out, codes, 1000);
    for (size_t i = 0; i < 1000; i++) {
        assert_int_equal(codes[i], g711_ulaw_encode(in[i]));
        assert_int_equal(out[i], g711_ulaw_decode(codes[i]));
    }
    g711_encode(G711_ALAW, codes, in, 1000);
    g711_decode(G711_ALAW, out, codes, 1000);
    for (size_t i = 0; i < 1000; i++) {
        assert_int_equal(codes[i], g711_alaw_encode(in[i]));
        assert_int_equal(out[i], g711_alaw_decode(codes[i]));
    }
    g711_encode(G711_ALAW, codes, in, 0);   /* n = 0 touches nothing */
}

/* ---- quality ----------------------------------------------------------------------- */

static double sine_snr_db(enum g711_law law, double dbfs)
{
    enum { N = 8000 };
    static int16_t in[N], out[N];
    static uint8_t codes[N];
    double amp = 32767.0 * pow(10.0, dbfs / 20.0), sig = 0, err = 0;

    for (int i = 0; i < N; i++)   /* 1013 Hz at 8 kHz: walks through many codes */
        in[i] = (int16_t)lrint(amp * sin(2 * M_PI * 1013.0 * i / 8000.0));
    g711_encode(law, codes, in, N);
    g711_decode(law, out, codes, N);
    for (int i = 0; i < N; i++) {
        double d = (double)out[i] - in[i];
        sig += (double)in[i] * in[i];
        err += d * d;
    }
    return 10 * log10(sig / err);
}

static void test_snr(void **state)
{
    double u = sine_snr_db(G711_ULAW, -10), a = sine_snr_db(G711_ALAW, -10);

    (void)state;
    print_message("SNR at -10 dBFS: u-law %.1f dB, A-law %.1f dB\n", u, a);
    assert_true(u > 35);
    assert_true(a > 35);
    /* the log law keeps it roughly level 30 dB lower (linear 8-bit would lose 30 dB) */
    assert_true(sine_snr_db(G711_ULAW, -40) > 30);
    assert_true(sine_snr_db(G711_ALAW, -40) > 30);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ulaw_reference),
        cmocka_unit_test(test_alaw_reference),
        cmocka_unit_test(test_roundtrip_all_codes),
        cmocka_unit_test(test_monotonic_ulaw),
        cmocka_unit_test(test_monotonic_alaw),
        cmocka_unit_test(test_buffers),
        cmocka_unit_test(test_snr),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
