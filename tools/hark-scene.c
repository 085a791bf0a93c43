/*
 * hark-scene.c - synthetic test-scene generator for a board's mic array (host
 * tool, offline, single-threaded: everything runs on the main thread).
 *
 * Places a talker (a speech WAV) at an azimuth and distance from the array
 * in free field (an image-source room model comes later), adds uncorrelated
 * noise at a given SNR and, optionally, loudspeaker echo of a reference
 * signal played from the array centre. Writes one channel per mic, and
 * optionally the exact multichannel layout the board's ALSA capture device
 * delivers (mics at channel_map, the playback reference at ref_channel).
 *
 * Model (all at the board's capture rate fs):
 *   - the speech is mixed to mono and resampled with speexdsp (quality 5);
 *   - the talker sits at d * (cos az, sin az, 0) in the board frame (az in
 *     degrees counter-clockwise from +x, elevation 0); mic m at p_m hears
 *     the speech delayed by |s - p_m| / 343 m/s and scaled by 1 m / |s - p_m|
 *     (the speech file is taken as the level 1 m from the talker);
 *   - fractional delays use a Kaiser-windowed sinc interpolator (64 taps,
 *     beta 8, DC gain normalised to 1);
 *   - timeline: lead-in silence, then the speech leaves the talker, then the
 *     tail; propagation delay is kept, so mics hear it about d/343 s later;
 *   - noise: independent white or pink (a cascade of first-order pole/zero
 *     sections at interleaved octave-spaced frequencies, -3 dB/octave from
 *     10 Hz up) per mic, each scaled so that its power over the scene is
 *     P_speech / 10^(snr/10), where P_speech is the speech power at the
 *     mics averaged over mics and over the speech's duration;
 *   - echo: REF (mono mix, resampled, starting at t = 0, cut or zero-padded
 *     to the scene) from a loudspeaker at the origin: delayed by |p_m| / 343
 *     and scaled by the echo gain (no 1/r term: the speaker is near field);
 *     the capture's ref channel carries REF itself at unit gain;
 *   - noise uses a splitmix64 generator seeded by --seed: same arguments,
 *     same output, bit for bit.
 *
 * Board file: read with harkd's strict parser (src/config.c, keys in
 * docs/boards.md); mic positions, capture rate, channel count, channel_map
 * and ref_channel are used.
 *
 * Exit status: 0 ok, 1 I/O or data error, 2 bad arguments.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <speex/speex_resampler.h>

#include "config.h"
#include "wav_io.h"

#define HS_PROG "hark-scene"
#define HS_MAX_MICS HARK_MAX_MICS
#define HS_SPEED_OF_SOUND 343.0 /* m/s */
#define HS_SINC_HALF 32  /* interpolator taps on each side */
#define HS_KAISER_BETA 8.0
#define HS_RESAMPLE_QUALITY 5
#define HS_PINK_F0 10.0  /* Hz, lowest pole of the pink filter */
#define HS_PINK_WARMUP 16384  /* samples dropped while the filter settles */
#define HS_CHUNK 4096L

enum {
    HS_EXIT_OK = 0,
    HS_EXIT_ERR = 1,
    HS_EXIT_USAGE = 2,
};

enum hs_noise {
    HS_NOISE_WHITE,
    HS_NOISE_PINK,
    HS_NOISE_NONE,
};

/* What the scene needs from the board file, read with harkd's own strict
 * parser (src/config.c), so a board file that works here works on the device. */
struct hs_board {
    int mic_count;
    int rate, channels;         /* [capture] */
    int channel_map[HS_MAX_MICS];
    int ref_channel;            /* -1: none */
    double pos[HS_MAX_MICS][3]; /* metres */
};

static void hs_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void hs_verr(const char *fmt, va_list ap)
{
    fprintf(stderr, HS_PROG ": ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

static void hs_err(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    hs_verr(fmt, ap);
    va_end(ap);
}

/* ---- number parsing ------------------------------------------------------ */

static int hs_parse_double(const char *s, double *out)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    while (*end == ' ' || *end == '\t')
        end++;
    if (errno || end == s || *end || !isfinite(v))
        return -EINVAL;
    *out = v;
    return 0;
}

static int hs_board_load(const char *path, struct hs_board *b)
{
    static struct board_cfg cfg;
    static struct config_diag diag;
    int r;

    memset(&diag, 0, sizeof(diag));
    r = config_load_board(path, &cfg, &diag);
    for (unsigned i = 0; i < diag.count; i++)
        hs_err("%s", diag.msg[i]);
    if (r < 0)
        return r;
    memset(b, 0, sizeof(*b));
    b->mic_count = (int)cfg.mic_count;
    b->rate = (int)cfg.capture.rate;
    b->channels = (int)cfg.capture.channels;
    b->ref_channel = cfg.ref_channel;
    for (int m = 0; m < b->mic_count; m++) {
        b->channel_map[m] = cfg.channel_map[m];
        for (int k = 0; k < 3; k++) {
            b->pos[m][k] = cfg.mic_pos_mm[m][k] * 1e-3;
            /* cos(90 deg) is 6e-17, not 0: keep the printout clean. */
            if (fabs(b->pos[m][k]) < 1e-12)
                b->pos[m][k] = 0.0;
        }
    }
    return 0;
}

/* ---- audio in ------------------------------------------------------------ */

/* Whole file, mixed to mono. *out is malloc'd. */
static int hs_load_mono(const char *path, float **out, long *n_out, int *rate_out)
{
    struct wav_reader *rd;
    struct wav_info info;
    float *buf, *mono = NULL;
    long n = 0, cap = 0;
    int r, c;

    rd = wav_reader_open(path, &info, &r);
    if (!rd)
        return r;
    buf = malloc(sizeof(float) * HS_CHUNK * (size_t)info.channels);
    if (!buf) {
        r = -ENOMEM;
        goto out;
    }
    for (;;) {
        long got = wav_reader_read_float(rd, buf, HS_CHUNK), i;

        if (got < 0) {
            r = (int)got;
            goto out;
        }
        if (got == 0)
            break;
        if (n + got > cap) {
            long ncap = cap ? cap * 2 : HS_CHUNK * 16;
            float *p;

            while (ncap < n + got)
                ncap *= 2;
            p = realloc(mono, sizeof(float) * (size_t)ncap);
            if (!p) {
                r = -ENOMEM;
                goto out;
            }
            mono = p;
            cap = ncap;
        }
        for (i = 0; i < got; i++) {
            double s = 0.0;

            for (c = 0; c < info.channels; c++)
                s += buf[i * info.channels + c];
            mono[n + i] = (float)(s / info.channels);
        }
        n += got;
    }
    if (n == 0) {
        r = -ENODATA;
        goto out;
    }
    *out = mono;
    mono = NULL;
    *n_out = n;
    *rate_out = info.rate;
    r = 0;
out:
    free(mono);
    free(buf);
    wav_reader_close(rd);
    return r;
}

/*
 * Resample mono `in` (n_in samples at rate_in) to rate_out with speexdsp.
 * The output is time-aligned with the input (the resampler's latency is
 * skipped at the start and flushed at the end) and has
 * ceil(n_in * rate_out / rate_in) samples.
 */
static int hs_resample(const float *in, long n_in, int rate_in, int rate_out,
                       float **out, long *n_out)
{
    SpeexResamplerState *st;
    float zeros[256] = { 0 };
    long want, produced = 0, consumed = 0;
    float *y;
    int err, guard;

    want = (long)(((int64_t)n_in * rate_out + rate_in - 1) / rate_in);
    y = calloc((size_t)want + 1, sizeof(float));
    if (!y)
        return -ENOMEM;
    if (rate_in == rate_out) {
        memcpy(y, in, sizeof(float) * (size_t)n_in);
        *out = y;
        *n_out = n_in;
        return 0;
    }
    st = speex_resampler_init(1, (spx_uint32_t)rate_in, (spx_uint32_t)rate_out,
                              HS_RESAMPLE_QUALITY, &err);
    if (!st) {
        free(y);
        return err == RESAMPLER_ERR_ALLOC_FAILED ? -ENOMEM : -EINVAL;
    }
    speex_resampler_skip_zeros(st);
    while (consumed < n_in && produced < want) {
        spx_uint32_t il = (spx_uint32_t)(n_in - consumed);
        spx_uint32_t ol = (spx_uint32_t)(want - produced);

        err = speex_resampler_process_float(st, 0, in + consumed, &il,
                                            y + produced, &ol);
        if (err != RESAMPLER_ERR_SUCCESS || (il == 0 && ol == 0))
            break;
        consumed += il;
        produced += ol;
    }
    if (err != RESAMPLER_ERR_SUCCESS)
        goto out_err;
    /* Flush the filter's tail with silence. */
    for (guard = 0; produced < want && guard < 1000; guard++) {
        spx_uint32_t il = sizeof(zeros) / sizeof(zeros[0]);
        spx_uint32_t ol = (spx_uint32_t)(want - produced);

        err = speex_resampler_process_float(st, 0, zeros, &il, y + produced, &ol);
        if (err != RESAMPLER_ERR_SUCCESS)
            break;
        produced += ol;
    }
    if (err != RESAMPLER_ERR_SUCCESS)
        goto out_err;
    speex_resampler_destroy(st);
    *out = y;
    *n_out = want;
    return 0;

out_err:
    hs_err("resampler: %s", speex_resampler_strerror(err));
    speex_resampler_destroy(st);
    free(y);
    return -EIO;
}

/* ---- fractional delay ---------------------------------------------------- */

static double hs_bessel_i0(double x)
{
    double sum = 1.0, term = 1.0, q = x * x / 4.0;
    int k;

    for (k = 1; k < 200 && term > 1e-16 * sum; k++) {
        term *= q / ((double)k * k);
        sum += term;
    }
    return sum;
}

/*
 * y[n] += gain * x(n - delay) for n in [0, n_y), x given at integer times
 * [0, n_x) and zero elsewhere, delay >= 0 in samples (fractional allowed).
 * Band-limited interpolation with a Kaiser-windowed sinc.
 */
static void hs_add_delayed(float *y, long n_y, const float *x, long n_x,
                           double delay, double gain)
{
    double h[2 * HS_SINC_HALF];
    double i0_beta = hs_bessel_i0(HS_KAISER_BETA), sum = 0.0;
    long d_int = (long)floor(delay), j;
    double frac = delay - (double)d_int;
    int k;

    /* h[k + HALF - 1] multiplies x[n - d_int - k], k = -HALF+1 .. HALF. */
    for (k = -HS_SINC_HALF + 1; k <= HS_SINC_HALF; k++) {
        double t = k - frac, u = t / HS_SINC_HALF, w, s;

        w = fabs(u) < 1.0 ? hs_bessel_i0(HS_KAISER_BETA * sqrt(1.0 - u * u)) / i0_beta
                  : 0.0;
        s = fabs(t) < 1e-12 ? 1.0 : sin(M_PI * t) / (M_PI * t);
        h[k + HS_SINC_HALF - 1] = s * w;
        sum += s * w;
    }
    for (k = 0; k < 2 * HS_SINC_HALF; k++)
        h[k] *= gain / sum;

    for (j = 0; j < n_x; j++) {
        double xj = x[j];

        if (xj == 0.0)
            continue;
        for (k = -HS_SINC_HALF + 1; k <= HS_SINC_HALF; k++) {
            long n = j + d_int + k;

            if (n >= 0 && n < n_y)
                y[n] += (float)(h[k + HS_SINC_HALF - 1] * xj);
        }
    }
}

/* ---- noise ---------------------------------------------------------------- */

struct hs_rng {
    uint64_t state;
    bool have_spare;
    double spare;
};

static uint64_t hs_rng_next(struct hs_rng *g)
{
    uint64_t z = (g->state += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Uniform in (0, 1). */
static double hs_rng_uniform(struct hs_rng *g)
{
    return ((double)(hs_rng_next(g) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

/* Standard normal (Box-Muller). */
static double hs_rng_gauss(struct hs_rng *g)
{
    double r, a;

    if (g->have_spare) {
        g->have_spare = false;
        return g->spare;
    }
    r = sqrt(-2.0 * log(hs_rng_uniform(g)));
    a = 2.0 * M_PI * hs_rng_uniform(g);
    g->spare = r * sin(a);
    g->have_spare = true;
    return r * cos(a);
}

/* n samples of unit-variance-ish noise of the given colour into out. */
static void hs_noise_fill(struct hs_rng *g, enum hs_noise kind, int rate, float *out, long n)
{
    double pole[24], zero[24], x1[24], y1[24];
    int ns = 0, s;
    long i;

    if (kind == HS_NOISE_WHITE) {
        for (i = 0; i < n; i++)
            out[i] = (float)hs_rng_gauss(g);
        return;
    }
    /*
     * Pink: poles at F0 * 2^k and zeros half an octave above each, while
     * the zero stays below Nyquist. Each pole bends the slope down by
     * 20 dB/decade and each zero back up, so the interleaved cascade
     * averages -10 dB/decade (-3 dB/octave) over the band.
     */
    for (s = 0; s < 24; s++) {
        double fp = HS_PINK_F0 * pow(2.0, s), fz = fp * M_SQRT2;

        if (fz >= rate / 2.0)
            break;
        pole[s] = exp(-2.0 * M_PI * fp / rate);
        zero[s] = exp(-2.0 * M_PI * fz / rate);
        x1[s] = y1[s] = 0.0;
        ns++;
    }
    for (i = -HS_PINK_WARMUP; i < n; i++) {
        double v = hs_rng_gauss(g);

        for (s = 0; s < ns; s++) {
            double y = v - zero[s] * x1[s] + pole[s] * y1[s];

            x1[s] = v;
            y1[s] = y;
            v = y;
        }
        if (i >= 0)
            out[i] = (float)v;
    }
}

/* ---- main ---------------------------------------------------------------- */

struct hs_args {
    const char *board, *speech, *ref, *out_mics, *out_capture;
    double azimuth_deg, distance_m, snr_db, echo_gain_db, lead_s, tail_s;
    bool have_azimuth;
    enum hs_noise noise;
    enum wav_sample_format mics_fmt;
    uint64_t seed;
    bool quiet;
};

static void hs_usage(FILE *f)
{
    fprintf(f,
            "usage: " HS_PROG " --board BOARD.conf --speech SPEECH.wav --azimuth DEG\n"
            "                  [--distance-m 1.5] [--snr-db 20] [--noise white|pink|none]\n"
            "                  [--ref REF.wav] [--echo-gain-db -6] [--lead-s 0.5] [--tail-s 0.5]\n"
            "                  [--seed N] [--mics-format float|pcm16] [--quiet]\n"
            "                  --out-mics MICS.wav [--out-capture CAPTURE.wav]\n"
            "\n"
            "Free-field talker at DEG (counter-clockwise from +x, board frame) plus\n"
            "uncorrelated noise and optional loudspeaker echo of REF from the array\n"
            "centre. MICS.wav: one channel per mic in board order (float by default).\n"
            "CAPTURE.wav: PCM16 in the board's ALSA capture layout ([capture]\n"
            "channels, mics at channel_map, REF or silence at ref_channel).\n");
}

static int hs_bad_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int hs_bad_usage(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    hs_verr(fmt, ap);
    va_end(ap);
    hs_usage(stderr);
    return HS_EXIT_USAGE;
}

/* Returns 0, or an exit status to leave with. */
static int hs_parse_args(int argc, char **argv, struct hs_args *a)
{
    enum {
        OPT_BOARD = 256, OPT_SPEECH, OPT_AZIMUTH, OPT_DISTANCE, OPT_SNR,
        OPT_NOISE, OPT_REF, OPT_ECHO, OPT_LEAD, OPT_TAIL, OPT_SEED,
        OPT_OUT_MICS, OPT_OUT_CAPTURE, OPT_MICS_FORMAT,
    };
    static const struct option opts[] = {
        { "board", required_argument, NULL, OPT_BOARD },
        { "speech", required_argument, NULL, OPT_SPEECH },
        { "azimuth", required_argument, NULL, OPT_AZIMUTH },
        { "distance-m", required_argument, NULL, OPT_DISTANCE },
        { "snr-db", required_argument, NULL, OPT_SNR },
        { "noise", required_argument, NULL, OPT_NOISE },
        { "ref", required_argument, NULL, OPT_REF },
        { "echo-gain-db", required_argument, NULL, OPT_ECHO },
        { "lead-s", required_argument, NULL, OPT_LEAD },
        { "tail-s", required_argument, NULL, OPT_TAIL },
        { "seed", required_argument, NULL, OPT_SEED },
        { "out-mics", required_argument, NULL, OPT_OUT_MICS },
        { "out-capture", required_argument, NULL, OPT_OUT_CAPTURE },
        { "mics-format", required_argument, NULL, OPT_MICS_FORMAT },
        { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c, li = 0;

    memset(a, 0, sizeof(*a));
    a->distance_m = 1.5;
    a->snr_db = 20.0;
    a->echo_gain_db = -6.0;
    a->lead_s = 0.5;
    a->tail_s = 0.5;
    a->seed = 1;
    a->noise = HS_NOISE_WHITE;
    a->mics_fmt = WAV_FLOAT;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "qh", opts, &li)) != -1) {
        double *dst = NULL;

        switch (c) {
        case OPT_BOARD: a->board = optarg; break;
        case OPT_SPEECH: a->speech = optarg; break;
        case OPT_REF: a->ref = optarg; break;
        case OPT_OUT_MICS: a->out_mics = optarg; break;
        case OPT_OUT_CAPTURE: a->out_capture = optarg; break;
        case OPT_AZIMUTH: dst = &a->azimuth_deg; a->have_azimuth = true; break;
        case OPT_DISTANCE: dst = &a->distance_m; break;
        case OPT_SNR: dst = &a->snr_db; break;
        case OPT_ECHO: dst = &a->echo_gain_db; break;
        case OPT_LEAD: dst = &a->lead_s; break;
        case OPT_TAIL: dst = &a->tail_s; break;
        case OPT_NOISE:
            if (!strcmp(optarg, "white"))
                a->noise = HS_NOISE_WHITE;
            else if (!strcmp(optarg, "pink"))
                a->noise = HS_NOISE_PINK;
            else if (!strcmp(optarg, "none"))
                a->noise = HS_NOISE_NONE;
            else
                return hs_bad_usage("bad --noise '%s' (white, pink or none)", optarg);
            break;
        case OPT_MICS_FORMAT:
            if (!strcmp(optarg, "float"))
                a->mics_fmt = WAV_FLOAT;
            else if (!strcmp(optarg, "pcm16"))
                a->mics_fmt = WAV_PCM16;
            else
                return hs_bad_usage("bad --mics-format '%s' (float or pcm16)", optarg);
            break;
        case OPT_SEED: {
            char *end;

            errno = 0;
            a->seed = strtoull(optarg, &end, 0);
            if (errno || end == optarg || *end || optarg[0] == '-')
                return hs_bad_usage("bad --seed '%s'", optarg);
            break;
        }
        case 'q':
            a->quiet = true;
            break;
        case 'h':
            hs_usage(stdout);
            exit(HS_EXIT_OK);
        default:
            return hs_bad_usage("bad or incomplete option '%s'", argv[optind - 1]);
        }
        if (dst && hs_parse_double(optarg, dst))
            return hs_bad_usage("bad number '%s' for --%s", optarg, opts[li].name);
    }
    if (optind != argc)
        return hs_bad_usage("unexpected argument '%s'", argv[optind]);
    if (!a->board || !a->speech || !a->have_azimuth || !a->out_mics)
        return hs_bad_usage("--board, --speech, --azimuth and --out-mics are required");
    if (a->distance_m <= 0.0)
        return hs_bad_usage("--distance-m must be > 0");
    if (a->lead_s < 0.0 || a->tail_s < 0.0 || a->lead_s > 3600 || a->tail_s > 3600)
        return hs_bad_usage("--lead-s and --tail-s must be in 0..3600");
    return 0;
}

static int hs_write(const char *path, int rate, int channels, enum wav_sample_format fmt,
                    const float *interleaved, long frames)
{
    struct wav_writer *w;
    int r, r2;

    w = wav_writer_open(path, rate, channels, fmt, &r);
    if (!w)
        goto out_err;
    r = wav_writer_write_float(w, interleaved, frames);
    r2 = wav_writer_close(w);
    if (r == 0)
        r = r2;
    if (r == 0)
        return 0;
out_err:
    hs_err("%s: %s", path, wav_strerror_last());
    return r;
}

static long hs_count_clipped(const float *x, long n)
{
    long i, clipped = 0;

    for (i = 0; i < n; i++)
        if (x[i] >= 32767.5f / 32768.0f || x[i] < -32768.5f / 32768.0f)
            clipped++;
    return clipped;
}

static double hs_db(double power)
{
    return power > 0.0 ? 10.0 * log10(power) : -INFINITY;
}

int main(int argc, char **argv)
{
    struct hs_args a;
    struct hs_board b;
    float *speech_in = NULL, *speech = NULL, *ref_in = NULL, *ref = NULL;
    float *mics = NULL, *noise = NULL, *out = NULL;
    long n_speech_in, n_speech, n_ref_in = 0, n_ref = 0, n_lead, n_tail, n_total;
    int speech_rate, ref_rate = 0, rc = HS_EXIT_ERR, r, m;
    double src[3], delay[HS_MAX_MICS], gain[HS_MAX_MICS], p_speech = 0.0, p_noise = 0.0;
    double az;
    struct hs_rng rng;
    long i;

    r = hs_parse_args(argc, argv, &a);
    if (r)
        return r;

    r = hs_board_load(a.board, &b);
    if (r < 0)
        return HS_EXIT_ERR;
    r = hs_load_mono(a.speech, &speech_in, &n_speech_in, &speech_rate);
    if (r < 0) {
        hs_err("%s: %s", a.speech, r == -ENODATA ? "no audio" :
               r == -ENOMEM ? strerror(ENOMEM) : wav_strerror_last());
        goto out;
    }
    r = hs_resample(speech_in, n_speech_in, speech_rate, b.rate, &speech, &n_speech);
    if (r < 0) {
        hs_err("%s: resampling %d -> %d Hz failed", a.speech, speech_rate, b.rate);
        goto out;
    }
    if (a.ref) {
        r = hs_load_mono(a.ref, &ref_in, &n_ref_in, &ref_rate);
        if (r < 0) {
            hs_err("%s: %s", a.ref, r == -ENODATA ? "no audio" :
                   r == -ENOMEM ? strerror(ENOMEM) : wav_strerror_last());
            goto out;
        }
        r = hs_resample(ref_in, n_ref_in, ref_rate, b.rate, &ref, &n_ref);
        if (r < 0) {
            hs_err("%s: resampling %d -> %d Hz failed", a.ref, ref_rate, b.rate);
            goto out;
        }
    }

    n_lead = lround(a.lead_s * b.rate);
    n_tail = lround(a.tail_s * b.rate);
    n_total = n_lead + n_speech + n_tail;

    /* Geometry: talker position, per-mic delay (samples) and 1/r gain. */
    az = a.azimuth_deg * M_PI / 180.0;
    src[0] = a.distance_m * cos(az);
    src[1] = a.distance_m * sin(az);
    src[2] = 0.0;
    for (m = 0; m < b.mic_count; m++) {
        double dx = src[0] - b.pos[m][0], dy = src[1] - b.pos[m][1];
        double dz = src[2] - b.pos[m][2], dist = sqrt(dx * dx + dy * dy + dz * dz);

        if (dist < 0.01) {
            hs_err("talker is %.1f mm from mic %d: increase --distance-m",
                   dist * 1e3, m);
            goto out;
        }
        delay[m] = dist / HS_SPEED_OF_SOUND * b.rate;
        gain[m] = 1.0 / dist;
    }

    mics = calloc((size_t)n_total * (size_t)b.mic_count, sizeof(float));
    noise = malloc(sizeof(float) * (size_t)n_total);
    if (!mics || !noise) {
        hs_err("%s", strerror(ENOMEM));
        goto out;
    }
    /* Speech per mic (planar: mic m at mics + m * n_total). */
    for (m = 0; m < b.mic_count; m++) {
        float *y = mics + (size_t)m * n_total;
        double e = 0.0;

        hs_add_delayed(y, n_total, speech, n_speech, n_lead + delay[m], gain[m]);
        for (i = 0; i < n_total; i++)
            e += (double)y[i] * y[i];
        p_speech += e / (double)n_speech;
    }
    p_speech /= b.mic_count;

    /* Noise: independent per mic, each scaled to the exact target power. */
    if (a.noise != HS_NOISE_NONE) {
        if (p_speech <= 0.0) {
            hs_err("%s: speech is silent, cannot set an SNR (use --noise none)",
                   a.speech);
            goto out;
        }
        p_noise = p_speech / pow(10.0, a.snr_db / 10.0);
        rng.state = a.seed;
        rng.have_spare = false;
        for (m = 0; m < b.mic_count; m++) {
            float *y = mics + (size_t)m * n_total;
            double e = 0.0, scale;

            hs_noise_fill(&rng, a.noise, b.rate, noise, n_total);
            for (i = 0; i < n_total; i++)
                e += (double)noise[i] * noise[i];
            scale = e > 0.0 ? sqrt(p_noise * (double)n_total / e) : 0.0;
            for (i = 0; i < n_total; i++)
                y[i] += (float)(scale * noise[i]);
        }
    }

    /* Echo of REF from a loudspeaker at the array centre. */
    if (ref) {
        double eg = pow(10.0, a.echo_gain_db / 20.0);
        long n = n_ref < n_total ? n_ref : n_total;

        for (m = 0; m < b.mic_count; m++) {
            double d = sqrt(b.pos[m][0] * b.pos[m][0] + b.pos[m][1] * b.pos[m][1]
                            + b.pos[m][2] * b.pos[m][2]);

            hs_add_delayed(mics + (size_t)m * n_total, n_total, ref, n,
                           d / HS_SPEED_OF_SOUND * b.rate, eg);
        }
    }

    /* MICS.wav: interleave in board order. */
    out = malloc(sizeof(float) * (size_t)n_total
                 * (size_t)(b.channels > b.mic_count ? b.channels : b.mic_count));
    if (!out) {
        hs_err("%s", strerror(ENOMEM));
        goto out;
    }
    for (i = 0; i < n_total; i++)
        for (m = 0; m < b.mic_count; m++)
            out[i * b.mic_count + m] = mics[(size_t)m * n_total + i];
    if (hs_write(a.out_mics, b.rate, b.mic_count, a.mics_fmt, out, n_total) < 0)
        goto out;
    {
        long clipped = hs_count_clipped(out, n_total * b.mic_count);

        if (clipped && (a.mics_fmt == WAV_PCM16 || a.out_capture))
            hs_err("warning: %ld mic samples exceed full scale and are clipped "
                   "in PCM16 output", clipped);
        else if (clipped)
            hs_err("warning: %ld mic samples exceed full scale", clipped);
    }

    /* CAPTURE.wav: the board's ALSA capture layout, PCM16. */
    if (a.out_capture) {
        memset(out, 0, sizeof(float) * (size_t)n_total * (size_t)b.channels);
        for (i = 0; i < n_total; i++) {
            for (m = 0; m < b.mic_count; m++)
                out[i * b.channels + b.channel_map[m]] =
                    mics[(size_t)m * n_total + i];
            if (b.ref_channel >= 0 && ref && i < n_ref)
                out[i * b.channels + b.ref_channel] = ref[i];
        }
        if (hs_write(a.out_capture, b.rate, b.channels, WAV_PCM16, out, n_total) < 0)
            goto out;
    }

    if (!a.quiet) {
        printf("board     %s: %d mics, capture %d Hz x %d ch", a.board, b.mic_count,
               b.rate, b.channels);
        if (b.ref_channel >= 0)
            printf(", ref in ch %d (%s)\n", b.ref_channel, ref ? a.ref : "silence");
        else
            printf(", no ref channel\n");
        printf("talker    az %.1f deg, %.3f m; speech %.3f s (%d -> %d Hz)\n",
               a.azimuth_deg, a.distance_m, (double)n_speech / b.rate, speech_rate,
               b.rate);
        for (m = 0; m < b.mic_count; m++)
            printf("mic%-3d    (%+7.1f %+7.1f %+7.1f) mm  delay %8.3f samples  "
                   "gain %.4f\n", m, b.pos[m][0] * 1e3, b.pos[m][1] * 1e3,
                   b.pos[m][2] * 1e3, delay[m], gain[m]);
        printf("scene     %ld frames (%.3f s): lead %ld, speech from frame %ld\n",
               n_total, (double)n_total / b.rate, n_lead, n_lead);
        printf("speech    %.2f dBFS per mic (mean power over the speech)\n",
               hs_db(p_speech));
        if (a.noise != HS_NOISE_NONE)
            printf("noise     %s, %.2f dBFS per mic, SNR %.2f dB, seed %llu\n",
                   a.noise == HS_NOISE_PINK ? "pink" : "white", hs_db(p_noise),
                   a.snr_db, (unsigned long long)a.seed);
        else
            printf("noise     none\n");
        if (ref)
            printf("echo      %s, %.2f dB, %.3f s (%d -> %d Hz)\n", a.ref,
                   a.echo_gain_db, (double)n_ref / b.rate, ref_rate, b.rate);
    }
    rc = HS_EXIT_OK;
out:
    free(out);
    free(noise);
    free(mics);
    free(ref);
    free(ref_in);
    free(speech);
    free(speech_in);
    return rc;
}
