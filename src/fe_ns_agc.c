/*
 * fe_ns_agc.c - noise suppression + AGC by speexdsp's preprocessor (see
 * fe_ns_agc.h).
 *
 * Level calibration. speexdsp's AGC_LEVEL is not an RMS: the preprocessor
 * compares it with a loudness it derives from a frequency-weighted power
 * spectrum, raised to a power and averaged over speech frames, so the
 * settled output RMS over active speech sits below 20 log10(AGC_LEVEL /
 * 32768) by an amount that depends on the spectrum: measured 10.5 dB for
 * the synthetic talker of tests/unit/test_fe_ns_agc.c, 12 dB for flite
 * (slt) and 13.4 dB for espeak-ng (en-us) speech at -40 dBFS in. The stage
 * adds FE_NS_AGC_LEVEL_OFFSET_DB = 12 dB back, so agc_target_dbfs is the
 * speech RMS within about +-1.5 dB for these voices; the unit test holds
 * the synthetic talker to +-3 dB.
 */
#include "fe_ns_agc.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <speex/speex_preprocess.h>

/* Measured: output speech RMS (dBFS) minus 20 log10(AGC_LEVEL / 32768). */
#define FE_NS_AGC_LEVEL_OFFSET_DB (-12.0f)

struct fe_ns_agc {
    struct fe_ns_agc_cfg cfg;
    SpeexPreprocessState *pp;  /* NULL when ns and agc are both off */
    spx_int16_t *buf;          /* hop */
    float prob;
    bool hold;                 /* AGC held (see fe_ns_agc_set_hold) */
};

void fe_ns_agc_cfg_default(struct fe_ns_agc_cfg *cfg, unsigned rate)
{
    cfg->rate = rate;
    cfg->hop = rate / 100;
    cfg->ns = true;
    cfg->ns_db = -15;
    cfg->agc = true;
    cfg->agc_target_dbfs = -20;
    cfg->agc_max_gain_db = 30;
    cfg->agc_increment_db_s = 12;
    cfg->agc_decrement_db_s = 40;
}

void fe_ns_agc_cfg_from_conf(struct fe_ns_agc_cfg *cfg, const struct frontend_conf *fc, unsigned rate)
{
    fe_ns_agc_cfg_default(cfg, rate);
    cfg->ns = fc->ns;
    cfg->ns_db = fc->ns_db;
    cfg->agc = fc->agc;
    cfg->agc_target_dbfs = (float) fc->agc_target_dbfs;
    cfg->agc_max_gain_db = (float) fc->agc_max_gain_db;
}

static bool cfg_ok(const struct fe_ns_agc_cfg *c)
{
    return c->rate >= 8000 && c->rate <= 48000 && c->hop >= 1 && c->hop <= 1024 && c->ns_db >= -60 &&
           c->ns_db <= 0 && c->agc_target_dbfs >= -40 && c->agc_target_dbfs <= -3 &&
           c->agc_max_gain_db >= 0 && c->agc_max_gain_db <= 60 && c->agc_increment_db_s >= 1 &&
           c->agc_increment_db_s <= 60 && c->agc_decrement_db_s >= 1 && c->agc_decrement_db_s <= 200;
}

struct fe_ns_agc *fe_ns_agc_create(const struct fe_ns_agc_cfg *cfg)
{
    struct fe_ns_agc *st;
    spx_int32_t on, off = 0, v;
    float level;

    if (!cfg || !cfg_ok(cfg))
        return NULL;
    st = calloc(1, sizeof(*st));
    if (!st)
        return NULL;
    st->cfg = *cfg;
    if (!cfg->ns && !cfg->agc)
        return st;
    st->buf = calloc(cfg->hop, sizeof(*st->buf));
    st->pp = speex_preprocess_state_init((int) cfg->hop, (int) cfg->rate);
    if (!st->buf || !st->pp) {
        fe_ns_agc_destroy(st);
        return NULL;
    }
    on = cfg->ns;
    speex_preprocess_ctl(st->pp, SPEEX_PREPROCESS_SET_DENOISE, &on);
    v = cfg->ns_db;
    speex_preprocess_ctl(st->pp, SPEEX_PREPROCESS_SET_NOISE_SUPPRESS, &v);
    on = cfg->agc;
    speex_preprocess_ctl(st->pp, SPEEX_PREPROCESS_SET_AGC, &on);
    level = 32768.0f * powf(10.0f, (cfg->agc_target_dbfs - FE_NS_AGC_LEVEL_OFFSET_DB) / 20.0f);
    speex_preprocess_ctl(st->pp, SPEEX_PREPROCESS_SET_AGC_LEVEL, &level);
    v = (spx_int32_t) lrintf(cfg->agc_max_gain_db);
    speex_preprocess_ctl(st->pp, SPEEX_PREPROCESS_SET_AGC_MAX_GAIN, &v);
    v = (spx_int32_t) lrintf(cfg->agc_increment_db_s);
    speex_preprocess_ctl(st->pp, SPEEX_PREPROCESS_SET_AGC_INCREMENT, &v);
    v = -(spx_int32_t) lrintf(cfg->agc_decrement_db_s);
    speex_preprocess_ctl(st->pp, SPEEX_PREPROCESS_SET_AGC_DECREMENT, &v);
    /* VAD and dereverb are off by default; SET_VAD is not called because
     * speexdsp prints a warning on it. */
    speex_preprocess_ctl(st->pp, SPEEX_PREPROCESS_SET_DEREVERB, &off);
    return st;
}

void fe_ns_agc_destroy(struct fe_ns_agc *st)
{
    if (!st)
        return;
    if (st->pp)
        speex_preprocess_state_destroy(st->pp);
    free(st->buf);
    free(st);
}

void fe_ns_agc_process(struct fe_ns_agc *st, const float *in, float *out)
{
    const unsigned n = st->cfg.hop;
    spx_int32_t prob = 0;

    if (!st->pp) {
        if (out != in)
            memmove(out, in, n * sizeof(float));
        return;
    }
    for (unsigned i = 0; i < n; i++) {
        float v = in[i] * 32768.0f;
        v = v > 32767.0f ? 32767.0f : v < -32768.0f ? -32768.0f : v;
        st->buf[i] = (spx_int16_t) lrintf(v);
    }
    speex_preprocess_run(st->pp, st->buf);
    for (unsigned i = 0; i < n; i++)
        out[i] = st->buf[i] * (1.0f / 32768.0f);
    speex_preprocess_ctl(st->pp, SPEEX_PREPROCESS_GET_PROB, &prob);
    st->prob = prob * 0.01f;
}

void fe_ns_agc_set_hold(struct fe_ns_agc *st, bool hold)
{
    spx_int32_t on;

    if (!st->pp || !st->cfg.agc || hold == st->hold)
        return;
    /* speexdsp keeps agc_gain and its loudness averages while the AGC is
     * disabled, and neither updates nor applies them. */
    on = !hold;
    speex_preprocess_ctl(st->pp, SPEEX_PREPROCESS_SET_AGC, &on);
    st->hold = hold;
}

float fe_ns_agc_gain_db(const struct fe_ns_agc *st)
{
    spx_int32_t g = 0;

    if (!st->pp || !st->cfg.agc)
        return 0;
    speex_preprocess_ctl(st->pp, SPEEX_PREPROCESS_GET_AGC_GAIN, &g);
    return (float) g;
}

float fe_ns_agc_speech_prob(const struct fe_ns_agc *st)
{
    return st->pp ? st->prob : 0.0f;
}

unsigned fe_ns_agc_latency(const struct fe_ns_agc *st)
{
    return st->pp ? st->cfg.hop : 0;
}
