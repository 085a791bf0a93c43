/*
 * wav_io.c - libsndfile-backed WAV reader/writer and raw S16_LE converters for
 * hark's offline host tools (hark-wav, hark-scene, tests). Not linked into
 * the daemon; called from a tool's main thread. See wav_io.h for the
 * contract (errors, sample conversions).
 *
 * We open files ourselves and hand the descriptor to libsndfile
 * (sf_open_fd, close_desc = SF_FALSE) so that open(2) failures come back as
 * the real errno and descriptor ownership stays here on every path.
 * Float <-> integer conversions are done here rather than by libsndfile,
 * whose defaults are asymmetric (x * 0x7FFF on write, x / 0x8000 on read)
 * and which does not scale float files read as integers.
 */
#include "wav_io.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sndfile.h>

#define WAV_CHUNK_FRAMES 1024L  /* frames per conversion / copy step */
#define WAV_MAX_CHANNELS 1024  /* libsndfile's own limit */

struct wav_reader {
    SNDFILE *sf;
    int fd;
    int channels;
    int is_float;  /* float or double encoding in the file */
    float *scratch;  /* WAV_CHUNK_FRAMES * channels */
};

struct wav_writer {
    SNDFILE *sf;
    int fd;
    int channels;
    enum wav_sample_format fmt;
    void *scratch;  /* WAV_CHUNK_FRAMES * channels 4-byte samples */
};

static __thread char wav_last_err[256];

static void wav_set_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void wav_set_err(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(wav_last_err, sizeof(wav_last_err), fmt, ap);
    va_end(ap);
}

const char *wav_strerror_last(void)
{
    return wav_last_err;
}

static int16_t wav_float_to_s16(float x)
{
    if (isnan(x))
        return 0;
    if (x >= 32767.0f / 32768.0f)
        return INT16_MAX;
    if (x <= -1.0f)
        return INT16_MIN;
    return (int16_t)lrintf(x * 32768.0f);
}

static int32_t wav_float_to_s32(float x)
{
    double v = (double)x * 2147483648.0;

    if (isnan(x))
        return 0;
    if (v >= 2147483647.0)
        return INT32_MAX;
    if (v <= -2147483648.0)
        return INT32_MIN;
    return (int32_t)lrint(v);
}

static int wav_open_fd(const char *path, int flags)
{
    struct stat st;
    int fd, r;

    fd = open(path, flags | O_CLOEXEC, 0666);
    if (fd < 0) {
        r = -errno;
        wav_set_err("%s", strerror(errno));
        return r;
    }
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        close(fd);
        wav_set_err("%s", strerror(EISDIR));
        return -EISDIR;
    }
    return fd;
}

/* libsndfile open failure -> -errno, keeping its message. */
static int wav_sf_open_err(void)
{
    int code = sf_error(NULL);

    wav_set_err("%s", sf_strerror(NULL));
    if (code == SF_ERR_SYSTEM)
        return -EIO;
    return -EINVAL;
}

static int wav_is_wav_container(int format)
{
    switch (format & SF_FORMAT_TYPEMASK) {
    case SF_FORMAT_WAV:
    case SF_FORMAT_WAVEX:
    case SF_FORMAT_RF64:
    case SF_FORMAT_W64:
        return 1;
    default:
        return 0;
    }
}

struct wav_reader *wav_reader_open(const char *path, struct wav_info *info_out,
                                   int *err)
{
    struct wav_reader *rd;
    SF_INFO sfi;
    int r, sub;

    if (!path) {
        wav_set_err("no file name");
        r = -EINVAL;
        goto out_err;
    }
    rd = calloc(1, sizeof(*rd));
    if (!rd) {
        wav_set_err("out of memory");
        r = -ENOMEM;
        goto out_err;
    }
    rd->fd = wav_open_fd(path, O_RDONLY);
    if (rd->fd < 0) {
        r = rd->fd;
        goto out_free;
    }
    memset(&sfi, 0, sizeof(sfi));
    rd->sf = sf_open_fd(rd->fd, SFM_READ, &sfi, SF_FALSE);
    if (!rd->sf) {
        r = wav_sf_open_err();
        goto out_close_fd;
    }
    if (!wav_is_wav_container(sfi.format)) {
        SF_FORMAT_INFO fi = { .format = sfi.format & SF_FORMAT_TYPEMASK };

        if (sf_command(NULL, SFC_GET_FORMAT_INFO, &fi, sizeof(fi)) == 0 && fi.name)
            wav_set_err("not a WAV file (%s)", fi.name);
        else
            wav_set_err("not a WAV file");
        r = -EINVAL;
        goto out_close_sf;
    }
    if (sfi.channels < 1 || sfi.channels > WAV_MAX_CHANNELS || sfi.samplerate < 1
        || sfi.frames < 0) {
        wav_set_err("bad WAV header (%d channels, %d Hz)", sfi.channels,
                    sfi.samplerate);
        r = -EINVAL;
        goto out_close_sf;
    }
    sub = sfi.format & SF_FORMAT_SUBMASK;
    rd->is_float = sub == SF_FORMAT_FLOAT || sub == SF_FORMAT_DOUBLE;
    rd->channels = sfi.channels;
    rd->scratch = malloc(sizeof(float) * WAV_CHUNK_FRAMES * (size_t)sfi.channels);
    if (!rd->scratch) {
        wav_set_err("out of memory");
        r = -ENOMEM;
        goto out_close_sf;
    }
    /* Integer reads of PCM are exact; float files are converted by us. */
    if (info_out) {
        info_out->rate = sfi.samplerate;
        info_out->channels = sfi.channels;
        info_out->frames = sfi.frames;
    }
    if (err)
        *err = 0;
    return rd;

out_close_sf:
    sf_close(rd->sf);
out_close_fd:
    close(rd->fd);
out_free:
    free(rd);
out_err:
    if (err)
        *err = r;
    return NULL;
}

long wav_reader_read_float(struct wav_reader *rd, float *interleaved, long frames)
{
    sf_count_t n;

    if (!rd || !interleaved || frames < 0)
        return -EINVAL;
    if (frames == 0)
        return 0;
    n = sf_readf_float(rd->sf, interleaved, frames);
    if (n < frames && sf_error(rd->sf) != SF_ERR_NO_ERROR) {
        wav_set_err("%s", sf_strerror(rd->sf));
        if (n <= 0)
            return -EIO;
    }
    return n < 0 ? -EIO : (long)n;
}

long wav_reader_read_s16(struct wav_reader *rd, int16_t *interleaved, long frames)
{
    long done = 0;

    if (!rd || !interleaved || frames < 0)
        return -EINVAL;
    if (!rd->is_float) {
        sf_count_t n;

        if (frames == 0)
            return 0;
        n = sf_readf_short(rd->sf, interleaved, frames);
        if (n < frames && sf_error(rd->sf) != SF_ERR_NO_ERROR) {
            wav_set_err("%s", sf_strerror(rd->sf));
            if (n <= 0)
                return -EIO;
        }
        return n < 0 ? -EIO : (long)n;
    }
    while (done < frames) {
        long want = frames - done < WAV_CHUNK_FRAMES ? frames - done : WAV_CHUNK_FRAMES;
        long n = wav_reader_read_float(rd, rd->scratch, want);
        long i, count;

        if (n < 0)
            return done > 0 ? done : n;
        count = n * rd->channels;
        for (i = 0; i < count; i++)
            interleaved[done * rd->channels + i] = wav_float_to_s16(rd->scratch[i]);
        done += n;
        if (n < want)
            break;
    }
    return done;
}

void wav_reader_close(struct wav_reader *rd)
{
    if (!rd)
        return;
    sf_close(rd->sf);
    close(rd->fd);
    free(rd->scratch);
    free(rd);
}

struct wav_writer *wav_writer_open(const char *path, int rate, int channels,
                                   enum wav_sample_format fmt, int *err)
{
    struct wav_writer *w;
    SF_INFO sfi;
    int r;

    memset(&sfi, 0, sizeof(sfi));
    sfi.samplerate = rate;
    sfi.channels = channels;
    switch (fmt) {
    case WAV_PCM16:
        sfi.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
        break;
    case WAV_PCM32:
        sfi.format = SF_FORMAT_WAV | SF_FORMAT_PCM_32;
        break;
    case WAV_FLOAT:
        sfi.format = SF_FORMAT_WAV | SF_FORMAT_FLOAT;
        break;
    default:
        sfi.format = 0;
        break;
    }
    if (!path || rate < 1 || channels < 1 || channels > WAV_MAX_CHANNELS
        || !sfi.format || !sf_format_check(&sfi)) {
        wav_set_err("bad WAV parameters (%d Hz, %d channels, format %d)",
                    rate, channels, (int)fmt);
        r = -EINVAL;
        goto out_err;
    }
    w = calloc(1, sizeof(*w));
    if (!w) {
        wav_set_err("out of memory");
        r = -ENOMEM;
        goto out_err;
    }
    w->channels = channels;
    w->fmt = fmt;
    w->scratch = malloc(4 * WAV_CHUNK_FRAMES * (size_t)channels);
    if (!w->scratch) {
        wav_set_err("out of memory");
        r = -ENOMEM;
        goto out_free;
    }
    w->fd = wav_open_fd(path, O_WRONLY | O_CREAT | O_TRUNC);
    if (w->fd < 0) {
        r = w->fd;
        goto out_free_scratch;
    }
    w->sf = sf_open_fd(w->fd, SFM_WRITE, &sfi, SF_FALSE);
    if (!w->sf) {
        r = wav_sf_open_err();
        goto out_close_fd;
    }
    /* The float PEAK chunk carries a time stamp: keep output reproducible. */
    (void)sf_command(w->sf, SFC_SET_ADD_PEAK_CHUNK, NULL, SF_FALSE);
    if (err)
        *err = 0;
    return w;

out_close_fd:
    close(w->fd);
out_free_scratch:
    free(w->scratch);
out_free:
    free(w);
out_err:
    if (err)
        *err = r;
    return NULL;
}

static int wav_writer_check(struct wav_writer *w, sf_count_t wrote, sf_count_t want)
{
    if (wrote == want)
        return 0;
    wav_set_err("write failed: %s", sf_strerror(w->sf));
    return -EIO;
}

int wav_writer_write_float(struct wav_writer *w, const float *interleaved, long frames)
{
    long done = 0;

    if (!w || (!interleaved && frames > 0) || frames < 0)
        return -EINVAL;
    if (w->fmt == WAV_FLOAT)
        return wav_writer_check(w, sf_writef_float(w->sf, interleaved, frames), frames);

    while (done < frames) {
        long n = frames - done < WAV_CHUNK_FRAMES ? frames - done : WAV_CHUNK_FRAMES;
        const float *src = interleaved + done * w->channels;
        long i, count = n * w->channels;
        int r;

        if (w->fmt == WAV_PCM16) {
            int16_t *dst = w->scratch;

            for (i = 0; i < count; i++)
                dst[i] = wav_float_to_s16(src[i]);
            r = wav_writer_check(w, sf_writef_short(w->sf, dst, n), n);
        } else {
            int32_t *dst = w->scratch;

            for (i = 0; i < count; i++)
                dst[i] = wav_float_to_s32(src[i]);
            r = wav_writer_check(w, sf_writef_int(w->sf, dst, n), n);
        }
        if (r < 0)
            return r;
        done += n;
    }
    return 0;
}

int wav_writer_write_s16(struct wav_writer *w, const int16_t *interleaved, long frames)
{
    long done = 0;

    if (!w || (!interleaved && frames > 0) || frames < 0)
        return -EINVAL;
    /* libsndfile widens s16 to PCM32 exactly (x << 16) ... */
    if (w->fmt != WAV_FLOAT)
        return wav_writer_check(w, sf_writef_short(w->sf, interleaved, frames),
                                frames);
    /* ... but stores s16 into float files unscaled by default. */
    while (done < frames) {
        long n = frames - done < WAV_CHUNK_FRAMES ? frames - done : WAV_CHUNK_FRAMES;
        const int16_t *src = interleaved + done * w->channels;
        float *dst = w->scratch;
        long i, count = n * w->channels;
        int r;

        for (i = 0; i < count; i++)
            dst[i] = (float)src[i] / 32768.0f;
        r = wav_writer_check(w, sf_writef_float(w->sf, dst, n), n);
        if (r < 0)
            return r;
        done += n;
    }
    return 0;
}

int wav_writer_close(struct wav_writer *w)
{
    int r = 0, code;

    if (!w)
        return 0;
    code = sf_close(w->sf);
    if (code != 0) {
        wav_set_err("finalising WAV header: %s", sf_error_number(code));
        r = -EIO;
    }
    if (close(w->fd) < 0 && r == 0) {
        r = -errno;
        wav_set_err("%s", strerror(errno));
    }
    free(w->scratch);
    free(w);
    return r;
}

static int wav_write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;

    while (len > 0) {
        ssize_t n = write(fd, p, len);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            wav_set_err("%s", strerror(errno));
            return -errno;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Read until `len` bytes or end of file; returns bytes read or -errno. */
static ssize_t wav_read_full(int fd, void *buf, size_t len)
{
    char *p = buf;
    size_t got = 0;

    while (got < len) {
        ssize_t n = read(fd, p + got, len - got);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            wav_set_err("%s", strerror(errno));
            return -errno;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

int wav_to_raw_s16(const char *wav, const char *raw, int *channels_out, int *rate_out)
{
    struct wav_reader *rd;
    struct wav_info info;
    int16_t *buf;
    int fd, r;

    if (!raw) {
        wav_set_err("no output file name");
        return -EINVAL;
    }
    rd = wav_reader_open(wav, &info, &r);
    if (!rd)
        return r;
    buf = malloc(sizeof(*buf) * WAV_CHUNK_FRAMES * (size_t)info.channels);
    if (!buf) {
        wav_set_err("out of memory");
        r = -ENOMEM;
        goto out_close_reader;
    }
    fd = wav_open_fd(raw, O_WRONLY | O_CREAT | O_TRUNC);
    if (fd < 0) {
        r = fd;
        goto out_free;
    }
    for (;;) {
        long n = wav_reader_read_s16(rd, buf, WAV_CHUNK_FRAMES);
        long i;

        if (n < 0) {
            r = (int)n;
            goto out_close_fd;
        }
        if (n == 0)
            break;
        for (i = 0; i < n * info.channels; i++)
            buf[i] = (int16_t)htole16((uint16_t)buf[i]);
        r = wav_write_all(fd, buf, sizeof(*buf) * (size_t)(n * info.channels));
        if (r < 0)
            goto out_close_fd;
    }
    if (close(fd) < 0) {
        r = -errno;
        wav_set_err("%s", strerror(errno));
        goto out_free;
    }
    if (channels_out)
        *channels_out = info.channels;
    if (rate_out)
        *rate_out = info.rate;
    r = 0;
    goto out_free;

out_close_fd:
    close(fd);
out_free:
    free(buf);
out_close_reader:
    wav_reader_close(rd);
    return r;
}

int raw_s16_to_wav(const char *raw, int channels, int rate, const char *wav)
{
    struct wav_writer *w;
    size_t frame_bytes;
    int16_t *buf;
    int fd, r, r2;

    if (!raw || !wav || channels < 1 || channels > WAV_MAX_CHANNELS || rate < 1) {
        wav_set_err("bad raw parameters (%d channels, %d Hz)", channels, rate);
        return -EINVAL;
    }
    frame_bytes = sizeof(int16_t) * (size_t)channels;
    buf = malloc(frame_bytes * WAV_CHUNK_FRAMES);
    if (!buf) {
        wav_set_err("out of memory");
        return -ENOMEM;
    }
    fd = wav_open_fd(raw, O_RDONLY);
    if (fd < 0) {
        r = fd;
        goto out_free;
    }
    w = wav_writer_open(wav, rate, channels, WAV_PCM16, &r);
    if (!w)
        goto out_close_fd;
    for (;;) {
        ssize_t got = wav_read_full(fd, buf, frame_bytes * WAV_CHUNK_FRAMES);
        size_t i, frames;

        if (got < 0) {
            r = (int)got;
            goto out_close_writer;
        }
        frames = (size_t)got / frame_bytes;
        for (i = 0; i < frames * (size_t)channels; i++)
            buf[i] = (int16_t)le16toh((uint16_t)buf[i]);
        r = wav_writer_write_s16(w, buf, (long)frames);
        if (r < 0)
            goto out_close_writer;
        if ((size_t)got % frame_bytes) {
            wav_set_err("raw data ends with a partial frame (%zu bytes left, "
                        "frame is %zu bytes): wrong channel count?",
                        (size_t)got % frame_bytes, frame_bytes);
            r = -EINVAL;
            goto out_close_writer;
        }
        if ((size_t)got < frame_bytes * WAV_CHUNK_FRAMES)
            break;
    }
    r = 0;

out_close_writer:
    r2 = wav_writer_close(w);
    if (r == 0)
        r = r2;
out_close_fd:
    close(fd);
out_free:
    free(buf);
    return r;
}
