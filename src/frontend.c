/*
 * frontend.c - the front-end chain (see frontend.h).
 *
 * Order of the stages. The echo canceller runs on every mic before the
 * direction finder and the beamformer by default (aec_mode permic): the
 * loudspeaker is the loudest source at the mics while the device talks, and
 * with the echo removed first the DOA does not lock on to it and the MVDR
 * does not spend its degrees of freedom on it; the echo path each mic sees
 * is also fixed, while after an adaptive beamformer it changes whenever the
 * weights do. One AEC on the beam (aec_mode post) costs a quarter of the
 * MDF work for 4 mics. Measured on 12 generated echo scenes
 * (docs/frontend.md §2.2): with the MVDR on, permic gives 3 dB more ERLE
 * (36 vs 32 dB at RT60 0.3 s) and 1-2.5 dB less near-end attenuation in
 * double talk than post, for 21.7 vs 11.9 ms of CPU per audio second; so
 * permic is the default and post the option for a CPU-starved board.
 */
#include "frontend.h"
#include "fe_beamformer.h"
#include "fe_doa.h"
#include "fe_resample.h"

#include <stdlib.h>
#include <string.h>

struct frontend {
    struct frontend_cfg cfg;
    unsigned M, in_hop, ch;       /* mics, capture frames per call, mics + ref */
    struct fe_resample *rs;       /* NULL at 16 kHz */
    float *in;                    /* in_hop * ch: capture period packed as mics + ref */
    float *hop;                   /* FRONTEND_HOP * ch at 16 kHz */
    float *ref;                   /* FRONTEND_HOP */
    float *beam;                  /* FRONTEND_HOP */
    struct fe_aec *aec;
    struct fe_doa *doa;
    struct fe_bf *bf;
    struct fe_ns_agc *ns;
};

void frontend_cfg_from_conf(struct frontend_cfg *cfg, const struct board_cfg *board, const struct frontend_conf *fc)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->mic_count = board->mic_count > HARK_MAX_MICS ? HARK_MAX_MICS : board->mic_count;
    memcpy(cfg->mic_pos_mm, board->mic_pos_mm, sizeof(cfg->mic_pos_mm));
    cfg->in_rate = board->capture.rate;
    cfg->doa = cfg->mic_count >= 2;
    cfg->beam = cfg->mic_count >= 2;
    cfg->aec = true;
    cfg->aec_mode = FRONTEND_AEC_PERMIC;
    fe_aec_cfg_default(&cfg->aec_cfg, FRONTEND_RATE, cfg->mic_count);
    if (fc) {
        cfg->aec = fc->aec;
        cfg->aec_mode = fc->aec_mode == FRONTEND_AEC_POST ? FRONTEND_AEC_POST : FRONTEND_AEC_PERMIC;
        cfg->aec_cfg.tail_ms = (float) fc->aec_tail_ms;
        cfg->aec_cfg.initial_delay_ms = (float) fc->aec_delay_ms;
        cfg->beam = cfg->beam && fc->beam;
        fe_ns_agc_cfg_from_conf(&cfg->ns_agc, fc, FRONTEND_RATE);
    } else {
        fe_ns_agc_cfg_default(&cfg->ns_agc, FRONTEND_RATE);
    }
}

struct frontend *frontend_create(const struct frontend_cfg *cfg)
{
    struct frontend *fe;
    struct board_cfg b;

    if (!cfg || cfg->mic_count < 1 || cfg->mic_count > HARK_MAX_MICS || cfg->in_rate < 8000 ||
        cfg->in_rate > 192000 || cfg->in_rate % 100 != 0)
        return NULL;
    fe = calloc(1, sizeof(*fe));
    if (!fe)
        return NULL;
    fe->cfg = *cfg;
    fe->M = cfg->mic_count;
    fe->ch = fe->M + 1;
    fe->in_hop = cfg->in_rate / 100;
    fe->in = calloc((size_t) fe->in_hop * fe->ch, sizeof(float));
    fe->hop = calloc((size_t) FRONTEND_HOP * fe->ch, sizeof(float));
    fe->ref = calloc(FRONTEND_HOP, sizeof(float));
    fe->beam = calloc(FRONTEND_HOP, sizeof(float));
    if (!fe->in || !fe->hop || !fe->ref || !fe->beam)
        goto fail;
    if (cfg->in_rate != FRONTEND_RATE) {
        struct fe_resample_cfg rc;
        fe_resample_cfg_default(&rc, fe->ch, cfg->in_rate, FRONTEND_RATE);
        rc.max_in_frames = fe->in_hop;
        rc.hop = FRONTEND_HOP;
        if (!(fe->rs = fe_resample_create(&rc)))
            goto fail;
    }
    /* the spatial stages take their geometry from a board at 16 kHz */
    memset(&b, 0, sizeof(b));
    b.mic_count = fe->M;
    memcpy(b.mic_pos_mm, cfg->mic_pos_mm, sizeof(b.mic_pos_mm));
    b.capture.rate = FRONTEND_RATE;
    if (cfg->doa && fe->M >= 2) {
        struct fe_doa_cfg dc;
        fe_doa_cfg_from_board(&dc, &b);
        if (!(fe->doa = fe_doa_create(&dc)))
            goto fail;
    }
    if (cfg->beam && fe->M >= 2) {
        struct fe_bf_cfg bc;
        fe_bf_cfg_from_board(&bc, &b);
        if (!(fe->bf = fe_bf_create(&bc)))
            goto fail;
    }
    if (cfg->aec) {
        struct fe_aec_cfg ac = cfg->aec_cfg;
        ac.rate = FRONTEND_RATE;
        ac.hop = FRONTEND_HOP;
        ac.channels = cfg->aec_mode == FRONTEND_AEC_POST ? 1 : fe->M;
        if (!(fe->aec = fe_aec_create(&ac)))
            goto fail;
    }
    if (cfg->ns_agc.ns || cfg->ns_agc.agc) {
        struct fe_ns_agc_cfg nc = cfg->ns_agc;
        nc.rate = FRONTEND_RATE;
        nc.hop = FRONTEND_HOP;
        if (!(fe->ns = fe_ns_agc_create(&nc)))
            goto fail;
    }
    return fe;
fail:
    frontend_destroy(fe);
    return NULL;
}

void frontend_destroy(struct frontend *fe)
{
    if (!fe)
        return;
    fe_resample_destroy(fe->rs);
    fe_aec_destroy(fe->aec);
    fe_doa_destroy(fe->doa);
    fe_bf_destroy(fe->bf);
    fe_ns_agc_destroy(fe->ns);
    free(fe->in);
    free(fe->hop);
    free(fe->ref);
    free(fe->beam);
    free(fe);
}

unsigned frontend_in_hop(const struct frontend *fe)
{
    return fe->in_hop;
}

/* Mean of the first M channels of x (stride floats per frame). */
static void mic_mean(const float *x, unsigned stride, unsigned M, float *out)
{
    float g = 1.0f / (float) M;

    for (unsigned n = 0; n < FRONTEND_HOP; n++) {
        float acc = 0;
        for (unsigned m = 0; m < M; m++)
            acc += x[(size_t) n * stride + m];
        out[n] = acc * g;
    }
}

/* One 16 kHz hop in fe->hop (mics + ref, stride ch) -> FRONTEND_HOP samples at out. */
static void process_hop(struct frontend *fe, float *out)
{
    unsigned M = fe->M, ch = fe->ch;
    bool permic = fe->aec && fe->cfg.aec_mode == FRONTEND_AEC_PERMIC;

    for (unsigned n = 0; n < FRONTEND_HOP; n++)
        fe->ref[n] = fe->hop[(size_t) n * ch + M];
    if (permic)
        fe_aec_process(fe->aec, fe->hop, ch, fe->ref, fe->hop, ch);
    if (fe->doa)
        fe_doa_process(fe->doa, fe->hop, ch);
    if (fe->bf) {
        struct fe_doa_info info;
        if (fe->doa) {
            fe_doa_get_info(fe->doa, &info);
            fe_bf_set_azimuth(fe->bf, info.azimuth_deg);
            fe_bf_set_noise_update(fe->bf, info.target_absent);
        }
        (void) fe_bf_process(fe->bf, fe->hop, FRONTEND_HOP, ch, fe->beam);
    } else {
        mic_mean(fe->hop, ch, M, fe->beam);
    }
    if (fe->aec && !permic)
        fe_aec_process(fe->aec, fe->beam, 1, fe->ref, fe->beam, 1);
    if (fe->ns) {
        if (fe->aec) {
            struct fe_aec_state s;
            fe_aec_get_state(fe->aec, &s);
            fe_ns_agc_set_hold(fe->ns, s.far_active && !s.near_active);
        }
        fe_ns_agc_process(fe->ns, fe->beam, out);
    }
    else
        memcpy(out, fe->beam, FRONTEND_HOP * sizeof(float));
}

unsigned frontend_process(struct frontend *fe, const float *mics, unsigned stride, const float *ref, float *out)
{
    unsigned M = fe->M, ch = fe->ch, done = 0;

    if (!fe->rs) {
        for (unsigned n = 0; n < FRONTEND_HOP; n++) {
            memcpy(fe->hop + (size_t) n * ch, mics + (size_t) n * stride, M * sizeof(float));
            fe->hop[(size_t) n * ch + M] = ref ? ref[n] : 0.0f;
        }
        process_hop(fe, out);
        return FRONTEND_HOP;
    }
    for (unsigned n = 0; n < fe->in_hop; n++) {
        memcpy(fe->in + (size_t) n * ch, mics + (size_t) n * stride, M * sizeof(float));
        fe->in[(size_t) n * ch + M] = ref ? ref[n] : 0.0f;
    }
    if (fe_resample_push(fe->rs, fe->in, ch, fe->in_hop) < 0)
        return 0;
    while (done + FRONTEND_HOP <= FRONTEND_MAX_OUT && fe_resample_pull(fe->rs, fe->hop)) {
        process_hop(fe, out + done);
        done += FRONTEND_HOP;
    }
    return done;
}

bool frontend_doa(const struct frontend *fe, float *azimuth_deg, float *confidence, bool *active)
{
    if (!fe->doa) {
        if (azimuth_deg)
            *azimuth_deg = 0;
        if (confidence)
            *confidence = 0;
        if (active)
            *active = false;
        return false;
    }
    fe_doa_get(fe->doa, azimuth_deg, confidence, active);
    return true;
}

bool frontend_aec_state(const struct frontend *fe, struct fe_aec_state *out)
{
    if (!fe->aec) {
        memset(out, 0, sizeof(*out));
        return false;
    }
    fe_aec_get_state(fe->aec, out);
    return true;
}

void frontend_set_doa_lock(struct frontend *fe, bool locked)
{
    if (fe->doa)
        fe_doa_set_lock(fe->doa, locked);
}

unsigned frontend_latency(const struct frontend *fe)
{
    unsigned lat = 0;

    if (fe->aec) {
        struct fe_aec_state s;
        fe_aec_get_state(fe->aec, &s);
        lat += s.latency;
    }
    if (fe->bf)
        lat += fe_bf_latency(fe->bf);
    if (fe->ns)
        lat += fe_ns_agc_latency(fe->ns);
    return lat;
}
