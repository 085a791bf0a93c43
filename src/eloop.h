/*
 * eloop.h - the main event loop: one epoll set owning every control fd.
 *
 * File descriptors (control socket, eventfds posted by the audio threads,
 * button input later), periodic/one-shot timers (timerfd) and signals
 * (signalfd; the signals are blocked in every thread) are all dispatched
 * from eloop_run() on the main thread. Handlers run one at a time, never
 * concurrently, and must not block.
 *
 * Threads: everything here is main-thread only, except eloop_quit(), which
 * is safe from any thread (it writes an eventfd).
 */
#ifndef HARK_ELOOP_H
#define HARK_ELOOP_H

#include <stdint.h>

struct eloop;
struct eloop_timer;

typedef void (*eloop_fd_cb)(struct eloop *l, int fd, uint32_t events, void *ctx);
typedef void (*eloop_timer_cb)(struct eloop *l, struct eloop_timer *t, void *ctx);
typedef void (*eloop_signal_cb)(struct eloop *l, int signo, void *ctx);

struct eloop *eloop_create(void);
void eloop_destroy(struct eloop *l);

/* events: EPOLLIN/EPOLLOUT... Returns 0 or -errno. */
int eloop_add_fd(struct eloop *l, int fd, uint32_t events, eloop_fd_cb cb, void *ctx);
int eloop_mod_fd(struct eloop *l, int fd, uint32_t events);
void eloop_del_fd(struct eloop *l, int fd);

/* First expiry after first_ms, then every interval_ms (0 = one-shot). */
struct eloop_timer *eloop_add_timer(struct eloop *l, unsigned first_ms, unsigned interval_ms,
                                    eloop_timer_cb cb, void *ctx);
void eloop_del_timer(struct eloop *l, struct eloop_timer *t);

/* Blocks signo in the calling thread (call before starting other threads so
 * they inherit the mask) and delivers it through the loop. */
int eloop_add_signal(struct eloop *l, int signo, eloop_signal_cb cb, void *ctx);

/* Runs until eloop_quit(). Returns 0, or -errno if epoll itself failed. */
int eloop_run(struct eloop *l);
void eloop_quit(struct eloop *l);

#endif
