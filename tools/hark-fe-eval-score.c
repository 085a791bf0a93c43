/*
 * hark-fe-eval-score.c - scores one front-end output against one hark-scene
 * scene (host tool, offline, main thread only). tools/hark-fe-eval runs it
 * for every scene and processor and prints the table.
 *
 *   hark-fe-eval-score --meta SCENE.json --clean-dir SCENE/ --out OUT.wav
 *                      [--doa DOA.csv] [--conv-s 2]
 *
 * Prints one line: RESULT erle=.. dt_att=.. dt_gain=.. st_gain=.. lag_ms=..
 * [doa_med=.. doa_p90=.. doa_n=..]; a metric that the scene cannot give
 * (no echo, no double talk) is left out. Method (docs/frontend.md, "4.
 * Evaluation"):
 *   - frames of 10 ms; segments from the scene's ground truth (--meta:
 *     speech, echo, interferer activity). A frame is echo-only when it lies
 *     in an echo segment, >= 100 ms from any speech or interferer segment,
 *     and after --conv-s seconds (convergence); double talk (DT) when it
 *     lies in speech and echo; near-end single talk (ST) when in speech
 *     and >= 100 ms from echo. Speech frames count only when the clean
 *     talker at mic 0 is within 30 dB of its loudest frame.
 *   - ERLE = 10 log10(E[echo at mic 0] / E[OUT]) over echo-only frames,
 *     OUT shifted by the processor's delay (the lag below) (OUT there is
 *     residual echo plus processed sensor noise; the scenes put the noise
 *     55 dB under the echo).
 *   - Talker gain: OUT is aligned to the clean talker at mic 0 (talker.wav
 *     channel 0) by the lag in 0..150 ms that maximises their correlation
 *     over ST frames; then, per class, the least-squares gain
 *     g = <OUT, talker> / <talker, talker> over that class's frames.
 *     st_gain and dt_gain are 20 log10 g; dt_att = st_gain - dt_gain is
 *     how much more the processor takes off the near talker in double talk
 *     than when it talks alone, independent of the processor's own fixed
 *     gain, delay or dereverberation.
 *   - SIR gain (scenes with an interferer): over frames where talker and
 *     interferer are both active, OUT (aligned as above) is projected by
 *     least squares onto two FIR filters of SIR_TAPS taps (8 ms, starting
 *     SIR_PRE samples early), one applied to the clean talker at mic 0 and
 *     one to the clean interferer at mic 0: OUT ~ h_t * talker + h_i *
 *     interferer + rest. SIR gain = 10 log10(E[h_t * talker] /
 *     E[h_i * interferer]) - 10 log10(E[talker] / E[interferer]) over those
 *     frames. For a time-invariant linear processor (a fixed beam) this is
 *     its exact SIR gain as far as 8 ms of filter can describe it; an
 *     adaptive beamformer is averaged over the scene, so hark-fe-doa-eval's
 *     exact decomposition (fe_bf_process_as) remains the reference figure
 *     for the beamformer alone.
 *   - DOA (--doa, lines time_ms,azimuth_deg,confidence): absolute angular
 *     error against the talker azimuth over speech frames, median and p90.
 *
 * Exit status: 0 ok, 1 I/O or data error, 2 bad arguments.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sndfile.h>

#define PROG "hark-fe-eval-score"
#define RATE 16000
#define FRAME 160
#define GUARD_S 0.1
#define MAX_SEG 256
#define MAX_LAG (RATE * 150 / 1000)
#define SIR_TAPS 128
#define SIR_PRE 8

/* Solves A x = b (n x n, row-major, overwritten) by Gaussian elimination
 * with partial pivoting. Returns 0, or -1 when singular. */
static int solve(double *A, double *b, int n)
{
    for (int c = 0; c < n; c++) {
        int p = c;
        for (int r = c + 1; r < n; r++)
            if (fabs(A[r * n + c]) > fabs(A[p * n + c]))
                p = r;
        if (fabs(A[p * n + c]) < 1e-300)
            return -1;
        if (p != c) {
            for (int k = 0; k < n; k++) {
                double t = A[c * n + k];
                A[c * n + k] = A[p * n + k];
                A[p * n + k] = t;
            }
            double t = b[c];
            b[c] = b[p];
            b[p] = t;
        }
        for (int r = c + 1; r < n; r++) {
            double f = A[r * n + c] / A[c * n + c];
            if (f == 0)
                continue;
            for (int k = c; k < n; k++)
                A[r * n + k] -= f * A[c * n + k];
            b[r] -= f * b[c];
        }
    }
    for (int c = n - 1; c >= 0; c--) {
        double acc = b[c];
        for (int k = c + 1; k < n; k++)
            acc -= A[c * n + k] * b[k];
        b[c] = acc / A[c * n + c];
    }
    return 0;
}

/* SIR gain by FIR projection (see the header); mask marks the frames. */
static int sir_gain(const float *out, long lag, const float *tk, const float *itf, long n, const char *mask,
                    double *gain_db)
{
    enum { K = SIR_TAPS, N2 = 2 * SIR_TAPS };
    const float *src[2] = { tk, itf };
    double *A = calloc((size_t) N2 * N2, sizeof(double)), *b = calloc(N2, sizeof(double));
    double ein[2] = { 0, 0 }, eout[2] = { 0, 0 }, tr = 0;
    int r = -1;

    if (!A || !b)
        goto out;
    /* normal equations over the masked samples, exact (not Toeplitz) */
    for (long k = 0; k < n / FRAME; k++) {
        if (!mask[k])
            continue;
        for (long t = k * FRAME; t < (k + 1) * FRAME; t++) {
            double x[N2];
            if (t - K + SIR_PRE < 0 || t + SIR_PRE >= n || t + lag >= n)
                continue;
            for (int s2 = 0; s2 < 2; s2++)
                for (int j = 0; j < K; j++)
                    x[s2 * K + j] = src[s2][t - j + SIR_PRE];
            for (int i = 0; i < N2; i++) {
                b[i] += x[i] * out[t + lag];
                for (int j = i; j < N2; j++)
                    A[i * N2 + j] += x[i] * x[j];
            }
            ein[0] += (double) tk[t] * tk[t];
            ein[1] += (double) itf[t] * itf[t];
        }
    }
    for (int i = 0; i < N2; i++) {
        for (int j = 0; j < i; j++)
            A[i * N2 + j] = A[j * N2 + i];
        tr += A[i * N2 + i];
    }
    for (int i = 0; i < N2; i++)
        A[i * N2 + i] += 1e-6 * tr / N2;   /* ridge against ill-conditioning */
    if (ein[0] <= 0 || ein[1] <= 0 || solve(A, b, N2) < 0)
        goto out;
    for (long k = 0; k < n / FRAME; k++) {
        if (!mask[k])
            continue;
        for (long t = k * FRAME; t < (k + 1) * FRAME; t++) {
            if (t - K + SIR_PRE < 0 || t + SIR_PRE >= n || t + lag >= n)
                continue;
            for (int s2 = 0; s2 < 2; s2++) {
                double y = 0;
                for (int j = 0; j < K; j++)
                    y += b[s2 * K + j] * src[s2][t - j + SIR_PRE];
                eout[s2] += y * y;
            }
        }
    }
    if (eout[0] > 0 && eout[1] > 0) {
        *gain_db = 10 * log10(eout[0] / eout[1]) - 10 * log10(ein[0] / ein[1]);
        r = 0;
    }
out:
    free(A);
    free(b);
    return r;
}

struct segs {
    int n;
    double t[MAX_SEG][2];
};

static float *read_ch0(const char *path, long *n)
{
    SF_INFO info = { 0 };
    SNDFILE *f = sf_open(path, SFM_READ, &info);
    float *all, *x;

    if (!f) {
        fprintf(stderr, PROG ": %s: %s\n", path, sf_strerror(NULL));
        return NULL;
    }
    if (info.samplerate != RATE || info.frames <= 0) {
        fprintf(stderr, PROG ": %s: need %d Hz audio\n", path, RATE);
        sf_close(f);
        return NULL;
    }
    all = malloc(sizeof(float) * (size_t) info.frames * (size_t) info.channels);
    x = malloc(sizeof(float) * (size_t) info.frames);
    if (!all || !x || sf_readf_float(f, all, info.frames) != info.frames) {
        fprintf(stderr, PROG ": %s: cannot read\n", path);
        free(all);
        free(x);
        sf_close(f);
        return NULL;
    }
    for (sf_count_t i = 0; i < info.frames; i++)
        x[i] = all[i * info.channels];
    free(all);
    sf_close(f);
    *n = (long) info.frames;
    return x;
}

static void get_segs(cJSON *segs, const char *name, struct segs *s)
{
    cJSON *arr = cJSON_GetObjectItem(segs, name), *it;

    s->n = 0;
    cJSON_ArrayForEach(it, arr)
    {
        if (s->n < MAX_SEG && cJSON_GetArraySize(it) == 2) {
            s->t[s->n][0] = cJSON_GetArrayItem(it, 0)->valuedouble;
            s->t[s->n][1] = cJSON_GetArrayItem(it, 1)->valuedouble;
            s->n++;
        }
    }
}

/* Is [a, b) within `guard` seconds of any segment? */
static int near(const struct segs *s, double a, double b, double guard)
{
    for (int i = 0; i < s->n; i++)
        if (b > s->t[i][0] - guard && a < s->t[i][1] + guard)
            return 1;
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: " PROG " --meta SCENE.json --clean-dir DIR --out OUT.wav [--doa DOA.csv] [--conv-s 2]\n");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "meta", required_argument, NULL, 'm' }, { "clean-dir", required_argument, NULL, 'c' },
        { "out", required_argument, NULL, 'o' },  { "doa", required_argument, NULL, 'd' },
        { "conv-s", required_argument, NULL, 's' }, { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *meta = NULL, *clean = NULL, *outp = NULL, *doap = NULL;
    double conv_s = 2.0, talker_az;
    char path[4096], *buf;
    long n_out, n_echo, n_tk, nf, best_lag = 0;
    float *out, *echo, *tk;
    struct segs sp, ec, in;
    cJSON *root, *segs;
    FILE *f;
    char *cls;
    double tk_max = 0, *tk_e, e_echo = 0, e_out = 0, best_c = -1;
    int c;

    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': meta = optarg; break;
        case 'c': clean = optarg; break;
        case 'o': outp = optarg; break;
        case 'd': doap = optarg; break;
        case 's': conv_s = atof(optarg); break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!meta || !clean || !outp || optind != argc) {
        usage(stderr);
        return 2;
    }
    f = fopen(meta, "rb");
    if (!f) {
        perror(meta);
        return 1;
    }
    buf = calloc(1, 1 << 20);
    if (!buf || fread(buf, 1, (1 << 20) - 1, f) == 0) {
        fprintf(stderr, PROG ": %s: cannot read\n", meta);
        free(buf);
        fclose(f);
        return 1;
    }
    fclose(f);
    root = cJSON_Parse(buf);
    free(buf);
    segs = root ? cJSON_GetObjectItem(root, "segments") : NULL;
    if (!cJSON_IsObject(segs) || !cJSON_IsNumber(cJSON_GetObjectItem(cJSON_GetObjectItem(root, "talker"),
                                                                     "azimuth_deg"))) {
        fprintf(stderr, PROG ": %s: not a hark-scene meta file\n", meta);
        return 1;
    }
    talker_az = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "talker"), "azimuth_deg")->valuedouble;
    get_segs(segs, "speech", &sp);
    get_segs(segs, "echo", &ec);
    get_segs(segs, "interferer", &in);
    cJSON_Delete(root);

    out = read_ch0(outp, &n_out);
    snprintf(path, sizeof(path), "%s/echo.wav", clean);
    echo = read_ch0(path, &n_echo);
    snprintf(path, sizeof(path), "%s/talker.wav", clean);
    tk = read_ch0(path, &n_tk);
    if (!out || !echo || !tk)
        return 1;
    if (n_out < n_tk - RATE / 10) {
        fprintf(stderr, PROG ": %s: %ld frames, the scene has %ld\n", outp, n_out, n_tk);
        return 1;
    }
    if (n_out < n_tk + MAX_LAG) {   /* a processor may drop the last partial hop */
        float *p = realloc(out, sizeof(float) * (size_t) (n_tk + MAX_LAG));
        if (!p)
            return 1;
        memset(p + n_out, 0, sizeof(float) * (size_t) (n_tk + MAX_LAG - n_out));
        out = p;
        n_out = n_tk + MAX_LAG;
    }
    nf = (n_tk - MAX_LAG) / FRAME;
    cls = calloc((size_t) nf, 1);   /* 1 echo-only, 2 DT, 3 ST, 4 other speech */
    tk_e = calloc((size_t) nf, sizeof(double));
    if (!cls || !tk_e)
        return 1;
    for (long k = 0; k < nf; k++) {
        for (long i = k * FRAME; i < (k + 1) * FRAME; i++)
            tk_e[k] += (double) tk[i] * tk[i];
        if (tk_e[k] > tk_max)
            tk_max = tk_e[k];
    }
    for (long k = 0; k < nf; k++) {
        double a = (double) k * FRAME / RATE, b = a + (double) FRAME / RATE;
        int in_sp = near(&sp, a, b, 0), in_ec = near(&ec, a, b, 0);

        if (in_ec && !near(&sp, a, b, GUARD_S) && !near(&in, a, b, GUARD_S) && a >= conv_s)
            cls[k] = 1;
        else if (in_sp && tk_e[k] > tk_max * 1e-3)
            cls[k] = in_ec ? 2 : near(&ec, a, b, GUARD_S) ? 4 : 3;
    }
    for (long lag = 0; lag < MAX_LAG; lag++) {
        double cc = 0;
        for (long k = 0; k < nf; k++)
            if (cls[k] == 3)
                for (long i = k * FRAME; i < (k + 1) * FRAME; i++)
                    cc += (double) out[i + lag] * tk[i];
        if (cc > best_c) {
            best_c = cc;
            best_lag = lag;
        }
    }
    for (long k = 0; k < nf; k++) {
        if (cls[k] != 1)
            continue;
        for (long i = k * FRAME; i < (k + 1) * FRAME; i++) {
            e_echo += (double) echo[i] * echo[i];
            e_out += (double) out[i + best_lag] * out[i + best_lag];
        }
    }
    printf("RESULT");
    if (e_echo > 0 && e_out > 0)
        printf(" erle=%.2f", 10 * log10(e_echo / e_out));
    {
        double g[4] = { 0 }, e[4] = { 0 };
        for (long k = 0; k < nf; k++) {
            if (cls[k] != 2 && cls[k] != 3)
                continue;
            for (long i = k * FRAME; i < (k + 1) * FRAME; i++) {
                g[(int) cls[k]] += (double) out[i + best_lag] * tk[i];
                e[(int) cls[k]] += (double) tk[i] * tk[i];
            }
        }
        if (e[3] > 0 && g[3] > 0) {
            double st = 20 * log10(g[3] / e[3]);
            printf(" st_gain=%.2f lag_ms=%.1f", st, best_lag * 1000.0 / RATE);
            if (e[2] > 0) {
                double dt = g[2] > 0 ? 20 * log10(g[2] / e[2]) : -99;
                printf(" dt_gain=%.2f dt_att=%.2f", dt, st - dt);
            }
        }
    }
    if (in.n > 0) {
        float *itf;
        char *both = calloc((size_t) nf, 1);
        double gdb;
        long n_itf;

        snprintf(path, sizeof(path), "%s/interferer.wav", clean);
        itf = read_ch0(path, &n_itf);
        if (!itf || !both || n_itf != n_tk)
            return 1;
        for (long k = 0; k < nf; k++) {
            double a = (double) k * FRAME / RATE, b = a + (double) FRAME / RATE;
            both[k] = (cls[k] == 3 || cls[k] == 2) && near(&in, a, b, 0) && a >= conv_s;
        }
        if (sir_gain(out, best_lag, tk, itf, nf * FRAME, both, &gdb) == 0)
            printf(" sir_gain=%.2f", gdb);
        free(itf);
        free(both);
    }
    if (doap) {
        FILE *d = fopen(doap, "r");
        double t_ms, az, conf, *err = NULL;
        char line[256];
        long ne = 0, cap = 0;

        if (!d) {
            perror(doap);
            return 1;
        }
        while (fgets(line, sizeof(line), d)) {
            double a, e;
            if (sscanf(line, "%lf,%lf,%lf", &t_ms, &az, &conf) != 3)
                continue;   /* a header or a malformed line */
            a = t_ms / 1000;
            if (!near(&sp, a, a + 0.01, 0))
                continue;
            e = fmod(fabs(az - talker_az), 360.0);
            e = e > 180 ? 360 - e : e;
            if (ne == cap) {
                cap = cap ? 2 * cap : 1024;
                err = realloc(err, sizeof(double) * (size_t) cap);
                if (!err)
                    return 1;
            }
            err[ne++] = e;
        }
        fclose(d);
        if (ne > 0) {
            qsort(err, (size_t) ne, sizeof(double), cmp_double);
            printf(" doa_med=%.1f doa_p90=%.1f doa_n=%ld", err[ne / 2], err[(long) (ne * 0.9)], ne);
        }
        free(err);
    }
    printf("\n");
    free(cls);
    free(tk_e);
    free(out);
    free(echo);
    free(tk);
    return 0;
}
