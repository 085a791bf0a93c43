/*
 * earcon.c - Ogg Opus earcons decoded at load time (see earcon.h).
 *
 * Why Ogg Opus and not a container of our own. Ogg Opus (RFC 7845) is what
 * opusenc, ffmpeg and sox-with-opusfile write, so a product team can make
 * or check its sounds with standard tools, and every page carries a CRC32,
 * a sequence number and an end-of-stream flag: exactly what is needed to
 * refuse a corrupt or cut file. Xiph's libopusfile (Debian libopusfile0,
 * 0.12, on every architecture we build for) handles pre-skip, end
 * trimming and the output gain. libogg is used directly for one strict
 * walk over the pages first, because opusfile, built for streaming,
 * quietly plays a truncated file short.
 *
 * Memory: the whole file is read (capped at EARCON_MAX_FILE_BYTES), the
 * 48 kHz decode is allocated from the header's announced length (capped at
 * EARCON_MAX_SECONDS) and resampled into the final buffer; all of it on the
 * main thread at startup.
 */
#include "earcon.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <ogg/ogg.h>
#include <opus.h>
#include <opusfile.h>
#include <speex/speex_resampler.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define OPUS_RATE 48000
#define RESAMPLE_QUALITY 5
#define RESAMPLE_CHUNK 1024

const char *const earcon_names[EARCON_COUNT] = {
    "wake", "end_of_turn", "error", "offline", "disclosure", "alarm",
};

struct earcon_set {
    unsigned rate;
    float *pcm[EARCON_COUNT];
    struct earcon_sound snd[EARCON_COUNT];
    char err[EARCON_COUNT][EARCON_ERR_MAX];
};

static int fail(char *err, size_t errlen, int r, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int r, const char *fmt, ...)
{
    va_list ap;

    if (err && errlen) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return r;
}

/* One packet of the stream: OpusHead, OpusTags, then audio packets that
 * libopus can parse (opusfile would conceal a bad one as a lost packet). */
static int check_packet(const ogg_packet *op, char *err, size_t errlen)
{
    const unsigned char *frames[48];
    opus_int16 sizes[48];
    unsigned char toc;
    int payload;

    if (op->packetno == 0) {
        if (op->bytes < 19 || memcmp(op->packet, "OpusHead", 8) != 0 || (op->packet[8] & 0xF0) != 0 ||
            op->packet[9] == 0)
            return fail(err, errlen, -EINVAL, "bad OpusHead");
        return 0;
    }
    if (op->packetno == 1) {
        if (op->bytes < 16 || memcmp(op->packet, "OpusTags", 8) != 0)
            return fail(err, errlen, -EINVAL, "bad OpusTags");
        return 0;
    }
    if (op->bytes < 1 || op->bytes > 61440 ||
        opus_packet_parse(op->packet, (opus_int32)op->bytes, &toc, frames, sizes, &payload) < 1 ||
        opus_packet_get_nb_samples(op->packet, (opus_int32)op->bytes, 48000) <= 0)
        return fail(err, errlen, -EINVAL, "corrupt audio: Opus packet %lld is invalid",
                    (long long)op->packetno);
    return 0;
}

/* The strict page walk: see the header. */
static int check_pages(const uint8_t *data, size_t len, char *err, size_t errlen)
{
    ogg_sync_state sync;
    ogg_stream_state os;
    ogg_page page;
    ogg_packet op;
    size_t off = 0;
    long serial = 0, seq = -1, pages = 0;
    bool eos = false;
    int r = 0;

    if (len < 27 || memcmp(data, "OggS", 4) != 0)
        return fail(err, errlen, -EINVAL, "not an Ogg file (bad magic)");
    if (len > INT_MAX)
        return fail(err, errlen, -EFBIG, "file too large");
    ogg_sync_init(&sync);
    ogg_stream_init(&os, 0);
    char *buf = ogg_sync_buffer(&sync, (long)len);
    if (!buf) {
        r = fail(err, errlen, -ENOMEM, "out of memory");
        goto out;
    }
    memcpy(buf, data, len);
    ogg_sync_wrote(&sync, (long)len);
    for (;;) {
        long n;

        if (eos) {
            if (off < len)
                r = fail(err, errlen, -EINVAL, "data after the end-of-stream page at byte %zu", off);
            break;
        }
        n = ogg_sync_pageseek(&sync, &page);
        if (n == 0) {
            if (off < len)
                r = fail(err, errlen, -EINVAL, "truncated: incomplete page at byte %zu", off);
            break;
        }
        if (n < 0) {
            r = fail(err, errlen, -EINVAL, "corrupt page at byte %zu (bad CRC or garbage)", off);
            break;
        }
        if (pages == 0) {
            if (!ogg_page_bos(&page) || page.body_len < 19 || memcmp(page.body, "OpusHead", 8) != 0) {
                r = fail(err, errlen, -EINVAL, "not an Opus stream (no OpusHead)");
                break;
            }
            serial = ogg_page_serialno(&page);
            ogg_stream_reset_serialno(&os, (int)serial);
        } else if (ogg_page_serialno(&page) != serial || ogg_page_bos(&page)) {
            r = fail(err, errlen, -EINVAL, "more than one logical stream (chained or multiplexed)");
            break;
        }
        if (ogg_page_pageno(&page) != seq + 1) {
            r = fail(err, errlen, -EINVAL, "page %ld missing (found page %ld at byte %zu)", seq + 1,
                     ogg_page_pageno(&page), off);
            break;
        }
        if (ogg_stream_pagein(&os, &page) != 0) {
            r = fail(err, errlen, -EINVAL, "bad page at byte %zu", off);
            break;
        }
        while (r == 0 && (n = ogg_stream_packetout(&os, &op)) != 0)
            r = n < 0 ? fail(err, errlen, -EINVAL, "packet missing before byte %zu", off)
                      : check_packet(&op, err, errlen);
        if (r < 0)
            break;
        seq = ogg_page_pageno(&page);
        eos = ogg_page_eos(&page);
        pages++;
        off += (size_t)(page.header_len + page.body_len);
    }
    if (r == 0 && !eos)
        r = fail(err, errlen, -EINVAL, "truncated: no end-of-stream page (%ld pages)", pages);
out:
    ogg_stream_clear(&os);
    ogg_sync_clear(&sync);
    return r;
}

int earcon_resample(const float *in, size_t in_frames, unsigned in_rate, unsigned out_rate, float *out,
                    size_t out_frames)
{
    int e = 0;
    SpeexResamplerState *rs;
    static const float zeros[RESAMPLE_CHUNK];
    float tmp[RESAMPLE_CHUNK];
    size_t skip, done = 0, pos = 0;

    if (!in || !out || in_rate < 1000 || out_rate < 1000 || in_rate > 768000 || out_rate > 768000)
        return -EINVAL;
    rs = speex_resampler_init(1, in_rate, out_rate, RESAMPLE_QUALITY, &e);
    if (!rs)
        return -ENOMEM;
    skip = (size_t)speex_resampler_get_output_latency(rs);
    while (done < out_frames) {
        const float *src = pos < in_frames ? in + pos : zeros;
        spx_uint32_t ilen = (spx_uint32_t)(pos < in_frames ? in_frames - pos : RESAMPLE_CHUNK);
        spx_uint32_t olen = RESAMPLE_CHUNK;

        if (ilen > RESAMPLE_CHUNK)
            ilen = RESAMPLE_CHUNK;
        speex_resampler_process_float(rs, 0, src, &ilen, tmp, &olen);
        if (pos < in_frames)
            pos += ilen;
        for (spx_uint32_t i = 0; i < olen && done < out_frames; i++) {
            if (skip) {
                skip--;
                continue;
            }
            out[done++] = tmp[i];
        }
        if (ilen == 0 && olen == 0)
            break;  /* cannot happen with a sane resampler; never spin */
    }
    speex_resampler_destroy(rs);
    return done == out_frames ? 0 : -EIO;
}

int earcon_decode_mem(const uint8_t *data, size_t len, unsigned rate, float **pcm, size_t *frames,
                      char *err, size_t errlen)
{
    OggOpusFile *of;
    ogg_int64_t total;
    float *dec = NULL, stereo[2 * 960];
    size_t got = 0;
    int e = 0, r;

    *pcm = NULL;
    *frames = 0;
    if (!data || rate < 8000 || rate > 192000)
        return fail(err, errlen, -EINVAL, "bad arguments");
    if (len > EARCON_MAX_FILE_BYTES)
        return fail(err, errlen, -EFBIG, "file larger than %u bytes", EARCON_MAX_FILE_BYTES);
    r = check_pages(data, len, err, errlen);
    if (r < 0)
        return r;
    of = op_open_memory(data, len, &e);
    if (!of)
        return fail(err, errlen, -EINVAL, "not a valid Opus stream (opusfile error %d)", e);
    total = op_pcm_total(of, -1);
    if (total <= 0) {
        op_free(of);
        return fail(err, errlen, -EINVAL, "empty or unreadable stream (%lld samples)", (long long)total);
    }
    if (total > (ogg_int64_t)EARCON_MAX_SECONDS * OPUS_RATE) {
        op_free(of);
        return fail(err, errlen, -EFBIG, "longer than %d s (%.1f s)", EARCON_MAX_SECONDS,
                    (double)total / OPUS_RATE);
    }
    dec = malloc((size_t)total * sizeof(float));
    if (!dec) {
        op_free(of);
        return fail(err, errlen, -ENOMEM, "out of memory");
    }
    for (;;) {
        /* Stereo API: opusfile downmixes any channel layout to 2; we average. */
        int n = op_read_float_stereo(of, stereo, (int)(sizeof(stereo) / sizeof(stereo[0])));
        if (n == 0)
            break;
        if (n < 0) {
            r = fail(err, errlen, -EINVAL, "corrupt audio at sample %zu (opusfile error %d)", got, n);
            goto out_free;
        }
        if (got + (size_t)n > (size_t)total) {
            r = fail(err, errlen, -EINVAL, "more audio than the stream announces");
            goto out_free;
        }
        for (int i = 0; i < n; i++)
            dec[got + (size_t)i] = 0.5f * (stereo[2 * i] + stereo[2 * i + 1]);
        got += (size_t)n;
    }
    if (got != (size_t)total) {
        r = fail(err, errlen, -EINVAL, "truncated: %zu of %lld samples decoded", got, (long long)total);
        goto out_free;
    }
    op_free(of);
    of = NULL;
    if (rate == OPUS_RATE) {
        *pcm = dec;
        *frames = got;
        return 0;
    }
    {
        size_t n_out = (size_t)(((uint64_t)got * rate + OPUS_RATE / 2) / OPUS_RATE);
        float *res = malloc((n_out ? n_out : 1) * sizeof(float));
        if (!res) {
            r = fail(err, errlen, -ENOMEM, "out of memory");
            goto out_free;
        }
        r = earcon_resample(dec, got, OPUS_RATE, rate, res, n_out);
        if (r < 0) {
            free(res);
            r = fail(err, errlen, r, "resampling to %u Hz failed", rate);
            goto out_free;
        }
        free(dec);
        *pcm = res;
        *frames = n_out;
        return 0;
    }
out_free:
    if (of)
        op_free(of);
    free(dec);
    return r;
}

int earcon_decode_file(const char *path, unsigned rate, float **pcm, size_t *frames, char *err,
                       size_t errlen)
{
    struct stat st;
    uint8_t *data;
    size_t got = 0;
    int fd, r;

    *pcm = NULL;
    *frames = 0;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fail(err, errlen, -errno, "%s", strerror(errno));
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return fail(err, errlen, -EINVAL, "not a regular file");
    }
    if (st.st_size > (off_t)EARCON_MAX_FILE_BYTES) {
        close(fd);
        return fail(err, errlen, -EFBIG, "file larger than %u bytes", EARCON_MAX_FILE_BYTES);
    }
    data = malloc(st.st_size ? (size_t)st.st_size : 1);
    if (!data) {
        close(fd);
        return fail(err, errlen, -ENOMEM, "out of memory");
    }
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, data + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            r = n < 0 ? -errno : -EIO;
            close(fd);
            free(data);
            return fail(err, errlen, r, "read failed");
        }
        got += (size_t)n;
    }
    close(fd);
    r = earcon_decode_mem(data, got, rate, pcm, frames, err, errlen);
    free(data);
    return r;
}

struct earcon_set *earcon_set_load(const char *dir, unsigned rate, char *err, size_t errlen)
{
    struct earcon_set *set;
    size_t used = 0;

    if (err && errlen)
        err[0] = '\0';
    if (!dir || rate < 8000 || rate > 192000) {
        (void)fail(err, errlen, -EINVAL, "bad arguments");
        return NULL;
    }
    set = calloc(1, sizeof(*set));
    if (!set) {
        (void)fail(err, errlen, -ENOMEM, "out of memory");
        return NULL;
    }
    set->rate = rate;
    for (unsigned i = 0; i < EARCON_COUNT; i++) {
        char path[512];
        size_t frames = 0;
        int r;

        if ((size_t)snprintf(path, sizeof(path), "%s/%s.opus", dir, earcon_names[i]) >= sizeof(path)) {
            snprintf(set->err[i], sizeof(set->err[i]), "path too long");
            r = -ENAMETOOLONG;
        } else {
            r = earcon_decode_file(path, rate, &set->pcm[i], &frames, set->err[i], sizeof(set->err[i]));
        }
        if (r == -ENOMEM) {
            (void)fail(err, errlen, r, "out of memory");
            earcon_set_destroy(set);
            return NULL;
        }
        if (r == 0 && frames == 0) {
            free(set->pcm[i]);
            set->pcm[i] = NULL;
            snprintf(set->err[i], sizeof(set->err[i]), "no audio");
            r = -EINVAL;
        }
        if (r < 0) {
            if (err && errlen > used) {
                int n = snprintf(err + used, errlen - used, "%s%s.opus: %s", used ? "; " : "",
                                 earcon_names[i], set->err[i]);
                used = n < 0 ? used : used + (size_t)n < errlen ? used + (size_t)n : errlen - 1;
            }
            continue;
        }
        set->err[i][0] = '\0';
        set->snd[i].pcm = set->pcm[i];
        set->snd[i].frames = frames;
    }
    return set;
}

void earcon_set_destroy(struct earcon_set *set)
{
    if (!set)
        return;
    for (unsigned i = 0; i < EARCON_COUNT; i++)
        free(set->pcm[i]);
    free(set);
}

int earcon_get_id(const struct earcon_set *set, enum earcon_id id, const float **pcm, size_t *frames)
{
    if (!set || (unsigned)id >= EARCON_COUNT || !set->snd[id].pcm)
        return -ENOENT;
    *pcm = set->snd[id].pcm;
    *frames = set->snd[id].frames;
    return 0;
}

int earcon_get(const struct earcon_set *set, const char *name, const float **pcm, size_t *frames)
{
    for (unsigned i = 0; name && i < EARCON_COUNT; i++)
        if (strcmp(name, earcon_names[i]) == 0)
            return earcon_get_id(set, (enum earcon_id)i, pcm, frames);
    return -ENOENT;
}

const struct earcon_sound *earcon_sound(const struct earcon_set *set, enum earcon_id id)
{
    if (!set || (unsigned)id >= EARCON_COUNT || !set->snd[id].pcm)
        return NULL;
    return &set->snd[id];
}

const char *earcon_error(const struct earcon_set *set, enum earcon_id id)
{
    if (!set || (unsigned)id >= EARCON_COUNT)
        return "unknown sound";
    return set->err[id];
}

unsigned earcon_set_rate(const struct earcon_set *set)
{
    return set ? set->rate : 0;
}

/* ---- player ---------------------------------------------------------------------- */

void earcon_player_init(struct earcon_player *pl)
{
    atomic_init(&pl->req, NULL);
    atomic_init(&pl->seq, 0);
    atomic_init(&pl->playing, false);
    pl->seen_seq = 0;
    pl->cur = NULL;
    pl->pos = 0;
}

void earcon_player_start(struct earcon_player *pl, const struct earcon_sound *snd)
{
    atomic_store_explicit(&pl->req, snd, memory_order_relaxed);
    atomic_fetch_add_explicit(&pl->seq, 1, memory_order_release);
}

void earcon_player_stop(struct earcon_player *pl)
{
    earcon_player_start(pl, NULL);
}

size_t earcon_player_mix(struct earcon_player *pl, float *out, size_t frames)
{
    unsigned seq = atomic_load_explicit(&pl->seq, memory_order_acquire);
    size_t n;

    if (seq != pl->seen_seq) {
        pl->seen_seq = seq;
        pl->cur = atomic_load_explicit(&pl->req, memory_order_relaxed);
        pl->pos = 0;
    }
    if (!pl->cur || pl->pos >= pl->cur->frames) {
        pl->cur = NULL;
        atomic_store_explicit(&pl->playing, false, memory_order_relaxed);
        return 0;
    }
    n = pl->cur->frames - pl->pos;
    if (n > frames)
        n = frames;
    for (size_t i = 0; i < n; i++)
        out[i] += pl->cur->pcm[pl->pos + i];
    pl->pos += n;
    atomic_store_explicit(&pl->playing, pl->pos < pl->cur->frames, memory_order_relaxed);
    return n;
}

bool earcon_player_playing(const struct earcon_player *pl)
{
    return atomic_load_explicit(&pl->playing, memory_order_relaxed);
}
