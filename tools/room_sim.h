/*
 * room_sim.h - shoebox-room impulse responses by the image-source method
 * (J. B. Allen and D. A. Berkley, "Image method for efficiently simulating
 * small-room acoustics", JASA 65(4), 1979), plus the convolution and
 * band-limited interpolation that scene generators need (host tools and
 * tests only; not linked into harkd).
 *
 * Conventions
 *   - Positions in metres in the room frame: the room is the box
 *     [0, L_x] x [0, L_y] x [0, L_z]; sources and mics must lie inside it.
 *   - Every wall has the same frequency-independent pressure reflection
 *     coefficient beta (uniform absorption alpha = 1 - beta^2).
 *   - An image reached through N wall reflections at distance r from the mic
 *     contributes a tap of gain beta^N / r (r in metres: a source signal is
 *     taken as the level 1 m from the source, as in hark-scene's free field)
 *     at delay r / c * fs samples. No 1/(4 pi) factor.
 *   - Fractional delays: Kaiser-windowed sinc (beta 8, `sinc_half` taps each
 *     side), normalised to unit DC gain per image, evaluated from a table
 *     (512 phases per sample, linear interpolation; < 1e-5 error).
 *   - Impulse responses carry a pre-roll of `sinc_half` samples so that the
 *     sinc of a path arriving at t ~ 0 is not cut: tap k of an IR stands for
 *     time (k - sinc_half) / fs. room_sim_ir_pre() returns that offset.
 *   - RT60: Sabine's formula gives alpha from the room's volume and surface.
 *     Uniform-absorption image-source rooms decay more slowly than Sabine
 *     (and Eyring) predict, because the late tail is dominated by images
 *     with grazing (axial/tangential) paths; room_sim_beta_for_rt60()
 *     therefore starts from Sabine and refines beta until the Schroeder T30
 *     of a reference IR in that room matches the request (see there).
 *   - Everything is deterministic: the optional image jitter comes from a
 *     hash of (seed, image index), not from a stateful generator, so an IR
 *     does not depend on the order in which IRs are computed.
 *
 * Errors: functions return 0 or -EINVAL (bad arguments, e.g. a point outside
 * the room) / -ENOMEM. Nothing here prints.
 */
#ifndef HARK_ROOM_SIM_H
#define HARK_ROOM_SIM_H

#include <stdint.h>

#define ROOM_SIM_C 343.0          /* default speed of sound, m/s */
#define ROOM_SIM_SINC_HALF 32     /* default fractional-delay taps each side */
#define ROOM_SIM_SINC_HALF_MAX 64

struct room_sim_room {
    double dims[3];   /* L_x, L_y, L_z in metres, each > 0 */
    double beta;      /* wall pressure reflection coefficient, 0..1 (0: anechoic) */
};

struct room_sim_opts {
    double fs;          /* sample rate, Hz (> 0) */
    double c;           /* speed of sound, m/s; <= 0 means ROOM_SIM_C */
    int max_order;      /* maximum total reflection order; < 0: no limit */
    double max_time_s;  /* paths longer than c * max_time_s are left out (> 0) */
    int sinc_half;      /* fractional-delay half-width; 0 means ROOM_SIM_SINC_HALF */
    double jitter_m;    /* each reflected image (order >= 1) is moved by up to
                         * +-jitter_m per axis (uniform, from seed); 0 = off */
    uint64_t seed;      /* for the jitter */
};

/* One image source (room_sim_images()). */
struct room_sim_image {
    double pos[3];      /* metres, room frame (jitter not applied) */
    int order;          /* number of wall reflections */
    double gain;        /* beta^order */
};

/* Fill opts with defaults: fs as given, c = 343, no order limit,
 * max_time_s = 0.5, sinc_half = 32, no jitter, seed 0. */
void room_sim_opts_default(struct room_sim_opts *o, double fs);

/* Modified Bessel function of the first kind, order 0 (Kaiser windows). */
double room_sim_bessel_i0(double x);

/* Sabine: alpha = 24 ln(10) V / (c S T60). May exceed 1 (then no uniform
 * absorption reaches that RT60: the room is "anechoic"). c <= 0: 343. */
double room_sim_sabine_alpha(const double dims[3], double rt60, double c);

/* beta = sqrt(1 - alpha) from Sabine, clamped to [0, 1); rt60 <= 0 gives 0. */
double room_sim_beta_sabine(const double dims[3], double rt60, double c);

/*
 * The wall reflection coefficient that gives a room of `dims` a broadband
 * RT60 of `rt60` seconds, as measured by room_sim_measure_rt60() (T30) on a
 * reference IR: source at (0.31, 0.43, 0.47) and mic at (0.62, 0.58, 0.38)
 * times the room dimensions, fs 8 kHz, 8-tap interpolation, IR length
 * 1.3 * target. Starts from Sabine and corrects alpha from the ratio of
 * measured to requested RT60 (secant steps on log T60 against log alpha;
 * at most 12 passes, stops within 1 %). The
 * result depends on the room only, so every source and mic in a scene
 * shares it. Returns 0 (with *beta_out; 0 when rt60 <= 0 or Sabine's alpha
 * is >= 1), -EINVAL, or -ENOMEM. *measured_out (may be NULL) gets the
 * reference IR's T30 with the returned beta (-1 if not measurable).
 */
int room_sim_beta_for_rt60(const double dims[3], double rt60, double c,
                           double *beta_out, double *measured_out);

/* Pre-roll of every IR: tap k is time (k - pre) / fs. */
int room_sim_ir_pre(const struct room_sim_opts *o);

/* IR length in taps that holds every path up to max_time_s plus the sinc. */
long room_sim_ir_len(const struct room_sim_opts *o);

/*
 * Impulse response from src to mic into h[0..n) (n from room_sim_ir_len(),
 * or shorter to truncate; longer is zero-filled). Returns 0, -EINVAL (bad
 * options, a point outside the room), or -ENOMEM. *n_images_out (may be
 * NULL) receives the number of images that contributed.
 */
int room_sim_ir(const struct room_sim_room *room, const struct room_sim_opts *o,
                const double src[3], const double mic[3], float *h, long n,
                long *n_images_out);

/*
 * Images of src up to max_order reflections (no time limit), in a fixed
 * order: by order, then by the Allen-Berkley indices. Writes at most cap
 * entries to out (out may be NULL with cap 0) and returns the total count,
 * or -EINVAL. The direct source is the single order-0 image.
 */
long room_sim_images(const struct room_sim_room *room, const double src[3], int max_order,
                     struct room_sim_image *out, long cap);

/*
 * y_c[i] += gain * (x * h_c)[i + shift] for i in [0, ny), c in [0, nch),
 * where (x * h)[j] = sum_k h[k] x[j - k], x is zero outside [0, nx) and all
 * nch IRs have nh taps. FFT overlap-add (radix-2, double precision) for long
 * IRs; each input block is transformed once for all channels. Direct
 * convolution when nh is short. Returns 0, -EINVAL or -ENOMEM.
 */
int room_sim_convolve(const float *x, long nx, const float *const *h, int nch, long nh,
                      float *const *y, long ny, long shift, double gain);

/*
 * Band-limited read of x at fractional times: y[i] = x(t0 + i * step) for
 * i in [0, ny), x zero outside [0, nx). Kaiser-windowed sinc, 32 taps each
 * side (the same kernel as the IRs). No anti-alias filtering: meant for
 * delays and for clock-drift ratios within a few hundred ppm of 1. When t0
 * is an integer and step is exactly 1 it is a plain copy.
 */
void room_sim_interp(const float *x, long nx, double t0, double step, float *y, long ny);

/*
 * Reverberation time from an IR by Schroeder backward integration: a least
 * squares line through the energy decay curve between -db_start and
 * -db_end dB (5 and 35 for T30, 5 and 25 for T20), extrapolated to 60 dB.
 * The curve starts at the IR's largest tap. The IR must hold the decay to
 * well below -db_end (10 dB more is plenty): the integral of a truncated IR
 * falls off early and biases the estimate low. Returns seconds, or -1 for a
 * silent IR or a curve without enough points in the range.
 */
double room_sim_measure_rt60(const float *h, long n, double fs, double db_start,
                             double db_end);

/*
 * DC removal for image-source IRs, as Allen and Berkley recommend: the
 * image method's IR has a large nonphysical DC gain (the sum of every
 * image's beta^N / r; hundreds of thousands of images in a reverberant
 * room), so any DC or sub-audio content of a source comes out amplified.
 * Filters h[0..n) in place with a causal 2nd-order Butterworth high-pass
 * at fc Hz (bilinear transform, double zero at DC). fc <= 0 or >= fs / 4
 * leaves h unchanged.
 */
void room_sim_highpass(float *h, long n, double fs, double fc);

#endif
