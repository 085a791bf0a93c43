/*
 * ws_client.h - a TLS WebSocket client on its own thread (libwebsockets on
 * mbedtls), message oriented, with keepalive and reconnect.
 *
 * The libwebsockets loop owns one thread. Everything that touches the
 * connection runs there, inside the callbacks of struct ws_client_ops:
 * on_open, on_message (one whole text message, reassembled from its
 * fragments, up to max_message bytes), on_close, and on_wake (after any
 * thread called ws_client_wake(), e.g. because uplink audio is queued).
 * From those callbacks the owner queues text messages with
 * ws_client_send_text(); they leave in order, one lws_write() per
 * WRITEABLE event as libwebsockets requires.
 *
 * TLS: certificate verification is always on (CA file required), with SNI
 * and hostname checks; there is no option to turn it off. The bearer token
 * goes only into the Authorization header and is never logged.
 *
 * Threads: ws_client_start()/ws_client_stop() from the owner's thread (main);
 * ws_client_wake() from any thread; everything else only from the ws thread
 * (inside the callbacks).
 */
#ifndef HARK_WS_CLIENT_H
#define HARK_WS_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ws_client;

enum ws_close_reason {
    WS_CLOSE_NORMAL = 0,      /* we or the peer closed cleanly */
    WS_CLOSE_PEER,            /* the peer closed (see code/reason text) */
    WS_CLOSE_CONNECT_FAILED,  /* TCP/HTTP level: refused, unreachable, upgrade rejected */
    WS_CLOSE_TLS_UNTRUSTED,   /* certificate chain not trusted by the CA file */
    WS_CLOSE_TLS_HOSTNAME,    /* certificate does not match the host name */
    WS_CLOSE_TLS_EXPIRED,     /* certificate expired or not yet valid */
    WS_CLOSE_TLS_OTHER,       /* any other TLS failure */
    WS_CLOSE_TIMEOUT,         /* connect/handshake timeout or keepalive lost */
    WS_CLOSE_TOO_BIG,         /* a message exceeded max_message */
    WS_CLOSE_LOST,            /* the connection dropped without a close frame */
    WS_CLOSE_TLS_PIN,         /* verified, but the public key matches no configured pin */
};

struct ws_client_ops {
    void (*on_open)(void *ctx, struct ws_client *c);
    void (*on_message)(void *ctx, struct ws_client *c, const char *msg, size_t len);
    /* reason, the peer's close code (0 if none), and a short description
     * (never contains the token). Called once per connection attempt that
     * failed or connection that ended. */
    void (*on_close)(void *ctx, struct ws_client *c, enum ws_close_reason reason, int code,
                     const char *text);
    void (*on_wake)(void *ctx, struct ws_client *c);
};

struct ws_client_cfg {
    const char *url;               /* wss://host[:port]/path?query */
    const char *ca_file;           /* PEM CA bundle; required */
    const char *spki_pins;         /* optional "sha256//B64[;...]": the server key must match one */
    const char *bearer;            /* Authorization: Bearer <token>; NULL for none */
    unsigned connect_timeout_s;    /* TCP + TLS + upgrade; default 10 */
    unsigned ping_interval_s;      /* idle time before a ping; default 10 (0 = off) */
    unsigned hangup_s;             /* no traffic or pong for this long: drop; default 30 */
    size_t max_message;            /* largest inbound message; default 8 MiB */
    size_t tx_queue_bytes;         /* outbound queue; default 1 MiB */
    bool reconnect;                /* reconnect with backoff after a loss */
    const struct ws_client_ops *ops;
    void *ctx;
};

/* Creates the lws context (main thread), starts the ws thread and the first
 * connection attempt. NULL with err set on failure (bad URL, CA file
 * unreadable, out of memory). */
struct ws_client *ws_client_start(const struct ws_client_cfg *cfg, char *err, size_t errlen);
/* Closes the connection, stops and joins the thread, frees everything. */
void ws_client_stop(struct ws_client *c);
/* Any thread: schedule on_wake on the ws thread. */
void ws_client_wake(struct ws_client *c);

/* ws thread only. */
int ws_client_send_text(struct ws_client *c, const char *msg, size_t len);   /* 0, -ENOTCONN, -ENOSPC, -E2BIG */
size_t ws_client_tx_queued(const struct ws_client *c);
bool ws_client_connected(const struct ws_client *c);
/* Close cleanly; with reconnect=false no new attempt is made until
 * ws_client_reconnect(). */
void ws_client_close(struct ws_client *c, bool reconnect);
void ws_client_reconnect(struct ws_client *c);
unsigned ws_client_attempts(const struct ws_client *c);   /* connection attempts so far */
/* Replace the bearer token used by the next connection attempt (e.g. a
 * freshly minted client secret); the old copy is wiped. 0 or -ENOMEM. */
int ws_client_set_bearer(struct ws_client *c, const char *bearer);

const char *ws_close_reason_name(enum ws_close_reason r);

#endif
