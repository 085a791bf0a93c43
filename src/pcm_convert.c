/*
 * pcm_convert.c - integer PCM <-> float with a channel map (see pcm_convert.h).
 *
 * Scaling is symmetric power-of-two (1/32768, 1/2147483648), so S16 -> float
 * -> S16 is exact. Inner loops are plain indexed loops the compiler can
 * vectorise for NEON/SSE.
 */
#include "pcm_convert.h"

#include <stdint.h>

void pcm_to_float_mapped(const void *in, enum sample_format fmt, unsigned in_ch, const int *map,
                         unsigned out_ch, float *out, unsigned frames)
{
    for (unsigned k = 0; k < out_ch; k++) {
        int src = map[k];

        if (src < 0 || (unsigned)src >= in_ch) {
            for (unsigned f = 0; f < frames; f++)
                out[f * out_ch + k] = 0.0f;
        } else if (fmt == SAMPLE_S32_LE) {
            const int32_t *s = (const int32_t *)in + src;
            for (unsigned f = 0; f < frames; f++)
                out[f * out_ch + k] = (float)s[f * in_ch] * (1.0f / 2147483648.0f);
        } else {
            const int16_t *s = (const int16_t *)in + src;
            for (unsigned f = 0; f < frames; f++)
                out[f * out_ch + k] = (float)s[f * in_ch] * (1.0f / 32768.0f);
        }
    }
}

unsigned pcm_from_float_mono(const float *in, unsigned frames, void *out, enum sample_format fmt,
                             unsigned out_ch)
{
    unsigned clipped = 0;

    for (unsigned f = 0; f < frames; f++) {
        float x = in[f];

        if (x >= 1.0f) {
            x = 1.0f;
            clipped++;
        } else if (x < -1.0f) {
            x = -1.0f;
            clipped++;
        }
        if (fmt == SAMPLE_S32_LE) {
            /* 1.0 * 2^31 overflows int32: compute in double and clamp. */
            double v = (double)x * 2147483648.0;
            int32_t s = v >= 2147483647.0 ? INT32_MAX : (int32_t)v;
            for (unsigned c = 0; c < out_ch; c++)
                ((int32_t *)out)[f * out_ch + c] = s;
        } else {
            float v = x * 32768.0f;
            int16_t s = v >= 32767.0f ? INT16_MAX : (int16_t)v;
            for (unsigned c = 0; c < out_ch; c++)
                ((int16_t *)out)[f * out_ch + c] = s;
        }
    }
    return clipped;
}
