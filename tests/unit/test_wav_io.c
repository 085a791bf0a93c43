/*
 * test_wav_io.c - cmocka unit tests for drivers/wav_io (the libsndfile WAV
 * backend of the offline tools). Single-threaded; every file lives in a
 * mkdtemp() directory that the group teardown removes.
 *
 * Build: gcc -std=gnu11 -Wall -Wextra -Werror -Idrivers \
 *            tests/unit/test_wav_io.c drivers/wav_io.c -lsndfile -lcmocka -lm
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wav_io.h"

static char test_dir[256];  /* short, so tpath() never truncates */

static const char *tpath(const char *name)
{
    static char buf[4][PATH_MAX];
    static int next;
    char *p = buf[next++ % 4];

    snprintf(p, PATH_MAX, "%s/%s", test_dir, name);
    return p;
}

static int group_setup(void **state)
{
    const char *tmp = getenv("TMPDIR");

    (void)state;
    snprintf(test_dir, sizeof(test_dir), "%s/test_wav_io.XXXXXX",
             tmp && *tmp ? tmp : "/tmp");
    return mkdtemp(test_dir) ? 0 : -1;
}

static int group_teardown(void **state)
{
    DIR *d;
    struct dirent *de;

    (void)state;
    d = opendir(test_dir);
    if (!d)
        return -1;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        (void)unlink(tpath(de->d_name));
    }
    closedir(d);
    return rmdir(test_dir);
}

static void write_bytes(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");

    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* Whole file into a malloc'd buffer; *len_out gets its size. */
static unsigned char *read_bytes(const char *path, size_t *len_out)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf;
    long len;

    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    len = ftell(f);
    assert_true(len >= 0);
    rewind(f);
    buf = malloc((size_t)len + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    *len_out = (size_t)len;
    return buf;
}

/* Small deterministic generator for test data. */
static uint32_t test_rand(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

#define RT_FRAMES 3001  /* not a multiple of any internal chunk size */
#define RT_CH 3

static void test_float_round_trip(void **state)
{
    static float in[RT_FRAMES * RT_CH], out[RT_FRAMES * RT_CH + RT_CH];
    struct wav_writer *w;
    struct wav_reader *r;
    struct wav_info info;
    uint32_t seed = 1;
    long got, total = 0;
    int err = 1, i;

    (void)state;
    for (i = 0; i < RT_FRAMES * RT_CH; i++)
        in[i] = ((float)(int32_t)test_rand(&seed)) / 3.0e9f;
    in[0] = 1.0f;
    in[1] = -1.0f;
    in[2] = 1.0e-7f;
    in[3] = 1.5f;  /* float files keep out-of-range values */

    w = wav_writer_open(tpath("f.wav"), 48000, RT_CH, WAV_FLOAT, &err);
    assert_non_null(w);
    assert_int_equal(err, 0);
    assert_int_equal(wav_writer_write_float(w, in, 1000), 0);
    assert_int_equal(wav_writer_write_float(w, in + 1000 * RT_CH, RT_FRAMES - 1000), 0);
    assert_int_equal(wav_writer_close(w), 0);

    r = wav_reader_open(tpath("f.wav"), &info, &err);
    assert_non_null(r);
    assert_int_equal(err, 0);
    assert_int_equal(info.rate, 48000);
    assert_int_equal(info.channels, RT_CH);
    assert_int_equal(info.frames, RT_FRAMES);
    /* Read in odd-sized pieces, then ask past the end. */
    for (;;) {
        long room = RT_FRAMES + 1 - total;  /* out has one spare frame */

        got = wav_reader_read_float(r, out + total * RT_CH, room < 777 ? room : 777);
        if (got <= 0)
            break;
        total += got;
    }
    assert_int_equal(got, 0);
    assert_int_equal(total, RT_FRAMES);
    assert_int_equal(wav_reader_read_float(r, out + total * RT_CH, 1), 0);
    wav_reader_close(r);
    assert_memory_equal(in, out, sizeof(in));
}

static void test_s16_round_trip(void **state)
{
    static int16_t in[RT_FRAMES * RT_CH], out[RT_FRAMES * RT_CH];
    static float outf[RT_FRAMES * RT_CH];
    struct wav_writer *w;
    struct wav_reader *r;
    struct wav_info info;
    uint32_t seed = 7;
    int err = 1, i;

    (void)state;
    for (i = 0; i < RT_FRAMES * RT_CH; i++)
        in[i] = (int16_t)(test_rand(&seed) & 0xffff);
    in[0] = INT16_MIN;
    in[1] = INT16_MAX;
    in[2] = 0;
    in[3] = -1;

    w = wav_writer_open(tpath("s.wav"), 16000, RT_CH, WAV_PCM16, &err);
    assert_non_null(w);
    assert_int_equal(wav_writer_write_s16(w, in, RT_FRAMES), 0);
    assert_int_equal(wav_writer_close(w), 0);

    r = wav_reader_open(tpath("s.wav"), &info, &err);
    assert_non_null(r);
    assert_int_equal(info.rate, 16000);
    assert_int_equal(info.channels, RT_CH);
    assert_int_equal(info.frames, RT_FRAMES);
    assert_int_equal(wav_reader_read_s16(r, out, RT_FRAMES + 5), RT_FRAMES);
    assert_int_equal(wav_reader_read_s16(r, out, 0), 0);
    {
        int16_t past_end[RT_CH];

        assert_int_equal(wav_reader_read_s16(r, past_end, 1), 0);
    }
    wav_reader_close(r);
    assert_memory_equal(in, out, sizeof(in));

    /* The same PCM16 file read as float is x / 32768, exactly. */
    r = wav_reader_open(tpath("s.wav"), NULL, NULL);
    assert_non_null(r);
    assert_int_equal(wav_reader_read_float(r, outf, RT_FRAMES), RT_FRAMES);
    wav_reader_close(r);
    for (i = 0; i < RT_FRAMES * RT_CH; i++)
        assert_true(outf[i] == (float)in[i] / 32768.0f);
}

/* float -> PCM16 and PCM32 scale by 2^15 / 2^31 and clip; s16 -> float file. */
static void test_cross_format(void **state)
{
    const float fin[] = { 0.5f, -0.5f, -1.0f, 32767.0f / 32768.0f, 1.0f, 1.5f,
                  -1.5f, 3.0f / 32768.0f, 0.25f + 1.0f / 65536.0f };
    const int16_t want16[] = { 16384, -16384, -32768, 32767, 32767, 32767,
                   -32768, 3, 8192 /* .5 LSB rounds to even */ };
    const int16_t sin16[] = { INT16_MIN, -1, 0, 1, INT16_MAX, 12345 };
    int16_t got16[9];
    float gotf[9];
    struct wav_writer *w;
    struct wav_reader *r;
    int i;

    (void)state;
    w = wav_writer_open(tpath("x16.wav"), 8000, 1, WAV_PCM16, NULL);
    assert_non_null(w);
    assert_int_equal(wav_writer_write_float(w, fin, 9), 0);
    assert_int_equal(wav_writer_close(w), 0);
    r = wav_reader_open(tpath("x16.wav"), NULL, NULL);
    assert_non_null(r);
    assert_int_equal(wav_reader_read_s16(r, got16, 9), 9);
    wav_reader_close(r);
    assert_memory_equal(got16, want16, sizeof(want16));

    /* PCM32: float values with <= 24 significant bits survive exactly. */
    w = wav_writer_open(tpath("x32.wav"), 8000, 1, WAV_PCM32, NULL);
    assert_non_null(w);
    assert_int_equal(wav_writer_write_float(w, fin, 4), 0);
    assert_int_equal(wav_writer_write_s16(w, sin16, 6), 0);
    assert_int_equal(wav_writer_close(w), 0);
    r = wav_reader_open(tpath("x32.wav"), NULL, NULL);
    assert_non_null(r);
    assert_int_equal(wav_reader_read_float(r, gotf, 9), 9);
    wav_reader_close(r);
    for (i = 0; i < 4; i++)
        assert_true(gotf[i] == fin[i]);
    for (i = 0; i < 5; i++)
        assert_true(gotf[4 + i] == (float)sin16[i] / 32768.0f);
    r = wav_reader_open(tpath("x32.wav"), NULL, NULL);
    assert_non_null(r);
    assert_int_equal(wav_reader_read_s16(r, got16, 9), 9);
    wav_reader_close(r);
    for (i = 0; i < 5; i++)
        assert_int_equal(got16[4 + i], sin16[i]);

    /* s16 into a float file, read back both ways. */
    w = wav_writer_open(tpath("xf.wav"), 8000, 2, WAV_FLOAT, NULL);
    assert_non_null(w);
    assert_int_equal(wav_writer_write_s16(w, sin16, 3), 0);
    assert_int_equal(wav_writer_close(w), 0);
    r = wav_reader_open(tpath("xf.wav"), NULL, NULL);
    assert_non_null(r);
    assert_int_equal(wav_reader_read_float(r, gotf, 3), 3);
    wav_reader_close(r);
    for (i = 0; i < 6; i++)
        assert_true(gotf[i] == (float)sin16[i] / 32768.0f);
    r = wav_reader_open(tpath("xf.wav"), NULL, NULL);
    assert_non_null(r);
    assert_int_equal(wav_reader_read_s16(r, got16, 3), 3);
    wav_reader_close(r);
    assert_memory_equal(got16, sin16, sizeof(sin16));
}

static void test_raw_round_trip(void **state)
{
    enum { CH = 5, FRAMES = 2500 };
    static unsigned char raw[CH * FRAMES * 2];
    static int16_t samples[CH * FRAMES];
    unsigned char *back;
    struct wav_reader *r;
    struct wav_info info;
    uint32_t seed = 99;
    size_t len, i;
    int ch = 0, rate = 0;

    (void)state;
    for (i = 0; i < sizeof(raw); i += 2) {
        uint16_t v = (uint16_t)test_rand(&seed);

        raw[i] = (unsigned char)(v & 0xff);  /* little endian */
        raw[i + 1] = (unsigned char)(v >> 8);
        samples[i / 2] = (int16_t)v;
    }
    write_bytes(tpath("in.raw"), raw, sizeof(raw));

    assert_int_equal(raw_s16_to_wav(tpath("in.raw"), CH, 16000, tpath("raw.wav")), 0);
    r = wav_reader_open(tpath("raw.wav"), &info, NULL);
    assert_non_null(r);
    assert_int_equal(info.channels, CH);
    assert_int_equal(info.rate, 16000);
    assert_int_equal(info.frames, FRAMES);
    {
        static int16_t got[CH * FRAMES];

        assert_int_equal(wav_reader_read_s16(r, got, FRAMES), FRAMES);
        assert_memory_equal(got, samples, sizeof(samples));
    }
    wav_reader_close(r);

    assert_int_equal(wav_to_raw_s16(tpath("raw.wav"), tpath("out.raw"), &ch, &rate), 0);
    assert_int_equal(ch, CH);
    assert_int_equal(rate, 16000);
    back = read_bytes(tpath("out.raw"), &len);
    assert_int_equal(len, sizeof(raw));
    assert_memory_equal(back, raw, sizeof(raw));
    free(back);

    /* An empty raw file gives a valid empty WAV, and back. */
    write_bytes(tpath("empty.raw"), "", 0);
    assert_int_equal(raw_s16_to_wav(tpath("empty.raw"), 2, 8000, tpath("empty.wav")), 0);
    assert_int_equal(wav_to_raw_s16(tpath("empty.wav"), tpath("empty2.raw"), &ch, &rate), 0);
    assert_int_equal(ch, 2);
    assert_int_equal(rate, 8000);
    back = read_bytes(tpath("empty2.raw"), &len);
    assert_int_equal(len, 0);
    free(back);
}

static void test_raw_errors(void **state)
{
    static const unsigned char seven[7] = { 1, 2, 3, 4, 5, 6, 7 };

    (void)state;
    /* 7 bytes is not a whole number of 2-channel S16 frames. */
    write_bytes(tpath("odd.raw"), seven, sizeof(seven));
    assert_int_equal(raw_s16_to_wav(tpath("odd.raw"), 2, 16000, tpath("odd.wav")), -EINVAL);
    assert_true(strlen(wav_strerror_last()) > 0);
    assert_int_equal(raw_s16_to_wav(tpath("odd.raw"), 0, 16000, tpath("odd.wav")), -EINVAL);
    assert_int_equal(raw_s16_to_wav(tpath("odd.raw"), 1, 0, tpath("odd.wav")), -EINVAL);
    assert_int_equal(raw_s16_to_wav(tpath("nope.raw"), 1, 16000, tpath("nope.wav")), -ENOENT);
    assert_int_equal(wav_to_raw_s16(tpath("nope.wav"), tpath("nope.raw"), NULL, NULL), -ENOENT);
    assert_int_equal(access(tpath("nope.raw"), F_OK), -1);
}

static void test_missing_file(void **state)
{
    struct wav_info info = { .rate = 123 };
    int err = 0;

    (void)state;
    assert_null(wav_reader_open(tpath("does-not-exist.wav"), &info, &err));
    assert_int_equal(err, -ENOENT);
    assert_int_equal(info.rate, 123);  /* untouched on failure */
    assert_true(strlen(wav_strerror_last()) > 0);

    assert_null(wav_writer_open(tpath("no/such/dir/x.wav"), 16000, 1, WAV_PCM16, &err));
    assert_int_equal(err, -ENOENT);
    /* A directory is not a WAV file. */
    assert_null(wav_reader_open(test_dir, NULL, &err));
    assert_int_equal(err, -EISDIR);
}

/* Reader must fail cleanly on `len` bytes of `data` and say why. */
static void expect_corrupt(const char *name, const void *data, size_t len)
{
    struct wav_info info = { 0 };
    int err = 0;

    write_bytes(tpath(name), data, len);
    assert_null(wav_reader_open(tpath(name), &info, &err));
    assert_int_equal(err, -EINVAL);
    assert_true(strlen(wav_strerror_last()) > 0);
    assert_int_equal(wav_to_raw_s16(tpath(name), tpath("corrupt.raw"), NULL, NULL), -EINVAL);
}

static void test_corrupt_files(void **state)
{
    static unsigned char garbage[4096];
    static const int16_t pcm[64];
    unsigned char *good, *bad;
    struct wav_writer *w;
    uint32_t seed = 12345;
    size_t len, i;

    (void)state;
    for (i = 0; i < sizeof(garbage); i++)
        garbage[i] = (unsigned char)test_rand(&seed);
    expect_corrupt("garbage.wav", garbage, sizeof(garbage));
    expect_corrupt("empty.wav", "", 0);
    expect_corrupt("text.wav", "hello, this is not a wav file\n", 30);

    w = wav_writer_open(tpath("good.wav"), 16000, 2, WAV_PCM16, NULL);
    assert_non_null(w);
    assert_int_equal(wav_writer_write_s16(w, pcm, 32), 0);
    assert_int_equal(wav_writer_close(w), 0);
    good = read_bytes(tpath("good.wav"), &len);
    assert_true(len == 44 + sizeof(pcm));

    /* Header cut short: inside RIFF, inside fmt, right after fmt. */
    expect_corrupt("cut4.wav", good, 4);
    expect_corrupt("cut12.wav", good, 12);
    expect_corrupt("cut20.wav", good, 20);
    expect_corrupt("cut30.wav", good, 30);

    bad = malloc(len);
    assert_non_null(bad);
    /* fmt chunk claiming 0 channels. */
    memcpy(bad, good, len);
    bad[22] = 0;
    bad[23] = 0;
    expect_corrupt("zero-ch.wav", bad, len);
    /* Unknown format tag. */
    memcpy(bad, good, len);
    bad[20] = 0x34;
    bad[21] = 0x12;
    expect_corrupt("bad-tag.wav", bad, len);
    /* Garbage where the fmt chunk should be. */
    memcpy(bad, good, len);
    memcpy(bad + 12, garbage, 32);
    expect_corrupt("bad-fmt.wav", bad, len);
    free(bad);
    free(good);
}

/* Data shorter than the header says: open works, reads stop at the real end. */
static void test_truncated_data(void **state)
{
    static int16_t pcm[2 * 1000], got[2 * 1000];
    struct wav_writer *w;
    struct wav_reader *r;
    struct wav_info info;
    unsigned char *good;
    size_t len;
    long total = 0, n;
    int err, i;

    (void)state;
    for (i = 0; i < 2000; i++)
        pcm[i] = (int16_t)(i * 7);
    w = wav_writer_open(tpath("full.wav"), 16000, 2, WAV_PCM16, NULL);
    assert_non_null(w);
    assert_int_equal(wav_writer_write_s16(w, pcm, 1000), 0);
    assert_int_equal(wav_writer_close(w), 0);
    good = read_bytes(tpath("full.wav"), &len);
    write_bytes(tpath("short.wav"), good, 44 + 4 * 400 + 3);  /* 400.75 frames */
    free(good);

    r = wav_reader_open(tpath("short.wav"), &info, &err);
    assert_non_null(r);
    assert_true(info.frames <= 401);
    while ((n = wav_reader_read_s16(r, got + total * 2, 1000 - total)) > 0)
        total += n;
    assert_true(n == 0 || n == -EIO);
    assert_true(total >= 400 && total <= 401);
    assert_memory_equal(got, pcm, 400 * 4);
    wav_reader_close(r);
}

static void test_bad_args(void **state)
{
    int err = 0;
    float f = 0;

    (void)state;
    assert_null(wav_writer_open(tpath("a.wav"), 16000, 0, WAV_PCM16, &err));
    assert_int_equal(err, -EINVAL);
    assert_null(wav_writer_open(tpath("a.wav"), 0, 1, WAV_PCM16, &err));
    assert_int_equal(err, -EINVAL);
    assert_null(wav_writer_open(tpath("a.wav"), 16000, 1, (enum wav_sample_format)42, &err));
    assert_int_equal(err, -EINVAL);
    assert_null(wav_reader_open(NULL, NULL, &err));
    assert_int_equal(err, -EINVAL);
    assert_int_equal(wav_reader_read_float(NULL, &f, 1), -EINVAL);
    assert_int_equal(wav_writer_write_float(NULL, &f, 1), -EINVAL);
    /* Destructors accept NULL. */
    wav_reader_close(NULL);
    assert_int_equal(wav_writer_close(NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_float_round_trip),
        cmocka_unit_test(test_s16_round_trip),
        cmocka_unit_test(test_cross_format),
        cmocka_unit_test(test_raw_round_trip),
        cmocka_unit_test(test_raw_errors),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_corrupt_files),
        cmocka_unit_test(test_truncated_data),
        cmocka_unit_test(test_bad_args),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
