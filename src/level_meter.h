/*
 * level_meter.h - per-channel signal levels over a window and over the
 * whole run: RMS and peak in dBFS, plus frame counts.
 *
 * Threads: level_meter_process() runs on the DSP thread (no allocation);
 * level_meter_publish()/level_meter_read() hand a snapshot from the DSP
 * thread to the main thread through a seqlock: the writer never waits, the
 * reader retries if it raced a write.
 */
#ifndef HARK_LEVEL_METER_H
#define HARK_LEVEL_METER_H

#include <stdatomic.h>
#include <stdint.h>

#include "config.h"

#define LEVEL_MAX_CH (HARK_MAX_MICS + 1)
#define LEVEL_SILENCE_DB (-120.0)

struct level_snapshot {
    unsigned channels;
    uint64_t frames;                       /* frames seen since start */
    double window_rms_db[LEVEL_MAX_CH];    /* last complete window */
    double window_peak_db[LEVEL_MAX_CH];
    double total_rms_db[LEVEL_MAX_CH];     /* since start */
    double total_peak_db[LEVEL_MAX_CH];
};

struct level_meter {
    unsigned channels, window_frames, in_window;
    uint64_t frames;
    double win_sq[LEVEL_MAX_CH], win_peak[LEVEL_MAX_CH];
    double tot_sq[LEVEL_MAX_CH], tot_peak[LEVEL_MAX_CH];
    struct level_snapshot last;            /* DSP thread's view */
    _Atomic unsigned seq;
    struct level_snapshot shared;          /* guarded by seq */
};

int level_meter_init(struct level_meter *m, unsigned channels, unsigned window_frames);
/* Interleaved frames x channels. Returns 1 when a window completed. */
int level_meter_process(struct level_meter *m, const float *x, unsigned frames);
void level_meter_publish(struct level_meter *m);
void level_meter_read(struct level_meter *m, struct level_snapshot *out);
double level_db(double rms_or_peak);

#endif
