/*
 * test_channel_map.c - integer PCM <-> float conversion with the board's
 * channel map: order, the zero-filled reference slot, S32, clipping.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "pcm_convert.h"

static void test_s16_map_reorders(void **state)
{
    (void)state;
    /* 3 frames x 5 ALSA channels; value = 1000*channel + frame */
    int16_t in[3 * 5];
    float out[3 * 5];
    const int map[5] = { 3, 1, 0, 2, 4 };   /* mic0<-ch3, mic1<-ch1, mic2<-ch0, mic3<-ch2, ref<-ch4 */

    for (int f = 0; f < 3; f++)
        for (int c = 0; c < 5; c++)
            in[f * 5 + c] = (int16_t)(1000 * c + f);
    pcm_to_float_mapped(in, SAMPLE_S16_LE, 5, map, 5, out, 3);
    for (int f = 0; f < 3; f++)
        for (int k = 0; k < 5; k++)
            assert_float_equal(out[f * 5 + k], (1000.0 * map[k] + f) / 32768.0, 1e-9);
}

static void test_missing_ref_is_zero(void **state)
{
    (void)state;
    int16_t in[2 * 4] = { 100, 200, 300, 400, -100, -200, -300, -400 };
    float out[2 * 5];
    const int map[5] = { 0, 1, 2, 3, -1 };

    for (int i = 0; i < 10; i++)
        out[i] = 99.0f;
    pcm_to_float_mapped(in, SAMPLE_S16_LE, 4, map, 5, out, 2);
    assert_float_equal(out[4], 0.0, 0);
    assert_float_equal(out[9], 0.0, 0);
    assert_float_equal(out[5], -100 / 32768.0, 1e-9);
}

static void test_s32_scale(void **state)
{
    (void)state;
    int32_t in[2] = { INT32_MIN, 1 << 30 };
    float out[2];
    const int map[1] = { 0 };

    pcm_to_float_mapped(in, SAMPLE_S32_LE, 1, map, 1, out, 2);
    assert_float_equal(out[0], -1.0, 0);
    assert_float_equal(out[1], 0.5, 0);
}

static void test_s16_round_trip_exact(void **state)
{
    (void)state;
    int16_t in[65536 / 64], back[65536 / 64];
    float f[65536 / 64];
    const int map[1] = { 0 };

    for (int i = 0; i < 1024; i++)
        in[i] = (int16_t)(-32768 + i * 64);
    pcm_to_float_mapped(in, SAMPLE_S16_LE, 1, map, 1, f, 1024);
    assert_int_equal(pcm_from_float_mono(f, 1024, back, SAMPLE_S16_LE, 1), 0);
    assert_memory_equal(in, back, sizeof(in));
}

static void test_playback_fans_out_and_clips(void **state)
{
    (void)state;
    const float in[3] = { 0.5f, 1.5f, -2.0f };
    int16_t out[3 * 2];
    int32_t out32[3];

    assert_int_equal(pcm_from_float_mono(in, 3, out, SAMPLE_S16_LE, 2), 2);
    assert_int_equal(out[0], 16384);
    assert_int_equal(out[1], 16384);
    assert_int_equal(out[2], 32767);
    assert_int_equal(out[4], -32768);
    assert_int_equal(out[5], -32768);
    assert_int_equal(pcm_from_float_mono(in, 3, out32, SAMPLE_S32_LE, 1), 2);
    assert_int_equal(out32[1], INT32_MAX);
    assert_int_equal(out32[2], INT32_MIN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_s16_map_reorders),
        cmocka_unit_test(test_missing_ref_is_zero),
        cmocka_unit_test(test_s32_scale),
        cmocka_unit_test(test_s16_round_trip_exact),
        cmocka_unit_test(test_playback_fans_out_and_clips),
    };
    return cmocka_run_group_tests_name("channel_map", tests, NULL, NULL);
}
