/*
 * fe_test_signal.h - signal generators shared by the front-end unit tests:
 * a deterministic RNG, a Blackman-windowed sinc, and a far-field plane wave
 * reaching planar mic positions with exact fractional delays.
 *
 * Header-only (static inline) so each test binary stays one source file.
 */
#ifndef HARK_FE_TEST_SIGNAL_H
#define HARK_FE_TEST_SIGNAL_H

#include <math.h>
#include <stdint.h>

#define C_SOUND 343.0
#define SINC_HALF 48
#define PAD (SINC_HALF + 8)   /* samples a source carries before and after */

static uint64_t rng;

static inline double urand(void) /* uniform in [-1, 1) */
{
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double) (rng >> 11) * (2.0 / 9007199254740992.0) - 1.0;
}

static inline double gauss(void)
{
    double u = (urand() + 1) / 2 + 1e-12, v = (urand() + 1) / 2;
    return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

static inline double blackman_sinc(double x, double half)
{
    double w = (x + half) / (2.0 * half);
    double win = 0.42 - 0.5 * cos(2 * M_PI * w) + 0.08 * cos(4 * M_PI * w);
    return (fabs(x) < 1e-12 ? 1.0 : sin(M_PI * x) / (M_PI * x)) * win;
}

/* Adds gain * s arriving from az_deg (far field, elevation 0) to each mic's
 * channel of out (n frames, `stride` floats per frame). s holds n + 2 PAD
 * samples; y_m[t] = s[t + advance_m], the fractional part by a normalised
 * windowed sinc of 2 SINC_HALF taps. */
static inline void fe_test_plane_wave(float *out, long n, unsigned stride, unsigned mic_count,
                                      const double (*mic_pos_mm)[3], double fs, const double *s,
                                      double az_deg, double gain)
{
    double ux = cos(az_deg * M_PI / 180), uy = sin(az_deg * M_PI / 180);

    for (unsigned m = 0; m < mic_count; m++) {
        double adv = (mic_pos_mm[m][0] * ux + mic_pos_mm[m][1] * uy) * 1e-3 / C_SOUND * fs;
        double h[2 * SINC_HALF + 2], hs = 0;
        long i0 = (long) floor(adv);
        double f = adv - i0;

        for (int j = -SINC_HALF + 1; j <= SINC_HALF; j++) {
            h[j + SINC_HALF] = blackman_sinc(j - f, SINC_HALF);
            hs += h[j + SINC_HALF];
        }
        for (long t = 0; t < n; t++) {
            double acc = 0;
            for (int j = -SINC_HALF + 1; j <= SINC_HALF; j++)
                acc += s[PAD + t + i0 + j] * h[j + SINC_HALF];
            out[t * stride + m] += (float) (gain * acc / hs);
        }
    }
}

#endif
