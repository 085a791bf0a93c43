/*
 * hark-scene.c - synthetic test-scene generator for a board's mic array (host
 * tool, offline, single-threaded: everything runs on the main thread).
 *
 * Places a talker (a speech WAV) at an azimuth and distance from the array,
 * optionally a directional interferer and loudspeaker echo of a reference
 * signal, adds uncorrelated noise at a given SNR, and writes one channel per
 * mic, optionally the exact multichannel layout the board's ALSA capture
 * device delivers (mics at channel_map, the playback reference at
 * ref_channel), the reference as the device sees it, every component at
 * the mics separately (for scoring) and a JSON file of ground truth.
 *
 * Propagation, two models:
 *   - free field (default, no --room): direct path only. Mic m at p_m hears
 *     a source at s delayed by |s - p_m| / 343 m/s and scaled by
 *     1 m / |s - p_m| (a source file is taken as the level 1 m from the
 *     source). The array centre is the board origin.
 *   - --room WxDxH: an empty shoebox room, image-source method
 *     (tools/room_sim.c, Allen & Berkley), uniform frequency-independent
 *     wall absorption chosen so that the room's broadband RT60 (Schroeder
 *     T30) is --rt60; IRs per source and mic, truncated where the decay
 *     reaches -60 dB (direct path + RT60) unless --ir-s is given, and
 *     convolved by FFT. Coordinates are room coordinates (the room is
 *     [0,W] x [0,D] x [0,H], z up); the board frame is translated to
 *     --array-pos (default: the floor's centre, 1.0 m high), not rotated.
 *     Talker, interferer and loudspeaker must be inside the room.
 *     Every room IR is high-passed (2nd-order Butterworth, --ir-highpass-hz,
 *     default 50 Hz, 0 = off) as Allen and Berkley advise: the image
 *     method's IRs have a huge nonphysical DC gain (the sum of ~10^5-10^6
 *     image gains), which turned a source's ~1e-3 DC offset into an offset
 *     holding 10-22 % of each rendered component's energy. DRR and T30 are
 *     measured before the filter.
 *
 * Model (all at the board's capture rate fs, the mic clock):
 *   - input WAVs are mixed to mono and resampled with speexdsp (quality 5);
 *   - talker at centre + d * (cos el cos az, cos el sin az, sin el), az in
 *     degrees counter-clockwise from +x, el (--elevation, default 0) up;
 *   - fractional delays use a Kaiser-windowed sinc (64 taps, beta 8, DC gain
 *     normalised to 1), in both models;
 *   - timeline: lead-in silence, then the speech leaves the talker, then the
 *     tail; propagation delay is kept, so mics hear it about d/343 s later.
 *     The loudspeaker starts playing REF at t = 0; the interferer starts at
 *     --interferer-start-s (default 0), cut at the end of the scene or
 *     repeated to fill it (--interferer-loop);
 *   - levels: P_speech is the talker's power at the mics (reverberant in a
 *     room), averaged over mics and over the speech's duration. Noise power
 *     is P_speech / 10^(snr/10) per mic. With --sir-db the interferer is
 *     scaled so that its power at the mics, averaged over mics and over the
 *     span it plays, is P_speech / 10^(sir/10); without it, the interferer
 *     file is its level 1 m away, like the talker. Likewise --ser-db for
 *     the echo (averaged over the span REF plays);
 *   - --level-dbfs L scales everything the mics hear (talker, interferer,
 *     echo, noise; not the reference) so that P_speech is L dBFS; without
 *     it the speech file is its level 1 m from the talker;
 *   - noise: independent white or pink (a cascade of first-order pole/zero
 *     sections at interleaved octave-spaced frequencies, -3 dB/octave from
 *     10 Hz up) per mic (spatially white, also in a room), each scaled
 *     exactly to the target power over the scene;
 *   - echo: what the loudspeaker plays is REF (mono mix, resampled, from
 *     t = 0, cut or zero-padded to the scene) read at the playback clock:
 *     with --drift-ppm P the playback clock runs at (1 + P 1e-6) times the
 *     mic clock, so the loudspeaker emits REF(n (1 + P 1e-6)) at mic sample
 *     n (band-limited interpolation); then --nonlinear K applies a
 *     peak-preserving soft clip y = peak tanh(K x / peak) / tanh(K); then the
 *     echo gain; then the path to the mics. Free field: the loudspeaker is
 *     at the array centre (or --speaker-pos, board frame) with no 1/r term
 *     (near field, as before). Room: it is 5 cm below the array centre (the
 *     device's own speaker) or at --speaker-pos (room frame), through the
 *     room with 1/r. --ser-db, when given, sets the echo level and the echo
 *     gain is ignored (--echo-gain-db then only warns);
 *   - the reference the device sees (REF_OUT.wav, the capture's ref
 *     channel) is REF at unit gain at the mic clock, shifted by
 *     --ref-delay-ms (positive: the reference arrives late, i.e. REF_OUT[n]
 *     = REF(n - delay)), without drift or clipping;
 *   - noise uses a splitmix64 generator seeded by --seed, and the optional
 *     image jitter a hash of --seed: same arguments, same output, bit for
 *     bit. Without the new options the free-field output is what earlier
 *     versions wrote.
 *
 * Clean components (--out-clean-dir DIR, float, one channel per mic, scene
 * length, zeros for a component that is absent): talker.wav (as in
 * MICS.wav), talker_direct.wav (direct path only), interferer.wav,
 * echo.wav, noise.wav; MICS = talker + noise + echo + interferer. Plus
 * loudspeaker.wav (mono: what the loudspeaker emitted, mic clock, after
 * drift, clipping and gain).
 *
 * Ground truth (--out-meta META.json, "-" for stdout): geometry, levels,
 * RT60 (requested, the calibration's and measured on the talker's IR at
 * mic 0), direct-path delays, DRR, the echo's lag behind the reference,
 * and activity segments in seconds: speech (from the direct-path talker),
 * interferer and echo (from those components at the mics), each where
 * 10 ms frames are within 40 dB of the component's loudest frame, gaps
 * under 100 ms bridged.
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
#include <sys/stat.h>
#include <time.h>

#include <speex/speex_resampler.h>

#include "config.h"
#include "room_sim.h"
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
#define HS_IR_HIGHPASS_HZ 50.0  /* DC removal on room IRs (room_sim_highpass) */

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

/*
 * y[n] += gain * x(n - delay) for n in [0, n_y), x given at integer times
 * [0, n_x) and zero elsewhere, delay >= 0 in samples (fractional allowed).
 * Band-limited interpolation with a Kaiser-windowed sinc.
 */
static void hs_add_delayed(float *y, long n_y, const float *x, long n_x,
                           double delay, double gain)
{
    double h[2 * HS_SINC_HALF];
    double i0_beta = room_sim_bessel_i0(HS_KAISER_BETA), sum = 0.0;
    long d_int = (long)floor(delay), j;
    double frac = delay - (double)d_int;
    int k;

    /* h[k + HALF - 1] multiplies x[n - d_int - k], k = -HALF+1 .. HALF. */
    for (k = -HS_SINC_HALF + 1; k <= HS_SINC_HALF; k++) {
        double t = k - frac, u = t / HS_SINC_HALF, w, s;

        w = fabs(u) < 1.0 ? room_sim_bessel_i0(HS_KAISER_BETA * sqrt(1.0 - u * u)) / i0_beta
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

/* ---- scene geometry and rendering ------------------------------------------ */

/* Where the mics are and how sound reaches them. Positions are in the scene
 * frame: room coordinates with --room, the board frame otherwise. */
struct hs_scene {
    int mics, rate;
    long n_total;
    double centre[3];
    double mic[HS_MAX_MICS][3];
    bool room;
    struct room_sim_room rm;
    struct room_sim_opts ro;  /* fs, max_order, jitter, seed; max_time set per source */
    double rt60, ir_s;        /* ir_s 0: direct path + RT60 */
    double ir_hp_hz;          /* DC-removing high-pass on every IR; 0: off */
};

/* What hs_render() found out about a source's paths. */
struct hs_path_info {
    double delay[HS_MAX_MICS];   /* direct path, samples */
    double gain[HS_MAX_MICS];    /* direct path gain */
    double drr_db[HS_MAX_MICS];  /* room, full path: direct-to-reverberant ratio */
    long n_images;               /* room: image sources summed over mics */
    long ir_len;                 /* room: taps per IR */
    double t30_mic0;             /* room, full path: Schroeder T30 of mic 0's IR, or -1 */
};

enum hs_path {
    HS_PATH_FULL,    /* every reflection (free field: the direct path) */
    HS_PATH_DIRECT,  /* direct path only */
};

static double hs_dist(const double a[3], const double b[3])
{
    double dx = a[0] - b[0], dy = a[1] - b[1], dz = a[2] - b[2];

    return sqrt(dx * dx + dy * dy + dz * dz);
}

/*
 * Adds, for every mic m, gain * (x heard at mic m) to out + m * n_total,
 * where x (nx samples) leaves the source at position src from scene sample
 * `start`. Free field: delay and, with `spread`, 1 m / r. Room: the image
 * source IR (always with 1/r), direct path only for HS_PATH_DIRECT.
 */
static int hs_render(const struct hs_scene *sc, const float *x, long nx, long start,
                     const double src[3], enum hs_path path, bool spread, double gain,
                     float *out, struct hs_path_info *info)
{
    struct room_sim_opts o = sc->ro;
    float *hbuf = NULL, *dbuf = NULL, *h[HS_MAX_MICS], *y[HS_MAX_MICS];
    double maxd = 0.0;
    long nh;
    int pre, r, m;

    memset(info, 0, sizeof(*info));
    info->t30_mic0 = -1.0;
    for (m = 0; m < sc->mics; m++) {
        double dist = hs_dist(src, sc->mic[m]);

        info->delay[m] = dist / HS_SPEED_OF_SOUND * sc->rate;
        info->gain[m] = 1.0 / dist;
        info->drr_db[m] = INFINITY;
        if (dist > maxd)
            maxd = dist;
    }
    if (!sc->room) {
        for (m = 0; m < sc->mics; m++)
            hs_add_delayed(out + (size_t)m * sc->n_total, sc->n_total, x, nx,
                           (double)start + info->delay[m],
                           spread ? gain * info->gain[m] : gain);
        if (!spread)
            for (m = 0; m < sc->mics; m++)
                info->gain[m] = 1.0;
        return 0;
    }

    o.c = HS_SPEED_OF_SOUND;
    if (path == HS_PATH_DIRECT) {
        o.max_order = 0;
        o.max_time_s = maxd / HS_SPEED_OF_SOUND + 0.002;
    } else {
        o.max_time_s = sc->ir_s > 0.0 ? sc->ir_s
                                      : maxd / HS_SPEED_OF_SOUND + sc->rt60 + 0.002;
    }
    nh = room_sim_ir_len(&o);
    pre = room_sim_ir_pre(&o);
    info->ir_len = nh;
    hbuf = malloc(sizeof(float) * (size_t)nh * (size_t)sc->mics);
    if (path == HS_PATH_FULL)
        dbuf = malloc(sizeof(float) * (size_t)nh);
    if (!hbuf || (path == HS_PATH_FULL && !dbuf)) {
        r = -ENOMEM;
        goto out;
    }
    for (m = 0; m < sc->mics; m++) {
        long nimg;

        h[m] = hbuf + (size_t)m * nh;
        y[m] = out + (size_t)m * sc->n_total;
        r = room_sim_ir(&sc->rm, &o, src, sc->mic[m], h[m], nh, &nimg);
        if (r < 0)
            goto out;
        info->n_images += nimg;
        if (path == HS_PATH_FULL) {
            struct room_sim_opts od = o;
            double ed = 0.0, er = 0.0;

            od.max_order = 0;
            r = room_sim_ir(&sc->rm, &od, src, sc->mic[m], dbuf, nh, NULL);
            if (r < 0)
                goto out;
            for (long k = 0; k < nh; k++) {
                double d = dbuf[k], rv = (double)h[m][k] - d;

                ed += d * d;
                er += rv * rv;
            }
            info->drr_db[m] = er > 0.0 ? 10.0 * log10(ed / er) : INFINITY;
        }
    }
    if (path == HS_PATH_FULL)
        info->t30_mic0 = room_sim_measure_rt60(h[0], nh, sc->rate, 5.0, 35.0);
    /* After the DRR and T30 (measured on the IR as the image method gives
     * it), before use: the direct-path-only render gets the same filter, so
     * talker_direct stays the direct part of talker. */
    for (m = 0; m < sc->mics; m++)
        room_sim_highpass(h[m], nh, sc->rate, sc->ir_hp_hz);
    r = room_sim_convolve(x, nx, (const float *const *)h, sc->mics, nh, y, sc->n_total,
                          (long)pre - start, gain);
out:
    free(dbuf);
    free(hbuf);
    return r;
}

/* Mean over mics of the energy of planar[m * n + i], divided by `span`. */
static double hs_power(const float *planar, int mics, long n, long span)
{
    double p = 0.0;

    for (int m = 0; m < mics; m++) {
        const float *y = planar + (size_t)m * n;
        double e = 0.0;

        for (long i = 0; i < n; i++)
            e += (double)y[i] * y[i];
        p += span > 0 ? e / (double)span : 0.0;
    }
    return p / mics;
}

static void hs_scale(float *x, long n, double g)
{
    for (long i = 0; i < n; i++)
        x[i] = (float)(g * x[i]);
}

/* ---- activity segments ------------------------------------------------------- */

#define HS_SEG_FRAME_MS 10
#define HS_SEG_FLOOR_DB 40.0
#define HS_SEG_BRIDGE_MS 100

struct hs_segs {
    int n;
    double (*t)[2];  /* [start_s, end_s) */
};

/* Frames of 10 ms whose energy (summed over mics) is within 40 dB of the
 * loudest frame; gaps under 100 ms bridged. */
static int hs_segments(const float *planar, int mics, long n, int rate, struct hs_segs *s)
{
    long frame = rate * HS_SEG_FRAME_MS / 1000, nf, f, bridge;
    double *e, peak = 0.0, thr;
    int cap = 0;

    s->n = 0;
    s->t = NULL;
    if (frame < 1)
        frame = 1;
    nf = (n + frame - 1) / frame;
    bridge = HS_SEG_BRIDGE_MS / HS_SEG_FRAME_MS;
    e = calloc((size_t)nf + 1, sizeof(double));
    if (!e)
        return -ENOMEM;
    for (int m = 0; m < mics; m++)
        for (long i = 0; i < n; i++)
            e[i / frame] += (double)planar[(size_t)m * n + i] * planar[(size_t)m * n + i];
    for (f = 0; f < nf; f++)
        if (e[f] > peak)
            peak = e[f];
    if (peak == 0.0) {
        free(e);
        return 0;
    }
    thr = peak * pow(10.0, -HS_SEG_FLOOR_DB / 10.0);
    for (f = 0; f < nf;) {
        long f0, f1;

        if (e[f] < thr) {
            f++;
            continue;
        }
        f0 = f;
        f1 = f + 1;
        for (f = f1; f < nf; f++) {
            if (e[f] >= thr)
                f1 = f + 1;
            else if (f - f1 >= bridge)
                break;
        }
        if (s->n == cap) {
            int ncap = cap ? cap * 2 : 16;
            double (*p)[2] = realloc(s->t, sizeof(*p) * (size_t)ncap);

            if (!p) {
                free(e);
                return -ENOMEM;
            }
            s->t = p;
            cap = ncap;
        }
        s->t[s->n][0] = (double)(f0 * frame) / rate;
        s->t[s->n][1] = (double)(f1 * frame < n ? f1 * frame : n) / rate;
        s->n++;
        f = f1;
    }
    free(e);
    return 0;
}

/* ---- JSON ------------------------------------------------------------------ */

static void hs_json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;

        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static void hs_json_num(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, "%.6g", v);
    else
        fputs("null", f);
}

static void hs_json_vec(FILE *f, const double *v, int n)
{
    fputc('[', f);
    for (int i = 0; i < n; i++) {
        if (i)
            fputs(", ", f);
        hs_json_num(f, v[i]);
    }
    fputc(']', f);
}

static void hs_json_segs(FILE *f, const struct hs_segs *s)
{
    fputc('[', f);
    for (int i = 0; i < s->n; i++)
        fprintf(f, "%s[%.3f, %.3f]", i ? ", " : "", s->t[i][0], s->t[i][1]);
    fputc(']', f);
}

/* ---- arguments ---------------------------------------------------------------- */

struct hs_args {
    const char *board, *speech, *ref, *out_mics, *out_capture;
    double azimuth_deg, distance_m, snr_db, echo_gain_db, lead_s, tail_s;
    bool have_azimuth;
    enum hs_noise noise;
    enum wav_sample_format mics_fmt;
    uint64_t seed;
    bool quiet;
    double elevation_deg, level_dbfs;
    bool have_level;
    /* room */
    bool room;
    double room_dims[3], rt60, ir_s, jitter_m, array_pos[3], ir_hp_hz;
    int max_order;
    bool have_rt60, have_array_pos, have_max_order, have_ir_s, have_jitter, have_ir_hp;
    /* interferer */
    const char *interferer;
    double int_az, int_el, int_dist, sir_db, int_start_s;
    bool have_int_az, have_int_el, have_int_dist, have_sir, have_int_start, int_loop;
    /* echo */
    double speaker_pos[3], ser_db, nonlinear, ref_delay_ms, drift_ppm;
    bool have_speaker_pos, have_ser, have_echo_gain;
    /* outputs */
    const char *out_ref, *out_clean_dir, *out_meta;
};

static void hs_usage(FILE *f)
{
    fprintf(f,
            "usage: " HS_PROG " --board BOARD.conf --speech SPEECH.wav --azimuth DEG\n"
            "                  [--distance-m 1.5] [--elevation 0] [--snr-db 20]\n"
            "                  [--noise white|pink|none] [--lead-s 0.5] [--tail-s 0.5]\n"
            "                  [--level-dbfs L]\n"
            "                  [--room WxDxH [--rt60 0.4] [--array-pos X,Y,Z] [--max-order N]\n"
            "                   [--ir-s S] [--image-jitter M] [--ir-highpass-hz 50]]\n"
            "                  [--interferer WAV --interferer-azimuth DEG\n"
            "                   [--interferer-distance M] [--interferer-elevation DEG]\n"
            "                   [--sir-db DB] [--interferer-start-s 0] [--interferer-loop]]\n"
            "                  [--ref REF.wav [--echo-gain-db -6 | --ser-db DB]\n"
            "                   [--speaker-pos X,Y,Z] [--nonlinear K] [--drift-ppm P]\n"
            "                   [--ref-delay-ms MS]]\n"
            "                  [--seed N] [--mics-format float|pcm16] [--quiet]\n"
            "                  --out-mics MICS.wav [--out-capture CAPTURE.wav]\n"
            "                  [--out-ref REF_OUT.wav] [--out-clean-dir DIR]\n"
            "                  [--out-meta META.json|-]\n"
            "\n"
            "Talker at DEG (counter-clockwise from +x, board frame), free field or in a\n"
            "shoebox room (image sources, RT60 by Schroeder T30), plus uncorrelated noise,\n"
            "an optional directional interferer and optional loudspeaker echo of REF.\n"
            "MICS.wav: one channel per mic in board order (float by default).\n"
            "CAPTURE.wav: PCM16 in the board's ALSA capture layout ([capture]\n"
            "channels, mics at channel_map, the reference or silence at ref_channel).\n"
            "Room coordinates in metres, z up; the array centre defaults to the floor's\n"
            "centre at 1.0 m, the loudspeaker to 5 cm below the array centre.\n"
            "--ser-db wins over --echo-gain-db. --ref-delay-ms > 0: the reference\n"
            "arrives late; --drift-ppm > 0: the playback clock runs fast.\n"
            "See the header of tools/hark-scene.c for the model.\n");
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

/* "A<sep>B<sep>C" with sep any character of seps. */
static int hs_parse_triple(const char *s, const char *seps, double out[3])
{
    const char *p = s;

    for (int k = 0; k < 3; k++) {
        char *end;
        double v;

        errno = 0;
        v = strtod(p, &end);
        if (errno || end == p || !isfinite(v))
            return -EINVAL;
        while (*end == ' ')
            end++;
        if (k < 2) {
            if (!*end || !strchr(seps, *end))
                return -EINVAL;
            p = end + 1;
        } else if (*end) {
            return -EINVAL;
        }
        out[k] = v;
    }
    return 0;
}

/* Returns 0, or an exit status to leave with. */
static int hs_parse_args(int argc, char **argv, struct hs_args *a)
{
    enum {
        OPT_BOARD = 256, OPT_SPEECH, OPT_AZIMUTH, OPT_DISTANCE, OPT_SNR,
        OPT_NOISE, OPT_REF, OPT_ECHO, OPT_LEAD, OPT_TAIL, OPT_SEED,
        OPT_OUT_MICS, OPT_OUT_CAPTURE, OPT_MICS_FORMAT,
        OPT_ELEVATION, OPT_ROOM, OPT_RT60, OPT_ARRAY_POS, OPT_MAX_ORDER, OPT_IR_S,
        OPT_JITTER, OPT_INTERFERER, OPT_INT_AZ, OPT_INT_DIST, OPT_INT_EL, OPT_SIR,
        OPT_INT_START, OPT_INT_LOOP, OPT_SPEAKER_POS, OPT_SER, OPT_NONLINEAR,
        OPT_REF_DELAY, OPT_DRIFT, OPT_OUT_REF, OPT_OUT_CLEAN, OPT_OUT_META, OPT_LEVEL,
        OPT_IR_HP,
    };
    static const struct option opts[] = {
        { "board", required_argument, NULL, OPT_BOARD },
        { "speech", required_argument, NULL, OPT_SPEECH },
        { "azimuth", required_argument, NULL, OPT_AZIMUTH },
        { "distance-m", required_argument, NULL, OPT_DISTANCE },
        { "elevation", required_argument, NULL, OPT_ELEVATION },
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
        { "room", required_argument, NULL, OPT_ROOM },
        { "rt60", required_argument, NULL, OPT_RT60 },
        { "array-pos", required_argument, NULL, OPT_ARRAY_POS },
        { "max-order", required_argument, NULL, OPT_MAX_ORDER },
        { "ir-s", required_argument, NULL, OPT_IR_S },
        { "image-jitter", required_argument, NULL, OPT_JITTER },
        { "ir-highpass-hz", required_argument, NULL, OPT_IR_HP },
        { "interferer", required_argument, NULL, OPT_INTERFERER },
        { "interferer-azimuth", required_argument, NULL, OPT_INT_AZ },
        { "interferer-distance", required_argument, NULL, OPT_INT_DIST },
        { "interferer-elevation", required_argument, NULL, OPT_INT_EL },
        { "sir-db", required_argument, NULL, OPT_SIR },
        { "interferer-start-s", required_argument, NULL, OPT_INT_START },
        { "interferer-loop", no_argument, NULL, OPT_INT_LOOP },
        { "speaker-pos", required_argument, NULL, OPT_SPEAKER_POS },
        { "ser-db", required_argument, NULL, OPT_SER },
        { "nonlinear", required_argument, NULL, OPT_NONLINEAR },
        { "ref-delay-ms", required_argument, NULL, OPT_REF_DELAY },
        { "drift-ppm", required_argument, NULL, OPT_DRIFT },
        { "out-ref", required_argument, NULL, OPT_OUT_REF },
        { "out-clean-dir", required_argument, NULL, OPT_OUT_CLEAN },
        { "out-meta", required_argument, NULL, OPT_OUT_META },
        { "level-dbfs", required_argument, NULL, OPT_LEVEL },
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
    a->rt60 = 0.4;
    a->max_order = -1;
    a->ir_hp_hz = HS_IR_HIGHPASS_HZ;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "qh", opts, &li)) != -1) {
        double *dst = NULL, *dst3 = NULL;
        const char *seps = ",";

        switch (c) {
        case OPT_BOARD: a->board = optarg; break;
        case OPT_SPEECH: a->speech = optarg; break;
        case OPT_REF: a->ref = optarg; break;
        case OPT_OUT_MICS: a->out_mics = optarg; break;
        case OPT_OUT_CAPTURE: a->out_capture = optarg; break;
        case OPT_OUT_REF: a->out_ref = optarg; break;
        case OPT_OUT_CLEAN: a->out_clean_dir = optarg; break;
        case OPT_OUT_META: a->out_meta = optarg; break;
        case OPT_INTERFERER: a->interferer = optarg; break;
        case OPT_INT_LOOP: a->int_loop = true; break;
        case OPT_AZIMUTH: dst = &a->azimuth_deg; a->have_azimuth = true; break;
        case OPT_DISTANCE: dst = &a->distance_m; break;
        case OPT_ELEVATION: dst = &a->elevation_deg; break;
        case OPT_SNR: dst = &a->snr_db; break;
        case OPT_ECHO: dst = &a->echo_gain_db; a->have_echo_gain = true; break;
        case OPT_LEAD: dst = &a->lead_s; break;
        case OPT_TAIL: dst = &a->tail_s; break;
        case OPT_ROOM: dst3 = a->room_dims; seps = "x,"; a->room = true; break;
        case OPT_RT60: dst = &a->rt60; a->have_rt60 = true; break;
        case OPT_ARRAY_POS: dst3 = a->array_pos; a->have_array_pos = true; break;
        case OPT_IR_S: dst = &a->ir_s; a->have_ir_s = true; break;
        case OPT_JITTER: dst = &a->jitter_m; a->have_jitter = true; break;
        case OPT_IR_HP: dst = &a->ir_hp_hz; a->have_ir_hp = true; break;
        case OPT_INT_AZ: dst = &a->int_az; a->have_int_az = true; break;
        case OPT_INT_DIST: dst = &a->int_dist; a->have_int_dist = true; break;
        case OPT_INT_EL: dst = &a->int_el; a->have_int_el = true; break;
        case OPT_SIR: dst = &a->sir_db; a->have_sir = true; break;
        case OPT_INT_START: dst = &a->int_start_s; a->have_int_start = true; break;
        case OPT_SPEAKER_POS: dst3 = a->speaker_pos; a->have_speaker_pos = true; break;
        case OPT_SER: dst = &a->ser_db; a->have_ser = true; break;
        case OPT_NONLINEAR: dst = &a->nonlinear; break;
        case OPT_REF_DELAY: dst = &a->ref_delay_ms; break;
        case OPT_DRIFT: dst = &a->drift_ppm; break;
        case OPT_LEVEL: dst = &a->level_dbfs; a->have_level = true; break;
        case OPT_MAX_ORDER: {
            char *end;
            long v;

            errno = 0;
            v = strtol(optarg, &end, 10);
            if (errno || end == optarg || *end || v < 0 || v > 1000)
                return hs_bad_usage("bad --max-order '%s' (0..1000)", optarg);
            a->max_order = (int)v;
            a->have_max_order = true;
            break;
        }
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
        if (dst3 && hs_parse_triple(optarg, seps, dst3))
            return hs_bad_usage("bad --%s '%s' (three numbers, e.g. %s)", opts[li].name,
                                optarg, c == OPT_ROOM ? "5x4x2.7" : "2.5,2,1");
    }
    if (optind != argc)
        return hs_bad_usage("unexpected argument '%s'", argv[optind]);
    if (!a->board || !a->speech || !a->have_azimuth || !a->out_mics)
        return hs_bad_usage("--board, --speech, --azimuth and --out-mics are required");
    if (a->distance_m <= 0.0)
        return hs_bad_usage("--distance-m must be > 0");
    if (fabs(a->elevation_deg) > 90.0 || fabs(a->int_el) > 90.0)
        return hs_bad_usage("elevations must be in -90..90 degrees");
    if (a->lead_s < 0.0 || a->tail_s < 0.0 || a->lead_s > 3600 || a->tail_s > 3600)
        return hs_bad_usage("--lead-s and --tail-s must be in 0..3600");
    if (a->room) {
        for (int k = 0; k < 3; k++)
            if (!(a->room_dims[k] > 0.0 && a->room_dims[k] <= 1000.0))
                return hs_bad_usage("--room sides must be in (0, 1000] m");
        if (a->rt60 < 0.0 || a->rt60 > 2.0)
            return hs_bad_usage("--rt60 must be in 0..2 s (0: anechoic walls)");
        if (a->have_ir_s && !(a->ir_s > 0.0 && a->ir_s <= 10.0))
            return hs_bad_usage("--ir-s must be in (0, 10] s");
        if (a->jitter_m < 0.0 || a->jitter_m > 0.5)
            return hs_bad_usage("--image-jitter must be in 0..0.5 m");
        if (a->ir_hp_hz < 0.0 || a->ir_hp_hz > 200.0)
            return hs_bad_usage("--ir-highpass-hz must be in 0..200 Hz (0: off)");
    } else if (a->have_rt60 || a->have_array_pos || a->have_max_order || a->have_ir_s
               || a->have_jitter || a->have_ir_hp) {
        return hs_bad_usage("--rt60, --array-pos, --max-order, --ir-s, --image-jitter and "
                            "--ir-highpass-hz need --room");
    }
    if (a->interferer) {
        if (!a->have_int_az)
            return hs_bad_usage("--interferer needs --interferer-azimuth");
        if (!a->have_int_dist)
            a->int_dist = a->distance_m;
        if (a->int_dist <= 0.0)
            return hs_bad_usage("--interferer-distance must be > 0");
        if (a->int_start_s < 0.0 || a->int_start_s > 3600)
            return hs_bad_usage("--interferer-start-s must be in 0..3600");
    } else if (a->have_int_az || a->have_int_dist || a->have_int_el || a->have_sir
               || a->have_int_start || a->int_loop) {
        return hs_bad_usage("--interferer-* and --sir-db need --interferer");
    }
    if (!a->ref && (a->have_ser || a->have_speaker_pos || a->nonlinear != 0.0
                    || a->ref_delay_ms != 0.0 || a->drift_ppm != 0.0 || a->out_ref))
        return hs_bad_usage("--ser-db, --speaker-pos, --nonlinear, --ref-delay-ms, "
                            "--drift-ppm and --out-ref need --ref");
    if (a->nonlinear < 0.0 || a->nonlinear > 100.0)
        return hs_bad_usage("--nonlinear must be in 0..100 (0: linear)");
    if (fabs(a->ref_delay_ms) > 1000.0)
        return hs_bad_usage("--ref-delay-ms must be in -1000..1000");
    if (fabs(a->drift_ppm) > 10000.0)
        return hs_bad_usage("--drift-ppm must be in -10000..10000");
    if (a->have_level && !(a->level_dbfs <= 0.0 && a->level_dbfs >= -120.0))
        return hs_bad_usage("--level-dbfs must be in -120..0");
    if (a->have_ser && a->have_echo_gain)
        hs_err("warning: --ser-db given: --echo-gain-db is ignored");
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

/* Planar (channel c at planar + c * frames) to interleaved tmp, then write. */
static int hs_write_planar(const char *path, int rate, int channels,
                           enum wav_sample_format fmt, const float *planar, long frames,
                           float *tmp)
{
    for (long i = 0; i < frames; i++)
        for (int c = 0; c < channels; c++)
            tmp[i * channels + c] = planar[(size_t)c * frames + i];
    return hs_write(path, rate, channels, fmt, tmp, frames);
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

static int hs_load_resampled(const char *path, int rate, float **out, long *n_out,
                             int *rate_in_out)
{
    float *in = NULL;
    long n_in = 0;
    int r;

    r = hs_load_mono(path, &in, &n_in, rate_in_out);
    if (r < 0) {
        hs_err("%s: %s", path, r == -ENODATA ? "no audio" :
               r == -ENOMEM ? strerror(ENOMEM) : wav_strerror_last());
        return r;
    }
    r = hs_resample(in, n_in, *rate_in_out, rate, out, n_out);
    free(in);
    if (r < 0)
        hs_err("%s: resampling %d -> %d Hz failed", path, *rate_in_out, rate);
    return r;
}

/* Source position: centre + d * (cos el cos az, cos el sin az, sin el). */
static void hs_place(const double centre[3], double az_deg, double el_deg, double d,
                     double out[3])
{
    double az = az_deg * M_PI / 180.0, el = el_deg * M_PI / 180.0;

    out[0] = centre[0] + d * cos(az) * cos(el);
    out[1] = centre[1] + d * sin(az) * cos(el);
    out[2] = centre[2] + d * sin(el);
}

static bool hs_in_room(const struct hs_scene *sc, const double p[3], const char *what)
{
    if (!sc->room)
        return true;
    for (int k = 0; k < 3; k++) {
        if (!(p[k] > 0.0 && p[k] < sc->rm.dims[k])) {
            hs_err("%s at (%.3f, %.3f, %.3f) m is outside the %.2f x %.2f x %.2f m room",
                   what, p[0], p[1], p[2], sc->rm.dims[0], sc->rm.dims[1], sc->rm.dims[2]);
            return false;
        }
    }
    return true;
}

static double hs_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---- main ------------------------------------------------------------------- */

/* Planar component buffers, mic m at buf + m * n_total. */
struct hs_bufs {
    float *talker, *direct, *interf, *echo, *noise, *mics;
    float *played, *ref_out, *int_sig, *tmp, *noise1;
};

static void hs_bufs_free(struct hs_bufs *z)
{
    free(z->talker);
    if (z->direct != z->talker)
        free(z->direct);
    free(z->interf);
    free(z->echo);
    free(z->noise);
    free(z->mics);
    free(z->played);
    free(z->ref_out);
    free(z->int_sig);
    free(z->tmp);
    free(z->noise1);
}

int main(int argc, char **argv)
{
    struct hs_args a;
    struct hs_board b;
    struct hs_scene sc;
    struct hs_bufs z;
    struct hs_path_info ti, di, ii, ei;
    struct hs_segs seg_speech = { 0, NULL }, seg_int = { 0, NULL }, seg_echo = { 0, NULL };
    float *speech = NULL, *ref = NULL, *interf = NULL;
    long n_speech, n_ref = 0, n_interf = 0, n_lead, n_tail, n_total, n_int_active = 0;
    long n_echo_active = 0, i, plane;
    int speech_rate, ref_rate = 0, interf_rate = 0, rc = HS_EXIT_ERR, r, m;
    double talker_pos[3], int_pos[3] = { 0 }, spk_pos[3] = { 0 };
    double p_speech = 0.0, p_direct = 0.0, p_noise = 0.0, p_int = 0.0, p_echo = 0.0;
    double int_gain = 1.0, echo_gain = 1.0, nl_resid_db = -INFINITY;
    double ref_delay = 0.0, drift = 0.0, beta_t30 = -1.0, t_start, t_render;
    struct hs_rng rng;

    memset(&z, 0, sizeof(z));
    memset(&ii, 0, sizeof(ii));
    memset(&ei, 0, sizeof(ei));
    r = hs_parse_args(argc, argv, &a);
    if (r)
        return r;

    r = hs_board_load(a.board, &b);
    if (r < 0)
        return HS_EXIT_ERR;
    if (hs_load_resampled(a.speech, b.rate, &speech, &n_speech, &speech_rate) < 0)
        goto out;
    if (a.ref && hs_load_resampled(a.ref, b.rate, &ref, &n_ref, &ref_rate) < 0)
        goto out;
    if (a.interferer
        && hs_load_resampled(a.interferer, b.rate, &interf, &n_interf, &interf_rate) < 0)
        goto out;
    t_start = hs_now();

    n_lead = lround(a.lead_s * b.rate);
    n_tail = lround(a.tail_s * b.rate);
    n_total = n_lead + n_speech + n_tail;

    /* Geometry. */
    memset(&sc, 0, sizeof(sc));
    sc.mics = b.mic_count;
    sc.rate = b.rate;
    sc.n_total = n_total;
    sc.room = a.room;
    if (a.room) {
        memcpy(sc.rm.dims, a.room_dims, sizeof(sc.rm.dims));
        if (a.have_array_pos) {
            memcpy(sc.centre, a.array_pos, sizeof(sc.centre));
        } else {
            sc.centre[0] = a.room_dims[0] / 2.0;
            sc.centre[1] = a.room_dims[1] / 2.0;
            sc.centre[2] = a.room_dims[2] > 2.0 ? 1.0 : a.room_dims[2] / 2.0;
        }
        sc.rt60 = a.rt60;
        sc.ir_s = a.have_ir_s ? a.ir_s : 0.0;
        sc.ir_hp_hz = a.ir_hp_hz;
        room_sim_opts_default(&sc.ro, b.rate);
        sc.ro.c = HS_SPEED_OF_SOUND;
        sc.ro.max_order = a.max_order;
        sc.ro.jitter_m = a.jitter_m;
        sc.ro.seed = a.seed;
        r = room_sim_beta_for_rt60(sc.rm.dims, a.rt60, HS_SPEED_OF_SOUND, &sc.rm.beta,
                                   &beta_t30);
        if (r < 0) {
            hs_err("room: %s", strerror(-r));
            goto out;
        }
    }
    for (m = 0; m < b.mic_count; m++) {
        for (int k = 0; k < 3; k++)
            sc.mic[m][k] = sc.centre[k] + b.pos[m][k];
        if (!hs_in_room(&sc, sc.mic[m], "a mic"))
            goto out;
    }
    hs_place(sc.centre, a.azimuth_deg, a.elevation_deg, a.distance_m, talker_pos);
    if (!hs_in_room(&sc, talker_pos, "the talker"))
        goto out;
    if (a.interferer) {
        hs_place(sc.centre, a.int_az, a.int_el, a.int_dist, int_pos);
        if (!hs_in_room(&sc, int_pos, "the interferer"))
            goto out;
    }
    if (a.ref) {
        if (a.have_speaker_pos) {
            memcpy(spk_pos, a.speaker_pos, sizeof(spk_pos));
        } else if (a.room) {
            memcpy(spk_pos, sc.centre, sizeof(spk_pos));
            spk_pos[2] -= 0.05;
        }
        if (!hs_in_room(&sc, spk_pos, "the loudspeaker"))
            goto out;
    }
    for (m = 0; m < b.mic_count; m++) {
        double dist = hs_dist(talker_pos, sc.mic[m]);

        if (dist < 0.01) {
            hs_err("talker is %.1f mm from mic %d: increase --distance-m",
                   dist * 1e3, m);
            goto out;
        }
        if (a.interferer && hs_dist(int_pos, sc.mic[m]) < 0.01) {
            hs_err("interferer is within 10 mm of mic %d", m);
            goto out;
        }
        if (a.ref && a.room && hs_dist(spk_pos, sc.mic[m]) < 0.01) {
            hs_err("loudspeaker is within 10 mm of mic %d", m);
            goto out;
        }
    }

    plane = n_total * b.mic_count;
    z.talker = calloc((size_t)plane, sizeof(float));
    z.interf = calloc((size_t)plane, sizeof(float));
    z.echo = calloc((size_t)plane, sizeof(float));
    z.noise = calloc((size_t)plane, sizeof(float));
    z.mics = calloc((size_t)plane, sizeof(float));
    z.noise1 = malloc(sizeof(float) * (size_t)n_total);
    z.tmp = malloc(sizeof(float) * (size_t)n_total
                   * (size_t)(b.channels > b.mic_count ? b.channels : b.mic_count));
    if (!z.talker || !z.interf || !z.echo || !z.noise || !z.mics || !z.noise1 || !z.tmp) {
        hs_err("%s", strerror(ENOMEM));
        goto out;
    }

    /* Talker: reverberant and direct path. */
    r = hs_render(&sc, speech, n_speech, n_lead, talker_pos, HS_PATH_FULL, true, 1.0,
                  z.talker, &ti);
    if (r < 0)
        goto out_render;
    if (a.room) {
        z.direct = calloc((size_t)plane, sizeof(float));
        if (!z.direct) {
            r = -ENOMEM;
            goto out_render;
        }
        r = hs_render(&sc, speech, n_speech, n_lead, talker_pos, HS_PATH_DIRECT, true, 1.0,
                      z.direct, &di);
        if (r < 0)
            goto out_render;
    } else {
        z.direct = z.talker;
        di = ti;
    }
    p_speech = hs_power(z.talker, b.mic_count, n_total, n_speech);
    p_direct = hs_power(z.direct, b.mic_count, n_total, n_speech);

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
            float *y = z.noise + (size_t)m * n_total;
            double e = 0.0, scale;

            hs_noise_fill(&rng, a.noise, b.rate, z.noise1, n_total);
            for (i = 0; i < n_total; i++)
                e += (double)z.noise1[i] * z.noise1[i];
            scale = e > 0.0 ? sqrt(p_noise * (double)n_total / e) : 0.0;
            for (i = 0; i < n_total; i++)
                y[i] = (float)(scale * z.noise1[i]);
        }
    }

    /* Interferer: placed at its start, cut or looped to the scene. */
    if (interf) {
        long s0 = lround(a.int_start_s * b.rate);

        z.int_sig = calloc((size_t)n_total, sizeof(float));
        if (!z.int_sig) {
            r = -ENOMEM;
            goto out_render;
        }
        for (i = s0; i < n_total; i++) {
            long k = i - s0;

            if (k >= n_interf && !a.int_loop)
                break;
            z.int_sig[i] = interf[k % n_interf];
            n_int_active++;
        }
        r = hs_render(&sc, z.int_sig, n_total, 0, int_pos, HS_PATH_FULL, true, 1.0,
                      z.interf, &ii);
        if (r < 0)
            goto out_render;
        p_int = hs_power(z.interf, b.mic_count, n_total, n_int_active);
        if (a.have_sir) {
            if (p_speech <= 0.0 || p_int <= 0.0) {
                hs_err("%s: silent talker or interferer, cannot set an SIR",
                       p_speech <= 0.0 ? a.speech : a.interferer);
                goto out;
            }
            int_gain = sqrt(p_speech / pow(10.0, a.sir_db / 10.0) / p_int);
            hs_scale(z.interf, plane, int_gain);
            p_int = hs_power(z.interf, b.mic_count, n_total, n_int_active);
        }
    }

    /* Echo: what the loudspeaker plays (playback clock, clipping), through
     * the path; and the reference as the device sees it. */
    if (ref) {
        double eg = a.have_ser ? 1.0 : pow(10.0, a.echo_gain_db / 20.0), peak = 0.0;

        z.played = malloc(sizeof(float) * (size_t)n_total);
        z.ref_out = malloc(sizeof(float) * (size_t)n_total);
        if (!z.played || !z.ref_out) {
            r = -ENOMEM;
            goto out_render;
        }
        drift = 1.0 + a.drift_ppm * 1e-6;
        ref_delay = a.ref_delay_ms * 1e-3 * b.rate;
        room_sim_interp(ref, n_ref, 0.0, drift, z.played, n_total);
        room_sim_interp(ref, n_ref, -ref_delay, 1.0, z.ref_out, n_total);
        n_echo_active = (long)ceil((double)n_ref / drift);
        if (n_echo_active > n_total)
            n_echo_active = n_total;
        for (i = 0; i < n_total; i++)
            if (fabs(z.played[i]) > peak)
                peak = fabs(z.played[i]);
        if (a.nonlinear > 0.0 && peak > 0.0) {
            double k = a.nonlinear, norm = peak / tanh(k), sxy = 0, sxx = 0, syy = 0, srr;

            for (i = 0; i < n_total; i++) {
                double x = z.played[i], y = norm * tanh(k * x / peak);

                sxy += x * y;
                sxx += x * x;
                syy += y * y;
                z.played[i] = (float)y;
            }
            /* Power of what no linear gain of the input explains. */
            srr = syy - sxy * sxy / sxx;
            nl_resid_db = srr > 0.0 && syy > 0.0 ? 10.0 * log10(srr / syy) : -INFINITY;
        }
        r = hs_render(&sc, z.played, n_total, 0, spk_pos, HS_PATH_FULL, false, eg, z.echo,
                      &ei);
        if (r < 0)
            goto out_render;
        echo_gain = eg;
        p_echo = hs_power(z.echo, b.mic_count, n_total, n_echo_active);
        if (a.have_ser) {
            double g;

            if (p_speech <= 0.0 || p_echo <= 0.0) {
                hs_err("%s: silent talker or reference, cannot set an SER",
                       p_speech <= 0.0 ? a.speech : a.ref);
                goto out;
            }
            g = sqrt(p_speech / pow(10.0, a.ser_db / 10.0) / p_echo);
            hs_scale(z.echo, plane, g);
            echo_gain *= g;
            p_echo = hs_power(z.echo, b.mic_count, n_total, n_echo_active);
        }
        hs_scale(z.played, n_total, echo_gain);
    }

    /* --level-dbfs: one gain for everything the mics hear (not REF_OUT). */
    if (a.have_level) {
        double g2, g;

        if (p_speech <= 0.0) {
            hs_err("%s: speech is silent, cannot set --level-dbfs", a.speech);
            goto out;
        }
        g2 = pow(10.0, a.level_dbfs / 10.0) / p_speech;
        g = sqrt(g2);
        hs_scale(z.talker, plane, g);
        if (z.direct != z.talker)
            hs_scale(z.direct, plane, g);
        hs_scale(z.noise, plane, g);
        hs_scale(z.interf, plane, g);
        hs_scale(z.echo, plane, g);
        if (z.played)
            hs_scale(z.played, n_total, g);
        p_speech *= g2;
        p_direct *= g2;
        p_noise *= g2;
        p_int *= g2;
        p_echo *= g2;
        int_gain *= g;
        echo_gain *= g;
    }

    /* Mix: talker + noise + echo + interferer. */
    for (i = 0; i < plane; i++)
        z.mics[i] = ((z.talker[i] + z.noise[i]) + z.echo[i]) + z.interf[i];
    if (hs_segments(z.direct, b.mic_count, n_total, b.rate, &seg_speech) < 0
        || hs_segments(z.interf, b.mic_count, n_total, b.rate, &seg_int) < 0
        || hs_segments(z.echo, b.mic_count, n_total, b.rate, &seg_echo) < 0) {
        r = -ENOMEM;
        goto out_render;
    }
    t_render = hs_now() - t_start;

    /* MICS.wav: interleave in board order. */
    if (hs_write_planar(a.out_mics, b.rate, b.mic_count, a.mics_fmt, z.mics, n_total,
                        z.tmp) < 0)
        goto out;
    {
        long clipped = hs_count_clipped(z.tmp, n_total * b.mic_count);

        if (clipped && (a.mics_fmt == WAV_PCM16 || a.out_capture))
            hs_err("warning: %ld mic samples exceed full scale and are clipped "
                   "in PCM16 output", clipped);
        else if (clipped)
            hs_err("warning: %ld mic samples exceed full scale", clipped);
    }

    /* CAPTURE.wav: the board's ALSA capture layout, PCM16. */
    if (a.out_capture) {
        memset(z.tmp, 0, sizeof(float) * (size_t)n_total * (size_t)b.channels);
        for (i = 0; i < n_total; i++) {
            for (m = 0; m < b.mic_count; m++)
                z.tmp[i * b.channels + b.channel_map[m]] =
                    z.mics[(size_t)m * n_total + i];
            if (b.ref_channel >= 0 && ref)
                z.tmp[i * b.channels + b.ref_channel] = z.ref_out[i];
        }
        if (hs_write(a.out_capture, b.rate, b.channels, WAV_PCM16, z.tmp, n_total) < 0)
            goto out;
    }
    if (a.out_ref && hs_write(a.out_ref, b.rate, 1, a.mics_fmt, z.ref_out, n_total) < 0)
        goto out;

    if (a.out_clean_dir) {
        static const char *const names[] = {
            "talker.wav", "talker_direct.wav", "interferer.wav", "echo.wav", "noise.wav",
        };
        const float *bufs[] = { z.talker, z.direct, z.interf, z.echo, z.noise };
        char path[4096];

        if (mkdir(a.out_clean_dir, 0777) < 0 && errno != EEXIST) {
            hs_err("%s: %s", a.out_clean_dir, strerror(errno));
            goto out;
        }
        for (unsigned k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
            snprintf(path, sizeof(path), "%s/%s", a.out_clean_dir, names[k]);
            if (hs_write_planar(path, b.rate, b.mic_count, WAV_FLOAT, bufs[k], n_total,
                                z.tmp) < 0)
                goto out;
        }
        snprintf(path, sizeof(path), "%s/loudspeaker.wav", a.out_clean_dir);
        memset(z.tmp, 0, sizeof(float) * (size_t)n_total);
        if (hs_write(path, b.rate, 1, WAV_FLOAT, z.played ? z.played : z.tmp, n_total) < 0)
            goto out;
    }

    if (a.out_meta) {
        FILE *f = strcmp(a.out_meta, "-") ? fopen(a.out_meta, "w") : stdout;
        double v[HS_MAX_MICS];

        if (!f) {
            hs_err("%s: %s", a.out_meta, strerror(errno));
            goto out;
        }
        fprintf(f, "{\n  \"tool\": \"" HS_PROG "\",\n  \"board\": ");
        hs_json_str(f, a.board);
        fprintf(f, ",\n  \"rate\": %d,\n  \"mics\": %d,\n  \"frames\": %ld,\n"
                "  \"duration_s\": %.6f,\n  \"seed\": %llu,\n  \"model\": \"%s\",\n",
                b.rate, b.mic_count, n_total, (double)n_total / b.rate,
                (unsigned long long)a.seed, a.room ? "room" : "free_field");
        fprintf(f, "  \"speed_of_sound\": %g,\n  \"room\": ", HS_SPEED_OF_SOUND);
        if (a.room) {
            fprintf(f, "{\"dims_m\": ");
            hs_json_vec(f, sc.rm.dims, 3);
            fprintf(f, ", \"rt60_s\": %g, \"beta\": %.6f, \"alpha\": %.6f, "
                    "\"rt60_calibration_t30_s\": ", a.rt60, sc.rm.beta,
                    1.0 - sc.rm.beta * sc.rm.beta);
            hs_json_num(f, beta_t30 > 0 ? beta_t30 : NAN);
            fprintf(f, ", \"talker_ir_mic0_t30_s\": ");
            hs_json_num(f, ti.t30_mic0 > 0 ? ti.t30_mic0 : NAN);
            fprintf(f, ", \"max_order\": %d, \"ir_taps\": %ld, \"image_jitter_m\": %g, "
                    "\"ir_highpass_hz\": %g}", a.max_order, ti.ir_len, a.jitter_m, a.ir_hp_hz);
        } else {
            fputs("null", f);
        }
        fprintf(f, ",\n  \"array_centre_m\": ");
        hs_json_vec(f, sc.centre, 3);
        fprintf(f, ",\n  \"mic_pos_m\": [");
        for (m = 0; m < b.mic_count; m++) {
            fputs(m ? ", " : "", f);
            hs_json_vec(f, sc.mic[m], 3);
        }
        fprintf(f, "],\n  \"talker\": {\"file\": ");
        hs_json_str(f, a.speech);
        fprintf(f, ", \"azimuth_deg\": %g, \"elevation_deg\": %g, \"distance_m\": %g, "
                "\"pos_m\": ", a.azimuth_deg, a.elevation_deg, a.distance_m);
        hs_json_vec(f, talker_pos, 3);
        fprintf(f, ", \"start_s\": %.6f, \"end_s\": %.6f, \"level_dbfs\": ",
                (double)n_lead / b.rate, (double)(n_lead + n_speech) / b.rate);
        hs_json_num(f, hs_db(p_speech));
        fprintf(f, ", \"direct_level_dbfs\": ");
        hs_json_num(f, hs_db(p_direct));
        fprintf(f, ", \"delay_samples\": ");
        hs_json_vec(f, ti.delay, b.mic_count);
        fprintf(f, ", \"drr_db\": ");
        hs_json_vec(f, ti.drr_db, b.mic_count);
        fprintf(f, "},\n  \"interferer\": ");
        if (interf) {
            fprintf(f, "{\"file\": ");
            hs_json_str(f, a.interferer);
            fprintf(f, ", \"azimuth_deg\": %g, \"elevation_deg\": %g, \"distance_m\": %g, "
                    "\"azimuth_from_talker_deg\": %g, \"pos_m\": ", a.int_az, a.int_el,
                    a.int_dist, remainder(a.int_az - a.azimuth_deg, 360.0));
            hs_json_vec(f, int_pos, 3);
            fprintf(f, ", \"start_s\": %.6f, \"end_s\": %.6f, \"loop\": %s, \"sir_db\": ",
                    a.int_start_s, (double)(lround(a.int_start_s * b.rate) + n_int_active)
                    / b.rate, a.int_loop ? "true" : "false");
            hs_json_num(f, hs_db(p_speech) - hs_db(p_int));
            fprintf(f, ", \"level_dbfs\": ");
            hs_json_num(f, hs_db(p_int));
            fprintf(f, ", \"gain_db\": ");
            hs_json_num(f, 20.0 * log10(int_gain));
            fprintf(f, ", \"delay_samples\": ");
            hs_json_vec(f, ii.delay, b.mic_count);
            fputc('}', f);
        } else {
            fputs("null", f);
        }
        fprintf(f, ",\n  \"echo\": ");
        if (ref) {
            fprintf(f, "{\"file\": ");
            hs_json_str(f, a.ref);
            fprintf(f, ", \"speaker_pos_m\": ");
            hs_json_vec(f, spk_pos, 3);
            fprintf(f, ", \"gain_db\": ");
            hs_json_num(f, 20.0 * log10(echo_gain));
            fprintf(f, ", \"ser_db\": ");
            hs_json_num(f, hs_db(p_speech) - hs_db(p_echo));
            fprintf(f, ", \"level_dbfs\": ");
            hs_json_num(f, hs_db(p_echo));
            fprintf(f, ", \"nonlinear\": %g, \"nl_residual_db\": ", a.nonlinear);
            hs_json_num(f, nl_resid_db);
            fprintf(f, ", \"drift_ppm\": %g, \"drift_samples_over_scene\": %.4f, "
                    "\"ref_delay_ms\": %g, \"ref_delay_samples\": %.4f, "
                    "\"direct_delay_samples\": ", a.drift_ppm,
                    (drift - 1.0) * (double)n_total, a.ref_delay_ms, ref_delay);
            hs_json_vec(f, ei.delay, b.mic_count);
            for (m = 0; m < b.mic_count; m++)
                v[m] = ei.delay[m] - ref_delay;
            fprintf(f, ", \"echo_lag_vs_ref_samples\": ");
            hs_json_vec(f, v, b.mic_count);
            fprintf(f, ", \"start_s\": 0, \"end_s\": %.6f}", (double)n_echo_active / b.rate);
        } else {
            fputs("null", f);
        }
        fprintf(f, ",\n  \"noise\": {\"type\": \"%s\", \"snr_db\": ",
                a.noise == HS_NOISE_PINK ? "pink" : a.noise == HS_NOISE_WHITE ? "white"
                                                                              : "none");
        hs_json_num(f, a.noise == HS_NOISE_NONE ? NAN : a.snr_db);
        fprintf(f, ", \"level_dbfs\": ");
        hs_json_num(f, hs_db(p_noise));
        fprintf(f, "},\n  \"segments\": {\"frame_ms\": %d, \"floor_db\": %g, "
                "\"bridge_ms\": %d,\n    \"speech\": ", HS_SEG_FRAME_MS, HS_SEG_FLOOR_DB,
                HS_SEG_BRIDGE_MS);
        hs_json_segs(f, &seg_speech);
        fprintf(f, ",\n    \"interferer\": ");
        hs_json_segs(f, &seg_int);
        fprintf(f, ",\n    \"echo\": ");
        hs_json_segs(f, &seg_echo);
        fprintf(f, "}\n}\n");
        if (f != stdout ? fclose(f) != 0 : fflush(f) != 0) {
            hs_err("%s: %s", a.out_meta, strerror(errno));
            goto out;
        }
    }

    if (!a.quiet) {
        FILE *f = a.out_meta && !strcmp(a.out_meta, "-") ? stderr : stdout;

        fprintf(f, "board     %s: %d mics, capture %d Hz x %d ch", a.board, b.mic_count,
                b.rate, b.channels);
        if (b.ref_channel >= 0)
            fprintf(f, ", ref in ch %d (%s)\n", b.ref_channel, ref ? a.ref : "silence");
        else
            fprintf(f, ", no ref channel\n");
        if (a.room)
            fprintf(f, "room      %.2f x %.2f x %.2f m, RT60 %.3f s (beta %.4f; T30: "
                    "calibration %.3f s, talker->mic0 IR %.3f s), array at "
                    "(%.2f, %.2f, %.2f) m, IR %ld taps, %ld images\n",
                    sc.rm.dims[0], sc.rm.dims[1], sc.rm.dims[2], a.rt60, sc.rm.beta,
                    beta_t30, ti.t30_mic0, sc.centre[0], sc.centre[1], sc.centre[2],
                    ti.ir_len, ti.n_images + ii.n_images + ei.n_images);
        fprintf(f, "talker    az %.1f deg, %.3f m", a.azimuth_deg, a.distance_m);
        if (a.elevation_deg != 0.0)
            fprintf(f, ", el %.1f deg", a.elevation_deg);
        fprintf(f, "; speech %.3f s (%d -> %d Hz)\n", (double)n_speech / b.rate,
                speech_rate, b.rate);
        for (m = 0; m < b.mic_count; m++) {
            fprintf(f, "mic%-3d    (%+7.1f %+7.1f %+7.1f) mm  delay %8.3f samples  "
                    "gain %.4f", m, b.pos[m][0] * 1e3, b.pos[m][1] * 1e3,
                    b.pos[m][2] * 1e3, ti.delay[m], ti.gain[m]);
            if (a.room)
                fprintf(f, "  DRR %+.1f dB", ti.drr_db[m]);
            fputc('\n', f);
        }
        fprintf(f, "scene     %ld frames (%.3f s): lead %ld, speech from frame %ld\n",
                n_total, (double)n_total / b.rate, n_lead, n_lead);
        fprintf(f, "speech    %.2f dBFS per mic (mean power over the speech)\n",
                hs_db(p_speech));
        if (a.noise != HS_NOISE_NONE)
            fprintf(f, "noise     %s, %.2f dBFS per mic, SNR %.2f dB, seed %llu\n",
                    a.noise == HS_NOISE_PINK ? "pink" : "white", hs_db(p_noise),
                    a.snr_db, (unsigned long long)a.seed);
        else
            fprintf(f, "noise     none\n");
        if (interf)
            fprintf(f, "interferer %s: az %.1f deg, %.3f m, %.3f s (%d -> %d Hz), "
                    "SIR %.2f dB, %.2f dBFS\n", a.interferer, a.int_az, a.int_dist,
                    (double)n_interf / b.rate, interf_rate, b.rate,
                    hs_db(p_speech) - hs_db(p_int), hs_db(p_int));
        if (ref)
            fprintf(f, "echo      %s, %.2f dB, %.3f s (%d -> %d Hz)\n", a.ref,
                    20.0 * log10(echo_gain), (double)n_ref / b.rate, ref_rate, b.rate);
        if (ref && (a.room || a.have_ser || a.nonlinear > 0.0 || a.drift_ppm != 0.0
                    || a.ref_delay_ms != 0.0 || a.have_speaker_pos))
            fprintf(f, "          speaker (%.3f, %.3f, %.3f) m, SER %.2f dB, %.2f dBFS, "
                    "nonlinear %g (residual %.1f dB), drift %g ppm, ref delay %g ms\n",
                    spk_pos[0], spk_pos[1], spk_pos[2], hs_db(p_speech) - hs_db(p_echo),
                    hs_db(p_echo), a.nonlinear, nl_resid_db, a.drift_ppm, a.ref_delay_ms);
        if (a.room || interf || a.out_meta || a.out_clean_dir)
            fprintf(f, "segments  speech %d, interferer %d, echo %d; rendered in %.2f s\n",
                    seg_speech.n, seg_int.n, seg_echo.n, t_render);
    }
    rc = HS_EXIT_OK;
    goto out;
out_render:
    hs_err("rendering failed: %s", strerror(-r));
out:
    free(seg_speech.t);
    free(seg_int.t);
    free(seg_echo.t);
    hs_bufs_free(&z);
    free(interf);
    free(ref);
    free(speech);
    return rc;
}
