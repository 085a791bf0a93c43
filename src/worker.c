/*
 * worker.c - thread lifecycle with a stop eventfd (see worker.h).
 */
#include "worker.h"

#include <errno.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

int worker_init(struct worker *w)
{
    w->started = false;
    w->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    return w->stop_fd < 0 ? -errno : 0;
}

int worker_start(struct worker *w, void *(*body)(void *), void *arg)
{
    int r = pthread_create(&w->thread, NULL, body, arg);

    if (r)
        return -r;
    w->started = true;
    return 0;
}

void worker_stop(struct worker *w)
{
    uint64_t one = 1;

    if (!w->started)
        return;
    (void)!write(w->stop_fd, &one, sizeof(one));
    pthread_join(w->thread, NULL);
    w->started = false;
}

void worker_destroy(struct worker *w)
{
    worker_stop(w);
    if (w->stop_fd >= 0)
        close(w->stop_fd);
    w->stop_fd = -1;
}
