"""mock_tls.py - the TLS server context shared by the mock cloud servers
(mock_cloud.py, token_server.py): TLS 1.2 or newer, like the real service,
with the certificate and key from tools/make-test-ca."""
import ssl
import sys


def server_context(cert, key, prog):
    """Returns an SSLContext, or None after printing why to stderr."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        ctx.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as e:
        print(f"{prog}: cannot load {cert} / {key}: {e}", file=sys.stderr)
        return None
    return ctx
