/*
 * g711.c - ITU-T G.711 µ-law and A-law (see g711.h).
 *
 * Both laws are piecewise-linear approximations of a logarithm: the
 * magnitude axis is cut into 8 segments, each twice as wide as the one
 * below, and each segment into 16 equal steps. A code is sign, 3-bit
 * segment, 4-bit step; decoding returns the centre of the step, so the
 * quantisation error is at most half a step and the signal-to-noise ratio
 * stays near 38 dB over some 40 dB of level, which is why telephony gets by
 * with 8 bits per sample.
 *
 * µ-law (14-bit linear, here scaled by 4). Adding a bias of 33 (132 at our
 * scale) to the magnitude makes the segment edges powers of two: segment s
 * holds biased magnitudes [128 << s, 256 << s), in 16 steps of 8 << s. The
 * segment is then the position of the highest set bit of the biased
 * magnitude minus 7, the step the 4 bits below it, and the centre of step m
 * is (132 + 8 m) << s minus the bias. Magnitudes above 8158 (32635 here)
 * clip into the top step. The wire form inverts every bit (so silence, +0,
 * is 0xFF, a line full of ones).
 *
 * A-law (13-bit linear, here scaled by 8, magnitude 0..4095). Segments 0
 * and 1 both have steps of 2 (the linear part near zero), segment s >= 1
 * spans [16 << s, 32 << s) in steps of 1 << s. The centre of step m is
 * 2 m + 1 in segment 0 and (33 + 2 m) << (s - 1) above. Negative inputs
 * use the ones' complement magnitude (~x), so x and -x - 1 land on codes
 * that mirror each other, as the standard's tables have it: A-law has no
 * zero level. The wire form inverts the even bits (XOR 0x55).
 *
 * Bit tricks only, no tables: a decode table would be 1 KiB for a function
 * that costs a shift and an add, and the encoder's segment search is one
 * count-leading-zeros.
 */
#include "g711.h"

#define ULAW_BIAS 132            /* 33 at 14-bit scale */
#define ULAW_CLIP 32635          /* 32767 - ULAW_BIAS: the top of segment 7 */

/* Index of the highest set bit of v (v > 0). */
static inline unsigned top_bit(unsigned v)
{
    return 31u - (unsigned)__builtin_clz(v);
}

uint8_t g711_ulaw_encode(int16_t x)
{
    unsigned sign = x < 0 ? 0x80u : 0u;        /* before the inversion: 1 = negative */
    unsigned mag = x < 0 ? (unsigned)(-(int)x) : (unsigned)x;
    unsigned seg, step;

    if (mag > ULAW_CLIP)
        mag = ULAW_CLIP;
    mag += ULAW_BIAS;                          /* 132 .. 32767: bits 7 .. 14 */
    seg = top_bit(mag) - 7;
    step = (mag >> (seg + 3)) & 0x0f;
    return (uint8_t)~(sign | seg << 4 | step);
}

int16_t g711_ulaw_decode(uint8_t code)
{
    unsigned c = (uint8_t)~code;
    unsigned seg = (c >> 4) & 7, step = c & 0x0f;
    int mag = (int)(((unsigned)ULAW_BIAS + (step << 3)) << seg) - ULAW_BIAS;

    return (int16_t)(c & 0x80 ? -mag : mag);
}

uint8_t g711_alaw_encode(int16_t x)
{
    unsigned sign = x >= 0 ? 0x80u : 0u;       /* before the XOR: 1 = positive */
    unsigned mag = (unsigned)(x >= 0 ? x : ~x) >> 3;   /* 0 .. 4095 */
    unsigned seg, step;

    if (mag < 32) {
        seg = 0;
        step = mag >> 1;
    } else {
        seg = top_bit(mag) - 4;                /* 32..63 -> 1, .., 2048..4095 -> 7 */
        step = (mag >> seg) & 0x0f;
    }
    return (uint8_t)((sign | seg << 4 | step) ^ 0x55);
}

int16_t g711_alaw_decode(uint8_t code)
{
    unsigned c = code ^ 0x55u;
    unsigned seg = (c >> 4) & 7, step = c & 0x0f;
    int mag = (int)(seg == 0 ? 2 * step + 1 : (33 + 2 * step) << (seg - 1)) << 3;

    return (int16_t)(c & 0x80 ? mag : -mag);
}

void g711_encode(enum g711_law law, uint8_t *out, const int16_t *in, size_t n)
{
    if (law == G711_ALAW) {
        for (size_t i = 0; i < n; i++)
            out[i] = g711_alaw_encode(in[i]);
    } else {
        for (size_t i = 0; i < n; i++)
            out[i] = g711_ulaw_encode(in[i]);
    }
}

void g711_decode(enum g711_law law, int16_t *out, const uint8_t *in, size_t n)
{
    if (law == G711_ALAW) {
        for (size_t i = 0; i < n; i++)
            out[i] = g711_alaw_decode(in[i]);
    } else {
        for (size_t i = 0; i < n; i++)
            out[i] = g711_ulaw_decode(in[i]);
    }
}
