/*
 * cloud_auth.h - credentials for the cloud session.
 *
 * Production: harkd never holds a long-lived API key. It mints a
 * short-lived client secret (OpenAI's "ek_..." ephemeral key, 10-7200 s)
 * from the vendor's backend: an HTTPS POST to the token URL, authenticated
 * with this device's own credential (a per-device token file), answered with
 * {"value":"ek_...","expires_at":<unix s>, ...} as OpenAI's
 * /v1/realtime/client_secrets returns it. Development fallback: an API key
 * file, accepted only when it is a regular file readable by its owner alone
 * (mode 0600 or 0400).
 *
 * Nothing here logs; no function ever puts a secret into an error message.
 * Threads: the network thread (minting blocks it for at most timeout_s,
 * before a connection attempt) or any thread for the file loaders.
 */
#ifndef HARK_CLOUD_AUTH_H
#define HARK_CLOUD_AUTH_H

#include <stddef.h>
#include <stdint.h>

#define CLOUD_SECRET_MAX 4096

struct cloud_secret {
    char value[CLOUD_SECRET_MAX];
    int64_t expires_at;            /* unix seconds, 0 = unknown */
};

/* Reads a secret from a file: one line, printable ASCII, no spaces. Refuses
 * files that group or others can read or write (-EPERM) and non-regular
 * files. err gets a message naming the file, never its content. */
int cloud_auth_read_secret_file(const char *path, struct cloud_secret *out, char *err, size_t errlen);

/* POSTs to token_url (https://host[:port]/path) with "Authorization: Bearer
 * <device credential>" and an optional JSON body, verifying the server
 * against ca_file, and parses {"value":..., "expires_at":...} (also accepted
 * nested as {"client_secret":{"value":...,"expires_at":...}}).
 * Returns 0, -EACCES (401/403), -EKEYREJECTED (server certificate not
 * accepted), -EPROTO (bad reply), -ETIMEDOUT, -ECONNREFUSED or another
 * -errno, with err describing it. */
int cloud_auth_mint(const char *token_url, const char *ca_file, const struct cloud_secret *device_cred,
                    const char *body_json, unsigned timeout_s, struct cloud_secret *out, char *err,
                    size_t errlen);

/* Wipes a secret (explicit_bzero). */
void cloud_secret_clear(struct cloud_secret *s);

#endif
