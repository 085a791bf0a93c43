/*
 * hark-fe-doa-eval.c - score the front end's DOA and beamformer on a
 * hark-scene scene (host tool, offline, single-threaded).
 *
 * Input: the scene's mic signals (MICS.wav), its clean components
 * (--out-clean-dir: talker.wav, interferer.wav, noise.wav, one channel per
 * mic) and its ground truth (--out-meta JSON: talker and interferer
 * azimuths, speech segments).
 *
 * DOA: fe_doa runs hop by hop on the mixture. Scored on every hop whose
 * analysis frame is centred inside a talker speech segment: the angular
 * error of the tracked azimuth (180 degrees while there is no track yet),
 * reported as median, 90th percentile, share within 10 degrees, and the
 * share of those hops spent within 10 degrees of the interferer instead.
 *
 * Beamformer: delay-and-sum (ds), superdirective (sd) and adaptive MVDR
 * (mvdr), each steered hop by hop at the DOA's track on the mixture (and,
 * for the "oracle" figures, at the true talker azimuth). The mixture's
 * beamformer leads: MVDR learns the interference from the mixture on the
 * hops fe_doa marks target_absent. The talker, interferer and noise
 * components then go through exactly the weights the leader used for that
 * hop (fe_bf_process_as()), so the outputs are the exact decomposition of
 * the mixture's output. "talker" is the talker component's level at the
 * output relative to mic 0 (100 Hz - 8 kHz): how much of the talker (direct
 * path kept, reverberation partly removed) survives; a beam that cancels
 * the talker shows here.
 * SIR gain = 10 log10(P_talker_out / P_interferer_out) - 10 log10(P_talker /
 * P_interferer at mic 0), powers over the whole scene (outputs shifted by
 * the beamformer latency); SNR gain likewise with the noise component. Also
 * per octave band from 100 Hz and over 100 Hz - 8 kHz (the speech band:
 * below 100 Hz a 64 mm array cannot discriminate at all, and hark-scene's
 * room output carries a DC offset there, the source's DC times the image
 * model's large DC gain; a front end high-passes it anyway).
 *
 * --bound adds an upper bound for any linear beamformer on the scene: MVDR
 * towards the true talker with the oracle short-time covariance of
 * interferer + noise (see mvdr_bound()).
 *
 * Output: a readable report, then "RESULT key=value ..." lines for
 * scripts; --errors FILE appends the per-hop DOA errors (degrees, one per
 * line) so that several scenes can be pooled; --hops FILE writes a per-hop
 * trace (time, in speech, active, azimuth, raw peak, coherence, confidence,
 * SNR). --out-prefix P writes P-ds.wav, P-sd.wav and P-mvdr.wav (the
 * mixture through each beamformer, DOA-steered) for listening.
 *
 * Exit status: 0 ok, 1 I/O or data error, 2 bad arguments.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <complex.h>

#include <cjson/cJSON.h>
#include <kiss_fftr.h>

#include "config.h"
#include "fe_beamformer.h"
#include "fe_doa.h"
#include "fe_stft.h"
#include "wav_io.h"

#define PROG "hark-fe-doa-eval"
#define MAX_SEG 256
#define NBANDS 5
#define PSD_N 512

static const double band_edges[NBANDS + 1] = {100, 500, 1000, 2000, 4000, 8000};

struct sig {
    float *x; /* frames * ch */
    long frames;
    int ch, rate;
};

struct truth {
    double talker_az, interf_az;
    bool has_interf;
    int nseg;
    double seg[MAX_SEG][2];
};

static void die_usage(void)
{
    fprintf(stderr, "usage: " PROG " --board BOARD.conf --mics MICS.wav --clean-dir DIR --meta META.json\n"
                    "       [--frame 320|640] [--wng-db -10] [--steer-dirs 72]\n"
                    "       [--smooth A] [--coh-gate C] [--snr-gate DB] [--switch-hops N] [--track-alpha A]\n"
                    "       [--mvdr-tau S] [--mvdr-loading L]\n"
                    "       [--out-prefix P] [--hops FILE] [--errors FILE] [--bound]\n");
    exit(2);
}

static int read_sig(const char *path, struct sig *s)
{
    struct wav_info info;
    int err = 0;
    struct wav_reader *r = wav_reader_open(path, &info, &err);
    long got;

    if (!r) {
        fprintf(stderr, PROG ": %s: %s\n", path, wav_strerror_last());
        return -1;
    }
    s->frames = (long) info.frames;
    s->ch = info.channels;
    s->rate = info.rate;
    s->x = calloc((size_t) s->frames * s->ch + 1, sizeof(float));
    if (!s->x) {
        wav_reader_close(r);
        return -1;
    }
    got = wav_reader_read_float(r, s->x, s->frames);
    wav_reader_close(r);
    if (got != s->frames) {
        fprintf(stderr, PROG ": %s: short read\n", path);
        return -1;
    }
    return 0;
}

static int read_truth(const char *path, struct truth *t)
{
    FILE *f = fopen(path, "r");
    char *buf;
    long n;
    cJSON *root, *tk, *in, *segs, *sp, *it;

    if (!f) {
        fprintf(stderr, PROG ": %s: %s\n", path, strerror(errno));
        return -1;
    }
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t) n + 1);
    if (!buf || fread(buf, 1, (size_t) n, f) != (size_t) n) {
        fclose(f);
        free(buf);
        return -1;
    }
    fclose(f);
    buf[n] = 0;
    root = cJSON_Parse(buf);
    free(buf);
    if (!root)
        goto bad;
    tk = cJSON_GetObjectItem(root, "talker");
    in = cJSON_GetObjectItem(root, "interferer");
    segs = cJSON_GetObjectItem(root, "segments");
    if (!cJSON_IsObject(tk) || !cJSON_IsNumber(cJSON_GetObjectItem(tk, "azimuth_deg")) ||
        !cJSON_IsObject(segs))
        goto bad;
    t->talker_az = cJSON_GetObjectItem(tk, "azimuth_deg")->valuedouble;
    t->has_interf = cJSON_IsObject(in);
    t->interf_az = t->has_interf ? cJSON_GetObjectItem(in, "azimuth_deg")->valuedouble : 0;
    sp = cJSON_GetObjectItem(segs, "speech");
    t->nseg = 0;
    cJSON_ArrayForEach(it, sp)
    {
        if (t->nseg < MAX_SEG && cJSON_GetArraySize(it) == 2) {
            t->seg[t->nseg][0] = cJSON_GetArrayItem(it, 0)->valuedouble;
            t->seg[t->nseg][1] = cJSON_GetArrayItem(it, 1)->valuedouble;
            t->nseg++;
        }
    }
    cJSON_Delete(root);
    return 0;
bad:
    cJSON_Delete(root);
    fprintf(stderr, PROG ": %s: not a hark-scene meta file\n", path);
    return -1;
}

static double ang_err(double a, double b)
{
    double d = fmod(fabs(a - b), 360.0);
    return d > 180 ? 360 - d : d;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

static double pct(double *v, long n, double p)
{
    long i;

    if (n == 0)
        return NAN;
    qsort(v, (size_t) n, sizeof(double), cmp_double);
    i = (long) floor(p * (n - 1) + 0.5);
    return v[i];
}

/* Power of a mono signal y[a..b) in each band (Hann PSD, 50 % overlap),
 * plus the broadband power in bp[NBANDS]. */
static void band_powers(kiss_fftr_cfg fft, const float *y, long stride, long a, long b, int rate,
                        double bp[NBANDS + 1])
{
    float buf[PSD_N];
    kiss_fft_cpx X[PSD_N / 2 + 1];

    memset(bp, 0, (NBANDS + 1) * sizeof(double));
    for (long t = a; t + PSD_N <= b; t += PSD_N / 2) {
        for (int i = 0; i < PSD_N; i++)
            buf[i] = y[(t + i) * stride] * (float) (0.5 - 0.5 * cos(2 * M_PI * i / PSD_N));
        kiss_fftr(fft, buf, X);
        for (int k = 0; k <= PSD_N / 2; k++) {
            double f = (double) k * rate / PSD_N, p = (double) X[k].r * X[k].r + (double) X[k].i * X[k].i;
            for (int bb = 0; bb < NBANDS; bb++)
                if (f >= band_edges[bb] && f < band_edges[bb + 1])
                    bp[bb] += p;
        }
    }
    bp[NBANDS] = 0;
    for (long t = a; t < b; t++)
        bp[NBANDS] += (double) y[t * stride] * y[t * stride];
}

/* Solve A x = b (n x n complex, row-major, destroyed) by Gaussian
 * elimination with partial pivoting. */
static void csolve(double complex *A, double complex *b, unsigned n)
{
    for (unsigned c = 0; c < n; c++) {
        unsigned piv = c;
        for (unsigned r = c + 1; r < n; r++)
            if (cabs(A[r * n + c]) > cabs(A[piv * n + c]))
                piv = r;
        if (piv != c) {
            for (unsigned k = 0; k < n; k++) {
                double complex t = A[c * n + k];
                A[c * n + k] = A[piv * n + k];
                A[piv * n + k] = t;
            }
            double complex t = b[c];
            b[c] = b[piv];
            b[piv] = t;
        }
        for (unsigned r = c + 1; r < n; r++) {
            double complex f = A[r * n + c] / A[c * n + c];
            for (unsigned k = c; k < n; k++)
                A[r * n + k] -= f * A[c * n + k];
            b[r] -= f * b[c];
        }
    }
    for (unsigned r = n; r-- > 0;) {
        for (unsigned k = r + 1; k < n; k++)
            b[r] -= A[r * n + k] * b[k];
        b[r] /= A[r * n + r];
    }
}

/*
 * Upper bound for a linear beamformer on this scene: MVDR towards the true
 * talker direction with the *oracle* short-time covariance of interferer +
 * noise (from the clean components, recursive average with time constant
 * tau_s), 1 % trace loading. Not realisable (it knows the interference
 * exactly); it says how far any adaptive MVDR/GSC could get. Computed in
 * the STFT domain (sqrt-Hann, frame 2 hops); returns the SIR gain in dB
 * over mic 0 (all bins; *speech_db: bins from 100 Hz), or NAN on error.
 */
static double mvdr_bound(const struct sig comp[3], const struct board_cfg *b, unsigned hop, double az_deg,
                         double tau_s, double *speech_db)
{
    const unsigned M = b->mic_count, frame = 2 * hop, bins = frame / 2 + 1;
    struct fe_stft_cfg sc = {.frame = frame, .hop = hop, .channels = M, .window = FE_WIN_SQRT_HANN};
    struct fe_stft *ana[3];
    struct fe_cpx *X[3];
    double complex *P = calloc((size_t) bins * M * M, sizeof(double complex)),
                   *d = calloc((size_t) bins * M, sizeof(double complex));
    double a = exp(-(double) hop / (b->capture.rate * tau_s)), pt = 0, pi = 0, pt0 = 0, pi0 = 0;
    double sp[4] = {0, 0, 0, 0}; /* the same from band_edges[0] up */
    double ux = cos(az_deg * M_PI / 180), uy = sin(az_deg * M_PI / 180);
    long hops = comp[0].frames / hop;

    for (int c = 0; c < 3; c++) {
        ana[c] = fe_stft_create(&sc);
        X[c] = malloc((size_t) M * bins * sizeof(struct fe_cpx));
        if (!ana[c] || !X[c] || !P || !d)
            return NAN;
    }
    for (unsigned k = 0; k < bins; k++)
        for (unsigned m = 0; m < M; m++) {
            double adv = (b->mic_pos_mm[m][0] * ux + b->mic_pos_mm[m][1] * uy) * 1e-3 / 343.0;
            d[k * M + m] = cexp(I * 2 * M_PI * k * (double) b->capture.rate / frame * adv);
        }
    for (long h = 0; h < hops; h++) {
        for (int c = 0; c < 3; c++)
            fe_stft_analyze(ana[c], comp[c].x + (size_t) h * hop * M, M, X[c]);
        for (unsigned k = 0; k < bins; k++) {
            double complex v[HARK_MAX_MICS], A[HARK_MAX_MICS * HARK_MAX_MICS], wv[HARK_MAX_MICS], yt = 0,
                                                                                                  yi = 0;
            double complex *Pk = P + (size_t) k * M * M, den = 0;
            double tr = 0;
            for (unsigned m = 0; m < M; m++)
                v[m] = X[1][m * bins + k].re + X[2][m * bins + k].re +
                       I * (X[1][m * bins + k].im + X[2][m * bins + k].im);
            for (unsigned i = 0; i < M; i++)
                for (unsigned j = 0; j < M; j++)
                    Pk[i * M + j] = a * Pk[i * M + j] + (1 - a) * v[i] * conj(v[j]);
            for (unsigned i = 0; i < M; i++)
                tr += creal(Pk[i * M + i]);
            memcpy(A, Pk, (size_t) M * M * sizeof(double complex));
            for (unsigned i = 0; i < M; i++) {
                A[i * M + i] += 0.01 * tr / M + 1e-12;
                wv[i] = d[k * M + i];
            }
            csolve(A, wv, M);
            for (unsigned i = 0; i < M; i++)
                den += conj(d[k * M + i]) * wv[i];
            for (unsigned m = 0; m < M; m++) {
                double complex w = wv[m] / den;
                yt += conj(w) * (X[0][m * bins + k].re + I * X[0][m * bins + k].im);
                yi += conj(w) * (X[1][m * bins + k].re + I * X[1][m * bins + k].im);
            }
            {
                double v0 = creal(yt * conj(yt)), v1 = creal(yi * conj(yi));
                double v2 = (double) X[0][k].re * X[0][k].re + (double) X[0][k].im * X[0][k].im;
                double v3 = (double) X[1][k].re * X[1][k].re + (double) X[1][k].im * X[1][k].im;
                pt += v0;
                pi += v1;
                pt0 += v2;
                pi0 += v3;
                if ((double) k * b->capture.rate / frame >= band_edges[0]) {
                    sp[0] += v0;
                    sp[1] += v1;
                    sp[2] += v2;
                    sp[3] += v3;
                }
            }
        }
    }
    for (int c = 0; c < 3; c++) {
        fe_stft_destroy(ana[c]);
        free(X[c]);
    }
    free(P);
    free(d);
    *speech_db = 10 * log10(sp[0] / sp[1]) - 10 * log10(sp[2] / sp[3]);
    return 10 * log10(pt / pi) - 10 * log10(pt0 / pi0);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

enum { STEER_DOA = 0, STEER_ORACLE, NSTEER };
enum { MODE_DS = 0, MODE_SD, MODE_MVDR, NMODE };
static const char *const mode_name[NMODE] = {"ds", "sd", "mvdr"};
static const enum fe_bf_mode mode_bf[NMODE] = {FE_BF_DELAY_SUM, FE_BF_SUPERDIRECTIVE, FE_BF_MVDR};
enum { COMP_T = 0, COMP_I, COMP_N, COMP_MIX, NCOMP };

int main(int argc, char **argv)
{
    const char *board_path = NULL, *mics_path = NULL, *clean_dir = NULL, *meta_path = NULL,
               *out_prefix = NULL, *hops_path = NULL, *errors_path = NULL;
    unsigned frame = 320, steer_dirs = 72;
    double wng_db = -10, mvdr_tau = -1, mvdr_loading = -1;
    struct board_cfg board;
    struct config_diag diag;
    struct fe_doa_cfg dc;
    struct fe_bf_cfg bc;
    struct sig mix, comp[3];
    struct truth tr;
    struct fe_doa *doa;
    struct fe_bf *bf[NSTEER][NMODE][NCOMP];
    float *out[NSTEER][NMODE][NCOMP];
    double *err, *err_raw, t_doa = 0, t_bf[NMODE] = {0};
    long hops, nerr = 0, nerr_raw = 0, in10 = 0, on_int = 0, nact = 0;
    unsigned hop, lat;
    FILE *hf = NULL;
    char path[1024];
    int r, opt;
    bool bound = false, set_smooth = false, set_coh = false, set_snr = false, set_sw = false,
         set_alpha = false;
    double o_smooth = 0, o_coh = 0, o_snr = 0, o_alpha = 0;
    unsigned o_sw = 0;
    static const struct option lopts[] = {
        {"board", required_argument, NULL, 'b'},
        {"mics", required_argument, NULL, 'm'},
        {"clean-dir", required_argument, NULL, 'c'},
        {"meta", required_argument, NULL, 'j'},
        {"frame", required_argument, NULL, 'f'},
        {"wng-db", required_argument, NULL, 'w'},
        {"steer-dirs", required_argument, NULL, 'd'},
        {"smooth", required_argument, NULL, 's'},
        {"coh-gate", required_argument, NULL, 'g'},
        {"snr-gate", required_argument, NULL, 'e'},
        {"switch-hops", required_argument, NULL, 'h'},
        {"track-alpha", required_argument, NULL, 'a'},
        {"out-prefix", required_argument, NULL, 'o'},
        {"hops", required_argument, NULL, 'H'},
        {"bound", no_argument, NULL, 'B'},
        {"mvdr-tau", required_argument, NULL, 'T'},
        {"mvdr-loading", required_argument, NULL, 'L'},
        {"errors", required_argument, NULL, 'E'},
        {NULL, 0, NULL, 0},
    };

    while ((opt = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
        switch (opt) {
        case 'b':
            board_path = optarg;
            break;
        case 'm':
            mics_path = optarg;
            break;
        case 'c':
            clean_dir = optarg;
            break;
        case 'j':
            meta_path = optarg;
            break;
        case 'f':
            frame = (unsigned) atoi(optarg);
            break;
        case 'w':
            wng_db = atof(optarg);
            break;
        case 'd':
            steer_dirs = (unsigned) atoi(optarg);
            break;
        case 's':
            set_smooth = true;
            o_smooth = atof(optarg);
            break;
        case 'g':
            set_coh = true;
            o_coh = atof(optarg);
            break;
        case 'e':
            set_snr = true;
            o_snr = atof(optarg);
            break;
        case 'h':
            set_sw = true;
            o_sw = (unsigned) atoi(optarg);
            break;
        case 'a':
            set_alpha = true;
            o_alpha = atof(optarg);
            break;
        case 'o':
            out_prefix = optarg;
            break;
        case 'H':
            hops_path = optarg;
            break;
        case 'B':
            bound = true;
            break;
        case 'T':
            mvdr_tau = atof(optarg);
            break;
        case 'L':
            mvdr_loading = atof(optarg);
            break;
        case 'E':
            errors_path = optarg;
            break;
        default:
            die_usage();
        }
    }
    if (!board_path || !mics_path || !clean_dir || !meta_path || optind != argc)
        die_usage();

    r = config_load_board(board_path, &board, &diag);
    for (unsigned i = 0; i < diag.count; i++)
        fprintf(stderr, PROG ": %s\n", diag.msg[i]);
    if (r < 0)
        return 1;
    if (read_truth(meta_path, &tr) < 0 || read_sig(mics_path, &mix) < 0)
        return 1;
    {
        static const char *names[3] = {"talker.wav", "interferer.wav", "noise.wav"};
        for (int k = 0; k < 3; k++) {
            snprintf(path, sizeof(path), "%s/%s", clean_dir, names[k]);
            if (read_sig(path, &comp[k]) < 0)
                return 1;
            if (comp[k].frames != mix.frames || comp[k].ch != mix.ch) {
                fprintf(stderr, PROG ": %s does not match %s\n", path, mics_path);
                return 1;
            }
        }
    }
    if (mix.ch != (int) board.mic_count || mix.rate != (int) board.capture.rate) {
        fprintf(stderr, PROG ": %s: %d ch at %d Hz, board has %u mics at %u Hz\n", mics_path, mix.ch,
                mix.rate, board.mic_count, board.capture.rate);
        return 1;
    }

    fe_doa_cfg_from_board(&dc, &board);
    if (set_smooth)
        dc.smooth = (float) o_smooth;
    if (set_coh)
        dc.coh_gate = (float) o_coh;
    if (set_snr)
        dc.snr_gate_db = (float) o_snr;
    if (set_sw)
        dc.switch_hops = o_sw;
    if (set_alpha)
        dc.track_alpha = (float) o_alpha;
    doa = fe_doa_create(&dc);
    fe_bf_cfg_from_board(&bc, &board);
    bc.frame = frame;
    bc.wng_min_db = (float) wng_db;
    bc.directions = steer_dirs;
    if (mvdr_tau > 0)
        bc.mvdr_tau_s = (float) mvdr_tau;
    if (mvdr_loading >= 0)
        bc.mvdr_loading = (float) mvdr_loading;
    if (!doa) {
        fprintf(stderr, PROG ": bad DOA configuration\n");
        return 2;
    }
    hop = dc.hop;
    hops = mix.frames / hop;
    for (int s = 0; s < NSTEER; s++)
        for (int m = 0; m < NMODE; m++)
            for (int c = 0; c < NCOMP; c++) {
                bc.mode = mode_bf[m];
                bf[s][m][c] = fe_bf_create(&bc);
                out[s][m][c] = calloc((size_t) hops * hop, sizeof(float));
                if (!bf[s][m][c] || !out[s][m][c]) {
                    fprintf(stderr, PROG ": bad beamformer configuration\n");
                    return 2;
                }
            }
    lat = fe_bf_latency(bf[0][0][0]);
    err = calloc((size_t) hops, sizeof(double));
    err_raw = calloc((size_t) hops, sizeof(double));
    if (!err || !err_raw)
        return 1;
    if (hops_path && !(hf = fopen(hops_path, "w"))) {
        fprintf(stderr, PROG ": %s: %s\n", hops_path, strerror(errno));
        return 1;
    }

    for (long h = 0; h < hops; h++) {
        struct fe_doa_info info;
        double t0 = now_s(), t1, centre;
        bool in_speech = false;

        fe_doa_process(doa, mix.x + (size_t) h * hop * mix.ch, (unsigned) mix.ch);
        t1 = now_s();
        t_doa += t1 - t0;
        fe_doa_get_info(doa, &info);
        centre = ((double) (h + 1) * hop - dc.frame / 2.0) / mix.rate;
        for (int s = 0; s < tr.nseg; s++)
            if (centre >= tr.seg[s][0] && centre < tr.seg[s][1])
                in_speech = true;
        if (in_speech) {
            double e = info.tracking ? ang_err(info.azimuth_deg, tr.talker_az) : 180;
            err[nerr++] = e;
            in10 += e <= 10;
            if (tr.has_interf && info.tracking && ang_err(info.azimuth_deg, tr.interf_az) <= 10 && e > 10)
                on_int++;
            if (info.active) {
                err_raw[nerr_raw++] = ang_err(info.raw_azimuth_deg, tr.talker_az);
                nact++;
            }
        }
        if (hf)
            fprintf(hf, "%.3f %d %d %.1f %.1f %.3f %.3f %.1f\n", centre, in_speech, info.active,
                    info.azimuth_deg, info.raw_azimuth_deg, info.coherence, info.confidence, info.snr_db);
        /* The mixture's beamformer leads (MVDR learns from the mixture on
         * hops without the talker); the components go through the weights
         * it used for this hop. */
        for (int s = 0; s < NSTEER; s++)
            for (int m = 0; m < NMODE; m++) {
                struct fe_bf *lead = bf[s][m][COMP_MIX];
                fe_bf_set_azimuth(lead, s == STEER_ORACLE ? (float) tr.talker_az : info.azimuth_deg);
                fe_bf_set_noise_update(lead, info.target_absent);
                t0 = now_s();
                (void) fe_bf_process(lead, mix.x + (size_t) h * hop * mix.ch, hop, (unsigned) mix.ch,
                                     out[s][m][COMP_MIX] + h * hop);
                t_bf[m] += now_s() - t0;
                for (int c = 0; c < COMP_MIX; c++)
                    (void) fe_bf_process_as(bf[s][m][c], lead, comp[c].x + (size_t) h * hop * comp[c].ch,
                                            (unsigned) comp[c].ch, out[s][m][c] + h * hop);
            }
    }
    if (hf)
        fclose(hf);
    if (errors_path) {
        FILE *ef = fopen(errors_path, "a");
        if (!ef) {
            fprintf(stderr, PROG ": %s: %s\n", errors_path, strerror(errno));
            return 1;
        }
        for (long k = 0; k < nerr; k++)
            fprintf(ef, "%.2f\n", err[k]);
        fclose(ef);
    }

    {
        kiss_fftr_cfg fft = kiss_fftr_alloc(PSD_N, 0, NULL, NULL);
        long n = hops * hop;
        double in_t[NBANDS + 1], in_i[NBANDS + 1], in_n[NBANDS + 1];
        double o_t[NBANDS + 1], o_i[NBANDS + 1], o_n[NBANDS + 1];
        double sir_in, snr_in, res[NSTEER][NMODE][4], bound_db = NAN, bound_speech = NAN;
        double bandg[NSTEER][NMODE][NBANDS];
        double sin_t = 0, sin_i = 0;
        double med = pct(err, nerr, 0.5), p90 = pct(err, nerr, 0.9);
        double rmed = pct(err_raw, nerr_raw, 0.5), rp90 = pct(err_raw, nerr_raw, 0.9);

        band_powers(fft, comp[0].x, comp[0].ch, 0, n - lat, mix.rate, in_t);
        band_powers(fft, comp[1].x, comp[1].ch, 0, n - lat, mix.rate, in_i);
        band_powers(fft, comp[2].x, comp[2].ch, 0, n - lat, mix.rate, in_n);
        sir_in = 10 * log10(in_t[NBANDS] / in_i[NBANDS]);
        for (int b = 0; b < NBANDS; b++) {
            sin_t += in_t[b];
            sin_i += in_i[b];
        }
        snr_in = 10 * log10(in_t[NBANDS] / in_n[NBANDS]);
        printf("scene     %s: talker %.1f deg, interferer %s%.1f deg, %ld hops, %d speech segments\n",
               mics_path, tr.talker_az, tr.has_interf ? "" : "(none) ", tr.interf_az, hops, tr.nseg);
        printf("doa       track error over %ld speech hops: median %.1f deg, p90 %.1f deg, within 10 deg "
               "%.0f %%, "
               "on the interferer %.0f %%\n",
               nerr, med, p90, nerr ? 100.0 * in10 / nerr : 0, nerr ? 100.0 * on_int / nerr : 0);
        printf("doa       raw peak error on %ld active speech hops (%.0f %% active): median %.1f, p90 %.1f\n",
               nact, nerr ? 100.0 * nact / nerr : 0, rmed, rp90);
        printf("input     mic 0: SIR %.2f dB, SNR %.2f dB; beamformer frame %u, latency %u samples\n", sir_in,
               snr_in, frame, lat);
        for (int s = 0; s < NSTEER; s++)
            for (int m = 0; m < NMODE; m++) {
                double so_t = 0, so_i = 0;
                band_powers(fft, out[s][m][COMP_T] + lat, 1, 0, n - lat, mix.rate, o_t);
                band_powers(fft, out[s][m][COMP_I] + lat, 1, 0, n - lat, mix.rate, o_i);
                band_powers(fft, out[s][m][COMP_N] + lat, 1, 0, n - lat, mix.rate, o_n);
                for (int b = 0; b < NBANDS; b++) {
                    so_t += o_t[b];
                    so_i += o_i[b];
                }
                res[s][m][0] = 10 * log10(o_t[NBANDS] / o_i[NBANDS]) - sir_in;
                res[s][m][1] = 10 * log10(o_t[NBANDS] / o_n[NBANDS]) - snr_in;
                res[s][m][2] = 10 * log10(so_t / so_i) - 10 * log10(sin_t / sin_i);
                res[s][m][3] = 10 * log10(so_t / sin_t);
                printf("%-6s %-4s SIR gain %+.2f dB (100-8000 Hz %+.2f), SNR gain %+.2f dB, talker %+.2f dB; "
                       "per band",
                       s ? "oracle" : "doa", mode_name[m], res[s][m][0], res[s][m][2], res[s][m][1],
                       res[s][m][3]);
                for (int b = 0; b < NBANDS; b++) {
                    bandg[s][m][b] = 10 * log10(o_t[b] / o_i[b]) - 10 * log10(in_t[b] / in_i[b]);
                    printf(" %.0f-%.0f:%+.1f", band_edges[b], band_edges[b + 1], bandg[s][m][b]);
                }
                printf("\n");
            }
        if (bound) {
            bound_db = mvdr_bound(comp, &board, hop, tr.talker_az, 0.1, &bound_speech);
            printf("bound     oracle short-time MVDR (interference covariance from the clean components, "
                   "tau 0.1 s): SIR gain %+.2f dB, 100-8000 Hz %+.2f dB\n",
                   bound_db, bound_speech);
        }
        printf("cpu       DOA %.1f us/hop; beamformer per hop: DS %.1f us, SD %.1f us, MVDR %.1f us\n",
               t_doa / hops * 1e6, t_bf[MODE_DS] / hops / NSTEER * 1e6, t_bf[MODE_SD] / hops / NSTEER * 1e6,
               t_bf[MODE_MVDR] / hops / NSTEER * 1e6);
        printf(
            "RESULT doa_med=%.2f doa_p90=%.2f doa_in10=%.1f doa_on_interf=%.1f doa_active=%.1f sir_in=%.2f "
            "snr_in=%.2f mvdr_bound=%.2f mvdr_bound_speech=%.2f",
            med, p90, nerr ? 100.0 * in10 / nerr : 0, nerr ? 100.0 * on_int / nerr : 0,
            nerr ? 100.0 * nact / nerr : 0, sir_in, snr_in, bound_db, bound_speech);
        for (int m = 0; m < NMODE; m++) {
            printf(" %s_sir=%.2f %s_snr=%.2f %s_sir_speech=%.2f %s_sir_oracle=%.2f %s_talker=%.2f",
                   mode_name[m], res[0][m][0], mode_name[m], res[0][m][1], mode_name[m], res[0][m][2],
                   mode_name[m], res[1][m][2], mode_name[m], res[0][m][3]);
            for (int b = 0; b < NBANDS; b++)
                printf(" %s_%.0f_%.0f=%.2f", mode_name[m], band_edges[b], band_edges[b + 1], bandg[0][m][b]);
        }
        printf("\n");
        kiss_fftr_free(fft);
    }

    if (out_prefix) {
        for (int m = 0; m < NMODE; m++) {
            int e = 0;
            struct wav_writer *w;
            snprintf(path, sizeof(path), "%s-%s.wav", out_prefix, mode_name[m]);
            w = wav_writer_open(path, mix.rate, 1, WAV_FLOAT, &e);
            if (!w || wav_writer_write_float(w, out[0][m][COMP_MIX], hops * hop) < 0 ||
                wav_writer_close(w) < 0) {
                fprintf(stderr, PROG ": %s: cannot write\n", path);
                return 1;
            }
        }
    }

    for (int s = 0; s < NSTEER; s++)
        for (int m = 0; m < NMODE; m++)
            for (int c = 0; c < NCOMP; c++) {
                fe_bf_destroy(bf[s][m][c]);
                free(out[s][m][c]);
            }
    fe_doa_destroy(doa);
    free(err);
    free(err_raw);
    free(mix.x);
    for (int k = 0; k < 3; k++)
        free(comp[k].x);
    return 0;
}
