/*
 * ctrl.h - the control socket: a UNIX stream socket, one request line per
 * connection ("status", "ping", ...), one reply, then close. harkctl is the
 * client. The socket is created mode 0660 (owner and group only).
 *
 * Threads: main thread only; the socket lives in the main event loop and a
 * slow or hostile client can never block it (non-blocking I/O, bounded
 * request size, a per-client deadline).
 */
#ifndef HARK_CTRL_H
#define HARK_CTRL_H

#include <stddef.h>

#include "eloop.h"

struct ctrl;

/* Handles one command line (without the newline). Writes a reply (text,
 * usually JSON, newline-terminated) into out; returns its length. */
typedef size_t (*ctrl_handler)(const char *line, char *out, size_t outlen, void *ctx);

/* Returns NULL and sets *err (-errno) on failure. */
struct ctrl *ctrl_create(struct eloop *loop, const char *path, ctrl_handler h, void *ctx, int *err);
void ctrl_destroy(struct ctrl *c);

#define CTRL_MAX_REQUEST 512
#define CTRL_MAX_REPLY 16384

#endif
