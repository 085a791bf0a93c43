/*
 * mel.h - streaming log-mel features for the on-device neural models (VAD,
 * wake word): the exact feature definition the training tools mirror
 * (tools/train/harkml/features.py; both are checked against a direct DFT
 * in tests/unit/test_mel.c and tools/train/check_features.py).
 *
 * Definition (16 kHz mono float samples in [-1, 1)):
 *
 *   Every hop of MEL_HOP = 160 samples (10 ms) a frame is produced from the
 *   newest MEL_WIN = 400 samples (25 ms) x[0..399], oldest first. Before 400
 *   samples have arrived the history is zeros (it starts zeroed, and
 *   mel_reset() zeroes it), so mel_push() returns a frame for EVERY hop,
 *   the first one included: frame t (t = 0, 1, ...) covers input samples
 *   160 (t + 1) - 400 .. 160 (t + 1) - 1, negative indices being zeros.
 *
 *   w[n]   = 0.5 - 0.5 cos(2 pi n / 400)              periodic Hann, n < 400
 *   X[k]   = sum_{n<400} w[n] x[n] e^{-j 2 pi k n / 512}  k = 0..256 (the
 *            400 windowed samples zero-padded to MEL_NFFT = 512; no scaling)
 *   P[k]   = |X[k]|^2
 *   mel(f) = 2595 log10(1 + f / 700)                   (HTK mel scale)
 *   c_i    = mel^-1(mel(60) + i (mel(7600) - mel(60)) / 41),  i = 0..41
 *   H_b(f) = max(0, min((f - c_b) / (c_{b+1} - c_b),
 *                       (c_{b+2} - f) / (c_{b+2} - c_{b+1}))), b = 0..39
 *            (triangles of peak 1, not area-normalised), evaluated at the
 *            bin frequencies f_k = k 16000 / 512
 *   E_b    = sum_k H_b(f_k) P[k]
 *   out_b  = ln(E_b + MEL_FLOOR),  MEL_FLOOR = 1e-6
 *
 *   No pre-emphasis, no DC removal, no dither, no mean normalisation (the
 *   models carry their own per-feature normalisation layer). For scale: a
 *   full-scale sine (amplitude 1) puts about ln((200/2)^2) = 9.2 into its
 *   band; digital silence gives ln(1e-6) = -13.8.
 *
 * Threads: an object belongs to the thread that pushes into it (the DSP
 * thread in harkd; the tool's main thread in hark-vad / hark-wake). Create
 * and destroy from any thread while nothing else uses it. mel_push() never
 * allocates, blocks or logs.
 *
 * Errors: mel_create() returns NULL on out of memory. Nothing here prints.
 */
#ifndef HARK_MEL_H
#define HARK_MEL_H

#define MEL_RATE 16000  /* Hz */
#define MEL_HOP 160     /* samples per frame step (10 ms) */
#define MEL_WIN 400     /* analysis window (25 ms) */
#define MEL_NFFT 512    /* FFT length (window zero-padded) */
#define MEL_BANDS 40    /* triangular mel bands */
#define MEL_FMIN 60.0   /* Hz, lower edge of the first band */
#define MEL_FMAX 7600.0 /* Hz, upper edge of the last band */
#define MEL_FLOOR 1e-6f /* added to band energies before the log */

struct mel;

struct mel *mel_create(void);
void mel_destroy(struct mel *m); /* NULL is fine */

/* Forget the history (zeros), as after create. */
void mel_reset(struct mel *m);

/*
 * Push one hop (MEL_HOP samples) and compute the frame that ends with it
 * into out[MEL_BANDS]. Returns 1 (a frame is out); kept as an int so a
 * caller can treat it like a "frame ready" flag. Non-finite input samples
 * are treated as 0 so one bad sample cannot poison the models' state.
 */
int mel_push(struct mel *m, const float hop[MEL_HOP], float out[MEL_BANDS]);

/* The filterbank as a dense MEL_BANDS x (MEL_NFFT/2 + 1) matrix, row-major
 * (for tests and tools; not used on the audio path). */
void mel_filterbank(float fb[MEL_BANDS][MEL_NFFT / 2 + 1]);

#endif
