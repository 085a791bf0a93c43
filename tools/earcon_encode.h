/*
 * earcon_encode.h - mono PCM -> Ogg Opus (RFC 7845) in memory, with libopus
 * and libogg: the writing half of the earcon format (src/earcon.h reads
 * it). Used by hark-earcon and by tests/unit/test_earcon.c; not linked
 * into harkd.
 *
 * Output: one logical stream, OpusHead (1 channel, pre-skip = the encoder's
 * look-ahead, the input rate recorded) on the first page, OpusTags on the
 * second, then 20 ms packets; the last page carries the end-of-stream flag
 * and a granule position that trims the decoder's output to exactly the
 * input length. The serial number is fixed, so the same input gives the
 * same bytes (the committed sounds are reproducible).
 *
 * Threads: any single thread; allocates. No logging.
 */
#ifndef HARK_EARCON_ENCODE_H
#define HARK_EARCON_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#define EARCON_ENCODE_BITRATE 24000

/* The encoder's signal hint. Music keeps tones clean at low bit rates:
 * for a 1 kHz tone at 24 kbit/s the residual after a sine fit is -29 dB
 * with it and -16 dB with auto, which picks a speech mode whose 20 ms
 * frame boundaries modulate a steady tone (test_earcon). */
enum earcon_signal { EARCON_SIGNAL_AUTO = 0, EARCON_SIGNAL_VOICE, EARCON_SIGNAL_MUSIC };

/* pcm: frames of mono float at rate (any rate 8000..192000; rates Opus does
 * not take are resampled to 48 kHz with speexdsp). bitrate in bit/s
 * (6000..256000; 0 = EARCON_ENCODE_BITRATE). *out is malloc'd. Returns 0,
 * or -EINVAL / -ENOMEM / -EIO (libopus failed) with the reason in err. */
int earcon_encode_ogg(const float *pcm, size_t frames, unsigned rate, int bitrate,
                      enum earcon_signal signal, uint8_t **out, size_t *outlen, char *err, size_t errlen);

#endif
