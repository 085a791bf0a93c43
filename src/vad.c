/*
 * vad.c - neural VAD with onset/hangover hysteresis and turn ends (see
 * vad.h). The model does the hard part (speech vs noise and music); this
 * file only wires mel -> nn_step and counts frames.
 */
#include "vad.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct vad {
    const struct nn_model *model;
    struct nn_state *state;
    struct mel *mel;
    struct vad_hyst hyst;
    float feat[MEL_BANDS];
};

void vad_cfg_default(struct vad_cfg *cfg)
{
    cfg->threshold = 0;
    cfg->onset_ms = 30;
    cfg->hangover_ms = 200;
    cfg->turn_end_ms = 700;
}

void vad_cfg_from_conf(struct vad_cfg *cfg, const struct vad_conf *conf)
{
    cfg->threshold = (float) conf->threshold;
    cfg->onset_ms = conf->onset_ms;
    cfg->hangover_ms = conf->hangover_ms;
    cfg->turn_end_ms = conf->turn_end_ms;
}

/* ms -> whole frames, rounding up: "at least this long". */
static unsigned frames_of(unsigned ms)
{
    return (ms + VAD_FRAME_MS - 1) / VAD_FRAME_MS;
}

int vad_hyst_init(struct vad_hyst *h, const struct vad_cfg *cfg)
{
    if (!(cfg->threshold > 0.0f && cfg->threshold <= 1.0f) || cfg->onset_ms > 1000 || cfg->hangover_ms > 5000 ||
        cfg->turn_end_ms < 10 || cfg->turn_end_ms > 10000)
        return -EINVAL;
    memset(h, 0, sizeof(*h));
    h->threshold = cfg->threshold;
    h->onset_frames = frames_of(cfg->onset_ms);
    h->hangover_frames = frames_of(cfg->hangover_ms);
    h->turn_end_frames = frames_of(cfg->turn_end_ms);
    if (h->onset_frames == 0)
        h->onset_frames = 1; /* a frame must be speech to count */
    if (h->hangover_frames == 0)
        h->hangover_frames = 1;
    return 0;
}

void vad_hyst_reset(struct vad_hyst *h)
{
    h->run_speech = h->run_silence = h->holdoff = 0;
    h->is_speech = h->in_turn = false;
}

void vad_hyst_rearm(struct vad_hyst *h, unsigned holdoff_frames)
{
    vad_hyst_reset(h);
    h->holdoff = holdoff_frames;
}

unsigned vad_hyst_step(struct vad_hyst *h, float prob)
{
    unsigned ev = 0;
    bool raw = prob >= h->threshold; /* NaN counts as non-speech */

    if (h->holdoff) {
        h->holdoff--;
        raw = false;
    }

    if (raw) {
        h->run_silence = 0;
        if (h->run_speech < UINT32_MAX)
            h->run_speech++;
    } else {
        h->run_speech = 0;
        if (h->run_silence < UINT32_MAX)
            h->run_silence++;
    }
    if (!h->is_speech && h->run_speech >= h->onset_frames) {
        h->is_speech = true;
        h->in_turn = true;
        ev |= VAD_EV_SPEECH_START;
    } else if (h->is_speech && h->run_silence >= h->hangover_frames) {
        h->is_speech = false;
        ev |= VAD_EV_SPEECH_END;
    }
    if (h->in_turn && !h->is_speech && h->run_silence >= h->turn_end_frames) {
        h->in_turn = false;
        ev |= VAD_EV_TURN_END;
    }
    return ev;
}

static void set_err(char *err, size_t errlen, const char *msg)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
}

struct vad *vad_create(const struct nn_model *model, const struct vad_cfg *cfg, char *err, size_t errlen)
{
    struct vad_cfg c = *cfg;
    struct vad *v;

    if (strcmp(nn_model_kind(model), "vad") != 0 || nn_model_n_in(model) != MEL_BANDS ||
        nn_model_n_out(model) != 1) {
        set_err(err, errlen, "not a VAD model (need kind \"vad\", 40 log-mel inputs, 1 output)");
        return NULL;
    }
    if (c.threshold == 0.0f)
        c.threshold = (float) nn_model_meta_double(model, "threshold", 0.5);
    v = calloc(1, sizeof(*v));
    if (!v) {
        set_err(err, errlen, "out of memory");
        return NULL;
    }
    if (vad_hyst_init(&v->hyst, &c) != 0) {
        set_err(err, errlen, "VAD config out of range (threshold (0, 1], onset <= 1000 ms, hangover <= 5000 ms, "
                             "turn end 10..10000 ms)");
        free(v);
        return NULL;
    }
    v->model = model;
    v->state = nn_state_create(model);
    v->mel = mel_create();
    if (!v->state || !v->mel) {
        set_err(err, errlen, "out of memory");
        vad_destroy(v);
        return NULL;
    }
    return v;
}

void vad_destroy(struct vad *v)
{
    if (!v)
        return;
    nn_state_destroy(v->state);
    mel_destroy(v->mel);
    free(v);
}

void vad_reset(struct vad *v)
{
    nn_state_reset(v->state);
    mel_reset(v->mel);
    vad_hyst_reset(&v->hyst);
}

float vad_threshold(const struct vad *v)
{
    return v->hyst.threshold;
}

unsigned vad_process(struct vad *v, const float hop[MEL_HOP], float *prob, bool *is_speech)
{
    float p = 0;
    unsigned ev;

    mel_push(v->mel, hop, v->feat);
    nn_step(v->model, v->state, v->feat, &p);
    if (!(p >= 0.0f))
        p = 0.0f;
    if (p > 1.0f)
        p = 1.0f;
    ev = vad_hyst_step(&v->hyst, p);
    if (prob)
        *prob = p;
    if (is_speech)
        *is_speech = v->hyst.is_speech;
    return ev;
}

void vad_rearm(struct vad *v, unsigned holdoff_ms)
{
    vad_hyst_rearm(&v->hyst, frames_of(holdoff_ms));
}

unsigned vad_speech_run_frames(const struct vad *v)
{
    return v->hyst.run_speech;
}
