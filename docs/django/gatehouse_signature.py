"""Verification of Gatehouse request signatures (standard library only).

The request validator signs every request it forwards (see docs/request-validator.md,
"Request signatures"). A backend calls `verify` with what it received on the wire and refuses
the request unless it returns None. `signed_headers` then gives the header parameters the
signature covers: read declared headers (such as Idempotency-Key) from there, never from the
raw request headers.
"""

import hashlib
import hmac
import re
import time

SIGNATURE_VERSION = "v2"
MAX_SKEW_SECONDS = 300
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9a-z-]+$")


def string_to_sign(timestamp, method, path, query, client, principal, scopes, signed, body):
    """The canonical string: fields joined by newlines, then the signed header names joined by
    ";", one "name:value" line per signed header, and the body as its hex SHA-256."""
    body_hash = hashlib.sha256(body).hexdigest()
    return "\n".join(
        [
            "GATEHOUSE-HMAC-SHA256",
            timestamp,
            method.upper(),
            path,
            query,
            client,
            principal,
            scopes,
            ";".join(name for name, _ in signed),
            *(name + ":" + value for name, value in signed),
            body_hash,
        ]
    )


def signed_headers(headers):
    """The (name, value) pairs listed in X-Gatehouse-Signed-Headers, or None when one is missing."""
    listed = headers.get("x-gatehouse-signed-headers", "")
    pairs = []
    for name in listed.split(";") if listed else []:
        value = headers.get(name)
        if value is None or not _HEADER_NAME.match(name):
            return None
        pairs.append((name, value))
    return pairs


def verify(secret, method, raw_path, raw_query, headers, body, now=None):
    """Returns None when the signature is valid, else a reason string.

    secret:    the shared secret (str)
    method:    the HTTP method
    raw_path:  the path exactly as received, still percent-encoded (no query)
    raw_query: the query string exactly as received, without "?" ("" when none)
    headers:   a mapping with lower-case header names
    body:      the body bytes exactly as received (b"" when none)
    """
    timestamp = headers.get("x-gatehouse-timestamp")
    signature = headers.get("x-gatehouse-signature")
    if not timestamp or not signature or not timestamp.isdigit() or len(timestamp) > 12:
        return "signature_missing"
    now = int(time.time()) if now is None else now
    if abs(now - int(timestamp)) > MAX_SKEW_SECONDS:
        return "signature_expired"
    signed = signed_headers(headers)
    if signed is None:
        return "signature_mismatch"
    message = string_to_sign(
        timestamp,
        method,
        raw_path,
        raw_query,
        headers.get("x-gatehouse-client", ""),
        headers.get("x-gatehouse-principal", ""),
        headers.get("x-gatehouse-scopes", ""),
        signed,
        body,
    )
    mac = hmac.new(secret.encode("utf-8"), message.encode("utf-8"), hashlib.sha256).hexdigest()
    expected = SIGNATURE_VERSION + "=" + mac
    # Constant-time comparison: no timing oracle on the signature.
    if not hmac.compare_digest(expected.encode("ascii"), signature.encode("ascii", "replace")):
        return "signature_mismatch"
    return None
