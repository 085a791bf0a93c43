/*
 * tls_pin.h - public-key pinning for the cloud connection: the SHA-256 of
 * the server certificate's SubjectPublicKeyInfo (DER), base64, as curl's
 * --pinnedpubkey "sha256//..." and HPKP use it.
 *
 * A pin is checked on top of normal verification (CA, name, dates), never
 * instead of it. libwebsockets' mbedtls backend gives the peer key only as
 * an "opaque" string (hex big numbers); tls_pin_spki_sha256() rebuilds the
 * key with mbedtls and writes the standard DER, so pins made with openssl
 * from the server certificate match.
 *
 * Threads: pure functions; called on the lws thread (check) and the main
 * thread (config parsing).
 */
#ifndef HARK_TLS_PIN_H
#define HARK_TLS_PIN_H

#include <stddef.h>
#include <stdint.h>

#define TLS_PIN_MAX 4

/* "sha256//B64[;sha256//B64...]" (the "sha256//" prefix optional, ';' or ','
 * between pins). Returns the number of pins (1..TLS_PIN_MAX) or -EINVAL. */
int tls_pin_parse(const char *spec, uint8_t pins[][32], int max);

/* SPKI SHA-256 from lws's LWS_TLS_CERT_INFO_OPAQUE_PUBLIC_KEY bytes for the
 * mbedtls backend: two NUL-terminated hex numbers, N then E (RSA) or X then
 * Y (EC P-256/384/521). 0, or -EINVAL if it is not a key we understand. */
int tls_pin_spki_sha256(const char *opaque, size_t len, uint8_t out[32]);

#endif
