/*
 * hark-wav.c - host command-line helper for WAV files used with hark
 * (inspect levels, convert to and from the raw S16_LE streams that ALSA's
 * file plugin reads and writes). Offline tool, single-threaded: everything
 * runs on the main thread. File access goes through drivers/wav_io.
 *
 *   hark-wav info F.wav
 *   hark-wav levels F.wav
 *   hark-wav to-raw IN.wav OUT.raw
 *   hark-wav from-raw --rate R --channels C IN.raw OUT.wav
 *
 * Exit status: 0 ok, 1 I/O or format error (message on stderr),
 * 2 bad arguments (usage on stderr).
 *
 * Levels are dBFS with full scale = 1.0 (or 32768 for integer files):
 * 20*log10(rms), so a full-scale square wave reads 0 dBFS and a full-scale
 * sine -3.01 dBFS. Silence reads -inf.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wav_io.h"

#define HW_PROG "hark-wav"
#define HW_CHUNK_FRAMES 4096L

enum {
    HW_EXIT_OK = 0,
    HW_EXIT_IO = 1,
    HW_EXIT_USAGE = 2,
};

struct hw_stats {
    struct wav_info info;
    int64_t frames_read;
    double *sum_sq;  /* per channel */
    double *peak;  /* per channel, absolute */
};

static void hw_usage(FILE *f)
{
    fprintf(f,
            "usage: " HW_PROG " info F.wav\n"
            "       " HW_PROG " levels F.wav\n"
            "       " HW_PROG " to-raw IN.wav OUT.raw\n"
            "       " HW_PROG " from-raw --rate R --channels C IN.raw OUT.wav\n"
            "\n"
            "  info      rate, channels, frames, duration, per-channel RMS and peak\n"
            "  levels    per-channel RMS in dBFS\n"
            "  to-raw    WAV -> interleaved S16_LE (what ALSA's file plugin uses)\n"
            "  from-raw  interleaved S16_LE -> PCM16 WAV\n");
}

static int hw_bad_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int hw_bad_usage(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, HW_PROG ": ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    hw_usage(stderr);
    return HW_EXIT_USAGE;
}

static int hw_parse_int(const char *s, int min, int max, int *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        return -EINVAL;
    *out = (int)v;
    return 0;
}

static double hw_db(double lin)
{
    return lin > 0.0 ? 20.0 * log10(lin) : -INFINITY;
}

static void hw_stats_free(struct hw_stats *st)
{
    free(st->sum_sq);
    free(st->peak);
}

/* Read the whole file once, accumulating per-channel energy and peak. */
static int hw_stats_compute(const char *path, struct hw_stats *st)
{
    struct wav_reader *rd;
    float *buf = NULL;
    int r, c;

    memset(st, 0, sizeof(*st));
    rd = wav_reader_open(path, &st->info, &r);
    if (!rd)
        return r;
    st->sum_sq = calloc((size_t)st->info.channels, sizeof(double));
    st->peak = calloc((size_t)st->info.channels, sizeof(double));
    buf = malloc(sizeof(float) * HW_CHUNK_FRAMES * (size_t)st->info.channels);
    if (!st->sum_sq || !st->peak || !buf) {
        r = -ENOMEM;
        goto out;
    }
    for (;;) {
        long n = wav_reader_read_float(rd, buf, HW_CHUNK_FRAMES), i;

        if (n < 0) {
            r = (int)n;
            goto out;
        }
        if (n == 0)
            break;
        for (i = 0; i < n; i++) {
            for (c = 0; c < st->info.channels; c++) {
                double x = buf[i * st->info.channels + c];

                st->sum_sq[c] += x * x;
                if (fabs(x) > st->peak[c])
                    st->peak[c] = fabs(x);
            }
        }
        st->frames_read += n;
    }
    r = 0;
out:
    free(buf);
    wav_reader_close(rd);
    if (r < 0)
        hw_stats_free(st);
    return r;
}

static double hw_rms(const struct hw_stats *st, int c)
{
    return st->frames_read > 0 ? sqrt(st->sum_sq[c] / (double)st->frames_read) : 0.0;
}

static int hw_io_error(const char *what, int r)
{
    const char *msg = wav_strerror_last();

    fprintf(stderr, HW_PROG ": %s: %s\n", what, msg && *msg ? msg : strerror(-r));
    return HW_EXIT_IO;
}

/* Parses only -h/--help; leaves positional arguments from optind. */
static int hw_plain_args(int argc, char **argv, int npos)
{
    static const struct option opts[] = {
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;

    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'h') {
            hw_usage(stdout);
            exit(HW_EXIT_OK);
        }
        return hw_bad_usage("bad or incomplete option '%s'", argv[optind - 1]);
    }
    if (argc - optind != npos)
        return hw_bad_usage("%s: wrong number of arguments", argv[0]);
    return 0;
}

static int hw_cmd_info(int argc, char **argv, int levels_only)
{
    struct hw_stats st;
    int r, c;

    r = hw_plain_args(argc, argv, 1);
    if (r)
        return r;
    r = hw_stats_compute(argv[optind], &st);
    if (r < 0)
        return hw_io_error(argv[optind], r);
    if (!levels_only) {
        printf("file      %s\n", argv[optind]);
        printf("rate      %d\n", st.info.rate);
        printf("channels  %d\n", st.info.channels);
        printf("frames    %lld\n", (long long)st.info.frames);
        printf("seconds   %.3f\n", (double)st.info.frames / st.info.rate);
        if (st.frames_read != st.info.frames)
            printf("warning   only %lld frames could be read\n",
                   (long long)st.frames_read);
    }
    for (c = 0; c < st.info.channels; c++) {
        if (levels_only)
            printf("ch%-3d %8.2f dBFS\n", c, hw_db(hw_rms(&st, c)));
        else
            printf("ch%-3d     rms %8.2f dBFS  peak %.6f (%.2f dBFS)\n", c,
                   hw_db(hw_rms(&st, c)), st.peak[c], hw_db(st.peak[c]));
    }
    hw_stats_free(&st);
    return HW_EXIT_OK;
}

static int hw_cmd_to_raw(int argc, char **argv)
{
    const char *in, *out;
    int r, ch, rate;

    r = hw_plain_args(argc, argv, 2);
    if (r)
        return r;
    in = argv[optind];
    out = argv[optind + 1];
    r = wav_to_raw_s16(in, out, &ch, &rate);
    if (r < 0) {
        char what[512];

        snprintf(what, sizeof(what), "%s -> %s", in, out);
        return hw_io_error(what, r);
    }
    /* The raw file loses its parameters: say them. */
    printf("%s: S16_LE, %d ch, %d Hz\n", out, ch, rate);
    return HW_EXIT_OK;
}

static int hw_cmd_from_raw(int argc, char **argv)
{
    static const struct option opts[] = {
        { "rate", required_argument, NULL, 'r' },
        { "channels", required_argument, NULL, 'c' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int rate = 0, channels = 0, c, r;

    while ((c = getopt_long(argc, argv, "r:c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'r':
            if (hw_parse_int(optarg, 1, 1000000, &rate))
                return hw_bad_usage("bad --rate '%s'", optarg);
            break;
        case 'c':
            if (hw_parse_int(optarg, 1, 1024, &channels))
                return hw_bad_usage("bad --channels '%s'", optarg);
            break;
        case 'h':
            hw_usage(stdout);
            return HW_EXIT_OK;
        default:
            return hw_bad_usage("bad or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (!rate || !channels)
        return hw_bad_usage("%s: --rate and --channels are required", argv[0]);
    if (argc - optind != 2)
        return hw_bad_usage("%s: wrong number of arguments", argv[0]);
    r = raw_s16_to_wav(argv[optind], channels, rate, argv[optind + 1]);
    if (r < 0) {
        char what[512];

        snprintf(what, sizeof(what), "%s -> %s", argv[optind], argv[optind + 1]);
        return hw_io_error(what, r);
    }
    return HW_EXIT_OK;
}

int main(int argc, char **argv)
{
    const char *cmd;

    if (argc < 2)
        return hw_bad_usage("missing command");
    cmd = argv[1];
    opterr = 0; /* we print our own messages */
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        hw_usage(stdout);
        return HW_EXIT_OK;
    }
    /* Subcommands parse argv[1..]: argv[1] is their name. */
    if (!strcmp(cmd, "info"))
        return hw_cmd_info(argc - 1, argv + 1, 0);
    if (!strcmp(cmd, "levels"))
        return hw_cmd_info(argc - 1, argv + 1, 1);
    if (!strcmp(cmd, "to-raw"))
        return hw_cmd_to_raw(argc - 1, argv + 1);
    if (!strcmp(cmd, "from-raw"))
        return hw_cmd_from_raw(argc - 1, argv + 1);
    return hw_bad_usage("unknown command '%s'", cmd);
}
