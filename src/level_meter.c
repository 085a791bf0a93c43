/*
 * level_meter.c - RMS/peak metering and its seqlock hand-over (see level_meter.h).
 */
#include "level_meter.h"

#include <errno.h>
#include <math.h>
#include <string.h>

double level_db(double v)
{
    return v > 1e-6 ? 20.0 * log10(v) : LEVEL_SILENCE_DB;
}

int level_meter_init(struct level_meter *m, unsigned channels, unsigned window_frames)
{
    if (channels == 0 || channels > LEVEL_MAX_CH || window_frames == 0)
        return -EINVAL;
    memset(m, 0, sizeof(*m));
    m->channels = channels;
    m->window_frames = window_frames;
    m->last.channels = channels;
    for (unsigned c = 0; c < LEVEL_MAX_CH; c++) {
        m->last.window_rms_db[c] = m->last.window_peak_db[c] = LEVEL_SILENCE_DB;
        m->last.total_rms_db[c] = m->last.total_peak_db[c] = LEVEL_SILENCE_DB;
    }
    m->shared = m->last;
    return 0;
}

int level_meter_process(struct level_meter *m, const float *x, unsigned frames)
{
    int completed = 0;

    for (unsigned f = 0; f < frames; f++) {
        for (unsigned c = 0; c < m->channels; c++) {
            double v = x[f * m->channels + c];
            double a = fabs(v);
            m->win_sq[c] += v * v;
            if (a > m->win_peak[c])
                m->win_peak[c] = a;
        }
        m->frames++;
        if (++m->in_window < m->window_frames)
            continue;
        for (unsigned c = 0; c < m->channels; c++) {
            m->tot_sq[c] += m->win_sq[c];
            if (m->win_peak[c] > m->tot_peak[c])
                m->tot_peak[c] = m->win_peak[c];
            m->last.window_rms_db[c] = level_db(sqrt(m->win_sq[c] / m->window_frames));
            m->last.window_peak_db[c] = level_db(m->win_peak[c]);
            m->last.total_rms_db[c] = level_db(sqrt(m->tot_sq[c] / (double)m->frames));
            m->last.total_peak_db[c] = level_db(m->tot_peak[c]);
            m->win_sq[c] = m->win_peak[c] = 0;
        }
        m->in_window = 0;
        completed = 1;
    }
    m->last.frames = m->frames;
    return completed;
}

void level_meter_publish(struct level_meter *m)
{
    unsigned s = atomic_load_explicit(&m->seq, memory_order_relaxed);

    atomic_store_explicit(&m->seq, s + 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    m->shared = m->last;
    atomic_store_explicit(&m->seq, s + 2, memory_order_release);
}

void level_meter_read(struct level_meter *m, struct level_snapshot *out)
{
    for (;;) {
        unsigned s1 = atomic_load_explicit(&m->seq, memory_order_acquire);
        if (s1 & 1)
            continue;
        *out = m->shared;
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&m->seq, memory_order_relaxed) == s1)
            return;
    }
}
