/*
 * hark-earcon.c - host tool for harkd's earcons and spoken notices (Ogg
 * Opus files, see src/earcon.h and docs/earcons.md). Offline,
 * single-threaded: everything runs on the main thread.
 *
 *   hark-earcon encode --in X.wav --out X.opus [--bitrate 24000] [--signal music]
 *   hark-earcon decode --in X.opus --out X.wav [--rate 48000]
 *   hark-earcon check  --dir DIR [--rate 16000]
 *
 * encode: any WAV libsndfile reads, downmixed to mono, encoded with libopus
 * (20 ms frames, VBR, complexity 10; --signal is the encoder's
 * hint, music by default: chimes; voice for spoken notices). decode: through harkd's own loader
 * (every validation it applies), written as PCM16 WAV. check: loads a sound
 * directory exactly as harkd does and prints each sound's length and peak,
 * or why it would be disabled.
 *
 * Exit status: 0 ok, 1 I/O or format error (message on stderr; check: any
 * sound disabled), 2 bad arguments.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "earcon.h"
#include "earcon_encode.h"
#include "wav_io.h"

#define PROG "hark-earcon"

static void usage(FILE *f)
{
    fprintf(f, "usage: " PROG " encode --in X.wav --out X.opus [--bitrate 24000] [--signal music|voice|auto]\n"
               "       " PROG " decode --in X.opus --out X.wav [--rate 48000]\n"
               "       " PROG " check --dir DIR [--rate 16000]\n");
}

static int read_wav_mono(const char *path, float **pcm, size_t *frames, unsigned *rate)
{
    struct wav_info info;
    struct wav_reader *r;
    float *inter = NULL, *mono = NULL;
    int e = 0;
    long got;

    r = wav_reader_open(path, &info, &e);
    if (!r) {
        fprintf(stderr, PROG ": %s: %s\n", path, wav_strerror_last());
        return -1;
    }
    if (info.frames <= 0 || info.frames > (int64_t)EARCON_MAX_SECONDS * info.rate || info.channels < 1) {
        fprintf(stderr, PROG ": %s: %lld frames: need 1 .. %d s of audio\n", path,
                (long long)info.frames, EARCON_MAX_SECONDS);
        wav_reader_close(r);
        return -1;
    }
    inter = malloc((size_t)info.frames * (size_t)info.channels * sizeof(float));
    mono = malloc((size_t)info.frames * sizeof(float));
    if (!inter || !mono) {
        fprintf(stderr, PROG ": out of memory\n");
        goto fail;
    }
    got = wav_reader_read_float(r, inter, (long)info.frames);
    if (got != (long)info.frames) {
        fprintf(stderr, PROG ": %s: short read (%ld of %lld frames)\n", path, got, (long long)info.frames);
        goto fail;
    }
    for (long i = 0; i < got; i++) {
        float s = 0;
        for (int c = 0; c < info.channels; c++)
            s += inter[(size_t)i * (size_t)info.channels + (size_t)c];
        mono[i] = s / (float)info.channels;
    }
    free(inter);
    wav_reader_close(r);
    *pcm = mono;
    *frames = (size_t)got;
    *rate = (unsigned)info.rate;
    return 0;
fail:
    free(inter);
    free(mono);
    wav_reader_close(r);
    return -1;
}

static int cmd_encode(const char *in, const char *out, int bitrate, enum earcon_signal signal)
{
    float *pcm;
    size_t frames, len;
    unsigned rate;
    uint8_t *ogg;
    char err[EARCON_ERR_MAX];
    FILE *f;
    int r;

    if (read_wav_mono(in, &pcm, &frames, &rate) < 0)
        return 1;
    r = earcon_encode_ogg(pcm, frames, rate, bitrate, signal, &ogg, &len, err, sizeof(err));
    free(pcm);
    if (r < 0) {
        fprintf(stderr, PROG ": %s: %s\n", in, err);
        return 1;
    }
    f = fopen(out, "wb");
    if (!f || fwrite(ogg, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, PROG ": %s: %s\n", out, strerror(errno));
        if (f)
            (void)fclose(f);
        free(ogg);
        return 1;
    }
    free(ogg);
    printf("%s: %.3f s at %u Hz -> %zu bytes (%.1f kbit/s)\n", out, (double)frames / rate, rate, len,
           len * 8.0 / ((double)frames / rate) / 1000.0);
    return 0;
}

static int cmd_decode(const char *in, const char *out, unsigned rate)
{
    float *pcm;
    size_t frames;
    char err[EARCON_ERR_MAX];
    struct wav_writer *w;
    int e = 0, r;

    r = earcon_decode_file(in, rate, &pcm, &frames, err, sizeof(err));
    if (r < 0) {
        fprintf(stderr, PROG ": %s: %s\n", in, err);
        return 1;
    }
    w = wav_writer_open(out, (int)rate, 1, WAV_PCM16, &e);
    if (!w || wav_writer_write_float(w, pcm, (long)frames) < 0 || wav_writer_close(w) < 0) {
        fprintf(stderr, PROG ": %s: %s\n", out, wav_strerror_last());
        free(pcm);
        return 1;
    }
    free(pcm);
    printf("%s: %zu frames at %u Hz (%.3f s)\n", out, frames, rate, (double)frames / rate);
    return 0;
}

static int cmd_check(const char *dir, unsigned rate)
{
    char err[1024];
    struct earcon_set *set = earcon_set_load(dir, rate, err, sizeof(err));
    int bad = 0;

    if (!set) {
        fprintf(stderr, PROG ": %s: %s\n", dir, err);
        return 1;
    }
    for (unsigned i = 0; i < EARCON_COUNT; i++) {
        const float *pcm;
        size_t frames;
        float peak = 0;

        if (earcon_get_id(set, (enum earcon_id)i, &pcm, &frames) < 0) {
            printf("%-12s DISABLED: %s\n", earcon_names[i], earcon_error(set, (enum earcon_id)i));
            bad = 1;
            continue;
        }
        for (size_t k = 0; k < frames; k++)
            peak = fmaxf(peak, fabsf(pcm[k]));
        printf("%-12s %6.3f s  peak %6.1f dBFS\n", earcon_names[i], (double)frames / rate,
               peak > 0 ? 20 * log10f(peak) : -INFINITY);
    }
    earcon_set_destroy(set);
    return bad;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "in", required_argument, NULL, 'i' },   { "out", required_argument, NULL, 'o' },
        { "bitrate", required_argument, NULL, 'b' }, { "rate", required_argument, NULL, 'r' },
        { "dir", required_argument, NULL, 'd' },  { "signal", required_argument, NULL, 's' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *cmd, *in = NULL, *out = NULL, *dir = NULL;
    long bitrate = EARCON_ENCODE_BITRATE, rate = 0;
    enum earcon_signal signal = EARCON_SIGNAL_MUSIC;
    char *end;
    int c;

    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    cmd = argv[1];
    optind = 2;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'i': in = optarg; break;
        case 'o': out = optarg; break;
        case 'd': dir = optarg; break;
        case 's':
            if (!strcmp(optarg, "music"))
                signal = EARCON_SIGNAL_MUSIC;
            else if (!strcmp(optarg, "voice"))
                signal = EARCON_SIGNAL_VOICE;
            else if (!strcmp(optarg, "auto"))
                signal = EARCON_SIGNAL_AUTO;
            else {
                fprintf(stderr, PROG ": --signal must be music, voice or auto\n");
                return 2;
            }
            break;
        case 'b':
        case 'r':
            errno = 0;
            *(c == 'b' ? &bitrate : &rate) = strtol(optarg, &end, 10);
            if (errno || *end || end == optarg) {
                fprintf(stderr, PROG ": --%s: not a number: %s\n", c == 'b' ? "bitrate" : "rate", optarg);
                return 2;
            }
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }
    if (rate && (rate < 8000 || rate > 192000)) {
        fprintf(stderr, PROG ": --rate must be 8000..192000\n");
        return 2;
    }
    if (!strcmp(cmd, "encode") && in && out) {
        if (bitrate < 6000 || bitrate > 256000) {
            fprintf(stderr, PROG ": --bitrate must be 6000..256000\n");
            return 2;
        }
        return cmd_encode(in, out, (int)bitrate, signal);
    }
    if (!strcmp(cmd, "decode") && in && out)
        return cmd_decode(in, out, rate ? (unsigned)rate : 48000);
    if (!strcmp(cmd, "check") && dir)
        return cmd_check(dir, rate ? (unsigned)rate : 16000);
    usage(stderr);
    return 2;
}
