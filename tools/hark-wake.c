/*
 * hark-wake.c - run the daemon's wake-word detector (src/wake.c) over a WAV
 * file. Offline tool, single-threaded: everything runs on the main thread.
 *
 *   hark-wake --in X.wav [--model M.hkm] [--out D.csv] [--threshold T]
 *             [--scores S.csv] [--preroll-out P.wav] [--bench]
 *
 *   --out          detections, one line "time_ms,score" each (time = end of
 *                  the 10 ms hop at which it fired); "-" or absent = stdout
 *   --model        default models/hey_nova.hkm
 *   --threshold    override the model's threshold (0 < T < 1)
 *   --smooth, --refractory-ms   override the model's values
 *   --scores       every frame "time_ms,posterior_smoothed" (for DET sweeps)
 *   --preroll-out  the pre-roll ring at the first detection, as a WAV
 *   --bench        print CPU time and % of one core to stderr
 *
 * Input: 16 kHz WAV; with several channels only the first is used. Exit
 * status: 0 ok, 1 I/O, format or model error (message on stderr), 2 bad
 * arguments.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wake.h"
#include "wav_io.h"

#define HWK_PROG "hark-wake"
#define HWK_CHUNK 4096L

static void usage(FILE *f)
{
    fprintf(f, "usage: " HWK_PROG " --in X.wav [--model M.hkm] [--out D.csv] [--threshold T]\n"
               "       [--smooth K] [--refractory-ms MS] [--scores S.csv] [--preroll-out P.wav]"
               " [--bench]\n");
}

static double cpu_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double) ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "in", required_argument, NULL, 'i' },
        { "model", required_argument, NULL, 'm' },
        { "out", required_argument, NULL, 'o' },
        { "threshold", required_argument, NULL, 't' },
        { "smooth", required_argument, NULL, 'k' },
        { "refractory-ms", required_argument, NULL, 'r' },
        { "scores", required_argument, NULL, 's' },
        { "preroll-out", required_argument, NULL, 'p' },
        { "bench", no_argument, NULL, 'b' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *in = NULL, *model = "models/hey_nova.hkm", *out = NULL, *scores = NULL;
    const char *preroll_out = NULL;
    bool bench = false, have_preroll = false;
    struct wake_cfg cfg;
    struct wav_info info;
    struct wav_reader *rd = NULL;
    struct wake *w = NULL;
    FILE *fo = stdout, *fs = NULL;
    float *buf = NULL, *preroll = NULL, hop[WAKE_HOP];
    size_t fill = 0, n_pre = 0;
    char err[256], *end;
    int c, e = 0, rc = 1;
    uint64_t hops = 0, dets = 0;
    double t0, cpu = 0;

    wake_cfg_defaults(&cfg);
    while ((c = getopt_long(argc, argv, "i:m:o:t:k:r:s:p:bh", opts, NULL)) != -1) {
        switch (c) {
        case 'i': in = optarg; break;
        case 'm': model = optarg; break;
        case 'o': out = optarg; break;
        case 's': scores = optarg; break;
        case 'p': preroll_out = optarg; break;
        case 'b': bench = true; break;
        case 't':
            cfg.threshold = strtof(optarg, &end);
            if (*end || !(cfg.threshold > 0 && cfg.threshold < 1)) {
                fprintf(stderr, HWK_PROG ": --threshold must be in (0, 1)\n");
                return 2;
            }
            break;
        case 'k':
            cfg.smooth_frames = (unsigned) strtoul(optarg, &end, 10);
            if (*end || cfg.smooth_frames < 1 || cfg.smooth_frames > WAKE_MAX_SMOOTH) {
                fprintf(stderr, HWK_PROG ": --smooth must be 1..%d\n", WAKE_MAX_SMOOTH);
                return 2;
            }
            break;
        case 'r':
            cfg.refractory_ms = (unsigned) strtoul(optarg, &end, 10);
            if (*end || cfg.refractory_ms < 10 || cfg.refractory_ms > 60000) {
                fprintf(stderr, HWK_PROG ": --refractory-ms must be 10..60000\n");
                return 2;
            }
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!in || optind != argc) {
        usage(stderr);
        return 2;
    }

    w = wake_create(&cfg, model, err, sizeof(err));
    if (!w) {
        fprintf(stderr, HWK_PROG ": %s\n", err);
        return 1;
    }
    rd = wav_reader_open(in, &info, &e);
    if (!rd) {
        fprintf(stderr, HWK_PROG ": %s: %s\n", in, strerror(-e));
        goto out;
    }
    if (info.rate != WAKE_RATE) {
        fprintf(stderr, HWK_PROG ": %s: %d Hz, need %d Hz\n", in, info.rate, WAKE_RATE);
        goto out;
    }
    buf = malloc((size_t) HWK_CHUNK * info.channels * sizeof(float));
    preroll = malloc(wake_preroll_capacity(w) * sizeof(float));
    if (!buf || !preroll) {
        fprintf(stderr, HWK_PROG ": out of memory\n");
        goto out;
    }
    if (out && strcmp(out, "-") != 0 && !(fo = fopen(out, "w"))) {
        fprintf(stderr, HWK_PROG ": %s: %s\n", out, strerror(errno));
        fo = NULL;
        goto out;
    }
    if (scores && !(fs = fopen(scores, "w"))) {
        fprintf(stderr, HWK_PROG ": %s: %s\n", scores, strerror(errno));
        goto out;
    }

    for (;;) {
        long got = wav_reader_read_float(rd, buf, HWK_CHUNK);

        if (got < 0) {
            fprintf(stderr, HWK_PROG ": %s: read error\n", in);
            goto out;
        }
        if (got == 0)
            break;
        for (long i = 0; i < got; i++) {
            struct wake_event ev;
            int fired;

            hop[fill++] = buf[(size_t) i * info.channels];
            if (fill < WAKE_HOP)
                continue;
            fill = 0;
            t0 = cpu_seconds();
            fired = wake_process(w, hop, &ev);
            cpu += cpu_seconds() - t0;
            hops++;
            if (fs) {
                struct wake_stats st;

                wake_get_stats(w, &st);
                fprintf(fs, "%llu,%.5f\n", (unsigned long long) (hops * 10), st.last_score);
            }
            if (!fired)
                continue;
            dets++;
            fprintf(fo, "%llu,%.4f\n", (unsigned long long) (ev.sample * 1000 / WAKE_RATE),
                    ev.score);
            if (!have_preroll && preroll_out) {
                n_pre = wake_preroll_copy(w, preroll, wake_preroll_capacity(w));
                have_preroll = true;
            }
        }
    }
    if (have_preroll) {
        struct wav_writer *ww = wav_writer_open(preroll_out, WAKE_RATE, 1, WAV_PCM16, &e);

        if (!ww || wav_writer_write_float(ww, preroll, (long) n_pre) < 0 ||
            wav_writer_close(ww) < 0) {
            fprintf(stderr, HWK_PROG ": %s: cannot write\n", preroll_out);
            goto out;
        }
    }
    if (bench) {
        double audio = hops * (double) WAKE_HOP / WAKE_RATE;

        fprintf(stderr, HWK_PROG ": %llu detections, %.1f s of audio, %.3f s CPU in the detector"
                " = %.3f %% of one core (%.0fx real time)\n", (unsigned long long) dets, audio,
                cpu, audio > 0 ? 100.0 * cpu / audio : 0.0, cpu > 0 ? audio / cpu : 0.0);
    }
    rc = 0;

out:
    if (fo && fo != stdout && fclose(fo) != 0 && rc == 0) {
        fprintf(stderr, HWK_PROG ": %s: %s\n", out, strerror(errno));
        rc = 1;
    }
    if (fs && fclose(fs) != 0 && rc == 0)
        rc = 1;
    wav_reader_close(rd);
    wake_destroy(w);
    free(buf);
    free(preroll);
    return rc;
}
