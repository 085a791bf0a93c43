/*
 * pcm_convert.h - ALSA interleaved integer samples <-> the float frames the
 * rest of harkd uses, with the board's channel map.
 *
 * Capture: the device delivers `in_ch` interleaved channels in board order
 * of the wiring; harkd wants [mic0 .. micN-1, ref] where map[k] names the
 * ALSA channel feeding output channel k (-1 = fill with zeros, used for the
 * reference slot on boards without a hardware loopback).
 * Playback: one float channel is copied to every device channel.
 *
 * Threads: called from the real-time audio threads; pure functions, no
 * allocation, no state.
 */
#ifndef HARK_PCM_CONVERT_H
#define HARK_PCM_CONVERT_H

#include "config.h"

void pcm_to_float_mapped(const void *in, enum sample_format fmt, unsigned in_ch, const int *map,
                         unsigned out_ch, float *out, unsigned frames);

/* Saturates to the integer range; returns the number of clipped samples. */
unsigned pcm_from_float_mono(const float *in, unsigned frames, void *out, enum sample_format fmt,
                             unsigned out_ch);

#endif
