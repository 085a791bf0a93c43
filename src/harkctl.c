/*
 * harkctl.c - command-line client for harkd's control socket.
 *
 * Sends one command line, prints the reply. Exit 0 on a reply, 1 when harkd
 * cannot be reached or answers with an error object, 2 on bad usage.
 * Single-threaded; runs as its own process.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef HARK_VERSION
#define HARK_VERSION "0.0.0-dev"
#endif

static void usage(FILE *f)
{
    fprintf(f, "usage: harkctl [-s SOCKET] COMMAND [ARGS...]\n"
               "  -s SOCKET   control socket (default $HARK_CTRL_SOCKET or /run/hark/ctrl.sock)\n"
               "commands: ping, status, version\n");
}

int main(int argc, char **argv)
{
    const char *path = getenv("HARK_CTRL_SOCKET");
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    char req[512], buf[4096];
    size_t len = 0;
    int fd, i = 1, rc = 0;
    ssize_t n;

    if (!path || !*path)
        path = "/run/hark/ctrl.sock";
    if (i < argc && (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))) {
        usage(stdout);
        return 0;
    }
    if (i < argc && !strcmp(argv[i], "--version")) {
        printf("harkctl %s\n", HARK_VERSION);
        return 0;
    }
    if (i + 1 < argc && !strcmp(argv[i], "-s")) {
        path = argv[i + 1];
        i += 2;
    }
    if (i >= argc) {
        usage(stderr);
        return 2;
    }
    for (; i < argc; i++) {
        int w = snprintf(req + len, sizeof(req) - len, "%s%s", len ? " " : "", argv[i]);
        if (w < 0 || (size_t)w >= sizeof(req) - len - 1) {
            fprintf(stderr, "harkctl: command too long\n");
            return 2;
        }
        len += (size_t)w;
    }
    req[len++] = '\n';
    if (strlen(path) >= sizeof(sa.sun_path)) {
        fprintf(stderr, "harkctl: socket path too long: %s\n", path);
        return 2;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        fprintf(stderr, "harkctl: cannot reach harkd at %s: %s\n", path, strerror(errno));
        return 1;
    }
    if (write(fd, req, len) != (ssize_t)len) {
        fprintf(stderr, "harkctl: write: %s\n", strerror(errno));
        close(fd);
        return 1;
    }
    for (;;) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        if (poll(&pfd, 1, 5000) <= 0) {
            fprintf(stderr, "harkctl: no answer from harkd within 5 s\n");
            rc = 1;
            break;
        }
        n = read(fd, buf, sizeof(buf));
        if (n <= 0)
            break;
        if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
            rc = 1;
        if (!strncmp(buf, "{\"error\"", 8))
            rc = 1;
    }
    close(fd);
    return rc;
}
