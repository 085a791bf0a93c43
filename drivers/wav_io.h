/*
 * wav_io.h - WAV file reading and writing for hark's offline host tools
 * (hark-wav, hark-scene, unit tests), built on libsndfile.
 *
 * Threads: this module is NOT used inside the daemon and never runs on the
 * real-time audio thread. Tools call it from their main thread. A handle may
 * be used by one thread at a time; wav_strerror_last() is per thread.
 *
 * Errors: functions return 0 (or a count) on success and -errno on failure:
 *   -ENOENT, -EACCES, ...  the file could not be opened (from open(2));
 *   -EINVAL                 bad arguments, or the file is not a readable WAV
 *                           (garbage, truncated header, unsupported encoding);
 *   -EIO                    a read or write failed part way;
 *   -ENOMEM                 out of memory.
 * Nothing here prints. After a failure, wav_strerror_last() returns a short
 * human-readable reason (libsndfile's message where it has one) for the
 * caller to log next to the file name.
 *
 * Sample conversions (all formats, both directions):
 *   s16 -> float    x / 32768
 *   float -> s16    round(x * 32768), clipped to [-32768, 32767]
 *   float -> PCM32  round(x * 2^31), clipped to [-2^31, 2^31 - 1]
 *   PCM32 -> float  x / 2^31
 * so float <-> PCM16 round trips are exact for multiples of 1/32768.
 * Values outside [-1, 1) are clipped when written to an integer format and
 * stored unchanged in a WAV_FLOAT file.
 */
#ifndef HARK_WAV_IO_H
#define HARK_WAV_IO_H

#include <stdint.h>

/* Sample encoding of a file written by wav_writer_open(). */
enum wav_sample_format {
    WAV_PCM16,  /* 16-bit signed integer PCM */
    WAV_PCM32,  /* 32-bit signed integer PCM */
    WAV_FLOAT,  /* 32-bit IEEE float (WAVE_FORMAT_IEEE_FLOAT) */
};

struct wav_info {
    int rate;  /* frames per second */
    int channels;  /* interleaved channels per frame */
    /* Frames in the file: the header's count, checked by libsndfile
     * against the file size. */
    int64_t frames;
};

struct wav_reader;
struct wav_writer;

/*
 * Open a WAV file for reading (WAV, WAVE_FORMAT_EXTENSIBLE, RF64 or W64
 * container; any encoding libsndfile decodes). Fills *info_out when given.
 * Returns NULL on failure with -errno in *err (err may be NULL).
 */
struct wav_reader *wav_reader_open(const char *path, struct wav_info *info_out,
                                   int *err);

/*
 * Read up to `frames` frames, interleaved, into `interleaved` (room for
 * frames * channels samples). Returns frames read (short only at the end of
 * the file), 0 at end of file, -EINVAL on bad arguments, -EIO on error.
 * The whole buffer may be written: samples past the frames returned are
 * zeroed by libsndfile on a short read.
 */
long wav_reader_read_float(struct wav_reader *r, float *interleaved, long frames);
long wav_reader_read_s16(struct wav_reader *r, int16_t *interleaved, long frames);

/* Close and free; accepts NULL. */
void wav_reader_close(struct wav_reader *r);

/*
 * Create (or truncate) `path` as a RIFF WAV file with the given rate,
 * channel count (1..1024) and encoding. Returns NULL on failure with -errno
 * in *err (err may be NULL).
 */
struct wav_writer *wav_writer_open(const char *path, int rate, int channels,
                                   enum wav_sample_format fmt, int *err);

/* Append `frames` interleaved frames. Returns 0 or -EINVAL / -EIO. */
int wav_writer_write_float(struct wav_writer *w, const float *interleaved,
                           long frames);
int wav_writer_write_s16(struct wav_writer *w, const int16_t *interleaved,
                         long frames);

/*
 * Finalise the header, close the file and free the handle (always freed).
 * Returns 0, or -EIO if the header or the data could not be written out.
 * Accepts NULL (returns 0). A writer that is never closed leaves a file
 * whose header claims no data.
 */
int wav_writer_close(struct wav_writer *w);

/*
 * Convert a WAV file to headerless interleaved S16_LE ("raw", as read and
 * written by ALSA's file plugin, arecord -t raw, sox -t raw). Float and
 * wider files are converted as above. *channels_out and *rate_out (either
 * may be NULL) receive the WAV's parameters, which the raw file loses.
 * On error the raw file may be left partly written.
 */
int wav_to_raw_s16(const char *wav, const char *raw, int *channels_out,
                   int *rate_out);

/*
 * Wrap a raw interleaved S16_LE file into a PCM16 WAV. The raw size must be
 * a whole number of frames (-EINVAL otherwise). On error the WAV file may be
 * left partly written.
 */
int raw_s16_to_wav(const char *raw, int channels, int rate, const char *wav);

/*
 * Reason for the last failure of a wav_* call on this thread ("" if none
 * yet). Valid until the next wav_* call on this thread.
 */
const char *wav_strerror_last(void);

#endif /* HARK_WAV_IO_H */
