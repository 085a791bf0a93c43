/*
 * hark-vad.c - run the daemon's VAD (src/mel.c + src/nn_model.c +
 * src/vad.c) over a 16 kHz wav file. Offline host tool, single-threaded
 * (main thread); file access through drivers/wav_io.
 *
 *   hark-vad --in X.wav [--model models/vad.hkm] [--out P.csv]
 *            [--threshold T] [--onset-ms N] [--hangover-ms N] [--turn-end-ms N]
 *            [--events] [--dump-mel F.csv] [--repeat N]
 *
 * P.csv (stdout if no --out): one line per 10 ms hop, `time_ms,prob,is_speech`,
 * time_ms = start of the hop (hop t covers samples 160 t .. 160 t + 159 and
 * its value is known at time_ms + 10). --events also prints
 * `time_ms,event` lines (speech_start, speech_end, turn_end) to stderr.
 * --dump-mel writes the 40 log-mel features per hop (tools/train/
 * check_features.py compares them with the Python mirror; with --dump-mel
 * and no --out only the features are computed, no model needed). --repeat N
 * processes the file N times (timing) and prints the speed to stderr as
 * "hark-vad: S s of audio in W s CPU: R x real time". A multi-channel file
 * uses its first channel; the rate must be 16000 Hz.
 *
 * Exit status: 0 ok, 1 I/O, model or format error, 2 bad arguments.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mel.h"
#include "nn_model.h"
#include "vad.h"
#include "wav_io.h"

#define PROG "hark-vad"

static void usage(void)
{
    fprintf(stderr, "usage: " PROG " --in X.wav [--model M.hkm] [--out P.csv] [--threshold T] [--onset-ms N]\n"
                    "       [--hangover-ms N] [--turn-end-ms N] [--events] [--dump-mel F.csv] [--repeat N]\n");
}

static float *read_mono16k(const char *path, long *n_out)
{
    struct wav_info info;
    int err = 0;
    struct wav_reader *r = wav_reader_open(path, &info, &err);
    float *buf, *x;
    long n;

    if (!r) {
        fprintf(stderr, PROG ": %s: %s\n", path, wav_strerror_last());
        return NULL;
    }
    if (info.rate != MEL_RATE || info.frames <= 0 || info.frames > 16000L * 3600 * 4) {
        fprintf(stderr, PROG ": %s: need 16000 Hz audio up to 4 h (got %d Hz, %lld frames)\n", path, info.rate,
                (long long) info.frames);
        wav_reader_close(r);
        return NULL;
    }
    buf = malloc(sizeof(float) * (size_t) info.frames * (size_t) info.channels);
    x = malloc(sizeof(float) * (size_t) info.frames);
    if (!buf || !x) {
        fprintf(stderr, PROG ": out of memory\n");
        free(buf);
        free(x);
        wav_reader_close(r);
        return NULL;
    }
    n = wav_reader_read_float(r, buf, (long) info.frames);
    wav_reader_close(r);
    if (n < 0) {
        fprintf(stderr, PROG ": %s: read error\n", path);
        free(buf);
        free(x);
        return NULL;
    }
    for (long i = 0; i < n; i++)
        x[i] = buf[i * info.channels];
    free(buf);
    *n_out = n;
    return x;
}

static int parse_uint(const char *s, unsigned max, unsigned *out)
{
    char *end;
    unsigned long v;

    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno || end == s || *end || v > max)
        return -1;
    *out = (unsigned) v;
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"in", required_argument, NULL, 'i'},          {"model", required_argument, NULL, 'm'},
        {"out", required_argument, NULL, 'o'},         {"threshold", required_argument, NULL, 't'},
        {"onset-ms", required_argument, NULL, 'a'},    {"hangover-ms", required_argument, NULL, 'h'},
        {"turn-end-ms", required_argument, NULL, 'e'}, {"events", no_argument, NULL, 'E'},
        {"dump-mel", required_argument, NULL, 'd'},    {"repeat", required_argument, NULL, 'r'},
        {NULL, 0, NULL, 0},
    };
    const char *in = NULL, *model_path = "models/vad.hkm", *out_path = NULL, *mel_path = NULL;
    struct vad_cfg cfg;
    bool events = false;
    unsigned repeat = 1;
    struct nn_model *model;
    struct vad *vad;
    char err[320];
    float *x;
    long n, hops;
    FILE *out = stdout, *melf = NULL;
    int c;

    vad_cfg_default(&cfg);
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'i': in = optarg; break;
        case 'm': model_path = optarg; break;
        case 'o': out_path = optarg; break;
        case 'd': mel_path = optarg; break;
        case 'E': events = true; break;
        case 't': {
            char *end;
            cfg.threshold = strtof(optarg, &end);
            if (end == optarg || *end || !(cfg.threshold > 0 && cfg.threshold <= 1)) {
                fprintf(stderr, PROG ": --threshold must be in (0, 1]\n");
                return 2;
            }
            break;
        }
        case 'a': if (parse_uint(optarg, 1000, &cfg.onset_ms)) { usage(); return 2; } break;
        case 'h': if (parse_uint(optarg, 5000, &cfg.hangover_ms)) { usage(); return 2; } break;
        case 'e': if (parse_uint(optarg, 10000, &cfg.turn_end_ms)) { usage(); return 2; } break;
        case 'r': if (parse_uint(optarg, 100000, &repeat) || !repeat) { usage(); return 2; } break;
        default: usage(); return 2;
        }
    }
    if (!in || optind != argc) {
        usage();
        return 2;
    }
    x = read_mono16k(in, &n);
    if (!x)
        return 1;
    hops = n / MEL_HOP;
    if (mel_path) {
        struct mel *m = mel_create();
        float f[MEL_BANDS];

        if (!m || !(melf = fopen(mel_path, "w"))) {
            fprintf(stderr, PROG ": %s: cannot write\n", mel_path);
            free(x);
            return 1;
        }
        for (long t = 0; t < hops; t++) {
            mel_push(m, x + t * MEL_HOP, f);
            for (int b = 0; b < MEL_BANDS; b++)
                fprintf(melf, "%.7g%c", f[b], b + 1 < MEL_BANDS ? ',' : '\n');
        }
        mel_destroy(m);
        fclose(melf);
    }
    if (mel_path && !out_path) { /* features only */
        free(x);
        return 0;
    }
    if (nn_model_load(model_path, &model, err, sizeof(err)) != 0) {
        fprintf(stderr, PROG ": %s\n", err);
        free(x);
        return 1;
    }
    vad = vad_create(model, &cfg, err, sizeof(err));
    if (!vad) {
        fprintf(stderr, PROG ": %s: %s\n", model_path, err);
        nn_model_free(model);
        free(x);
        return 1;
    }
    float *prob = malloc(sizeof(float) * (size_t) (hops ? hops : 1));
    unsigned char *speech = malloc((size_t) (hops ? hops : 1));
    unsigned *ev = malloc(sizeof(unsigned) * (size_t) (hops ? hops : 1));
    if (!prob || !speech || !ev) {
        fprintf(stderr, PROG ": out of memory\n");
        return 1;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
    for (unsigned rep = 0; rep < repeat; rep++) {
        vad_reset(vad);
        for (long t = 0; t < hops; t++) {
            bool s;

            ev[t] = vad_process(vad, x + t * MEL_HOP, &prob[t], &s);
            speech[t] = s;
        }
    }
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
    if (repeat > 1 || getenv("HARK_VAD_TIMING")) {
        double cpu = (t1.tv_sec - t0.tv_sec) + 1e-9 * (t1.tv_nsec - t0.tv_nsec);
        double audio = (double) hops * MEL_HOP / MEL_RATE * repeat;

        fprintf(stderr, PROG ": %.1f s of audio in %.3f s CPU: %.0f x real time\n", audio, cpu,
                cpu > 0 ? audio / cpu : 0);
    }
    if (out_path && !(out = fopen(out_path, "w"))) {
        fprintf(stderr, PROG ": %s: %s\n", out_path, strerror(errno));
        return 1;
    }
    for (long t = 0; t < hops; t++) {
        fprintf(out, "%ld,%.4f,%d\n", t * 10, prob[t], speech[t]);
        if (events && ev[t])
            fprintf(stderr, "%ld,%s%s%s\n", t * 10, ev[t] & VAD_EV_SPEECH_START ? "speech_start" : "",
                    ev[t] & VAD_EV_SPEECH_END ? "speech_end" : "", ev[t] & VAD_EV_TURN_END ? " turn_end" : "");
    }
    if (out != stdout && fclose(out) != 0) {
        fprintf(stderr, PROG ": %s: write error\n", out_path);
        return 1;
    }
    free(prob);
    free(speech);
    free(ev);
    free(x);
    vad_destroy(vad);
    nn_model_free(model);
    return 0;
}
