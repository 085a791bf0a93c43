/*
 * ws_client.c - TLS WebSocket client on a libwebsockets thread (see ws_client.h).
 *
 * One lws context with one client connection at a time. Reconnects use
 * lws's backoff table with jitter; keepalive uses lws's validity policy
 * (ping after ping_interval_s idle, hang up after hangup_s). Inbound
 * fragments are reassembled into one growing buffer capped at max_message;
 * a larger message is dropped whole (counted) and the connection goes on.
 * Outbound messages wait in a length-prefixed queue and leave one per
 * WRITEABLE callback.
 */
#include "ws_client.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libwebsockets.h>

#include "ring.h"
#include "tls_pin.h"

#define WS_PROTOCOL_NAME "hark-rt"
#define WS_RX_CHUNK 65536
#define WS_STOP_GRACE_MS 1000

static const uint32_t backoff_ms[] = { 1000, 2000, 4000, 8000, 16000, 30000 };

struct ws_client {
    struct ws_client_cfg cfg;
    char *url, *ca_file, *bearer;
    char host[256], path[1024];
    int port;
    struct lws_context *ctx;
    struct lws *wsi;
    lws_retry_bo_t retry;
    lws_sorted_usec_list_t sul_connect;
    uint16_t retry_count;
    unsigned attempts;
    pthread_t thread;
    bool thread_started;
    _Atomic bool stop;
    bool want_reconnect;
    bool closing;
    bool established;
    /* inbound reassembly */
    char *rx;
    size_t rx_len, rx_cap;
    bool rx_drop;
    unsigned long rx_dropped;
    /* outbound */
    struct ring *txq;
    uint8_t *txbuf;
    size_t txbuf_cap;
    /* close bookkeeping for on_close */
    int peer_code;
    char peer_text[124];
    uint8_t pins[TLS_PIN_MAX][32];
    int npins;
    bool pin_failed;            /* ws thread: the last attempt failed the pin */
};

const char *ws_close_reason_name(enum ws_close_reason r)
{
    static const char *const names[] = {
        "closed", "closed by peer", "connect failed", "TLS: certificate not trusted",
        "TLS: certificate does not match the host name", "TLS: certificate expired or not yet valid",
        "TLS failure", "timeout", "message too big", "connection lost",
        "TLS: server public key matches no spki_pin",
    };
    return (unsigned)r < sizeof(names) / sizeof(names[0]) ? names[r] : "?";
}

static void schedule_connect(struct ws_client *c, bool backoff);

static enum ws_close_reason classify_error(const char *s)
{
    if (!s)
        return WS_CLOSE_CONNECT_FAILED;
    if (strstr(s, "EXPIRED") || strstr(s, "expired") || strstr(s, "FUTURE"))
        return WS_CLOSE_TLS_EXPIRED;
    if (strstr(s, "ismatch") || strstr(s, "hostname"))
        return WS_CLOSE_TLS_HOSTNAME;
    if (strstr(s, "NOT_TRUSTED") || strstr(s, "not trusted") || strstr(s, "CA is not trusted"))
        return WS_CLOSE_TLS_UNTRUSTED;
    if (strstr(s, "cert") || strstr(s, "tls") || strstr(s, "TLS") || strstr(s, "ssl") || strstr(s, "SSL"))
        return WS_CLOSE_TLS_OTHER;
    if (strstr(s, "timeout") || strstr(s, "timed out"))
        return WS_CLOSE_TIMEOUT;
    return WS_CLOSE_CONNECT_FAILED;
}

static void report_close(struct ws_client *c, enum ws_close_reason r, int code, const char *text)
{
    if (c->cfg.ops->on_close)
        c->cfg.ops->on_close(c->cfg.ctx, c, r, code, text ? text : "");
}

static bool pin_matches(struct ws_client *c, struct lws *wsi)
{
    char big[1600];
    union lws_tls_cert_info_results *buf = (union lws_tls_cert_info_results *)big;
    uint8_t h[32];

    if (lws_tls_peer_cert_info(wsi, LWS_TLS_CERT_INFO_OPAQUE_PUBLIC_KEY, buf,
                               sizeof(big) - sizeof(*buf) + sizeof(buf->ns.name)) != 0 ||
        buf->ns.len <= 0 || tls_pin_spki_sha256(buf->ns.name, (size_t)buf->ns.len, h) != 0)
        return false;
    for (int i = 0; i < c->npins; i++)
        if (memcmp(h, c->pins[i], sizeof(h)) == 0)
            return true;
    return false;
}

static int append_rx(struct ws_client *c, const void *in, size_t len)
{
    if (c->rx_drop)
        return 0;
    if (c->rx_len + len + 1 > c->cfg.max_message + 1) {
        c->rx_drop = true;
        c->rx_dropped++;
        return 0;
    }
    if (c->rx_len + len + 1 > c->rx_cap) {
        size_t cap = c->rx_cap ? c->rx_cap : WS_RX_CHUNK;
        char *n;
        while (cap < c->rx_len + len + 1)
            cap *= 2;
        if (cap > c->cfg.max_message + 1)
            cap = c->cfg.max_message + 1;
        n = realloc(c->rx, cap);
        if (!n) {
            c->rx_drop = true;
            c->rx_dropped++;
            return 0;
        }
        c->rx = n;
        c->rx_cap = cap;
    }
    memcpy(c->rx + c->rx_len, in, len);
    c->rx_len += len;
    c->rx[c->rx_len] = '\0';
    return 0;
}

static int write_one(struct ws_client *c, struct lws *wsi)
{
    uint32_t len;
    int n;

    if (ring_peek(c->txq, &len, sizeof(len)) != sizeof(len))
        return 0;
    ring_skip(c->txq, sizeof(len));
    ring_read(c->txq, c->txbuf + LWS_PRE, len);
    n = lws_write(wsi, c->txbuf + LWS_PRE, len, LWS_WRITE_TEXT);
    if (n < (int)len)
        return -1;
    if (ring_readable(c->txq))
        lws_callback_on_writable(wsi);
    return 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    struct ws_client *c = lws_context_user(lws_get_context(wsi));

    (void)user;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
        /* TLS is up and verified; nothing has been sent yet. The pin is
         * checked here so that a mismatch never sees the token. */
        if (c->npins && !pin_matches(c, wsi)) {
            c->pin_failed = true;
            return -1;
        }
        if (c->bearer) {
            unsigned char **p = in, *end = *p + len;
            char hdr[4200];
            int n = snprintf(hdr, sizeof(hdr), "Bearer %s", c->bearer);
            int r = n > 0 && (size_t)n < sizeof(hdr)
                        ? lws_add_http_header_by_name(wsi, (const unsigned char *)"authorization:",
                                                      (const unsigned char *)hdr, n, p, end)
                        : -1;
            explicit_bzero(hdr, sizeof(hdr));
            if (r)
                return -1;
        }
        break;

    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        c->wsi = wsi;
        c->established = true;
        c->retry_count = 0;
        c->rx_len = 0;
        c->rx_drop = false;
        c->peer_code = 0;
        c->peer_text[0] = '\0';
        if (c->cfg.ops->on_open)
            c->cfg.ops->on_open(c->cfg.ctx, c);
        if (ring_readable(c->txq))
            lws_callback_on_writable(wsi);
        break;

    case LWS_CALLBACK_CLIENT_RECEIVE:
        if (lws_is_first_fragment(wsi)) {
            c->rx_len = 0;
            c->rx_drop = false;
        }
        if (lws_frame_is_binary(wsi)) {
            c->rx_drop = true;   /* the protocol is JSON text only */
        } else {
            append_rx(c, in, len);
        }
        if (lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0) {
            if (!c->rx_drop && c->cfg.ops->on_message)
                c->cfg.ops->on_message(c->cfg.ctx, c, c->rx ? c->rx : "", c->rx_len);
            c->rx_len = 0;
            c->rx_drop = false;
        }
        break;

    case LWS_CALLBACK_CLIENT_WRITEABLE:
        if (c->closing || atomic_load(&c->stop)) {
            lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, (unsigned char *)"bye", 3);
            return -1;
        }
        return write_one(c, wsi);

    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        if (len >= 2) {
            const unsigned char *b = in;
            size_t tl = len - 2 < sizeof(c->peer_text) - 1 ? len - 2 : sizeof(c->peer_text) - 1;
            c->peer_code = (b[0] << 8) | b[1];
            memcpy(c->peer_text, b + 2, tl);
            c->peer_text[tl] = '\0';
        }
        break;

    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: {
        char text[200];
        snprintf(text, sizeof(text), "%s", in ? (const char *)in : "connection failed");
        c->wsi = NULL;
        c->established = false;
        if (c->pin_failed) {
            c->pin_failed = false;
            report_close(c, WS_CLOSE_TLS_PIN, 0, "the server's public key matches no configured spki_pin");
        } else {
            report_close(c, classify_error(text), 0, text);
        }
        if (c->want_reconnect && !atomic_load(&c->stop))
            schedule_connect(c, true);
        break;
    }

    case LWS_CALLBACK_CLIENT_CLOSED:
        if (c->wsi == wsi || c->established) {
            bool peer = c->peer_code != 0;
            c->wsi = NULL;
            c->established = false;
            ring_skip(c->txq, ring_readable(c->txq));
            report_close(c, c->closing || atomic_load(&c->stop) ? WS_CLOSE_NORMAL
                            : peer ? WS_CLOSE_PEER : WS_CLOSE_LOST,
                         c->peer_code, peer ? c->peer_text : "no close frame from the server");
            c->closing = false;
            if (c->want_reconnect && !atomic_load(&c->stop))
                schedule_connect(c, true);
        }
        break;

    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        if (atomic_load(&c->stop)) {
            if (c->wsi)
                lws_callback_on_writable(c->wsi);
        } else if (c->cfg.ops->on_wake) {
            c->cfg.ops->on_wake(c->cfg.ctx, c);
        }
        break;

    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
    { WS_PROTOCOL_NAME, callback, 0, WS_RX_CHUNK, 0, NULL, 0 },
    { NULL, NULL, 0, 0, 0, NULL, 0 },
};

static void connect_cb(lws_sorted_usec_list_t *sul)
{
    struct ws_client *c = lws_container_of(sul, struct ws_client, sul_connect);
    struct lws_client_connect_info i;

    if (atomic_load(&c->stop) || c->wsi)
        return;
    memset(&i, 0, sizeof(i));
    i.context = c->ctx;
    i.address = c->host;
    i.port = c->port;
    i.path = c->path;
    i.host = c->host;
    i.origin = c->host;
    i.ssl_connection = LCCSCF_USE_SSL;
    i.local_protocol_name = WS_PROTOCOL_NAME;
    i.retry_and_idle_policy = &c->retry;
    i.pwsi = &c->wsi;
    c->attempts++;
    if (!lws_client_connect_via_info(&i)) {
        c->wsi = NULL;
        /* CONNECTION_ERROR usually already reported it; make sure we retry. */
        if (c->want_reconnect && !atomic_load(&c->stop) && lws_dll2_is_detached(&c->sul_connect.list))
            schedule_connect(c, true);
    }
}

static void schedule_connect(struct ws_client *c, bool backoff)
{
    char conceal = 0;
    uint32_t ms = backoff ? lws_retry_get_delay_ms(c->ctx, &c->retry, &c->retry_count, &conceal) : 0;

    lws_sul_schedule(c->ctx, 0, &c->sul_connect, connect_cb, (lws_usec_t)ms * LWS_US_PER_MS);
}

static void lws_log_sink(int level, const char *line)
{
    /* lws logs only errors here; they carry no secrets (no headers). */
    (void)level;
    (void)line;
}

static void *ws_thread(void *arg)
{
    struct ws_client *c = arg;
    struct timespec t0 = { 0 }, t;

    while (!atomic_load(&c->stop) || c->wsi) {
        if (atomic_load(&c->stop)) {
            if (!t0.tv_sec)
                clock_gettime(CLOCK_MONOTONIC, &t0);
            clock_gettime(CLOCK_MONOTONIC, &t);
            if ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 > WS_STOP_GRACE_MS)
                break;
        }
        if (lws_service(c->ctx, 0) < 0)
            break;
    }
    return NULL;
}

static void free_client(struct ws_client *c)
{
    if (c->ctx)
        lws_context_destroy(c->ctx);
    ring_destroy(c->txq);
    free(c->txbuf);
    free(c->rx);
    free(c->url);
    free(c->ca_file);
    if (c->bearer) {
        explicit_bzero(c->bearer, strlen(c->bearer));
        free(c->bearer);
    }
    free(c);
}

struct ws_client *ws_client_start(const struct ws_client_cfg *cfg, char *err, size_t errlen)
{
    struct lws_context_creation_info info;
    struct ws_client *c;
    const char *prot, *ads, *path;
    char *tmp;
    int r;

    if (!cfg->url || !cfg->ca_file || !cfg->ops) {
        snprintf(err, errlen, "cloud: url, ca_file and callbacks are required");
        return NULL;
    }
    c = calloc(1, sizeof(*c));
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (cfg->spki_pins && *cfg->spki_pins &&
        (c->npins = tls_pin_parse(cfg->spki_pins, c->pins, TLS_PIN_MAX)) < 0) {
        snprintf(err, errlen, "cloud: spki_pin: expected up to %d entries sha256//BASE64 (44 characters "
                 "each), separated by ';'", TLS_PIN_MAX);
        free(c);
        return NULL;
    }
    c->cfg = *cfg;
    if (!c->cfg.connect_timeout_s)
        c->cfg.connect_timeout_s = 10;
    if (!c->cfg.hangup_s)
        c->cfg.hangup_s = 30;
    if (!c->cfg.max_message)
        c->cfg.max_message = 8u << 20;
    if (!c->cfg.tx_queue_bytes)
        c->cfg.tx_queue_bytes = 1u << 20;
    c->want_reconnect = cfg->reconnect;
    c->url = strdup(cfg->url);
    c->ca_file = strdup(cfg->ca_file);
    c->bearer = cfg->bearer ? strdup(cfg->bearer) : NULL;
    tmp = strdup(cfg->url);
    c->txq = ring_create(c->cfg.tx_queue_bytes);
    if (c->txq) {
        c->txbuf_cap = LWS_PRE + ring_capacity(c->txq);
        c->txbuf = malloc(c->txbuf_cap);
    }
    if (!c->url || !c->ca_file || (cfg->bearer && !c->bearer) || !tmp || !c->txq || !c->txbuf) {
        snprintf(err, errlen, "out of memory");
        free(tmp);
        free_client(c);
        return NULL;
    }
    c->cfg.url = c->url;
    c->cfg.ca_file = c->ca_file;
    c->cfg.bearer = NULL;   /* only c->bearer holds it */
    if (lws_parse_uri(tmp, &prot, &ads, &c->port, &path) || strcmp(prot, "wss") != 0 || !*ads) {
        snprintf(err, errlen, "cloud: URL must be wss://host[:port]/path, got '%s'", cfg->url);
        free(tmp);
        free_client(c);
        return NULL;
    }
    snprintf(c->host, sizeof(c->host), "%s", ads);
    snprintf(c->path, sizeof(c->path), "/%s", path);
    free(tmp);

    c->retry.retry_ms_table = backoff_ms;
    c->retry.retry_ms_table_count = sizeof(backoff_ms) / sizeof(backoff_ms[0]);
    c->retry.conceal_count = LWS_RETRY_CONCEAL_ALWAYS;
    c->retry.secs_since_valid_ping = (uint16_t)(cfg->ping_interval_s ? cfg->ping_interval_s : 10);
    c->retry.secs_since_valid_hangup = (uint16_t)c->cfg.hangup_s;
    c->retry.jitter_percent = 20;

    lws_set_log_level(LLL_ERR, lws_log_sink);
    memset(&info, 0, sizeof(info));
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.client_ssl_ca_filepath = c->ca_file;
    info.timeout_secs = c->cfg.connect_timeout_s;
    info.connect_timeout_secs = c->cfg.connect_timeout_s;
    info.retry_and_idle_policy = &c->retry;
    info.user = c;
    {
        FILE *f = fopen(c->ca_file, "r");
        if (!f) {
            snprintf(err, errlen, "cloud: CA file %s: %s", c->ca_file, strerror(errno));
            free_client(c);
            return NULL;
        }
        fclose(f);
    }
    c->ctx = lws_create_context(&info);
    if (!c->ctx) {
        snprintf(err, errlen, "cloud: cannot create the TLS client context (CA file %s unusable?)", c->ca_file);
        free_client(c);
        return NULL;
    }
    schedule_connect(c, false);
    r = pthread_create(&c->thread, NULL, ws_thread, c);
    if (r) {
        snprintf(err, errlen, "cloud: cannot start thread: %s", strerror(r));
        free_client(c);
        return NULL;
    }
    c->thread_started = true;
    return c;
}

void ws_client_stop(struct ws_client *c)
{
    if (!c)
        return;
    if (c->thread_started) {
        atomic_store(&c->stop, true);
        lws_cancel_service(c->ctx);
        pthread_join(c->thread, NULL);
    }
    free_client(c);
}

void ws_client_wake(struct ws_client *c)
{
    lws_cancel_service(c->ctx);
}

int ws_client_send_text(struct ws_client *c, const char *msg, size_t len)
{
    uint32_t l = (uint32_t)len;

    if (!c->wsi || !c->established)
        return -ENOTCONN;
    if (len + sizeof(l) > ring_capacity(c->txq))
        return -E2BIG;
    if (ring_writable(c->txq) < len + sizeof(l))
        return -ENOSPC;
    ring_write(c->txq, &l, sizeof(l));
    ring_write(c->txq, msg, len);
    lws_callback_on_writable(c->wsi);
    return 0;
}

size_t ws_client_tx_queued(const struct ws_client *c)
{
    return ring_readable(c->txq);
}

bool ws_client_connected(const struct ws_client *c)
{
    return c->wsi && c->established;
}

void ws_client_close(struct ws_client *c, bool reconnect)
{
    c->want_reconnect = reconnect;
    if (c->wsi) {
        c->closing = true;
        lws_callback_on_writable(c->wsi);
    }
}

void ws_client_reconnect(struct ws_client *c)
{
    c->want_reconnect = true;
    if (!c->wsi)
        schedule_connect(c, false);
}

int ws_client_set_bearer(struct ws_client *c, const char *bearer)
{
    char *n = bearer ? strdup(bearer) : NULL;

    if (bearer && !n)
        return -ENOMEM;
    if (c->bearer) {
        explicit_bzero(c->bearer, strlen(c->bearer));
        free(c->bearer);
    }
    c->bearer = n;
    return 0;
}

unsigned ws_client_attempts(const struct ws_client *c)
{
    return c->attempts;
}
