/*
 * wake.c - streaming wake-word detector (see wake.h).
 *
 * Why this shape. A keyword spotter that runs all the time on a small ARM
 * core must be cheap per 10 ms and must not drift over days of streaming.
 * The models train_wake.py makes are stacks of causal dilated convolutions
 * over 40 log-mels (about 45 k parameters, receptive field 1.29 s): each
 * frame costs ~45 k multiply-adds and the output depends only on the last
 * 1.29 s of audio, so there is no recurrent state to saturate or drift (the
 * engine also runs GRU models; the detector does not care which).
 *
 * The network's per-frame posterior is noisy at the edges of the phrase, so
 * the decision uses a moving average over k frames (30-50 ms) and a fixed
 * threshold; after a detection a refractory period (1.5 s by default)
 * stops one utterance from firing twice. Firing at the first frame above
 * the threshold (rather than waiting for the peak) keeps the delay after
 * the phrase end at the network's own latency plus about k/2 frames.
 *
 * The pre-roll ring holds whole hops (a multiple of WAKE_HOP samples), so
 * writing a hop is one memcpy and never wraps inside a hop.
 */
#include "wake.h"

#include "mel.h"
#include "nn_model.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WAKE_DEFAULT_SMOOTH 5
#define WAKE_DEFAULT_REFRACTORY_MS 1500
#define WAKE_FRAME_MS 10
#define WAKE_OWN_WIN 100          /* hops (1 s) for the echo share of the guard */

struct wake {
    struct wake_cfg cfg;
    const struct nn_model *model;
    struct nn_model *owned_model;
    struct nn_state *state;
    struct mel *mel;
    struct wake_decider dec;
    float thr;
    unsigned refractory_ms;
    unsigned warmup;               /* frames after create/reset without detections */
    char phrase[64];

    /* self-wake guard */
    bool playback;
    bool blocked;
    uint64_t guard_until;          /* frame index until which the guard holds */
    uint8_t own[WAKE_OWN_WIN];     /* per hop of the last second: our own echo alone */
    unsigned own_pos, own_count;

    /* pre-roll ring of whole hops */
    float *ring;
    size_t ring_len;               /* samples, multiple of WAKE_HOP */
    size_t ring_pos;               /* next write position */
    size_t ring_fill;

    uint64_t samples;
    struct wake_stats st;
    float feat[MEL_BANDS];
};

static void set_err(char *err, size_t len, const char *fmt, ...)
{
    va_list ap;

    if (!err || !len)
        return;
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
}

void wake_cfg_defaults(struct wake_cfg *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->preroll_ms = 1000;
    cfg->playback_threshold = 0.97f;
    cfg->playback_hold_ms = 300;
    cfg->playback_block_dbfs = -45.0f;
    cfg->playback_echo_share = 0.5f;
}

/* ---- decision stage ---------------------------------------------------------- */

int wake_decider_init(struct wake_decider *d, unsigned smooth, unsigned refractory_frames)
{
    if (smooth == 0 || smooth > WAKE_MAX_SMOOTH)
        return -EINVAL;
    memset(d, 0, sizeof(*d));
    d->smooth = smooth;
    d->refractory = refractory_frames;
    return 0;
}

void wake_decider_reset(struct wake_decider *d)
{
    unsigned k = d->smooth, r = d->refractory;

    memset(d, 0, sizeof(*d));
    d->smooth = k;
    d->refractory = r;
}

bool wake_decider_step(struct wake_decider *d, float posterior, float thr)
{
    uint64_t t = d->frame++;
    double s;

    if (!(posterior >= 0.0f))      /* NaN or negative */
        posterior = 0.0f;
    if (posterior > 1.0f)
        posterior = 1.0f;
    d->sum += (double) posterior - d->hist[d->pos];
    d->hist[d->pos] = posterior;
    d->pos = (d->pos + 1) % d->smooth;
    /* The running sum is refreshed every time the ring wraps so that
     * rounding cannot accumulate over days. */
    if (d->pos == 0) {
        s = 0;
        for (unsigned i = 0; i < d->smooth; i++)
            s += d->hist[i];
        d->sum = s;
    }
    s = d->sum / d->smooth;
    d->score = (float) s;
    if (s < (double) thr)
        return false;
    if (d->last_fire && t - (d->last_fire - 1) < d->refractory)
        return false;
    d->last_fire = t + 1;
    return true;
}

/* ---- detector ---------------------------------------------------------------- */

struct wake *wake_create(const struct wake_cfg *cfg, const char *model_path, char *err,
                         size_t errlen)
{
    struct nn_model *m = NULL;
    char why[200];
    struct wake *w;
    int r;

    if (!model_path || !*model_path) {
        set_err(err, errlen, "no wake model configured");
        return NULL;
    }
    r = nn_model_load(model_path, &m, why, sizeof(why));
    if (r < 0) {
        set_err(err, errlen, "wake model %s: %s", model_path, why);
        return NULL;
    }
    w = wake_create_with_model(cfg, m, err, errlen);
    if (!w) {
        nn_model_free(m);
        return NULL;
    }
    w->owned_model = m;
    return w;
}

struct wake *wake_create_with_model(const struct wake_cfg *cfg, const struct nn_model *model,
                                    char *err, size_t errlen)
{
    struct wake *w;
    unsigned smooth, hops;
    double v;

    if (strcmp(nn_model_kind(model), "wake") != 0) {
        set_err(err, errlen, "model kind is \"%s\", not \"wake\"", nn_model_kind(model));
        return NULL;
    }
    if (nn_model_n_in(model) != MEL_BANDS || nn_model_n_out(model) != 1) {
        set_err(err, errlen, "wake model must take %d features and give 1 output (has %u -> %u)",
                MEL_BANDS, nn_model_n_in(model), nn_model_n_out(model));
        return NULL;
    }
    if (cfg->preroll_ms < WAKE_MIN_PREROLL_MS || cfg->preroll_ms > WAKE_MAX_PREROLL_MS ||
        !(cfg->threshold >= 0.0f && cfg->threshold < 1.0f) ||
        !(cfg->playback_threshold >= 0.0f && cfg->playback_threshold <= 1.0f) ||
        cfg->smooth_frames > WAKE_MAX_SMOOTH || cfg->refractory_ms > 60000 ||
        cfg->playback_hold_ms > 10000 ||
        !(cfg->playback_echo_share >= 0.0f && cfg->playback_echo_share <= 1.0f)) {
        set_err(err, errlen, "wake config value out of range");
        return NULL;
    }
    w = calloc(1, sizeof(*w));
    if (!w) {
        set_err(err, errlen, "out of memory");
        return NULL;
    }
    w->cfg = *cfg;
    w->model = model;

    v = nn_model_meta_double(model, "threshold", 0.5);
    w->thr = cfg->threshold > 0.0f ? cfg->threshold : (float) v;
    if (!(w->thr > 0.0f && w->thr < 1.0f)) {
        set_err(err, errlen, "wake threshold %g out of (0, 1)", (double) w->thr);
        goto out_free;
    }
    smooth = cfg->smooth_frames;
    if (!smooth) {
        v = nn_model_meta_double(model, "smooth", WAKE_DEFAULT_SMOOTH);
        smooth = (v >= 1 && v <= WAKE_MAX_SMOOTH) ? (unsigned) v : WAKE_DEFAULT_SMOOTH;
    }
    w->refractory_ms = cfg->refractory_ms;
    if (!w->refractory_ms) {
        v = nn_model_meta_double(model, "refractory_ms", WAKE_DEFAULT_REFRACTORY_MS);
        w->refractory_ms = (v >= 0 && v <= 60000) ? (unsigned) v : WAKE_DEFAULT_REFRACTORY_MS;
    }
    /* The network's receptive field ("rf" frames): until it is filled the
     * convolutions see zero padding, which is not what silence looks like
     * after normalisation, and the output is meaningless. */
    v = nn_model_meta_double(model, "rf", 0);
    w->warmup = (v >= 0 && v <= 1000) ? (unsigned) v : 0;
    if (nn_model_meta_get(model, "phrase", w->phrase, sizeof(w->phrase)) != 0)
        w->phrase[0] = 0;
    if (wake_decider_init(&w->dec, smooth, w->refractory_ms / WAKE_FRAME_MS) < 0) {
        set_err(err, errlen, "wake smoothing %u frames out of range", smooth);
        goto out_free;
    }

    hops = (cfg->preroll_ms * (WAKE_RATE / 1000) + WAKE_HOP - 1) / WAKE_HOP;
    w->ring_len = (size_t) hops * WAKE_HOP;
    w->ring = calloc(w->ring_len, sizeof(float));
    w->mel = mel_create();
    w->state = nn_state_create(model);
    if (!w->ring || !w->mel || !w->state) {
        set_err(err, errlen, "out of memory");
        goto out_free;
    }
    return w;

out_free:
    wake_destroy(w);
    return NULL;
}

void wake_destroy(struct wake *w)
{
    if (!w)
        return;
    nn_state_destroy(w->state);
    mel_destroy(w->mel);
    free(w->ring);
    nn_model_free(w->owned_model);
    free(w);
}

void wake_reset(struct wake *w)
{
    mel_reset(w->mel);
    nn_state_reset(w->state);
    wake_decider_reset(&w->dec);
    memset(w->ring, 0, w->ring_len * sizeof(float));
    w->ring_pos = w->ring_fill = 0;
    w->samples = 0;
    w->playback = w->blocked = false;
    w->guard_until = 0;
    memset(w->own, 0, sizeof(w->own));
    w->own_pos = w->own_count = 0;
    memset(&w->st, 0, sizeof(w->st));
}

int wake_process(struct wake *w, const float hop[WAKE_HOP], struct wake_event *ev)
{
    float post = 0.0f, thr = w->thr;
    bool fire, guarded;
    uint64_t t = w->dec.frame;

    memcpy(w->ring + w->ring_pos, hop, WAKE_HOP * sizeof(float));
    w->ring_pos += WAKE_HOP;
    if (w->ring_pos == w->ring_len)
        w->ring_pos = 0;
    if (w->ring_fill < w->ring_len)
        w->ring_fill += WAKE_HOP;
    w->samples += WAKE_HOP;

    mel_push(w->mel, hop, w->feat);
    (void) nn_step(w->model, w->state, w->feat, &post);

    guarded = w->playback || t < w->guard_until;
    /* Blocked: decide at the normal threshold so that what would have been
     * a detection is counted (and starts the refractory period), but report
     * nothing. Guarded but not blocked: the raised threshold. */
    if (guarded && !w->blocked && w->cfg.playback_threshold > thr)
        thr = w->cfg.playback_threshold;
    if (t < w->warmup)
        thr = 2.0f;                /* smoothing runs, nothing can fire */
    fire = wake_decider_step(&w->dec, post, thr);

    w->st.frames++;
    w->st.last_score = w->dec.score;
    if (w->dec.score > w->st.max_score)
        w->st.max_score = w->dec.score;
    if (!fire)
        return 0;
    if (guarded && (w->blocked || w->own_count > w->cfg.playback_echo_share * WAKE_OWN_WIN)) {
        w->st.guarded++;
        return 0;
    }
    w->st.detections++;
    if (ev) {
        ev->sample = w->samples;
        ev->score = w->dec.score;
    }
    return 1;
}

size_t wake_preroll_capacity(const struct wake *w)
{
    return w->ring_len;
}

size_t wake_preroll_copy(const struct wake *w, float *dst, size_t max)
{
    size_t n = max < w->ring_fill ? max : w->ring_fill;
    /* start = ring_pos - n (mod ring_len): the oldest of the newest n */
    size_t start = (w->ring_pos + w->ring_len - n) % w->ring_len;
    size_t first = w->ring_len - start;

    if (first > n)
        first = n;
    memcpy(dst, w->ring + start, first * sizeof(float));
    memcpy(dst + first, w->ring, (n - first) * sizeof(float));
    return n;
}

void wake_observe_playback(struct wake *w, bool far_active, bool near_active, const float *hop, unsigned n)
{
    double e = 0;
    float dbfs = -200.0f;
    uint8_t own = far_active && !near_active;

    w->own_count += own - w->own[w->own_pos];
    w->own[w->own_pos] = own;
    w->own_pos = (w->own_pos + 1) % WAKE_OWN_WIN;
    if (own) {
        for (unsigned i = 0; i < n; i++)
            e += (double) hop[i] * hop[i];
        if (e > 0)
            dbfs = (float) (10.0 * log10(e / n));
    }
    wake_set_playback_active(w, far_active, dbfs);
}

void wake_set_playback_active(struct wake *w, bool active, float echo_dbfs)
{
    if (w->playback && !active)
        w->guard_until = w->dec.frame + w->cfg.playback_hold_ms / WAKE_FRAME_MS;
    w->playback = active;
    /* The block decision follows the latest echo report while playing and
     * is kept through the hold time after playback stops. */
    if (active)
        w->blocked = echo_dbfs >= w->cfg.playback_block_dbfs;
}

float wake_threshold(const struct wake *w)
{
    return w->thr;
}

unsigned wake_smooth_frames(const struct wake *w)
{
    return w->dec.smooth;
}

unsigned wake_refractory_ms(const struct wake *w)
{
    return w->refractory_ms;
}

const char *wake_phrase(const struct wake *w)
{
    return w->phrase;
}

void wake_get_stats(const struct wake *w, struct wake_stats *st)
{
    *st = w->st;
}
