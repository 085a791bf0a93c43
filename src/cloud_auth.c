/*
 * cloud_auth.c - device credential files and client-secret minting (see
 * cloud_auth.h).
 *
 * Minting runs a private, short-lived libwebsockets context with one HTTPS
 * client connection on the calling thread: the network thread calls it
 * before (re)connecting, when it has nothing else to serve.
 */
#include "cloud_auth.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <libwebsockets.h>

#define MINT_REPLY_MAX 65536

void cloud_secret_clear(struct cloud_secret *s)
{
    explicit_bzero(s, sizeof(*s));
}

int cloud_auth_read_secret_file(const char *path, struct cloud_secret *out, char *err, size_t errlen)
{
    struct stat st;
    char buf[CLOUD_SECRET_MAX + 2];
    ssize_t n;
    size_t len;
    int fd, r = 0;

    cloud_secret_clear(out);
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        r = -errno;
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return r;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: not a regular file", path);
        close(fd);
        return -EINVAL;
    }
    if (st.st_mode & 077) {
        snprintf(err, errlen, "%s: readable or writable by group or others (mode %04o); "
                 "chmod 600 it", path, (unsigned)(st.st_mode & 07777));
        close(fd);
        return -EPERM;
    }
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -EIO;
    }
    buf[n] = '\0';
    len = strcspn(buf, "\r\n");
    buf[len] = '\0';
    if (len == 0 || len >= CLOUD_SECRET_MAX) {
        snprintf(err, errlen, "%s: expected one line with the secret (1..%d characters)", path,
                 CLOUD_SECRET_MAX - 1);
        r = -EINVAL;
        goto out;
    }
    for (size_t i = 0; i < len; i++) {
        if (!isgraph((unsigned char)buf[i])) {
            snprintf(err, errlen, "%s: the secret contains spaces or control characters", path);
            r = -EINVAL;
            goto out;
        }
    }
    memcpy(out->value, buf, len + 1);
out:
    explicit_bzero(buf, sizeof(buf));
    return r;
}

/* ---- minting over HTTPS ---------------------------------------------------- */

struct mint {
    const char *bearer;
    const char *body;
    size_t body_len;
    bool body_sent;
    char reply[MINT_REPLY_MAX + 1];
    size_t reply_len;
    bool overflow;
    int status;
    bool done;
    int result;
    char conn_err[160];
};

static int mint_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    struct mint *m = lws_context_user(lws_get_context(wsi));

    switch (reason) {
    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER: {
        unsigned char **p = in, *end = *p + len;
        char hdr[CLOUD_SECRET_MAX + 16], clen[24];
        int n = snprintf(hdr, sizeof(hdr), "Bearer %s", m->bearer);
        int r = lws_add_http_header_by_name(wsi, (const unsigned char *)"authorization:",
                                            (const unsigned char *)hdr, n, p, end);
        explicit_bzero(hdr, sizeof(hdr));
        if (r)
            return -1;
        n = snprintf(clen, sizeof(clen), "%zu", m->body_len);
        if (lws_add_http_header_by_name(wsi, (const unsigned char *)"content-type:",
                                        (const unsigned char *)"application/json", 16, p, end) ||
            lws_add_http_header_by_name(wsi, (const unsigned char *)"content-length:",
                                        (const unsigned char *)clen, n, p, end))
            return -1;
        lws_client_http_body_pending(wsi, 1);
        lws_callback_on_writable(wsi);
        break;
    }
    case LWS_CALLBACK_CLIENT_HTTP_WRITEABLE: {
        unsigned char buf[LWS_PRE + 4096];
        size_t n = m->body_len < sizeof(buf) - LWS_PRE ? m->body_len : sizeof(buf) - LWS_PRE;
        if (m->body_sent)
            break;
        memcpy(buf + LWS_PRE, m->body, n);
        if (lws_write(wsi, buf + LWS_PRE, n, LWS_WRITE_HTTP_FINAL) != (int)n)
            return -1;
        m->body_sent = true;
        lws_client_http_body_pending(wsi, 0);
        break;
    }
    case LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP:
        m->status = (int)lws_http_client_http_response(wsi);
        break;
    case LWS_CALLBACK_RECEIVE_CLIENT_HTTP_READ:
        if (m->reply_len + len > MINT_REPLY_MAX) {
            m->overflow = true;
        } else {
            memcpy(m->reply + m->reply_len, in, len);
            m->reply_len += len;
        }
        break;
    case LWS_CALLBACK_RECEIVE_CLIENT_HTTP: {
        char buf[LWS_PRE + 4096], *px = buf + LWS_PRE;
        int lenx = sizeof(buf) - LWS_PRE;
        if (lws_http_client_read(wsi, &px, &lenx) < 0)
            return -1;
        break;
    }
    case LWS_CALLBACK_COMPLETED_CLIENT_HTTP:
        m->done = true;
        lws_cancel_service(lws_get_context(wsi));
        break;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: {
        const char *why = in ? (const char *)in : "connection failed";
        bool tls = strstr(why, "cert") || strstr(why, "tls") || strstr(why, "X509");
        snprintf(m->conn_err, sizeof(m->conn_err), "%s%s", tls ? "TLS: server certificate rejected: " : "", why);
        m->conn_err[strcspn(m->conn_err, "\r\n")] = '\0';
        m->done = true;
        m->result = tls ? -EKEYREJECTED : -ECONNREFUSED;
        break;
    }
    case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
        m->done = true;
        break;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static void quiet_log(int level, const char *line)
{
    (void)level;
    (void)line;
}

static const struct lws_protocols mint_protocols[] = {
    { "hark-mint", mint_cb, 0, 0, 0, NULL, 0 },
    { NULL, NULL, 0, 0, 0, NULL, 0 },
};

static int parse_secret(const char *json, struct cloud_secret *out)
{
    cJSON *root = cJSON_Parse(json), *obj, *v, *e;
    int r = -EPROTO;

    if (!root)
        return -EPROTO;
    obj = cJSON_GetObjectItemCaseSensitive(root, "client_secret");
    if (!cJSON_IsObject(obj))
        obj = root;
    v = cJSON_GetObjectItemCaseSensitive(obj, "value");
    e = cJSON_GetObjectItemCaseSensitive(obj, "expires_at");
    if (cJSON_IsString(v) && v->valuestring[0] && strlen(v->valuestring) < CLOUD_SECRET_MAX) {
        bool ok = true;
        for (const char *p = v->valuestring; *p; p++)
            ok = ok && isgraph((unsigned char)*p);
        if (ok) {
            snprintf(out->value, sizeof(out->value), "%s", v->valuestring);
            out->expires_at = cJSON_IsNumber(e) ? (int64_t)e->valuedouble : 0;
            r = 0;
        }
    }
    if (v && cJSON_IsString(v))
        explicit_bzero(v->valuestring, strlen(v->valuestring));
    cJSON_Delete(root);
    return r;
}

int cloud_auth_mint(const char *token_url, const char *ca_file, const struct cloud_secret *device_cred,
                    const char *body_json, unsigned timeout_s, struct cloud_secret *out, char *err,
                    size_t errlen)
{
    struct lws_context_creation_info info;
    struct lws_client_connect_info ci;
    struct lws_context *ctx;
    struct mint *m;
    const char *prot, *ads, *path;
    char *url, pathbuf[1024];
    struct timespec t0, t;
    int port, r;

    cloud_secret_clear(out);
    m = calloc(1, sizeof(*m));
    url = strdup(token_url);
    if (!m || !url) {
        free(m);
        free(url);
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    if (lws_parse_uri(url, &prot, &ads, &port, &path) || strcmp(prot, "https") != 0 || !*ads) {
        snprintf(err, errlen, "token URL must be https://host[:port]/path");
        r = -EINVAL;
        goto out_free;
    }
    snprintf(pathbuf, sizeof(pathbuf), "/%s", path);
    m->bearer = device_cred->value;
    m->body = body_json ? body_json : "{}";
    m->body_len = strlen(m->body);

    lws_set_log_level(LLL_ERR, quiet_log);   /* lws notices would only clutter harkd's log */
    memset(&info, 0, sizeof(info));
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = mint_protocols;
    info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.client_ssl_ca_filepath = ca_file;
    info.timeout_secs = timeout_s ? timeout_s : 10;
    info.connect_timeout_secs = info.timeout_secs;
    info.user = m;
    ctx = lws_create_context(&info);
    if (!ctx) {
        snprintf(err, errlen, "cannot create a TLS context (CA file %s unusable?)", ca_file);
        r = -EINVAL;
        goto out_free;
    }
    memset(&ci, 0, sizeof(ci));
    ci.context = ctx;
    ci.address = ads;
    ci.port = port;
    ci.path = pathbuf;
    ci.host = ads;
    ci.origin = ads;
    ci.method = "POST";
    ci.ssl_connection = LCCSCF_USE_SSL;
    ci.protocol = mint_protocols[0].name;
    ci.local_protocol_name = mint_protocols[0].name;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (!lws_client_connect_via_info(&ci) && !m->done) {
        m->done = true;
        m->result = -ECONNREFUSED;
        snprintf(m->conn_err, sizeof(m->conn_err), "cannot connect");
    }
    while (!m->done) {
        clock_gettime(CLOCK_MONOTONIC, &t);
        if (t.tv_sec - t0.tv_sec > (time_t)info.timeout_secs + 1) {
            m->result = -ETIMEDOUT;
            snprintf(m->conn_err, sizeof(m->conn_err), "no answer within %u s", info.timeout_secs);
            break;
        }
        if (lws_service(ctx, 0) < 0)
            break;
    }
    lws_context_destroy(ctx);

    m->reply[m->reply_len] = '\0';
    if (m->result) {
        r = m->result;
        snprintf(err, errlen, "token endpoint %s: %s", ads, m->conn_err);
    } else if (m->status == 401 || m->status == 403) {
        r = -EACCES;
        snprintf(err, errlen, "token endpoint %s refused the device credential (HTTP %d)", ads, m->status);
    } else if (m->status != 200 && m->status != 201) {
        r = -EPROTO;
        snprintf(err, errlen, "token endpoint %s answered HTTP %d", ads, m->status);
    } else if (m->overflow || parse_secret(m->reply, out) < 0) {
        r = -EPROTO;
        snprintf(err, errlen, "token endpoint %s: reply has no usable client secret", ads);
    } else {
        r = 0;
    }
out_free:
    if (m)
        explicit_bzero(m->reply, sizeof(m->reply));
    free(m);
    free(url);
    return r;
}
