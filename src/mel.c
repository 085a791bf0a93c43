/*
 * mel.c - streaming log-mel features (see mel.h for the exact definition).
 *
 * The 400-sample history is a linear buffer shifted by one hop per push
 * (240 floats moved), then windowed into a zero-padded 512-point buffer and
 * transformed with kissfft's real FFT (Debian kissfft-float). The
 * filterbank is stored sparsely: each band keeps the first bin it touches
 * and its non-zero weights (at most a few dozen), so the 40 bands cost
 * about 600 multiply-adds per frame on top of the FFT.
 */
#include "mel.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <kiss_fftr.h>

_Static_assert(sizeof(kiss_fft_scalar) == sizeof(float), "kissfft must be the float build");

#define MEL_BINS (MEL_NFFT / 2 + 1)

struct mel_band {
    unsigned first, count; /* bins first .. first + count - 1 */
    unsigned off;          /* offset of the weights in mel->weights */
};

struct mel {
    kiss_fftr_cfg fft;
    float win[MEL_WIN];
    float hist[MEL_WIN];  /* oldest first */
    float buf[MEL_NFFT];  /* windowed, zero-padded */
    kiss_fft_cpx spec[MEL_BINS];
    struct mel_band band[MEL_BANDS];
    float weights[MEL_BANDS * MEL_BINS]; /* only the first band[last].off + count are used */
};

static double hz_to_mel(double f)
{
    return 2595.0 * log10(1.0 + f / 700.0);
}

static double mel_to_hz(double m)
{
    return 700.0 * (pow(10.0, m / 2595.0) - 1.0);
}

void mel_filterbank(float fb[MEL_BANDS][MEL_BINS])
{
    double c[MEL_BANDS + 2];
    double m0 = hz_to_mel(MEL_FMIN), m1 = hz_to_mel(MEL_FMAX);

    for (unsigned i = 0; i < MEL_BANDS + 2; i++)
        c[i] = mel_to_hz(m0 + i * (m1 - m0) / (MEL_BANDS + 1));
    for (unsigned b = 0; b < MEL_BANDS; b++) {
        for (unsigned k = 0; k < MEL_BINS; k++) {
            double f = (double) k * MEL_RATE / MEL_NFFT;
            double up = (f - c[b]) / (c[b + 1] - c[b]);
            double down = (c[b + 2] - f) / (c[b + 2] - c[b + 1]);
            double w = up < down ? up : down;

            fb[b][k] = (float) (w > 0 ? w : 0);
        }
    }
}

struct mel *mel_create(void)
{
    struct mel *m = calloc(1, sizeof(*m));
    float (*dense)[MEL_BINS]; /* the dense filterbank, only while building */
    unsigned off = 0;

    if (!m)
        return NULL;
    dense = malloc(sizeof(float) * MEL_BANDS * MEL_BINS);
    m->fft = kiss_fftr_alloc(MEL_NFFT, 0, NULL, NULL);
    if (!dense || !m->fft) {
        free(dense);
        mel_destroy(m);
        return NULL;
    }
    for (unsigned n = 0; n < MEL_WIN; n++)
        m->win[n] = (float) (0.5 - 0.5 * cos(2.0 * M_PI * n / MEL_WIN));
    mel_filterbank(dense);
    for (unsigned b = 0; b < MEL_BANDS; b++) {
        unsigned lo = MEL_BINS, hi = 0;

        for (unsigned k = 0; k < MEL_BINS; k++) {
            if (dense[b][k] > 0) {
                if (lo == MEL_BINS)
                    lo = k;
                hi = k;
            }
        }
        if (lo == MEL_BINS) /* cannot happen for 60-7600 Hz at 31.25 Hz bins */
            lo = hi = 0;
        m->band[b].first = lo;
        m->band[b].count = hi - lo + 1;
        m->band[b].off = off;
        for (unsigned k = lo; k <= hi; k++)
            m->weights[off++] = dense[b][k];
    }
    free(dense);
    return m;
}

void mel_destroy(struct mel *m)
{
    if (!m)
        return;
    kiss_fftr_free(m->fft);
    free(m);
}

void mel_reset(struct mel *m)
{
    memset(m->hist, 0, sizeof(m->hist));
}

int mel_push(struct mel *m, const float hop[MEL_HOP], float out[MEL_BANDS])
{
    memmove(m->hist, m->hist + MEL_HOP, (MEL_WIN - MEL_HOP) * sizeof(float));
    for (unsigned n = 0; n < MEL_HOP; n++) {
        float v = hop[n];

        m->hist[MEL_WIN - MEL_HOP + n] = isfinite(v) ? v : 0.0f;
    }
    for (unsigned n = 0; n < MEL_WIN; n++)
        m->buf[n] = m->hist[n] * m->win[n];
    memset(m->buf + MEL_WIN, 0, (MEL_NFFT - MEL_WIN) * sizeof(float));
    kiss_fftr(m->fft, m->buf, m->spec);

    float power[MEL_BINS];
    for (unsigned k = 0; k < MEL_BINS; k++)
        power[k] = m->spec[k].r * m->spec[k].r + m->spec[k].i * m->spec[k].i;
    for (unsigned b = 0; b < MEL_BANDS; b++) {
        const struct mel_band *bd = &m->band[b];
        const float *w = m->weights + bd->off;
        const float *p = power + bd->first;
        float e = 0;

        for (unsigned k = 0; k < bd->count; k++)
            e += w[k] * p[k];
        out[b] = logf(e + MEL_FLOOR);
    }
    return 1;
}
