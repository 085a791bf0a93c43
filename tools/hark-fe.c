/*
 * hark-fe.c - run the daemon's audio front end (src/frontend.c: resampling,
 * AEC, DOA, beamformer, NS/AGC) over WAV files (host tool, offline, main
 * thread only).
 *
 *   hark-fe --board BOARD.conf --mic MICS.wav --ref REF.wav --out OUT.wav
 *           [--doa DOA.csv] [--aec-csv AEC.csv] [--no-aec] [--no-beam]
 *           [--no-doa] [--no-ns] [--no-agc] [--aec-mode permic|post]
 *           [--res own|speex|off] [--tail-ms N] [--delay-ms N]
 *           [--score CLEAN_DIR] [--wake MODEL.hkm [--wake-out D.csv]
 *           [--no-wake-guard] [--wake-guard-threshold T] [--wake-echo-share S]
 *           [--wake-block-dbfs L]]
 *           [--quiet]
 *
 * MICS has one channel per mic in board order at the board's capture rate
 * (float or PCM); REF is the playback signal at the same rate (mixed to
 * mono; shorter files are zero-padded); OUT is mono 16 kHz float. DOA.csv
 * gets a line `time_ms,azimuth_deg,confidence` per 10 ms hop (azimuth
 * counter-clockwise from +x in the board frame); AEC.csv
 * `time_ms,erle_db,erle_lin_db,converged,far,near,double_talk,delay_ms,drift_ppm`.
 * Stages are those of harkd with hark.conf's defaults; the options switch
 * them for comparisons.
 *
 * --score CLEAN_DIR (hark-scene --out-clean-dir) prints, from the clean
 * components, the echo reduction on echo-only 10 ms frames after the first
 * 2 s (echo power at the mics over output power; frames within 200 ms of
 * talker or interferer activity excluded) and the near-end attenuation in
 * double talk: the talker component run alone (no reference, so the AEC
 * passes it) through a second, identical chain, and the mixture's output
 * projected on it over frames where talker and echo are both active, at
 * the lag (within 150 ms) where they correlate best (0 dB = the talker
 * passes as it would without echo). With the beamformer on, the MVDR learns
 * different interference in the two chains, so use --no-beam to see the
 * echo canceller's own effect.
 *
 * --wake MODEL.hkm runs the wake-word detector (src/wake.c) on the output
 * hop by hop, with the self-wake guard fed from the echo canceller exactly
 * as harkd's DSP thread does (wake_observe_playback()); --no-wake-guard
 * leaves the guard out (as if nothing played); --wake-guard-threshold and
 * --wake-echo-share and --wake-block-dbfs set [wake] playback_threshold,
 * playback_echo_share and playback_block_dbfs (defaults as in hark.conf).
 * It prints
 * "wake_detections N guarded G max_score S" and writes one line
 * `time_ms,score` per detection to D.csv (time_ms = end of the output hop
 * that fired).
 *
 * It always prints the CPU time the chain took per second of audio.
 * Exit status: 0 ok, 1 I/O or data error, 2 bad arguments.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "frontend.h"
#include "wake.h"
#include "wav_io.h"

#define PROG "hark-fe"

struct args {
    const char *board, *mic, *ref, *out, *doa, *aec_csv, *score, *wake, *wake_out;
    bool no_aec, no_beam, no_doa, no_ns, no_agc, quiet, no_wake_guard;
    int aec_mode, res;
    float tail_ms, delay_ms, wake_thr, wake_share, wake_block;
    bool wake_block_set;
    bool tail_set, delay_set;
};

static void usage(FILE *f)
{
    fprintf(f, "usage: " PROG " --board BOARD.conf --mic MICS.wav --ref REF.wav --out OUT.wav\n"
               "       [--doa DOA.csv] [--aec-csv AEC.csv] [--no-aec] [--no-beam] [--no-doa] [--no-ns]\n"
               "       [--no-agc] [--aec-mode permic|post] [--res own|speex|off] [--tail-ms N]\n"
               "       [--delay-ms N] [--score CLEAN_DIR] [--wake MODEL.hkm [--wake-out D.csv]\n"
               "       [--no-wake-guard] [--wake-guard-threshold T] [--wake-echo-share S]\n"
               "       [--wake-block-dbfs L]] [--quiet]\n");
}

static int parse_args(int argc, char **argv, struct args *a)
{
    static const struct option opts[] = {
        { "board", 1, 0, 'b' },    { "mic", 1, 0, 'm' },      { "ref", 1, 0, 'r' },
        { "out", 1, 0, 'o' },      { "doa", 1, 0, 'd' },      { "aec-csv", 1, 0, 'c' },
        { "no-aec", 0, 0, 'A' },   { "no-beam", 0, 0, 'B' },  { "no-doa", 0, 0, 'D' },
        { "no-ns", 0, 0, 'N' },    { "no-agc", 0, 0, 'G' },   { "aec-mode", 1, 0, 'M' },
        { "res", 1, 0, 'R' },      { "tail-ms", 1, 0, 'T' },  { "delay-ms", 1, 0, 'L' },
        { "score", 1, 0, 'S' },    { "quiet", 0, 0, 'q' },    { "help", 0, 0, 'h' },
        { "wake", 1, 0, 'W' },     { "wake-out", 1, 0, 'O' }, { "no-wake-guard", 0, 0, 'g' },
        { "wake-guard-threshold", 1, 0, 'X' }, { "wake-echo-share", 1, 0, 'Y' },
        { "wake-block-dbfs", 1, 0, 'Z' },
        { 0, 0, 0, 0 },
    };
    int c;
    char *end;

    memset(a, 0, sizeof(*a));
    a->res = FE_AEC_RES_OWN;
    a->wake_thr = a->wake_share = -1;
    while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
        switch (c) {
        case 'b': a->board = optarg; break;
        case 'm': a->mic = optarg; break;
        case 'r': a->ref = optarg; break;
        case 'o': a->out = optarg; break;
        case 'd': a->doa = optarg; break;
        case 'c': a->aec_csv = optarg; break;
        case 'A': a->no_aec = true; break;
        case 'B': a->no_beam = true; break;
        case 'D': a->no_doa = true; break;
        case 'N': a->no_ns = true; break;
        case 'G': a->no_agc = true; break;
        case 'S': a->score = optarg; break;
        case 'W': a->wake = optarg; break;
        case 'O': a->wake_out = optarg; break;
        case 'g': a->no_wake_guard = true; break;
        case 'X':
            a->wake_thr = strtof(optarg, &end);
            if (*end || !(a->wake_thr >= 0 && a->wake_thr <= 1))
                goto bad;
            break;
        case 'Z':
            a->wake_block = strtof(optarg, &end);
            if (*end || !(a->wake_block >= -200 && a->wake_block <= 0))
                goto bad;
            a->wake_block_set = true;
            break;
        case 'Y':
            a->wake_share = strtof(optarg, &end);
            if (*end || !(a->wake_share >= 0 && a->wake_share <= 1))
                goto bad;
            break;
        case 'q': a->quiet = true; break;
        case 'M':
            if (!strcmp(optarg, "permic"))
                a->aec_mode = FRONTEND_AEC_PERMIC;
            else if (!strcmp(optarg, "post"))
                a->aec_mode = FRONTEND_AEC_POST;
            else
                goto bad;
            break;
        case 'R':
            if (!strcmp(optarg, "own"))
                a->res = FE_AEC_RES_OWN;
            else if (!strcmp(optarg, "speex"))
                a->res = FE_AEC_RES_SPEEX;
            else if (!strcmp(optarg, "off"))
                a->res = FE_AEC_RES_OFF;
            else
                goto bad;
            break;
        case 'T':
            a->tail_ms = strtof(optarg, &end);
            if (*end || !(a->tail_ms >= 20 && a->tail_ms <= 1000))
                goto bad;
            a->tail_set = true;
            break;
        case 'L':
            a->delay_ms = strtof(optarg, &end);
            if (*end || !(fabsf(a->delay_ms) <= 250))
                goto bad;
            a->delay_set = true;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            return -1;
        }
    }
    if (optind != argc || !a->board || !a->mic || !a->ref || !a->out || ((a->wake_out || a->no_wake_guard) && !a->wake)) {
        usage(stderr);
        return -1;
    }
    return 0;
bad:
    fprintf(stderr, PROG ": bad value '%s'\n", optarg);
    usage(stderr);
    return -1;
}

/* Whole file, interleaved float; channels checked by the caller. */
static float *load(const char *path, struct wav_info *info)
{
    int err = 0;
    struct wav_reader *r = wav_reader_open(path, info, &err);
    float *x;
    long got;

    if (!r) {
        fprintf(stderr, PROG ": %s: %s (%s)\n", path, strerror(-err), wav_strerror_last());
        return NULL;
    }
    if (info->frames <= 0 || info->frames > 3600L * info->rate || info->channels < 1) {
        fprintf(stderr, PROG ": %s: empty or longer than an hour\n", path);
        wav_reader_close(r);
        return NULL;
    }
    x = calloc((size_t) info->frames * info->channels, sizeof(float));
    if (!x) {
        fprintf(stderr, PROG ": %s: out of memory\n", path);
        wav_reader_close(r);
        return NULL;
    }
    got = wav_reader_read_float(r, x, (long) info->frames);
    wav_reader_close(r);
    if (got != info->frames) {
        fprintf(stderr, PROG ": %s: short read\n", path);
        free(x);
        return NULL;
    }
    return x;
}

static double now_cpu(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double) ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Mean power over mics of a clean component in 10 ms frames at 16 kHz
 * output indexing: frame f covers input frames [f * hop_in, (f + 1) * hop_in). */
static float *frame_power(const float *x, int channels, long frames, long hop_in, long nf)
{
    float *p = calloc((size_t) nf, sizeof(float));

    if (!p)
        return NULL;
    for (long f = 0; f < nf; f++) {
        double acc = 0;
        for (long n = f * hop_in; n < (f + 1) * hop_in && n < frames; n++)
            for (int c = 0; c < channels; c++)
                acc += (double) x[n * channels + c] * x[n * channels + c];
        p[f] = (float) (acc / ((double) hop_in * channels));
    }
    return p;
}

static float *load_clean(const char *dir, const char *name, int channels, long frames)
{
    char path[1024];
    struct wav_info info;
    float *x;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    x = load(path, &info);
    if (x && (info.channels != channels || info.frames != frames)) {
        fprintf(stderr, PROG ": %s: %d channels x %ld frames, the mics have %d x %ld\n", path, info.channels,
                (long) info.frames, channels, frames);
        free(x);
        return NULL;
    }
    return x;
}

int main(int argc, char **argv)
{
    struct args a;
    struct board_cfg board;
    struct config_diag diag = { 0 };
    struct wav_info mi, ri;
    struct frontend_cfg fc;
    struct frontend *fe = NULL, *fe_t = NULL;
    float *mic = NULL, *ref = NULL, *refm = NULL, *out = NULL, *talker = NULL, *out_t = NULL;
    struct wav_writer *w = NULL;
    FILE *doa = NULL, *aecf = NULL, *wakef = NULL;
    struct wake *wk = NULL;
    long wk_done = 0;
    long in_hop, nhops, outn = 0;
    double cpu = 0;
    int rc = 1, err = 0;
    unsigned lat = 0;

    if (parse_args(argc, argv, &a) < 0)
        return 2;
    if (config_load_board(a.board, &board, &diag) < 0) {
        for (unsigned i = 0; i < diag.count; i++)
            fprintf(stderr, PROG ": %s\n", diag.msg[i]);
        return 1;
    }
    if (!(mic = load(a.mic, &mi)) || !(ref = load(a.ref, &ri)))
        goto out;
    if (mi.channels != (int) board.mic_count || mi.rate != (int) board.capture.rate) {
        fprintf(stderr, PROG ": %s: %d channels at %d Hz; board %s has %u mics at %u Hz\n", a.mic, mi.channels,
                mi.rate, board.name, board.mic_count, board.capture.rate);
        goto out;
    }
    if (ri.rate != mi.rate) {
        fprintf(stderr, PROG ": %s: %d Hz, the mics are at %d Hz\n", a.ref, ri.rate, mi.rate);
        goto out;
    }
    refm = calloc((size_t) mi.frames + 1, sizeof(float));
    if (!refm)
        goto out;
    for (long n = 0; n < mi.frames && n < ri.frames; n++) {
        double acc = 0;
        for (int c = 0; c < ri.channels; c++)
            acc += ref[n * ri.channels + c];
        refm[n] = (float) (acc / ri.channels);
    }
    frontend_cfg_from_conf(&fc, &board, NULL);
    fc.aec = !a.no_aec;
    fc.aec_mode = (enum frontend_aec_mode) a.aec_mode;
    fc.aec_cfg.res = (enum fe_aec_res) a.res;
    if (a.tail_set)
        fc.aec_cfg.tail_ms = a.tail_ms;
    if (a.delay_set)
        fc.aec_cfg.initial_delay_ms = a.delay_ms;
    fc.beam = fc.beam && !a.no_beam;
    fc.doa = fc.doa && !a.no_doa;
    if (a.no_ns)
        fc.ns_agc.ns = false;
    if (a.no_agc)
        fc.ns_agc.agc = false;
    fe = frontend_create(&fc);
    if (!fe) {
        fprintf(stderr, PROG ": cannot create the front end for board %s\n", board.name);
        goto out;
    }
    in_hop = frontend_in_hop(fe);
    nhops = (long) mi.frames / in_hop;
    out = calloc((size_t) (nhops + 2) * FRONTEND_MAX_OUT, sizeof(float));
    if (!out)
        goto out;
    if (a.score) {
        talker = load_clean(a.score, "talker.wav", mi.channels, (long) mi.frames);
        out_t = calloc((size_t) (nhops + 2) * FRONTEND_MAX_OUT, sizeof(float));
        fe_t = frontend_create(&fc);
        if (!talker || !out_t || !fe_t)
            goto out;
    }
    if (a.doa && !(doa = fopen(a.doa, "w"))) {
        fprintf(stderr, PROG ": %s: %s\n", a.doa, strerror(errno));
        goto out;
    }
    if (a.aec_csv && !(aecf = fopen(a.aec_csv, "w"))) {
        fprintf(stderr, PROG ": %s: %s\n", a.aec_csv, strerror(errno));
        goto out;
    }
    if (a.wake) {
        struct wake_cfg wc;
        char err[256];

        wake_cfg_defaults(&wc);
        if (a.wake_thr >= 0)
            wc.playback_threshold = a.wake_thr;
        if (a.wake_share >= 0)
            wc.playback_echo_share = a.wake_share;
        if (a.wake_block_set)
            wc.playback_block_dbfs = a.wake_block;
        if (!(wk = wake_create(&wc, a.wake, err, sizeof(err)))) {
            fprintf(stderr, PROG ": %s: %s\n", a.wake, err);
            goto out;
        }
        if (a.wake_out && !(wakef = fopen(a.wake_out, "w"))) {
            fprintf(stderr, PROG ": %s: %s\n", a.wake_out, strerror(errno));
            goto out;
        }
    }
    for (long h = 0; h < nhops; h++) {
        double t0 = now_cpu();
        unsigned got = frontend_process(fe, mic + h * in_hop * mi.channels, (unsigned) mi.channels,
                                        refm + h * in_hop, out + outn);
        long t_ms = (outn + got) * 1000 / FRONTEND_RATE;

        cpu += now_cpu() - t0;
        if (fe_t)
            (void) frontend_process(fe_t, talker + h * in_hop * mi.channels, (unsigned) mi.channels, NULL,
                                    out_t + outn);
        outn += got;
        if (doa && got) {
            float az, conf;
            frontend_doa(fe, &az, &conf, NULL);
            fprintf(doa, "%ld,%.1f,%.3f\n", t_ms, az, conf);
        }
        if (wk && got) {
            struct fe_aec_state s;
            struct wake_event we;

            frontend_aec_state(fe, &s);
            /* the detector takes whole 10 ms hops of the output */
            for (; wk_done + WAKE_HOP <= outn; wk_done += WAKE_HOP) {
                if (!a.no_wake_guard)
                    wake_observe_playback(wk, s.far_active, s.near_active, out + wk_done, WAKE_HOP);
                if (wake_process(wk, out + wk_done, &we) > 0 && wakef)
                    fprintf(wakef, "%ld,%.4f\n", (wk_done + WAKE_HOP) * 1000 / FRONTEND_RATE, we.score);
            }
        }
        if (aecf && got) {
            struct fe_aec_state s;
            frontend_aec_state(fe, &s);
            fprintf(aecf, "%ld,%.1f,%.1f,%d,%d,%d,%d,%.2f,%.1f\n", t_ms, s.erle_db, s.erle_lin_db, s.converged,
                    s.far_active, s.near_active, s.double_talk, s.delay_ms, s.drift_ppm);
        }
    }
    lat = frontend_latency(fe);
    if (!(w = wav_writer_open(a.out, FRONTEND_RATE, 1, WAV_FLOAT, &err))) {
        fprintf(stderr, PROG ": %s: %s (%s)\n", a.out, strerror(-err), wav_strerror_last());
        goto out;
    }
    if (wav_writer_write_float(w, out, outn) < 0 || wav_writer_close(w) < 0) {
        w = NULL;
        fprintf(stderr, PROG ": %s: write failed\n", a.out);
        goto out;
    }
    w = NULL;
    if (!a.quiet)
        fprintf(stderr, PROG ": %.2f s of audio, chain latency %u frames, CPU %.2f ms per audio second (%.3f %% of one core)\n",
                (double) mi.frames / mi.rate, lat, cpu * 1e3 / ((double) mi.frames / mi.rate),
                cpu * 100 / ((double) mi.frames / mi.rate));
    if (a.score) {
        float *echo = load_clean(a.score, "echo.wav", mi.channels, (long) mi.frames);
        float *intf = load_clean(a.score, "interferer.wav", mi.channels, (long) mi.frames);
        long nf = outn / FRONTEND_HOP, lf = (long) lat / FRONTEND_HOP, guard = 20;
        float *pe, *pt, *pi;
        double se = 0, so = 0, tt = 0, to = 0, em = 0, tm = 0;
        long ne = 0, nd = 0, *dt_frame = calloc((size_t) nf + 1, sizeof(long));

        if (!echo || !intf || !dt_frame) {
            free(dt_frame);
            free(echo);
            free(intf);
            goto out;
        }
        pe = frame_power(echo, mi.channels, (long) mi.frames, in_hop, nf);
        pt = frame_power(talker, mi.channels, (long) mi.frames, in_hop, nf);
        pi = frame_power(intf, mi.channels, (long) mi.frames, in_hop, nf);
        for (long f = 0; f < nf; f++) {
            em = fmax(em, pe[f]);
            tm = fmax(tm, pt[f] + pi[f]);
        }
        for (long f = 200; f + lf < nf; f++) {
            bool near = false, echo_on = pe[f] > em * 1e-4;
            for (long g = f - guard; g <= f + guard; g++)
                if (g >= 0 && g < nf && pt[g] + pi[g] > tm * 1e-4)
                    near = true;
            if (echo_on && !near) {
                const float *o = out + (f + lf) * FRONTEND_HOP;
                for (int n = 0; n < FRONTEND_HOP; n++)
                    so += (double) o[n] * o[n];
                se += pe[f] * FRONTEND_HOP;
                ne++;
            }
            if (echo_on && pt[f] > tm * 1e-3)
                dt_frame[nd++] = f + lf;
        }
        /* The two chains may align differently (the AEC's delay tracker
         * only moves in the one that hears echo): project at the lag, within
         * 150 ms, where the outputs correlate best. */
        for (long d = -2400; d <= 2400; d++) {
            double a = 0, b = 0;
            for (long i = 0; i < nd; i++) {
                long s0 = dt_frame[i] * FRONTEND_HOP;
                for (long n = s0; n < s0 + FRONTEND_HOP; n++) {
                    if (n + d < 0 || n + d >= outn)
                        continue;
                    a += (double) out_t[n] * out_t[n];
                    b += (double) out_t[n] * out[n + d];
                }
            }
            if (fabs(b) > fabs(to)) {
                to = b;
                tt = a;
            }
        }
        printf("echo_only_frames %ld erle_db %.1f\n", ne, ne ? 10 * log10((se + 1e-30) / (so + 1e-30)) : 0.0);
        printf("double_talk_frames %ld near_attenuation_db %.2f\n", nd,
               nd ? -20 * log10(fabs(to) / (tt + 1e-30) + 1e-30) : 0.0);
        free(dt_frame);
        free(pe);
        free(pt);
        free(pi);
        free(echo);
        free(intf);
    }
    if (wk) {
        struct wake_stats ws;

        wake_get_stats(wk, &ws);
        printf("wake_detections %llu guarded %llu max_score %.3f\n", (unsigned long long) ws.detections,
               (unsigned long long) ws.guarded, ws.max_score);
    }
    rc = 0;
out:
    if (wakef && fclose(wakef) != 0 && rc == 0) {
        fprintf(stderr, PROG ": %s: write failed\n", a.wake_out);
        rc = 1;
    }
    wake_destroy(wk);
    if (doa)
        fclose(doa);
    if (aecf)
        fclose(aecf);
    wav_writer_close(w);
    frontend_destroy(fe);
    frontend_destroy(fe_t);
    free(mic);
    free(ref);
    free(refm);
    free(out);
    free(talker);
    free(out_t);
    return rc;
}
