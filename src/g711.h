/*
 * g711.h - ITU-T G.711 companding: µ-law (PCMU) and A-law (PCMA) encode and
 * decode of 16-bit linear PCM, for the realtime protocol's audio/pcmu and
 * audio/pcma input formats (8 kHz, one byte per sample; protocol §1.3).
 *
 * Linear samples are int16 full scale. G.711 itself is defined on 14-bit
 * (µ-law) and 13-bit (A-law) linear values; the 16-bit value is that value
 * shifted left by 2 (µ-law) or 3 (A-law), so decoded samples are exact
 * multiples of 4 / 8 and the low bits of the input are truncated. Decoding
 * gives the centre of the quantisation interval as the standard's tables do:
 * µ-law spans -32124..32124 with two zeros (0xFF = +0, 0x7F = -0); A-law
 * spans -32256..32256 and has no zero (0xD5 = +8, 0x55 = -8). Encoding is
 * monotonic and decode(encode(decode(c))) == decode(c) for every code
 * (both zeros of µ-law decode to 0 and re-encode as 0xFF).
 * Codes are on the wire form: µ-law with all bits inverted, A-law with the
 * even bits inverted (XOR 0x55), sign bit set for positive values.
 *
 * No state, no allocation, no logging. The buffer functions convert n
 * samples; out and in must not overlap.
 * Threads: pure functions, callable from any thread (in harkd the network
 * thread encodes the uplink; the DSP thread may encode too).
 */
#ifndef HARK_G711_H
#define HARK_G711_H

#include <stddef.h>
#include <stdint.h>

enum g711_law {
    G711_ULAW = 0,       /* µ-law, audio/pcmu (North America, Japan) */
    G711_ALAW,           /* A-law, audio/pcma (Europe, rest of world) */
};

uint8_t g711_ulaw_encode(int16_t x);
int16_t g711_ulaw_decode(uint8_t code);
uint8_t g711_alaw_encode(int16_t x);
int16_t g711_alaw_decode(uint8_t code);

/* n samples in -> n codes out (and back). An unknown law encodes as µ-law. */
void g711_encode(enum g711_law law, uint8_t *out, const int16_t *in, size_t n);
void g711_decode(enum g711_law law, int16_t *out, const uint8_t *in, size_t n);

#endif
