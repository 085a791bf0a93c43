/*
 * fe_resample.h - multichannel sample-rate conversion for the front end, by
 * speexdsp's resampler (speex_resampler_init with one filter state per
 * channel): the capture rate (e.g. 48000 or 44100 Hz, mics + playback
 * reference) to the 16 kHz processing rate. Any rational pair of rates
 * works, so the same stage also serves 16 kHz -> 24 kHz (cloud uplink) and
 * 24 kHz -> the playback rate; src/cloud_client.c keeps its own two mono
 * speexdsp resamplers for those and does not use this module.
 *
 * Two ways to use it:
 *   - fe_resample_process(): N input frames in, every output frame that is
 *     available out (the count varies call to call unless out/in divides
 *     N exactly, e.g. 480 frames at 48 kHz -> 160 at 16 kHz);
 *   - fe_resample_push() + fe_resample_pull(): the output goes through a
 *     fixed-size FIFO inside the state, and pull hands out exactly cfg.hop
 *     frames at a time, the front end's fixed hop (160 = 10 ms at 16 kHz),
 *     whatever the capture period (e.g. 441 frames at 44.1 kHz).
 * Frame counts are exact: after T input frames the stage has produced
 * floor(T * out_rate / in_rate) frames, within one frame, however the input
 * is split (speexdsp keeps the fractional phase), so nothing drifts.
 *
 * Samples are float, any scale (the front end uses [-1, 1)). Input frames
 * are `in_stride` floats apart (in_stride >= channels; the first `channels`
 * of each frame are used), so the channels can be taken straight out of a
 * wider capture frame. Output frames are `channels` floats, interleaved.
 *
 * Quality: speexdsp quality 0..10 (cfg.quality). The default
 * FE_RESAMPLE_QUALITY = 6 is the lowest that keeps the whole wideband
 * speech band flat at 48k/44.1k -> 16k: 0.000 dB from 100 Hz to 7 kHz
 * (quality 5: -0.23 dB at 7 kHz, 4: -0.41 dB, 3: -3.1 dB), with tones
 * above 8 kHz that would alias attenuated by 107-122 dB, 48 output frames
 * (3 ms) of delay and 46 us per 10 ms for 5 channels at 48k -> 16k on an
 * x86 core (0.46 %; quality 5: 0.38 %). Measured by
 * tests/unit/test_fe_resample.c and docs/frontend.md. Latency:
 * fe_resample_latency() output frames (the filter's group delay).
 * Threads: process / push / pull / available on one thread (the capture or
 * DSP thread); create, destroy and reset on any thread while nothing else
 * uses the state. process, push and pull never allocate, block or log.
 *
 * Errors: create returns NULL for a bad cfg (rates 1000..384000, channels
 * 1..HARK_MAX_CHANNELS, max_in_frames 1..65536, quality 0..10) or on OOM.
 * Nothing here prints.
 */
#ifndef HARK_FE_RESAMPLE_H
#define HARK_FE_RESAMPLE_H

#include <stdbool.h>

#define FE_RESAMPLE_QUALITY 6

struct fe_resample_cfg {
    unsigned channels;      /* 1 .. HARK_MAX_CHANNELS */
    unsigned in_rate;       /* Hz */
    unsigned out_rate;      /* Hz */
    unsigned max_in_frames; /* most input frames per process / push call */
    unsigned hop;           /* output frames per pull; 0: no FIFO (pull unused) */
    int quality;            /* speexdsp 0 .. 10 */
};

/* Defaults: quality FE_RESAMPLE_QUALITY, max_in_frames = 100 ms of input,
 * hop = 10 ms of output. */
void fe_resample_cfg_default(struct fe_resample_cfg *cfg, unsigned channels, unsigned in_rate,
                             unsigned out_rate);

struct fe_resample;

struct fe_resample *fe_resample_create(const struct fe_resample_cfg *cfg);
void fe_resample_destroy(struct fe_resample *st);

/* Back to the state after create: filter history zeroed, FIFO emptied. */
void fe_resample_reset(struct fe_resample *st);

/* Most output frames one call with in_frames input frames can produce. */
unsigned fe_resample_max_out(const struct fe_resample *st, unsigned in_frames);

/*
 * Resample in_frames frames (in_stride floats apart) into out, which must
 * hold fe_resample_max_out(st, in_frames) * channels floats. Returns the
 * output frames written, or -EINVAL when in_frames > max_in_frames or
 * in_stride < channels. Not to be mixed with push/pull on one state.
 */
int fe_resample_process(struct fe_resample *st, const float *in, unsigned in_stride,
                        unsigned in_frames, float *out);

/*
 * Resample in_frames frames into the FIFO. Returns the frames queued, or
 * -EINVAL (as above, or the state has no FIFO), or -ENOSPC when the FIFO
 * could not take the worst-case output: then nothing is consumed and the
 * caller should pull first (the FIFO holds max_out(max_in_frames) + hop
 * frames, so pulling every full hop after each push never overflows).
 */
int fe_resample_push(struct fe_resample *st, const float *in, unsigned in_stride, unsigned in_frames);

/* Copy the oldest hop (hop * channels floats) out of the FIFO; false, with
 * out untouched, when less than a hop is queued. */
bool fe_resample_pull(struct fe_resample *st, float *out);

/* Frames queued in the FIFO. */
unsigned fe_resample_available(const struct fe_resample *st);

/* Group delay of the filter in output frames: an input event at input time
 * t appears at output frame t * out_rate / in_rate + latency. */
unsigned fe_resample_latency(const struct fe_resample *st);

#endif
