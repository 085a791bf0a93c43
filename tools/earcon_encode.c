/*
 * earcon_encode.c - mono PCM -> Ogg Opus in memory (see earcon_encode.h).
 *
 * Granule positions (RFC 7845 section 4): a page's granule position is the
 * number of 48 kHz samples a decoder has produced once it has decoded the
 * page's last packet, pre-skip included. The input is padded with the
 * encoder's look-ahead plus zeros up to whole 20 ms frames; the last page's
 * granule position (pre-skip + input length) tells the decoder to drop
 * that padding again, so decode(encode(x)) has exactly x's length.
 */
#include "earcon_encode.h"
#include "earcon.h"

#include <errno.h>
#include <ogg/ogg.h>
#include <opus.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OGG_SERIAL 0x6861726bL       /* "hark": fixed, for reproducible files */
#define MAX_PACKET 1500
#define VENDOR "hark-earcon"

struct obuf {
    uint8_t *data;
    size_t len, cap;
    bool oom;
};

static void obuf_put(struct obuf *b, const void *p, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        uint8_t *d;
        while (cap < b->len + n)
            cap *= 2;
        d = realloc(b->data, cap);
        if (!d) {
            b->oom = true;
            return;
        }
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

static void put_pages(ogg_stream_state *os, struct obuf *b, bool flush)
{
    ogg_page pg;

    while (flush ? ogg_stream_flush(os, &pg) : ogg_stream_pageout(os, &pg)) {
        obuf_put(b, pg.header, (size_t)pg.header_len);
        obuf_put(b, pg.body, (size_t)pg.body_len);
    }
}

static void le16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void le32(uint8_t *p, uint32_t v)
{
    le16(p, v & 0xffff);
    le16(p + 2, v >> 16);
}

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

static bool opus_rate(unsigned rate)
{
    return rate == 8000 || rate == 12000 || rate == 16000 || rate == 24000 || rate == 48000;
}

int earcon_encode_ogg(const float *pcm, size_t frames, unsigned rate, int bitrate,
                      enum earcon_signal signal, uint8_t **out, size_t *outlen, char *err, size_t errlen)
{
    OpusEncoder *enc = NULL;
    ogg_stream_state os;
    ogg_packet op;
    struct obuf b = { 0 };
    float *res = NULL, *frame = NULL;
    const float *in = pcm;
    unsigned enc_rate = rate, scale, fsize;
    opus_int32 lookahead = 0;
    uint8_t head[19], tags[8 + 4 + sizeof(VENDOR) - 1 + 4], packet[MAX_PACKET];
    size_t n = frames, nframes;
    int e = 0, r = 0;

    *out = NULL;
    *outlen = 0;
    if (bitrate == 0)
        bitrate = EARCON_ENCODE_BITRATE;
    if (!pcm || frames == 0 || rate < 8000 || rate > 192000 || bitrate < 6000 || bitrate > 256000)
        return fail(err, errlen, -EINVAL, "bad arguments (rate %u, bitrate %d, %zu frames)", rate,
                    bitrate, frames);
    if (frames > (size_t)EARCON_MAX_SECONDS * rate)
        return fail(err, errlen, -EINVAL, "longer than %d s", EARCON_MAX_SECONDS);
    if (!opus_rate(rate)) {
        enc_rate = 48000;
        n = (size_t)(((uint64_t)frames * enc_rate + rate / 2) / rate);
        res = malloc(n * sizeof(float));
        if (!res)
            return fail(err, errlen, -ENOMEM, "out of memory");
        r = earcon_resample(pcm, frames, rate, enc_rate, res, n);
        if (r < 0) {
            free(res);
            return fail(err, errlen, r, "resampling %u -> 48000 Hz failed", rate);
        }
        in = res;
    }
    scale = 48000 / enc_rate;
    fsize = enc_rate / 50;
    enc = opus_encoder_create((opus_int32)enc_rate, 1, OPUS_APPLICATION_AUDIO, &e);
    frame = malloc(fsize * sizeof(float));
    if (!enc || !frame) {
        r = fail(err, errlen, enc ? -ENOMEM : -EIO, "opus encoder: %s", enc ? "out of memory" : opus_strerror(e));
        goto out_free;
    }
    if (opus_encoder_ctl(enc, OPUS_SET_BITRATE(bitrate)) != OPUS_OK ||
        opus_encoder_ctl(enc, OPUS_SET_COMPLEXITY(10)) != OPUS_OK ||
        opus_encoder_ctl(enc, OPUS_SET_SIGNAL(signal == EARCON_SIGNAL_MUSIC   ? OPUS_SIGNAL_MUSIC
                                              : signal == EARCON_SIGNAL_VOICE ? OPUS_SIGNAL_VOICE
                                                                              : OPUS_AUTO)) != OPUS_OK ||
        opus_encoder_ctl(enc, OPUS_GET_LOOKAHEAD(&lookahead)) != OPUS_OK) {
        r = fail(err, errlen, -EIO, "opus encoder settings refused");
        goto out_free;
    }

    ogg_stream_init(&os, OGG_SERIAL);
    memcpy(head, "OpusHead", 8);
    head[8] = 1;                                   /* version */
    head[9] = 1;                                   /* channels */
    le16(head + 10, (unsigned)lookahead * scale);  /* pre-skip, 48 kHz samples */
    le32(head + 12, rate);                         /* original input rate */
    le16(head + 16, 0);                            /* output gain */
    head[18] = 0;                                  /* mapping family 0: mono/stereo */
    op = (ogg_packet){ .packet = head, .bytes = sizeof(head), .b_o_s = 1, .granulepos = 0, .packetno = 0 };
    ogg_stream_packetin(&os, &op);
    put_pages(&os, &b, true);
    memcpy(tags, "OpusTags", 8);
    le32(tags + 8, sizeof(VENDOR) - 1);
    memcpy(tags + 12, VENDOR, sizeof(VENDOR) - 1);
    le32(tags + 12 + sizeof(VENDOR) - 1, 0);       /* no user comments */
    op = (ogg_packet){ .packet = tags, .bytes = sizeof(tags), .granulepos = 0, .packetno = 1 };
    ogg_stream_packetin(&os, &op);
    put_pages(&os, &b, true);

    nframes = (n + (size_t)lookahead + fsize - 1) / fsize;
    for (size_t k = 0; k < nframes; k++) {
        size_t start = k * fsize;
        opus_int32 len;

        for (unsigned i = 0; i < fsize; i++)
            frame[i] = start + i < n ? in[start + i] : 0.0f;
        len = opus_encode_float(enc, frame, (int)fsize, packet, sizeof(packet));
        if (len < 0) {
            r = fail(err, errlen, -EIO, "opus_encode_float: %s", opus_strerror(len));
            break;
        }
        op = (ogg_packet){
            .packet = packet,
            .bytes = len,
            .e_o_s = k + 1 == nframes,
            .granulepos = k + 1 == nframes ? (ogg_int64_t)(lookahead * scale + n * scale)
                                           : (ogg_int64_t)((k + 1) * fsize * scale),
            .packetno = (ogg_int64_t)(k + 2),
        };
        ogg_stream_packetin(&os, &op);
        put_pages(&os, &b, k + 1 == nframes);
    }
    ogg_stream_clear(&os);
    if (r == 0 && b.oom)
        r = fail(err, errlen, -ENOMEM, "out of memory");
    if (r == 0) {
        *out = b.data;
        *outlen = b.len;
        b.data = NULL;
    }
out_free:
    free(b.data);
    free(frame);
    if (enc)
        opus_encoder_destroy(enc);
    free(res);
    return r;
}
