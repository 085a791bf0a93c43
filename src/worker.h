/*
 * worker.h - a thread with a stop eventfd: the lifecycle shared by the
 * capture, playback and DSP threads.
 *
 * The thread body polls worker->stop_fd beside its own descriptors and
 * returns when it becomes readable. worker_init/start/stop/destroy run on the
 * main thread; stop wakes the body and joins it and is safe when the thread
 * was never started.
 */
#ifndef HARK_WORKER_H
#define HARK_WORKER_H

#include <pthread.h>
#include <stdbool.h>

struct worker {
    pthread_t thread;
    int stop_fd;       /* eventfd, readable once stop was asked for */
    bool started;
};

/* Returns 0 or -errno. */
int worker_init(struct worker *w);
int worker_start(struct worker *w, void *(*body)(void *), void *arg);
void worker_stop(struct worker *w);
/* Stops the thread if needed and closes the eventfd; accepts a zeroed or
 * half-initialised worker whose stop_fd is -1. */
void worker_destroy(struct worker *w);

#endif
