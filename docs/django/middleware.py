"""Django / Django REST Framework middleware that refuses requests not signed by Gatehouse.

settings.py:

    GATEHOUSE_SIGNING_SECRET = os.environ["GATEHOUSE_SIGNING_SECRET"]
    MIDDLEWARE = ["gatehouse.middleware.GatehouseSignatureMiddleware", *MIDDLEWARE]

Put it first, so nothing reads the body (or trusts X-Gatehouse-* headers) before it has run.
"""

from urllib.parse import unquote

from django.conf import settings
from django.http import JsonResponse

from .gatehouse_signature import signed_headers, verify


def raw_path_of(request):
    """The path exactly as sent (percent-encoded). Django's request.path is decoded, and a decoded
    %2F cannot be told from a /, so only the server's raw value will do."""
    scope = getattr(request, "scope", None)  # ASGI (uvicorn, daphne)
    if scope is not None and scope.get("raw_path"):
        return scope["raw_path"].decode("latin-1").split("?", 1)[0]
    for key in ("RAW_URI", "REQUEST_URI"):  # WSGI: gunicorn, uWSGI / mod_wsgi
        value = request.META.get(key)
        if value:
            return value.split("?", 1)[0]
    return None


def problem(reason):
    return JsonResponse(
        {
            "type": "https://gatehouse.dev/problems/" + reason,
            "title": "Request not signed by the gateway",
            "status": 401,
        },
        status=401,
        content_type="application/problem+json",
    )


class GatehouseSignatureMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.secret = settings.GATEHOUSE_SIGNING_SECRET
        if not self.secret or len(self.secret) < 32:
            raise RuntimeError("GATEHOUSE_SIGNING_SECRET must be set (at least 32 characters)")

    def __call__(self, request):
        raw_path = raw_path_of(request)
        if raw_path is None:
            return problem("signature_missing")
        raw_query = request.META.get("QUERY_STRING", "")
        headers = {name.lower(): value for name, value in request.headers.items()}
        reason = verify(self.secret, request.method, raw_path, raw_query, headers, request.body)
        if reason is not None:
            return problem(reason)
        # Identity headers are percent-encoded where needed; decode once, after verification.
        # "headers" holds the signed header parameters (e.g. idempotency-key): read them from here.
        request.gatehouse = {
            "client": unquote(headers.get("x-gatehouse-client", "")),
            "principal": unquote(headers.get("x-gatehouse-principal", "")),
            "scopes": unquote(headers.get("x-gatehouse-scopes", "")).split(),
            "headers": dict(signed_headers(headers)),
        }
        return self.get_response(request)
