/*
 * fe_doa.h - direction of arrival of the talker: SRP-PHAT over an azimuth
 * grid for any planar mic array, with speech gating and a hold/hysteresis
 * tracker.
 *
 * Model: far field, sources in the array plane (elevation 0), azimuth in
 * degrees counter-clockwise from the board's +x axis (the convention of
 * board.conf and hark-scene), reported in [0, 360). Mic positions come from
 * the board file (millimetres, board frame); z is ignored. For a linear
 * array a source and its mirror image about the array axis are
 * indistinguishable: only the half plane to the left of the axis (from mic 0
 * towards the last mic) is searched and reported.
 *
 * Each hop (cfg.hop frames, 10 ms at 16 kHz) the stage analyses the newest
 * cfg.frame samples of every mic (Hann window; 512 frames = 32 ms at 16 kHz),
 * smooths the cross-power spectra of all mic pairs over time, whitens them
 * (PHAT), and sums the pairwise generalised cross-correlations at the
 * time differences each grid direction implies, over the band
 * f_lo_hz .. f_hi_hz. The map's peak, divided by its value for a perfect
 * plane wave (pairs x bins), is the frame's coherence in [0, 1]. A frame is
 * "active" (a directional source is talking) when its band energy is
 * snr_gate_db above a tracked noise floor and its coherence is at least
 * coh_gate. The tracker then follows active measurements near its azimuth,
 * moves to a new direction only after switch_hops more active hops have
 * pointed there than at the track (fewer while the track itself is young),
 * never while locked, and holds its azimuth in silence.
 *
 * Threads: fe_doa_process() and the getters run on one thread (the DSP
 * thread); to show the azimuth elsewhere the caller copies fe_doa_get()'s
 * values into its own published snapshot. process never allocates, blocks
 * or logs.
 *
 * Memory: get_size + init place everything in one caller-given block;
 * create = aligned malloc + init, destroy frees it (NULL is fine).
 *
 * Errors: init returns 0 or -EINVAL (a cfg field out of range, fewer than
 * two mics, all mics at one point, a block too small); create returns NULL
 * for those and on OOM. Nothing here prints.
 */
#ifndef HARK_FE_DOA_H
#define HARK_FE_DOA_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

#define FE_DOA_MAX_DIRECTIONS 720

struct fe_doa_cfg {
    unsigned mic_count;                  /* 2 .. HARK_MAX_MICS */
    double mic_pos_mm[HARK_MAX_MICS][3]; /* board frame; z unused */
    unsigned rate;                       /* Hz */
    unsigned hop;                        /* frames per process() call */
    unsigned frame;                      /* analysis length, even, >= hop */
    float f_lo_hz, f_hi_hz;              /* band searched */
    unsigned directions;                 /* azimuth grid over 360 deg, 8 .. FE_DOA_MAX_DIRECTIONS */
    unsigned lag_oversample;             /* GCC evaluated every 1/lag_oversample sample */
    float smooth;                        /* cross-spectrum forgetting factor per hop, 0 .. 0.99 */
    float snr_gate_db;                   /* band energy over the noise floor to be active */
    float floor_rise_db_s;               /* how fast the noise floor may rise */
    float coh_gate;                      /* normalised SRP peak to be active, 0 .. 1 */
    float track_gate_deg;                /* a measurement this close updates the track */
    float track_alpha;                   /* share of the error the track moves per active hop */
    unsigned switch_hops;                /* net active hops elsewhere before the track jumps */
    float conf_decay_s;                  /* confidence falls by 1/e over this much inactivity */
    float speed_of_sound;                /* m/s */
};

/* Defaults for 16 kHz: hop 160, frame 512, 300-4000 Hz, 360 directions,
 * lag grid 1/16 sample, smooth 0.6, gates 6 dB / coherence 0.25, floor rise
 * 3 dB/s, track gate 20 deg, alpha 0.1, switch after 100 net hops (1 s),
 * confidence decay 2 s, c = 343 m/s. No mics: fill mic_count/mic_pos_mm
 * (or use fe_doa_cfg_from_board()). */
void fe_doa_cfg_default(struct fe_doa_cfg *cfg);

/* Defaults plus the board's mic positions and capture rate: hop = 10 ms
 * (rate / 100), frame = the smallest power of two >= 30 ms (512 at 16 kHz). */
void fe_doa_cfg_from_board(struct fe_doa_cfg *cfg, const struct board_cfg *board);

struct fe_doa;

size_t fe_doa_get_size(const struct fe_doa_cfg *cfg); /* 0: bad cfg */
int fe_doa_init(struct fe_doa **ret, void *mem, size_t size, const struct fe_doa_cfg *cfg);
struct fe_doa *fe_doa_create(const struct fe_doa_cfg *cfg);
void fe_doa_destroy(struct fe_doa *st);

/* Forget history, noise floor and track (and unlock). */
void fe_doa_reset(struct fe_doa *st);

/* Locked: the track keeps refining within track_gate_deg but never jumps
 * (harkd locks it on the wake word and unlocks at the end of the turn, so
 * a second talker cannot take the beam mid-utterance). Takes effect at the
 * next process call. */
void fe_doa_set_lock(struct fe_doa *st, bool locked);

/*
 * One hop: cfg.hop frames interleaved with `stride` floats per frame, mic m
 * of frame n at hop[n * stride + m] (mics first; a reference channel after
 * them is ignored). stride >= mic_count.
 */
void fe_doa_process(struct fe_doa *st, const float *hop, unsigned stride);

/*
 * The tracked talker: azimuth in [0, 360) degrees (0 until the first active
 * hop), confidence in [0, 1] (smoothed coherence of the measurements that
 * confirmed the track, decaying while inactive; 0 before any track), and
 * whether the last hop was active. Any pointer may be NULL.
 */
void fe_doa_get(const struct fe_doa *st, float *azimuth_deg, float *confidence, bool *active);

struct fe_doa_info {
    float azimuth_deg; /* as fe_doa_get */
    float confidence;
    bool active;
    bool tracking;         /* a track exists (some hop was active) */
    float raw_azimuth_deg; /* this hop's map peak, parabolic-refined */
    float coherence;       /* this hop's normalised peak */
    float snr_db;          /* this hop's band energy over the floor */
    bool target_absent;    /* no evidence of the tracked talker this hop: inactive, or
                            * the map peak more than track_gate_deg away from the
                            * track (what fe_bf_set_noise_update() wants) */
};
void fe_doa_get_info(const struct fe_doa *st, struct fe_doa_info *out);

/* This hop's SRP map, normalised like the coherence (directions values,
 * direction i at i * 360 / directions degrees; for a linear array the
 * unsearched half is 0). Valid until the next process call. */
const float *fe_doa_map(const struct fe_doa *st, unsigned *directions);

#endif
