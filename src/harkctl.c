/*
 * harkctl.c - command-line client for harkd's control socket.
 *
 * Sends one command line, prints the reply. Exit 0 on a reply, 1 when harkd
 * cannot be reached or answers with an error object, 2 on bad usage.
 * `harkctl transcript -f` follows the transcript: it polls "transcript SINCE"
 * every 250 ms and prints each new line as "role: text" until interrupted.
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

#include <cjson/cJSON.h>

#ifndef HARK_VERSION
#define HARK_VERSION "0.0.0-dev"
#endif

#define REPLY_MAX 65536

static void usage(FILE *f)
{
    fprintf(f, "usage: harkctl [-s SOCKET] COMMAND [ARGS...]\n"
               "  -s SOCKET   control socket (default $HARK_CTRL_SOCKET or /run/hark/ctrl.sock)\n"
               "commands:\n"
               "  ping, version, status, metrics      health, state, levels, talker direction, latencies\n"
               "  wake, sleep, end-turn, interrupt    start, drop or end a turn; stop the answer\n"
               "  press, release                      the button (the same gestures as the real one)\n"
               "  mute, unmute                        microphone privacy mute\n"
               "  volume [0..100]                     answer volume, get or set\n"
               "  transcript [SINCE], transcript -f   captions / transcripts; -f follows new lines\n");
}

/* One request, the whole reply into buf (NUL-terminated). 0, or 1 with a
 * message on stderr. */
static int request(const char *path, const char *req, size_t len, char *buf, size_t cap)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    size_t got = 0;
    int fd;

    if (strlen(path) >= sizeof(sa.sun_path)) {
        fprintf(stderr, "harkctl: socket path too long: %s\n", path);
        return 1;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        fprintf(stderr, "harkctl: cannot reach harkd at %s: %s\n", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return 1;
    }
    if (write(fd, req, len) != (ssize_t)len) {
        fprintf(stderr, "harkctl: write: %s\n", strerror(errno));
        close(fd);
        return 1;
    }
    for (;;) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        ssize_t n;
        if (poll(&pfd, 1, 5000) <= 0) {
            fprintf(stderr, "harkctl: no answer from harkd within 5 s\n");
            close(fd);
            return 1;
        }
        n = read(fd, buf + got, cap - 1 - got);
        if (n <= 0)
            break;
        got += (size_t)n;
        if (got == cap - 1)
            break;
    }
    buf[got] = '\0';
    close(fd);
    return 0;
}

/* transcript -f: poll and print new lines; returns only on an error. */
static int follow(const char *path, char *buf)
{
    unsigned long long since = 0;

    for (;;) {
        char req[64];
        int len = snprintf(req, sizeof(req), since ? "transcript %llu\n" : "transcript\n", since);
        cJSON *root, *lines, *it;
        if (request(path, req, (size_t)len, buf, REPLY_MAX))
            return 1;
        root = cJSON_Parse(buf);
        lines = cJSON_GetObjectItem(root, "lines");
        if (!root || !cJSON_IsArray(lines) || !cJSON_IsNumber(cJSON_GetObjectItem(root, "next"))) {
            fprintf(stderr, "harkctl: unexpected reply: %s", buf);
            cJSON_Delete(root);
            return 1;
        }
        if (cJSON_GetObjectItem(root, "lost") && cJSON_GetObjectItem(root, "lost")->valuedouble > 0)
            printf("[%.0f lines missed]\n", cJSON_GetObjectItem(root, "lost")->valuedouble);
        cJSON_ArrayForEach(it, lines) {
            cJSON *role = cJSON_GetObjectItem(it, "role"), *text = cJSON_GetObjectItem(it, "text");
            if (cJSON_IsString(role) && cJSON_IsString(text))
                printf("%s: %s\n", role->valuestring, text->valuestring);
        }
        fflush(stdout);
        since = (unsigned long long)cJSON_GetObjectItem(root, "next")->valuedouble;
        cJSON_Delete(root);
        usleep(250000);
    }
}

int main(int argc, char **argv)
{
    const char *path = getenv("HARK_CTRL_SOCKET");
    char req[512], *buf;
    size_t len = 0;
    int i = 1, rc;

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
    buf = malloc(REPLY_MAX);
    if (!buf)
        return 1;
    if (i + 2 == argc && !strcmp(argv[i], "transcript") && !strcmp(argv[i + 1], "-f")) {
        rc = follow(path, buf);
        free(buf);
        return rc;
    }
    for (; i < argc; i++) {
        int w = snprintf(req + len, sizeof(req) - len, "%s%s", len ? " " : "", argv[i]);
        if (w < 0 || (size_t)w >= sizeof(req) - len - 1) {
            fprintf(stderr, "harkctl: command too long\n");
            free(buf);
            return 2;
        }
        len += (size_t)w;
    }
    req[len++] = '\n';
    rc = request(path, req, len, buf, REPLY_MAX);
    if (!rc) {
        fputs(buf, stdout);
        if (!strncmp(buf, "{\"error\"", 8))
            rc = 1;
    }
    free(buf);
    return rc;
}
