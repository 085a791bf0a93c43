/*
 * config.c - strict INI parsing of hark.conf and board files (see config.h).
 *
 * libinih does the lexing; a reader callback counts lines so every message
 * carries the exact line. Keys are described by tables (section, name, type,
 * range), so the parser, the range checks and the "unknown key" check all come
 * from one place. Cross-key rules (channel map against the channel count,
 * geometry against its parameters, ...) run after the whole file is read.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

enum key_type { KT_STR, KT_UINT, KT_INT, KT_DOUBLE, KT_BOOL, KT_ENUM, KT_FUNC };

struct parse_ctx;
typedef int (*key_fn)(struct parse_ctx *pc, const char *value, char *err, size_t errlen);

struct key_desc {
    const char *section;
    const char *name;
    enum key_type type;
    size_t off;
    size_t size;               /* KT_STR: buffer size */
    double min, max;           /* numeric range */
    const char *const *names;  /* KT_ENUM: NULL-terminated list, index = value */
    key_fn fn;                 /* KT_FUNC */
};

#define MAX_KEYS 64

struct parse_ctx {
    const char *file;
    FILE *fp;
    unsigned line;
    bool long_line;
    const struct key_desc *keys;
    unsigned nkeys;
    unsigned seen_line[MAX_KEYS];
    void *base;
    struct board_cfg *board;           /* for KT_FUNC keys of the board file */
    unsigned mic_seen_line[HARK_MAX_MICS];
    unsigned mic_index_max;            /* highest micN key + 1 */
    struct config_diag *diag;
    int unreadable;                    /* -errno when the file cannot be read */
};

static void diag_add(struct config_diag *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void diag_add(struct config_diag *d, const char *fmt, ...)
{
    va_list ap;

    d->total++;
    if (d->count >= CONFIG_MAX_DIAG)
        return;
    va_start(ap, fmt);
    vsnprintf(d->msg[d->count++], sizeof(d->msg[0]), fmt, ap);
    va_end(ap);
}

const char *sample_format_name(enum sample_format f)
{
    return f == SAMPLE_S32_LE ? "S32_LE" : "S16_LE";
}

unsigned sample_format_bytes(enum sample_format f)
{
    return f == SAMPLE_S32_LE ? 4 : 2;
}

/* ---- value parsers --------------------------------------------------------- */

static int parse_double(const char *s, double *out)
{
    char *end;

    errno = 0;
    *out = strtod(s, &end);
    if (end == s || *end != '\0' || errno || !isfinite(*out))
        return -EINVAL;
    return 0;
}

static int parse_long(const char *s, long *out)
{
    char *end;

    errno = 0;
    *out = strtol(s, &end, 10);
    if (end == s || *end != '\0' || errno)
        return -EINVAL;
    return 0;
}

/* Splits a space/comma separated list of integers. Returns the count, or -1. */
static int parse_int_list(const char *s, int *out, int max)
{
    int n = 0;

    while (*s) {
        char *end;
        long v;

        while (*s == ' ' || *s == '\t' || *s == ',')
            s++;
        if (!*s)
            break;
        errno = 0;
        v = strtol(s, &end, 10);
        if (end == s || errno || v < INT_MIN || v > INT_MAX || n == max)
            return -1;
        if (*end && *end != ' ' && *end != '\t' && *end != ',')
            return -1;
        out[n++] = (int)v;
        s = end;
    }
    return n;
}

static int fn_channel_map(struct parse_ctx *pc, const char *v, char *err, size_t len)
{
    int map[HARK_MAX_MICS + 1];
    int n = parse_int_list(v, map, HARK_MAX_MICS + 1);

    if (n <= 0 || n > HARK_MAX_MICS) {
        snprintf(err, len, "expected 1..%d ALSA channel numbers separated by spaces, got '%s'",
                 HARK_MAX_MICS, v);
        return -EINVAL;
    }
    for (int i = 0; i < n; i++) {
        if (map[i] < 0 || map[i] >= HARK_MAX_CHANNELS) {
            snprintf(err, len, "channel %d out of range 0..%d", map[i], HARK_MAX_CHANNELS - 1);
            return -EINVAL;
        }
        for (int j = 0; j < i; j++) {
            if (map[j] == map[i]) {
                snprintf(err, len, "ALSA channel %d is listed twice", map[i]);
                return -EINVAL;
            }
        }
    }
    for (int i = 0; i < HARK_MAX_MICS; i++)
        pc->board->channel_map[i] = i < n ? map[i] : -1;
    return 0;
}

static int none_or_int(const char *v, int max, int *out, const char *what, char *err, size_t len)
{
    long x;

    if (strcmp(v, "none") == 0) {
        *out = -1;
        return 0;
    }
    if (parse_long(v, &x) < 0 || x < 0 || x > max) {
        snprintf(err, len, "expected 'none' or %s 0..%d, got '%s'", what, max, v);
        return -EINVAL;
    }
    *out = (int)x;
    return 0;
}

static int fn_ref_channel(struct parse_ctx *pc, const char *v, char *err, size_t len)
{
    return none_or_int(v, HARK_MAX_CHANNELS - 1, &pc->board->ref_channel, "a channel", err, len);
}

static int fn_power_gpio(struct parse_ctx *pc, const char *v, char *err, size_t len)
{
    return none_or_int(v, 1023, &pc->board->led.power_gpio_line, "a GPIO line", err, len);
}

/* The shape of an SPKI pin list (tls_pin_parse decodes it on the cloud
 * thread; this keeps --check-config free of TLS code). */
static bool spki_pin_format_ok(const char *v)
{
    int n = 0;

    while (*v) {
        size_t len;
        while (*v == ' ')
            v++;
        if (!strncmp(v, "sha256//", 8))
            v += 8;
        len = strcspn(v, ";, ");
        if (len != 44 || v[43] != '=' || strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") != 43)
            return false;
        v += len;
        while (*v == ' ')
            v++;
        if (*v == ';' || *v == ',')
            v++;
        if (++n > 4)
            return false;
    }
    return n > 0;
}

/* ---- key tables ------------------------------------------------------------ */

static const char *const level_names[] = { "error", "warn", "info", "debug", NULL };
static const char *const target_names[] = { "stderr", "syslog", NULL };
static const char *const format_names[] = { "S16_LE", "S32_LE", NULL };
static const char *const geometry_names[] = { "circular", "linear", "custom", NULL };
static const char *const button_names[] = { "none", "evdev", "gpio", NULL };
static const char *const led_names[] = { "none", "sysfs", "apa102", NULL };
static const char *const button_mode_names[] = { "tap", "push", NULL };
static const char *const button_action_names[] = { "none", "mute", "cancel", NULL };
static const char *const led_idle_names[] = { "off", "dim", NULL };

#define HK(name, type, field, mn, mx, nm) \
    { "harkd", name, type, offsetof(struct hark_cfg, field), sizeof(((struct hark_cfg *)0)->field), mn, mx, nm, NULL }

static const char *const aec_mode_names[] = { "permic", "post", NULL }; /* enum frontend_aec_mode */
static const char *const cloud_mode_names[] = { "off", "conversation", "translation", "captions", NULL };
static const char *const cloud_format_names[] = { "pcm", "pcmu", "pcma", NULL };
static const char *const cloud_turns_names[] = { "local", "server_vad", "semantic_vad", NULL };
static const char *const cloud_effort_names[] = { "default", "minimal", "low", "medium", "high", "xhigh", NULL };

#define CK(name, type, field, mn, mx, nm) \
    { "cloud", name, type, offsetof(struct hark_cfg, cloud.field), sizeof(((struct hark_cfg *)0)->cloud.field), mn, mx, nm, NULL }

#define VK(name, type, field, mn, mx) \
    { "vad", name, type, offsetof(struct hark_cfg, vad.field), sizeof(((struct hark_cfg *)0)->vad.field), mn, mx, NULL, NULL }
#define WK(name, type, field, mn, mx) \
    { "wake", name, type, offsetof(struct hark_cfg, wake.field), sizeof(((struct hark_cfg *)0)->wake.field), mn, mx, NULL, NULL }
#define FK(name, type, field, mn, mx) \
    { "frontend", name, type, offsetof(struct hark_cfg, frontend.field), sizeof(((struct hark_cfg *)0)->frontend.field), mn, mx, NULL, NULL }

static const struct key_desc hark_keys[] = {
    HK("board", KT_STR, board_path, 0, 0, NULL),
    HK("log_level", KT_ENUM, log_level, 0, 0, level_names),
    HK("log_target", KT_ENUM, log_target, 0, 0, target_names),
    HK("ctrl_socket", KT_STR, ctrl_socket, 0, 0, NULL),
    HK("status_interval_s", KT_UINT, status_interval_s, 0, 86400, NULL),
    HK("sounds_dir", KT_STR, sounds_dir, 0, 0, NULL),
    HK("volume", KT_UINT, volume, 0, 100, NULL),
    HK("disclosure", KT_BOOL, disclosure, 0, 0, NULL),
    HK("realtime_priority", KT_INT, realtime_priority, 0, 99, NULL),
    CK("mode", KT_ENUM, mode, 0, 0, cloud_mode_names),
    CK("url", KT_STR, url, 0, 0, NULL),
    CK("ca_file", KT_STR, ca_file, 0, 0, NULL),
    CK("spki_pin", KT_STR, spki_pin, 0, 0, NULL),
    CK("api_key_file", KT_STR, api_key_file, 0, 0, NULL),
    CK("token_url", KT_STR, token_url, 0, 0, NULL),
    CK("device_credential_file", KT_STR, device_credential_file, 0, 0, NULL),
    CK("model", KT_STR, model, 0, 0, NULL),
    CK("voice", KT_STR, voice, 0, 0, NULL),
    CK("instructions", KT_STR, instructions, 0, 0, NULL),
    CK("language", KT_STR, language, 0, 0, NULL),
    CK("target_language", KT_STR, target_language, 0, 0, NULL),
    CK("chunk_ms", KT_UINT, chunk_ms, 10, 200, NULL),
    CK("prebuffer_ms", KT_UINT, prebuffer_ms, 0, 500, NULL),
    CK("input_format", KT_ENUM, input_format, 0, 0, cloud_format_names),
    CK("turn_detection", KT_ENUM, turn_detection, 0, 0, cloud_turns_names),
    CK("reasoning_effort", KT_ENUM, reasoning_effort, 0, 0, cloud_effort_names),
    CK("session_max_s", KT_UINT, session_max_s, 1, 3540, NULL),
    CK("captions_file", KT_STR, captions_file, 0, 0, NULL),
    VK("model", KT_STR, model, 0, 0),
    VK("threshold", KT_DOUBLE, threshold, 0, 1),
    VK("onset_ms", KT_UINT, onset_ms, 0, 1000),
    VK("hangover_ms", KT_UINT, hangover_ms, 0, 5000),
    VK("turn_end_ms", KT_UINT, turn_end_ms, 100, 10000),
    WK("model", KT_STR, model, 0, 0),
    WK("threshold", KT_DOUBLE, threshold, 0, 0.999),
    WK("smooth_frames", KT_UINT, smooth_frames, 0, 64),
    WK("refractory_ms", KT_UINT, refractory_ms, 0, 60000),
    WK("preroll_ms", KT_UINT, preroll_ms, 100, 10000),
    WK("playback_threshold", KT_DOUBLE, playback_threshold, 0, 1),
    WK("playback_hold_ms", KT_UINT, playback_hold_ms, 0, 10000),
    WK("playback_block_dbfs", KT_DOUBLE, playback_block_dbfs, -200, 0),
    WK("playback_echo_share", KT_DOUBLE, playback_echo_share, 0, 1),
    FK("ns", KT_BOOL, ns, 0, 0),
    FK("ns_db", KT_INT, ns_db, -60, 0),
    FK("agc", KT_BOOL, agc, 0, 0),
    FK("agc_target_dbfs", KT_DOUBLE, agc_target_dbfs, -40, -3),
    FK("agc_max_gain_db", KT_DOUBLE, agc_max_gain_db, 0, 60),
    FK("aec", KT_BOOL, aec, 0, 0),
    { "frontend", "aec_mode", KT_ENUM, offsetof(struct hark_cfg, frontend.aec_mode),
      sizeof(((struct hark_cfg *)0)->frontend.aec_mode), 0, 0, aec_mode_names, NULL },
    FK("aec_tail_ms", KT_UINT, aec_tail_ms, 50, 500),
    FK("aec_delay_ms", KT_INT, aec_delay_ms, -200, 200),
    FK("beam", KT_BOOL, beam, 0, 0),
};

#define BK(sec, name, type, field, mn, mx, nm) \
    { sec, name, type, offsetof(struct board_cfg, field), sizeof(((struct board_cfg *)0)->field), mn, mx, nm, NULL }
#define BF(sec, name, fn) { sec, name, KT_FUNC, 0, 0, 0, 0, NULL, fn }
#define PCM_KEYS(sec, f) \
    BK(sec, "device", KT_STR, f.device, 0, 0, NULL), \
    BK(sec, "rate", KT_UINT, f.rate, 8000, 192000, NULL), \
    BK(sec, "channels", KT_UINT, f.channels, 1, HARK_MAX_CHANNELS, NULL), \
    BK(sec, "format", KT_ENUM, f.format, 0, 0, format_names), \
    BK(sec, "period_frames", KT_UINT, f.period_frames, 16, 16384, NULL), \
    BK(sec, "buffer_frames", KT_UINT, f.buffer_frames, 32, 262144, NULL)

static const struct key_desc board_keys[] = {
    BK("board", "name", KT_STR, name, 0, 0, NULL),
    BK("board", "description", KT_STR, description, 0, 0, NULL),
    BK("mics", "count", KT_UINT, mic_count, 1, HARK_MAX_MICS, NULL),
    BK("mics", "geometry", KT_ENUM, geometry, 0, 0, geometry_names),
    BK("mics", "radius_mm", KT_DOUBLE, radius_mm, 1, 1000, NULL),
    BK("mics", "start_deg", KT_DOUBLE, start_deg, -360, 360, NULL),
    BK("mics", "spacing_mm", KT_DOUBLE, spacing_mm, 1, 1000, NULL),
    PCM_KEYS("capture", capture),
    BF("capture", "channel_map", fn_channel_map),
    BF("capture", "ref_channel", fn_ref_channel),
    PCM_KEYS("playback", playback),
    BK("button", "type", KT_ENUM, button.type, 0, 0, button_names),
    BK("button", "device", KT_STR, button.device, 0, 0, NULL),
    BK("button", "key_code", KT_UINT, button.key_code, 1, 767, NULL),
    BK("button", "gpio_chip", KT_STR, button.gpio_chip, 0, 0, NULL),
    BK("button", "gpio_line", KT_UINT, button.gpio_line, 0, 1023, NULL),
    BK("button", "active_low", KT_BOOL, button.active_low, 0, 0, NULL),
    BK("button", "debounce_ms", KT_UINT, button.debounce_ms, 0, 1000, NULL),
    BK("button", "grab", KT_BOOL, button.grab, 0, 0, NULL),
    BK("button", "mode", KT_ENUM, button.mode, 0, 0, button_mode_names),
    BK("button", "long_press_ms", KT_UINT, button.long_press_ms, 200, 10000, NULL),
    BK("button", "double_press_ms", KT_UINT, button.double_press_ms, 100, 2000, NULL),
    BK("button", "long_press", KT_ENUM, button.long_press, 0, 0, button_action_names),
    BK("button", "double_press", KT_ENUM, button.double_press, 0, 0, button_action_names),
    BK("led", "type", KT_ENUM, led.type, 0, 0, led_names),
    BK("led", "count", KT_UINT, led.count, 1, 255, NULL),
    BK("led", "spi_device", KT_STR, led.spi_device, 0, 0, NULL),
    BF("led", "power_gpio_line", fn_power_gpio),
    BK("led", "sysfs_name", KT_STR, led.sysfs_name, 0, 0, NULL),
    BK("led", "brightness", KT_UINT, led.brightness, 1, 100, NULL),
    BK("led", "idle", KT_ENUM, led.idle, 0, 0, led_idle_names),
    BK("led", "ring_start_deg", KT_DOUBLE, led.ring_start_deg, -360, 360, NULL),
    BK("led", "ring_clockwise", KT_BOOL, led.ring_clockwise, 0, 0, NULL),
};

#define NKEYS(t) (unsigned)(sizeof(t) / sizeof((t)[0]))

/* ---- the inih side ----------------------------------------------------------- */

static char *reader(char *str, int num, void *stream)
{
    struct parse_ctx *pc = stream;
    char *r = fgets(str, num, pc->fp);
    size_t n;

    if (!r)
        return NULL;
    pc->line++;
    n = strlen(r);
    if (n == (size_t)num - 1 && r[n - 1] != '\n' && !feof(pc->fp)) {
        int c;
        /* Swallow the rest of an over-long line so it is one error, not many. */
        while ((c = fgetc(pc->fp)) != EOF && c != '\n')
            ;
        if (!pc->long_line)
            diag_add(pc->diag, "%s:%u: line longer than %d characters", pc->file, pc->line, num - 3);
        pc->long_line = true;
        r[0] = '\0';
    }
    return r;
}

static int set_value(struct parse_ctx *pc, const struct key_desc *k, const char *v, char *err, size_t len)
{
    char *dst = (char *)pc->base + k->off;
    double d;
    long x;

    switch (k->type) {
    case KT_STR:
        if (!*v) {
            snprintf(err, len, "empty value");
            return -EINVAL;
        }
        if (strlen(v) >= k->size) {
            snprintf(err, len, "value longer than %zu characters", k->size - 1);
            return -EINVAL;
        }
        memcpy(dst, v, strlen(v) + 1);
        return 0;
    case KT_UINT:
    case KT_INT:
        if (parse_long(v, &x) < 0 || x < (long)k->min || x > (long)k->max) {
            snprintf(err, len, "expected an integer %ld..%ld, got '%s'", (long)k->min, (long)k->max, v);
            return -EINVAL;
        }
        if (k->type == KT_UINT)
            *(unsigned *)dst = (unsigned)x;
        else
            *(int *)dst = (int)x;
        return 0;
    case KT_DOUBLE:
        if (parse_double(v, &d) < 0 || d < k->min || d > k->max) {
            snprintf(err, len, "expected a number %g..%g, got '%s'", k->min, k->max, v);
            return -EINVAL;
        }
        *(double *)dst = d;
        return 0;
    case KT_BOOL:
        if (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on") || !strcmp(v, "1"))
            *(bool *)dst = true;
        else if (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off") || !strcmp(v, "0"))
            *(bool *)dst = false;
        else {
            snprintf(err, len, "expected true/false (or on/off), got '%s'", v);
            return -EINVAL;
        }
        return 0;
    case KT_ENUM:
        for (int i = 0; k->names[i]; i++) {
            if (strcmp(v, k->names[i]) == 0) {
                *(int *)dst = i;
                return 0;
            }
        }
        {
            size_t o = (size_t)snprintf(err, len, "expected one of");
            for (int i = 0; k->names[i] && o < len; i++)
                o += (size_t)snprintf(err + o, len - o, "%s %s", i ? "," : "", k->names[i]);
            if (o < len)
                snprintf(err + o, len - o, "; got '%s'", v);
        }
        return -EINVAL;
    case KT_FUNC:
        return k->fn(pc, v, err, len);
    }
    return -EINVAL;
}

static bool mic_key(const char *name, unsigned *idx)
{
    char *end;
    unsigned long i;

    if (strncmp(name, "mic", 3) != 0 || name[3] < '0' || name[3] > '9')
        return false;
    i = strtoul(name + 3, &end, 10);
    if (*end || i >= 1000)
        return false;
    *idx = (unsigned)i;
    return true;
}

static int set_mic_position(struct parse_ctx *pc, unsigned idx, const char *v, char *err, size_t len)
{
    double xyz[3];
    const char *s = v;

    if (idx >= HARK_MAX_MICS) {
        snprintf(err, len, "at most %d mics (mic0..mic%d)", HARK_MAX_MICS, HARK_MAX_MICS - 1);
        return -EINVAL;
    }
    for (int i = 0; i < 3; i++) {
        char *end;
        while (*s == ' ' || *s == '\t' || *s == ',')
            s++;
        errno = 0;
        xyz[i] = strtod(s, &end);
        if (end == s || errno || !isfinite(xyz[i]) || fabs(xyz[i]) > 10000) {
            snprintf(err, len, "expected 'x y z' in millimetres, got '%s'", v);
            return -EINVAL;
        }
        s = end;
    }
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s) {
        snprintf(err, len, "expected 'x y z' in millimetres, got '%s'", v);
        return -EINVAL;
    }
    memcpy(pc->board->mic_pos_mm[idx], xyz, sizeof(xyz));
    if (pc->mic_seen_line[idx]) {
        snprintf(err, len, "duplicate key (first set on line %u)", pc->mic_seen_line[idx]);
        return -EINVAL;
    }
    pc->mic_seen_line[idx] = pc->line;
    if (idx + 1 > pc->mic_index_max)
        pc->mic_index_max = idx + 1;
    return 0;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
    struct parse_ctx *pc = user;
    char err[200];
    bool section_known = false;
    unsigned idx;

    if (pc->long_line) {
        pc->long_line = false;
        return 1;
    }
    err[0] = '\0';
    for (unsigned i = 0; i < pc->nkeys; i++) {
        const struct key_desc *k = &pc->keys[i];
        if (strcmp(k->section, section) != 0)
            continue;
        section_known = true;
        if (strcmp(k->name, name) != 0)
            continue;
        if (pc->seen_line[i]) {
            diag_add(pc->diag, "%s:%u: [%s] %s: duplicate key (first set on line %u)", pc->file,
                     pc->line, section, name, pc->seen_line[i]);
            return 1;
        }
        pc->seen_line[i] = pc->line;
        if (set_value(pc, k, value, err, sizeof(err)) < 0)
            diag_add(pc->diag, "%s:%u: [%s] %s: %s", pc->file, pc->line, section, name, err);
        return 1;
    }
    if (pc->board && strcmp(section, "mics") == 0 && mic_key(name, &idx)) {
        if (set_mic_position(pc, idx, value, err, sizeof(err)) < 0)
            diag_add(pc->diag, "%s:%u: [%s] %s: %s", pc->file, pc->line, section, name, err);
        return 1;
    }
    if (!*section)
        diag_add(pc->diag, "%s:%u: %s: key outside any section", pc->file, pc->line, name);
    else if (!section_known)
        diag_add(pc->diag, "%s:%u: [%s]: unknown section", pc->file, pc->line, section);
    else
        diag_add(pc->diag, "%s:%u: [%s] %s: unknown key", pc->file, pc->line, section, name);
    return 1;
}

static int parse_file(struct parse_ctx *pc)
{
    int r;

    pc->fp = fopen(pc->file, "r");
    if (!pc->fp) {
        r = -errno;
        diag_add(pc->diag, "%s: cannot open: %s", pc->file, strerror(errno));
        return r;
    }
    ini_allow_multiline = false;   /* continuation lines hide typos; not used by hark */
    ini_allow_no_value = false;
    r = ini_parse_stream(reader, pc, handler, pc);
    fclose(pc->fp);
    pc->fp = NULL;
    if (r > 0)
        diag_add(pc->diag, "%s:%d: syntax error: expected '[section]' or 'key = value'", pc->file, r);
    else if (r < 0)
        diag_add(pc->diag, "%s: cannot parse (error %d)", pc->file, r);
    return 0;
}

static unsigned seen(const struct parse_ctx *pc, const char *section, const char *name)
{
    for (unsigned i = 0; i < pc->nkeys; i++)
        if (!strcmp(pc->keys[i].section, section) && !strcmp(pc->keys[i].name, name))
            return pc->seen_line[i];
    return 0;
}

static void require(struct parse_ctx *pc, const char *section, const char *name, const char *why)
{
    if (!seen(pc, section, name))
        diag_add(pc->diag, "%s: [%s] %s: missing required key%s%s", pc->file, section, name,
                 why ? " " : "", why ? why : "");
}

/* ---- board file --------------------------------------------------------------- */

static void board_defaults(struct board_cfg *b)
{
    memset(b, 0, sizeof(*b));
    b->ref_channel = -1;
    b->led.power_gpio_line = -1;
    b->button.active_low = true;
    b->button.debounce_ms = 20;
    b->button.mode = BUTTON_MODE_TAP;
    b->button.long_press_ms = 800;
    b->button.double_press_ms = 350;
    b->button.long_press = BUTTON_ACTION_MUTE;
    b->button.double_press = BUTTON_ACTION_NONE;
    b->led.brightness = 50;
    b->led.idle = LED_IDLE_OFF;
    for (int i = 0; i < HARK_MAX_MICS; i++)
        b->channel_map[i] = -1;
}

static void check_pcm(struct parse_ctx *pc, const char *sec, const struct pcm_cfg *p)
{
    static const char *const req[] = { "device", "rate", "channels", "format", "period_frames",
                                       "buffer_frames" };

    for (unsigned i = 0; i < 6; i++)
        require(pc, sec, req[i], NULL);
    if (p->period_frames && p->buffer_frames && p->buffer_frames < 2 * p->period_frames)
        diag_add(pc->diag, "%s:%u: [%s] buffer_frames: %u is less than two periods (2 x %u)", pc->file,
                 seen(pc, sec, "buffer_frames"), sec, p->buffer_frames, p->period_frames);
}

static void compute_geometry(struct parse_ctx *pc, struct board_cfg *b)
{
    unsigned n = b->mic_count;

    switch (b->geometry) {
    case GEOM_CIRCULAR:
        require(pc, "mics", "radius_mm", "(geometry = circular)");
        for (unsigned m = 0; m < n; m++) {
            double a = (b->start_deg + 360.0 * m / n) * M_PI / 180.0;
            b->mic_pos_mm[m][0] = b->radius_mm * cos(a);
            b->mic_pos_mm[m][1] = b->radius_mm * sin(a);
            b->mic_pos_mm[m][2] = 0;
        }
        break;
    case GEOM_LINEAR:
        require(pc, "mics", "spacing_mm", "(geometry = linear)");
        for (unsigned m = 0; m < n; m++) {
            b->mic_pos_mm[m][0] = b->spacing_mm * ((double)m - (n - 1) / 2.0);
            b->mic_pos_mm[m][1] = 0;
            b->mic_pos_mm[m][2] = 0;
        }
        break;
    case GEOM_CUSTOM:
        for (unsigned m = 0; m < n; m++)
            if (!pc->mic_seen_line[m])
                diag_add(pc->diag, "%s: [mics] mic%u: missing (geometry = custom needs mic0..mic%u)",
                         pc->file, m, n - 1);
        break;
    }
    if (b->geometry != GEOM_CUSTOM && pc->mic_index_max)
        diag_add(pc->diag, "%s:%u: [mics] mic%u: explicit positions need geometry = custom", pc->file,
                 pc->mic_seen_line[pc->mic_index_max - 1], pc->mic_index_max - 1);
    if (b->geometry == GEOM_CUSTOM && pc->mic_index_max > n)
        diag_add(pc->diag, "%s:%u: [mics] mic%u: beyond count = %u", pc->file,
                 pc->mic_seen_line[pc->mic_index_max - 1], pc->mic_index_max - 1, n);
}

static void validate_board(struct parse_ctx *pc, struct board_cfg *b)
{
    unsigned nmap = 0;

    require(pc, "board", "name", NULL);
    require(pc, "mics", "count", NULL);
    require(pc, "mics", "geometry", NULL);
    if (seen(pc, "mics", "count") && seen(pc, "mics", "geometry"))
        compute_geometry(pc, b);
    check_pcm(pc, "capture", &b->capture);
    check_pcm(pc, "playback", &b->playback);
    require(pc, "capture", "channel_map", NULL);

    while (nmap < HARK_MAX_MICS && b->channel_map[nmap] >= 0)
        nmap++;
    if (seen(pc, "capture", "channel_map") && b->mic_count && nmap != b->mic_count)
        diag_add(pc->diag, "%s:%u: [capture] channel_map: lists %u channels but [mics] count = %u",
                 pc->file, seen(pc, "capture", "channel_map"), nmap, b->mic_count);
    for (unsigned i = 0; i < nmap && b->capture.channels; i++)
        if ((unsigned)b->channel_map[i] >= b->capture.channels)
            diag_add(pc->diag, "%s:%u: [capture] channel_map: channel %d but the device has %u channels (0..%u)",
                     pc->file, seen(pc, "capture", "channel_map"), b->channel_map[i],
                     b->capture.channels, b->capture.channels - 1);
    if (b->ref_channel >= 0) {
        if (b->capture.channels && (unsigned)b->ref_channel >= b->capture.channels)
            diag_add(pc->diag, "%s:%u: [capture] ref_channel: %d but the device has %u channels",
                     pc->file, seen(pc, "capture", "ref_channel"), b->ref_channel, b->capture.channels);
        for (unsigned i = 0; i < nmap; i++)
            if (b->channel_map[i] == b->ref_channel)
                diag_add(pc->diag, "%s:%u: [capture] ref_channel: channel %d is also mic %u in channel_map",
                         pc->file, seen(pc, "capture", "ref_channel"), b->ref_channel, i);
    }
    switch (b->button.type) {
    case BUTTON_NONE:
        break;
    case BUTTON_EVDEV:
        require(pc, "button", "device", "(type = evdev)");
        require(pc, "button", "key_code", "(type = evdev)");
        break;
    case BUTTON_GPIO:
        require(pc, "button", "gpio_chip", "(type = gpio)");
        require(pc, "button", "gpio_line", "(type = gpio)");
        break;
    }
    if (b->button.long_press_ms <= b->button.debounce_ms)
        diag_add(pc->diag, "%s:%u: [button] long_press_ms: %u must be longer than debounce_ms (%u)",
                 pc->file, seen(pc, "button", "long_press_ms") ? seen(pc, "button", "long_press_ms")
                                                                : seen(pc, "button", "debounce_ms"),
                 b->button.long_press_ms,
                 b->button.debounce_ms);
    if (b->button.double_press != BUTTON_ACTION_NONE && b->button.double_press_ms <= b->button.debounce_ms)
        diag_add(pc->diag, "%s:%u: [button] double_press_ms: %u must be longer than debounce_ms (%u)",
                 pc->file, seen(pc, "button", "double_press_ms") ? seen(pc, "button", "double_press_ms")
                                                                  : seen(pc, "button", "debounce_ms"),
                 b->button.double_press_ms, b->button.debounce_ms);
    switch (b->led.type) {
    case LED_NONE:
        break;
    case LED_SYSFS:
        require(pc, "led", "sysfs_name", "(type = sysfs)");
        break;
    case LED_APA102:
        require(pc, "led", "spi_device", "(type = apa102)");
        require(pc, "led", "count", "(type = apa102)");
        break;
    }
}

int config_load_board(const char *path, struct board_cfg *board, struct config_diag *diag)
{
    struct parse_ctx pc = {
        .file = path, .keys = board_keys, .nkeys = NKEYS(board_keys), .base = board, .board = board,
        .diag = diag,
    };
    unsigned before = diag->total;
    int r;

    board_defaults(board);
    r = parse_file(&pc);
    if (r < 0)
        return r;
    validate_board(&pc, board);
    return diag->total > before ? -EINVAL : 0;
}

/* ---- hark.conf ------------------------------------------------------------------ */

void config_defaults(struct hark_cfg *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->log_level = LOG_LVL_INFO;
    cfg->log_target = LOG_TO_STDERR;
    snprintf(cfg->ctrl_socket, sizeof(cfg->ctrl_socket), "/run/hark/ctrl.sock");
    cfg->status_interval_s = 60;
    snprintf(cfg->sounds_dir, sizeof(cfg->sounds_dir), "/usr/share/hark/sounds");
    cfg->volume = 80;
    cfg->realtime_priority = 0;
    cfg->cloud.mode = CLOUD_OFF;
    cfg->cloud.chunk_ms = 40;
    cfg->cloud.prebuffer_ms = 60;      /* playout jitter buffer; 40-80 ms is the sane range */
    cfg->cloud.session_max_s = 3300;   /* 55 min: the service ends sessions at 60 */
    snprintf(cfg->cloud.model, sizeof(cfg->cloud.model), "gpt-realtime-2");
    cfg->vad.threshold = 0;            /* the model's own operating point */
    cfg->vad.onset_ms = 30;
    cfg->vad.hangover_ms = 200;
    cfg->vad.turn_end_ms = 700;
    cfg->wake.preroll_ms = 1000;       /* src/wake.h: wake_cfg_defaults() */
    cfg->wake.playback_threshold = 0.97;
    cfg->wake.playback_hold_ms = 300;
    cfg->wake.playback_block_dbfs = -45;
    cfg->wake.playback_echo_share = 0.5;
    cfg->frontend.ns = true;           /* src/fe_ns_agc.h: fe_ns_agc_cfg_default() */
    cfg->frontend.ns_db = -15;
    cfg->frontend.agc = true;
    cfg->frontend.agc_target_dbfs = -20;
    cfg->frontend.agc_max_gain_db = 30;
    cfg->frontend.aec = true;          /* src/frontend.h: frontend_cfg_from_conf() */
    cfg->frontend.aec_mode = FRONTEND_AEC_PERMIC;
    cfg->frontend.aec_tail_ms = 128;   /* measured: docs/frontend.md §2 */
    cfg->frontend.aec_delay_ms = 0;
    cfg->frontend.beam = true;
    board_defaults(&cfg->board);
}

static int resolve_relative(const char *conf, const char *rel, char *out, size_t len)
{
    const char *slash = strrchr(conf, '/');
    int n;

    if (rel[0] == '/' || !slash)
        n = snprintf(out, len, "%s", rel);
    else
        n = snprintf(out, len, "%.*s/%s", (int)(slash - conf), conf, rel);
    return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int config_load(const char *path, const char *board_override, struct hark_cfg *cfg,
                struct config_diag *diag)
{
    struct parse_ctx pc = {
        .file = path, .keys = hark_keys, .nkeys = NKEYS(hark_keys), .base = cfg, .diag = diag,
    };
    char board_rel[CONFIG_PATH_MAX];
    unsigned before = diag->total;
    int r;

    config_defaults(cfg);
    snprintf(cfg->path, sizeof(cfg->path), "%s", path);
    r = parse_file(&pc);
    if (r < 0)
        return r;
    if (board_override) {
        if (resolve_relative("", board_override, cfg->board_path, sizeof(cfg->board_path)) < 0) {
            diag_add(diag, "board path too long: %s", board_override);
            return -EINVAL;
        }
    } else {
        require(&pc, "harkd", "board", NULL);
        snprintf(board_rel, sizeof(board_rel), "%s", cfg->board_path);
        if (*board_rel && resolve_relative(path, board_rel, cfg->board_path, sizeof(cfg->board_path)) < 0)
            diag_add(diag, "%s:%u: [harkd] board: path too long", path, seen(&pc, "harkd", "board"));
    }
    if (cfg->cloud.mode != CLOUD_OFF) {
        const struct cloud_cfg *c = &cfg->cloud;
        require(&pc, "cloud", "url", "(mode is not off)");
        require(&pc, "cloud", "ca_file", "(mode is not off)");
        if (*c->url && strncmp(c->url, "wss://", 6) != 0)
            diag_add(diag, "%s:%u: [cloud] url: must start with wss:// (TLS is not optional)", path,
                     seen(&pc, "cloud", "url"));
        if (!*c->api_key_file && !(*c->token_url && *c->device_credential_file))
            diag_add(diag, "%s: [cloud]: set token_url and device_credential_file (or api_key_file for development)",
                     path);
        if (*c->token_url && strncmp(c->token_url, "https://", 8) != 0)
            diag_add(diag, "%s:%u: [cloud] token_url: must start with https://", path,
                     seen(&pc, "cloud", "token_url"));
        if (c->mode == CLOUD_TRANSLATION)
            require(&pc, "cloud", "target_language", "(mode = translation)");
        if (c->mode == CLOUD_TRANSLATION && c->input_format != CLOUD_FMT_PCM)
            diag_add(diag, "%s:%u: [cloud] input_format: translation takes pcm only", path,
                     seen(&pc, "cloud", "input_format"));
        if (c->mode == CLOUD_CAPTIONS && c->turn_detection != CLOUD_TURNS_LOCAL)
            diag_add(diag, "%s:%u: [cloud] turn_detection: captions (gpt-realtime-whisper) needs local turns", path,
                     seen(&pc, "cloud", "turn_detection"));
        if (*c->spki_pin && !spki_pin_format_ok(c->spki_pin))
            diag_add(diag, "%s:%u: [cloud] spki_pin: expected sha256//BASE64 (44 characters), up to 4 "
                     "separated by ';'", path, seen(&pc, "cloud", "spki_pin"));
    }
    if (*cfg->board_path) {
        r = config_load_board(cfg->board_path, &cfg->board, diag);
        if (r < 0 && r != -EINVAL)
            return r;
    }
    return diag->total > before ? -EINVAL : 0;
}
