/*
 * ctrl.c - control socket server on the main loop (see ctrl.h).
 */
#define _GNU_SOURCE
#include "ctrl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define CTRL_MAX_CLIENTS 8
#define CTRL_CLIENT_TIMEOUT_MS 2000

struct ctrl_client {
    struct ctrl *c;
    int fd;
    size_t len, sent, reply_len;
    bool replying;
    char req[CTRL_MAX_REQUEST];
    char reply[CTRL_MAX_REPLY];
    struct eloop_timer *deadline;
};

struct ctrl {
    struct eloop *loop;
    int fd;
    char path[108];
    ctrl_handler handler;
    void *ctx;
    struct ctrl_client *clients[CTRL_MAX_CLIENTS];
};

static void client_close(struct ctrl_client *cl)
{
    struct ctrl *c = cl->c;

    for (int i = 0; i < CTRL_MAX_CLIENTS; i++)
        if (c->clients[i] == cl)
            c->clients[i] = NULL;
    eloop_del_fd(c->loop, cl->fd);
    eloop_del_timer(c->loop, cl->deadline);
    close(cl->fd);
    free(cl);
}

static void client_deadline(struct eloop *l, struct eloop_timer *t, void *ctx)
{
    (void)l;
    (void)t;
    client_close(ctx);
}

static void client_io(struct eloop *l, int fd, uint32_t events, void *ctx)
{
    struct ctrl_client *cl = ctx;
    ssize_t n;

    (void)events;
    if (!cl->replying) {
        char *nl;
        n = read(fd, cl->req + cl->len, sizeof(cl->req) - 1 - cl->len);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        if (n <= 0 && cl->len == 0) {
            client_close(cl);
            return;
        }
        cl->len += n > 0 ? (size_t)n : 0;
        cl->req[cl->len] = '\0';
        nl = strchr(cl->req, '\n');
        if (!nl && n > 0 && cl->len < sizeof(cl->req) - 1)
            return;   /* wait for the rest of the line */
        if (!nl && cl->len >= sizeof(cl->req) - 1) {
            cl->reply_len = (size_t)snprintf(cl->reply, sizeof(cl->reply),
                                             "{\"error\":\"request too long\"}\n");
        } else {
            if (nl)
                *nl = '\0';
            if (nl && nl > cl->req && nl[-1] == '\r')
                nl[-1] = '\0';
            cl->reply_len = cl->c->handler(cl->req, cl->reply, sizeof(cl->reply), cl->c->ctx);
        }
        cl->replying = true;
        (void)eloop_mod_fd(l, fd, EPOLLOUT);
        return;
    }
    n = write(fd, cl->reply + cl->sent, cl->reply_len - cl->sent);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n > 0)
        cl->sent += (size_t)n;
    if (n <= 0 || cl->sent >= cl->reply_len)
        client_close(cl);
}

static void accept_cb(struct eloop *l, int fd, uint32_t events, void *ctx)
{
    struct ctrl *c = ctx;
    struct ctrl_client *cl;
    int slot = -1, cfd;

    (void)events;
    cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (cfd < 0)
        return;
    for (int i = 0; i < CTRL_MAX_CLIENTS && slot < 0; i++)
        if (!c->clients[i])
            slot = i;
    cl = slot >= 0 ? calloc(1, sizeof(*cl)) : NULL;
    if (!cl) {
        static const char busy[] = "{\"error\":\"busy\"}\n";
        (void)!write(cfd, busy, sizeof(busy) - 1);
        close(cfd);
        return;
    }
    cl->c = c;
    cl->fd = cfd;
    cl->deadline = eloop_add_timer(l, CTRL_CLIENT_TIMEOUT_MS, 0, client_deadline, cl);
    if (!cl->deadline || eloop_add_fd(l, cfd, EPOLLIN, client_io, cl) < 0) {
        eloop_del_timer(l, cl->deadline);
        close(cfd);
        free(cl);
        return;
    }
    c->clients[slot] = cl;
}

struct ctrl *ctrl_create(struct eloop *loop, const char *path, ctrl_handler h, void *ctx, int *err)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    struct ctrl *c;
    mode_t old;

    if (strlen(path) >= sizeof(sa.sun_path)) {
        *err = -ENAMETOOLONG;
        return NULL;
    }
    c = calloc(1, sizeof(*c));
    if (!c) {
        *err = -ENOMEM;
        return NULL;
    }
    c->loop = loop;
    c->handler = h;
    c->ctx = ctx;
    snprintf(c->path, sizeof(c->path), "%s", path);
    memcpy(sa.sun_path, path, strlen(path) + 1);
    c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        goto out_err;
    (void)unlink(path);   /* a stale socket from a previous run */
    old = umask(0117);
    if (bind(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        umask(old);
        goto out_err;
    }
    umask(old);
    if (listen(c->fd, 8) < 0)
        goto out_err;
    *err = eloop_add_fd(loop, c->fd, EPOLLIN, accept_cb, c);
    if (*err < 0) {
        errno = -*err;
        goto out_err;
    }
    return c;

out_err:
    *err = -errno;
    if (c->fd >= 0)
        close(c->fd);
    free(c);
    return NULL;
}

void ctrl_destroy(struct ctrl *c)
{
    if (!c)
        return;
    for (int i = 0; i < CTRL_MAX_CLIENTS; i++)
        if (c->clients[i])
            client_close(c->clients[i]);
    eloop_del_fd(c->loop, c->fd);
    close(c->fd);
    (void)unlink(c->path);
    free(c);
}
