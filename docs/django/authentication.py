"""DRF authentication class: the caller identity Gatehouse verified, as request.user / request.auth.

settings.py:

    REST_FRAMEWORK = {
        "DEFAULT_AUTHENTICATION_CLASSES": ["gatehouse.authentication.GatehouseAuthentication"],
    }
"""

from rest_framework import authentication, exceptions


class GatehouseUser:
    is_authenticated = True
    is_anonymous = False

    def __init__(self, principal, client, scopes):
        self.username = principal
        self.client = client
        self.scopes = frozenset(scopes)

    def __str__(self):
        return self.username


class GatehouseAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        identity = getattr(request._request, "gatehouse", None)
        if identity is None:
            # The middleware did not run: refuse rather than fall back to anonymous.
            raise exceptions.AuthenticationFailed("request not verified by GatehouseSignatureMiddleware")
        if not identity["principal"]:
            return None  # a public route (e.g. GET /health)
        user = GatehouseUser(identity["principal"], identity["client"], identity["scopes"])
        return (user, identity)
