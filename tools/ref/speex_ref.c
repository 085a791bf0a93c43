/*
 * speex_ref.c - reference runner for the front-end evaluation: speexdsp
 * alone on mic 0, as a product would use it without hark's front end
 * (host tool, offline, main thread only; built only by `make fe-eval`,
 * see mk/h-fe-eval.rules.mk).
 *
 *   speex_ref MICS.wav REF.wav OUT.wav [--tail-ms 256] [--no-res] [--no-ns]
 *
 * MICS.wav: one channel per mic (channel 0 is used), REF.wav: the playback
 * reference (channel 0), both 16 kHz. Chain, 10 ms frames (160 samples):
 * MDF echo canceller (speex_echo_cancellation, the caller-aligned call;
 * SPEEX_ECHO_SET_SAMPLING_RATE set) with a `--tail-ms` filter, then the
 * preprocessor with the echo state attached (residual echo suppression,
 * speexdsp's defaults -40 dB / -15 dB active) and denoise (-15 dB). No
 * AGC, so levels stay comparable. OUT.wav: mono float, same length as the
 * input, no delay added by the chain.
 *
 * Exit status: 0 ok, 1 I/O error, 2 bad arguments.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sndfile.h>
#include <speex/speex_echo.h>
#include <speex/speex_preprocess.h>

#define FRAME 160
#define RATE 16000

static float *read_ch0(const char *path, long *n)
{
    SF_INFO info = { 0 };
    SNDFILE *f = sf_open(path, SFM_READ, &info);
    float *all, *x;

    if (!f) {
        fprintf(stderr, "speex_ref: %s: %s\n", path, sf_strerror(NULL));
        return NULL;
    }
    if (info.samplerate != RATE || info.channels < 1 || info.frames <= 0) {
        fprintf(stderr, "speex_ref: %s: need %d Hz audio, got %d Hz\n", path, RATE, info.samplerate);
        sf_close(f);
        return NULL;
    }
    all = malloc(sizeof(float) * (size_t) info.frames * (size_t) info.channels);
    x = malloc(sizeof(float) * (size_t) info.frames);
    if (!all || !x || sf_readf_float(f, all, info.frames) != info.frames) {
        fprintf(stderr, "speex_ref: %s: cannot read\n", path);
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

static spx_int16_t to16(float v)
{
    v *= 32768.0f;
    return (spx_int16_t) lrintf(v > 32767.0f ? 32767.0f : v < -32768.0f ? -32768.0f : v);
}

int main(int argc, char **argv)
{
    int tail_ms = 256, res = 1, ns = 1, rate = RATE;
    long nm, nr;
    float *mic, *ref, *out;
    SpeexEchoState *ec;
    SpeexPreprocessState *pp;
    SF_INFO oi = { .samplerate = RATE, .channels = 1, .format = SF_FORMAT_WAV | SF_FORMAT_FLOAT };
    SNDFILE *of;

    if (argc < 4) {
        fprintf(stderr, "usage: speex_ref MICS.wav REF.wav OUT.wav [--tail-ms 256] [--no-res] [--no-ns]\n");
        return 2;
    }
    for (int i = 4; i < argc; i++) {
        if (!strcmp(argv[i], "--tail-ms") && i + 1 < argc) {
            tail_ms = atoi(argv[++i]);
            if (tail_ms < 10 || tail_ms > 2000) {
                fprintf(stderr, "speex_ref: --tail-ms must be 10..2000\n");
                return 2;
            }
        } else if (!strcmp(argv[i], "--no-res")) {
            res = 0;
        } else if (!strcmp(argv[i], "--no-ns")) {
            ns = 0;
        } else {
            fprintf(stderr, "speex_ref: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    mic = read_ch0(argv[1], &nm);
    ref = read_ch0(argv[2], &nr);
    if (!mic || !ref)
        return 1;
    out = calloc((size_t) nm, sizeof(float));
    ec = speex_echo_state_init(FRAME, tail_ms * RATE / 1000);
    pp = speex_preprocess_state_init(FRAME, RATE);
    if (!out || !ec || !pp)
        return 1;
    speex_echo_ctl(ec, SPEEX_ECHO_SET_SAMPLING_RATE, &rate);
    if (res)
        speex_preprocess_ctl(pp, SPEEX_PREPROCESS_SET_ECHO_STATE, ec);
    speex_preprocess_ctl(pp, SPEEX_PREPROCESS_SET_DENOISE, &ns);
    for (long t = 0; t + FRAME <= nm; t += FRAME) {
        spx_int16_t m[FRAME], r[FRAME], e[FRAME];

        for (int i = 0; i < FRAME; i++) {
            m[i] = to16(mic[t + i]);
            r[i] = t + i < nr ? to16(ref[t + i]) : 0;
        }
        speex_echo_cancellation(ec, m, r, e);
        if (res || ns)
            speex_preprocess_run(pp, e);
        for (int i = 0; i < FRAME; i++)
            out[t + i] = e[i] / 32768.0f;
    }
    of = sf_open(argv[3], SFM_WRITE, &oi);
    if (!of || sf_writef_float(of, out, nm) != nm) {
        fprintf(stderr, "speex_ref: %s: cannot write\n", argv[3]);
        return 1;
    }
    sf_close(of);
    speex_echo_state_destroy(ec);
    speex_preprocess_state_destroy(pp);
    free(mic);
    free(ref);
    free(out);
    return 0;
}
