/*
 * fe_resample.c - multichannel resampling by speexdsp, with an optional
 * fixed-hop output FIFO (see fe_resample.h).
 *
 * One SpeexResamplerState holds every channel (same filter, same phase), so
 * the channels stay sample-aligned, which the beamformer and the AEC need.
 * The input stride is handed to speexdsp (speex_resampler_set_input_stride),
 * so a wide capture frame is read in place; the output stride is the
 * channel count. The FIFO is a ring of frames sized at create time; a push
 * resamples into a scratch block first (speexdsp writes contiguously) and
 * then copies into the ring.
 */
#include "fe_resample.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <speex/speex_resampler.h>

#include "config.h"

struct fe_resample {
    struct fe_resample_cfg cfg;
    SpeexResamplerState *rs;
    unsigned stride;        /* input stride last handed to speexdsp */
    float *scratch;         /* max_out(max_in_frames) * channels */
    float *fifo;            /* fifo_cap * channels, ring of frames */
    unsigned fifo_cap, fifo_rd, fifo_n;
};

void fe_resample_cfg_default(struct fe_resample_cfg *cfg, unsigned channels, unsigned in_rate,
                             unsigned out_rate)
{
    cfg->channels = channels;
    cfg->in_rate = in_rate;
    cfg->out_rate = out_rate;
    cfg->max_in_frames = in_rate / 10;
    cfg->hop = out_rate / 100;
    cfg->quality = FE_RESAMPLE_QUALITY;
}

static bool cfg_ok(const struct fe_resample_cfg *c)
{
    return c->channels >= 1 && c->channels <= HARK_MAX_CHANNELS && c->in_rate >= 1000 &&
           c->in_rate <= 384000 && c->out_rate >= 1000 && c->out_rate <= 384000 && c->max_in_frames >= 1 &&
           c->max_in_frames <= 65536 && c->hop <= 65536 && c->quality >= 0 && c->quality <= 10;
}

static unsigned max_out(const struct fe_resample_cfg *c, unsigned in_frames)
{
    return (unsigned) ((unsigned long long) in_frames * c->out_rate / c->in_rate) + 2;
}

struct fe_resample *fe_resample_create(const struct fe_resample_cfg *cfg)
{
    struct fe_resample *st;
    int err = 0;

    if (!cfg || !cfg_ok(cfg))
        return NULL;
    st = calloc(1, sizeof(*st));
    if (!st)
        return NULL;
    st->cfg = *cfg;
    st->rs = speex_resampler_init(cfg->channels, cfg->in_rate, cfg->out_rate, cfg->quality, &err);
    st->scratch = calloc((size_t) max_out(cfg, cfg->max_in_frames) * cfg->channels, sizeof(float));
    if (cfg->hop) {
        st->fifo_cap = max_out(cfg, cfg->max_in_frames) + cfg->hop;
        st->fifo = calloc((size_t) st->fifo_cap * cfg->channels, sizeof(float));
    }
    if (!st->rs || err != RESAMPLER_ERR_SUCCESS || !st->scratch || (cfg->hop && !st->fifo)) {
        fe_resample_destroy(st);
        return NULL;
    }
    speex_resampler_set_output_stride(st->rs, cfg->channels);
    st->stride = cfg->channels;
    speex_resampler_set_input_stride(st->rs, st->stride);
    return st;
}

void fe_resample_destroy(struct fe_resample *st)
{
    if (!st)
        return;
    if (st->rs)
        speex_resampler_destroy(st->rs);
    free(st->scratch);
    free(st->fifo);
    free(st);
}

/* speexdsp 1.2.1's speex_resampler_reset_mem() zeroes only the first
 * channels * (filt_len - 1) floats of its history, but each channel's
 * history sits at channel * (filt_len - 1 + buffer_size): with more than
 * one channel, stale samples of the later channels survive a reset (the
 * unit test catches it). So the history is first flushed with a filter
 * length of zeros (a NULL input is zeros to speexdsp), then the phase is
 * reset. */
void fe_resample_reset(struct fe_resample *st)
{
    unsigned left = 2 * (unsigned) speex_resampler_get_input_latency(st->rs) + 2;

    while (left > 0) {
        unsigned k = left < st->cfg.max_in_frames ? left : st->cfg.max_in_frames;

        for (unsigned c = 0; c < st->cfg.channels; c++) {
            spx_uint32_t in_len = k, out_len = max_out(&st->cfg, k);
            speex_resampler_process_float(st->rs, c, NULL, &in_len, st->scratch + c, &out_len);
        }
        left -= k;
    }
    speex_resampler_reset_mem(st->rs);
    st->fifo_rd = st->fifo_n = 0;
}

unsigned fe_resample_max_out(const struct fe_resample *st, unsigned in_frames)
{
    return max_out(&st->cfg, in_frames);
}

unsigned fe_resample_latency(const struct fe_resample *st)
{
    return (unsigned) speex_resampler_get_output_latency(st->rs);
}

/* Resample into out (channels-interleaved); returns frames written. */
static unsigned run(struct fe_resample *st, const float *in, unsigned in_stride, unsigned in_frames,
                    float *out)
{
    spx_uint32_t produced = 0;

    if (in_stride != st->stride) {
        speex_resampler_set_input_stride(st->rs, in_stride);
        st->stride = in_stride;
    }
    for (unsigned c = 0; c < st->cfg.channels; c++) {
        spx_uint32_t in_len = in_frames, out_len = max_out(&st->cfg, in_frames);

        speex_resampler_process_float(st->rs, c, in + c, &in_len, out + c, &out_len);
        produced = out_len;   /* the same for every channel: one shared phase */
    }
    return produced;
}

int fe_resample_process(struct fe_resample *st, const float *in, unsigned in_stride, unsigned in_frames,
                        float *out)
{
    if (in_frames > st->cfg.max_in_frames || in_stride < st->cfg.channels)
        return -EINVAL;
    if (in_frames == 0)
        return 0;
    return (int) run(st, in, in_stride, in_frames, out);
}

int fe_resample_push(struct fe_resample *st, const float *in, unsigned in_stride, unsigned in_frames)
{
    const unsigned ch = st->cfg.channels;
    unsigned n, wr, first;

    if (!st->fifo || in_frames > st->cfg.max_in_frames || in_stride < ch)
        return -EINVAL;
    if (st->fifo_cap - st->fifo_n < max_out(&st->cfg, in_frames))
        return -ENOSPC;
    if (in_frames == 0)
        return 0;
    n = run(st, in, in_stride, in_frames, st->scratch);
    wr = (st->fifo_rd + st->fifo_n) % st->fifo_cap;
    first = st->fifo_cap - wr < n ? st->fifo_cap - wr : n;
    memcpy(st->fifo + (size_t) wr * ch, st->scratch, (size_t) first * ch * sizeof(float));
    memcpy(st->fifo, st->scratch + (size_t) first * ch, (size_t) (n - first) * ch * sizeof(float));
    st->fifo_n += n;
    return (int) n;
}

bool fe_resample_pull(struct fe_resample *st, float *out)
{
    const unsigned ch = st->cfg.channels, hop = st->cfg.hop;
    unsigned first;

    if (!st->fifo || st->fifo_n < hop)
        return false;
    first = st->fifo_cap - st->fifo_rd < hop ? st->fifo_cap - st->fifo_rd : hop;
    memcpy(out, st->fifo + (size_t) st->fifo_rd * ch, (size_t) first * ch * sizeof(float));
    memcpy(out + (size_t) first * ch, st->fifo, (size_t) (hop - first) * ch * sizeof(float));
    st->fifo_rd = (st->fifo_rd + hop) % st->fifo_cap;
    st->fifo_n -= hop;
    return true;
}

unsigned fe_resample_available(const struct fe_resample *st)
{
    return st->fifo_n;
}
