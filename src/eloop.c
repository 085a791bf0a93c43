/*
 * eloop.c - epoll main loop with timerfd timers and one signalfd
 * (see eloop.h for the thread contract).
 *
 * Every registered source gets a small record; epoll's data pointer points
 * at it. Records deleted from inside a callback are only marked dead and
 * freed after the current dispatch round, so a handler may remove itself or
 * any other source safely.
 */
#include "eloop.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#define ELOOP_MAX_EVENTS 16
#define ELOOP_MAX_SIGNALS 8

enum src_kind { SRC_FD, SRC_TIMER, SRC_SIGNAL, SRC_QUIT };

struct eloop_src {
    enum src_kind kind;
    int fd;
    bool dead;
    eloop_fd_cb fd_cb;
    eloop_timer_cb timer_cb;
    void *ctx;
    struct eloop_src *next;      /* all sources, for lookup and cleanup */
    struct eloop_src *next_dead;
};

struct eloop_timer {
    struct eloop_src src;
};

struct eloop {
    int epfd;
    struct eloop_src *sources;
    struct eloop_src *dead;
    struct eloop_src sig_src, quit_src;
    sigset_t sigmask;
    struct {
        int signo;
        eloop_signal_cb cb;
        void *ctx;
    } sigs[ELOOP_MAX_SIGNALS];
    int nsigs;
    _Atomic int quit;
};

struct eloop *eloop_create(void)
{
    struct eloop *l = calloc(1, sizeof(*l));
    struct epoll_event ev = { .events = EPOLLIN };

    if (!l)
        return NULL;
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    l->sig_src.fd = -1;
    l->sig_src.kind = SRC_SIGNAL;
    l->quit_src.kind = SRC_QUIT;
    l->quit_src.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    sigemptyset(&l->sigmask);
    if (l->epfd < 0 || l->quit_src.fd < 0)
        goto out_fail;
    ev.data.ptr = &l->quit_src;
    if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->quit_src.fd, &ev) < 0)
        goto out_fail;
    return l;

out_fail:
    eloop_destroy(l);
    return NULL;
}

static void free_dead(struct eloop *l)
{
    while (l->dead) {
        struct eloop_src *s = l->dead;
        l->dead = s->next_dead;
        free(s);
    }
}

void eloop_destroy(struct eloop *l)
{
    if (!l)
        return;
    while (l->sources) {
        struct eloop_src *s = l->sources;
        l->sources = s->next;
        if (s->kind == SRC_TIMER)
            close(s->fd);
        if (!s->dead)
            free(s);
    }
    free_dead(l);
    if (l->sig_src.fd >= 0)
        close(l->sig_src.fd);
    if (l->quit_src.fd >= 0)
        close(l->quit_src.fd);
    if (l->epfd >= 0)
        close(l->epfd);
    free(l);
}

static int add_src(struct eloop *l, struct eloop_src *s, uint32_t events)
{
    struct epoll_event ev = { .events = events, .data.ptr = s };

    if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, s->fd, &ev) < 0)
        return -errno;
    s->next = l->sources;
    l->sources = s;
    return 0;
}

static void kill_src(struct eloop *l, struct eloop_src *s)
{
    struct eloop_src **pp;

    for (pp = &l->sources; *pp; pp = &(*pp)->next) {
        if (*pp == s) {
            *pp = s->next;
            break;
        }
    }
    (void)epoll_ctl(l->epfd, EPOLL_CTL_DEL, s->fd, NULL);
    s->dead = true;
    s->next_dead = l->dead;
    l->dead = s;
}

int eloop_add_fd(struct eloop *l, int fd, uint32_t events, eloop_fd_cb cb, void *ctx)
{
    struct eloop_src *s = calloc(1, sizeof(*s));
    int r;

    if (!s)
        return -ENOMEM;
    s->kind = SRC_FD;
    s->fd = fd;
    s->fd_cb = cb;
    s->ctx = ctx;
    r = add_src(l, s, events);
    if (r < 0)
        free(s);
    return r;
}

static struct eloop_src *find_fd(struct eloop *l, int fd)
{
    for (struct eloop_src *s = l->sources; s; s = s->next)
        if (s->kind == SRC_FD && s->fd == fd)
            return s;
    return NULL;
}

int eloop_mod_fd(struct eloop *l, int fd, uint32_t events)
{
    struct eloop_src *s = find_fd(l, fd);
    struct epoll_event ev = { .events = events, .data.ptr = s };

    if (!s)
        return -ENOENT;
    return epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 ? -errno : 0;
}

void eloop_del_fd(struct eloop *l, int fd)
{
    struct eloop_src *s = find_fd(l, fd);

    if (s)
        kill_src(l, s);
}

struct eloop_timer *eloop_add_timer(struct eloop *l, unsigned first_ms, unsigned interval_ms,
                                    eloop_timer_cb cb, void *ctx)
{
    struct eloop_timer *t = calloc(1, sizeof(*t));
    struct itimerspec its = {
        .it_value = { first_ms / 1000, (long)(first_ms % 1000) * 1000000L },
        .it_interval = { interval_ms / 1000, (long)(interval_ms % 1000) * 1000000L },
    };

    if (!t)
        return NULL;
    if (first_ms == 0)
        its.it_value.tv_nsec = 1;  /* 0 would disarm the timer */
    t->src.kind = SRC_TIMER;
    t->src.timer_cb = cb;
    t->src.ctx = ctx;
    t->src.fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    if (t->src.fd < 0)
        goto out_free;
    if (timerfd_settime(t->src.fd, 0, &its, NULL) < 0 || add_src(l, &t->src, EPOLLIN) < 0)
        goto out_close;
    return t;

out_close:
    close(t->src.fd);
out_free:
    free(t);
    return NULL;
}

void eloop_del_timer(struct eloop *l, struct eloop_timer *t)
{
    if (!t || t->src.dead)
        return;
    close(t->src.fd);
    kill_src(l, &t->src);
}

int eloop_add_signal(struct eloop *l, int signo, eloop_signal_cb cb, void *ctx)
{
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &l->sig_src };
    int fd;

    if (l->nsigs == ELOOP_MAX_SIGNALS)
        return -ENOSPC;
    sigaddset(&l->sigmask, signo);
    if (pthread_sigmask(SIG_BLOCK, &l->sigmask, NULL) != 0)
        return -EINVAL;
    fd = signalfd(l->sig_src.fd, &l->sigmask, SFD_CLOEXEC | SFD_NONBLOCK);
    if (fd < 0)
        return -errno;
    if (l->sig_src.fd < 0) {
        l->sig_src.fd = fd;
        if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
            return -errno;
    }
    l->sigs[l->nsigs].signo = signo;
    l->sigs[l->nsigs].cb = cb;
    l->sigs[l->nsigs].ctx = ctx;
    l->nsigs++;
    return 0;
}

static void dispatch_signal(struct eloop *l)
{
    struct signalfd_siginfo si;

    while (read(l->sig_src.fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        for (int i = 0; i < l->nsigs; i++)
            if (l->sigs[i].signo == (int)si.ssi_signo)
                l->sigs[i].cb(l, (int)si.ssi_signo, l->sigs[i].ctx);
    }
}

int eloop_run(struct eloop *l)
{
    struct epoll_event evs[ELOOP_MAX_EVENTS];

    while (!l->quit) {
        int n = epoll_wait(l->epfd, evs, ELOOP_MAX_EVENTS, -1);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        for (int i = 0; i < n && !l->quit; i++) {
            struct eloop_src *s = evs[i].data.ptr;
            uint64_t v;

            if (s->dead)
                continue;
            switch (s->kind) {
            case SRC_FD:
                s->fd_cb(l, s->fd, evs[i].events, s->ctx);
                break;
            case SRC_TIMER:
                if (read(s->fd, &v, sizeof(v)) == (ssize_t)sizeof(v))
                    s->timer_cb(l, (struct eloop_timer *)s, s->ctx);
                break;
            case SRC_SIGNAL:
                dispatch_signal(l);
                break;
            case SRC_QUIT:
                (void)!read(s->fd, &v, sizeof(v));
                break;
            }
        }
        free_dead(l);
    }
    return 0;
}

void eloop_quit(struct eloop *l)
{
    uint64_t one = 1;

    l->quit = 1;
    (void)!write(l->quit_src.fd, &one, sizeof(one));
}
