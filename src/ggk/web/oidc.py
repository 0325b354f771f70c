"""OpenID Connect login (authorization code flow with PKCE, nonce and state) with authlib; the
ID token is verified with joserfc against the provider's JWKS (issuer, audience, nonce, expiry).

Who may log in is decided locally: an OIDC subject logs in as the account linked to it, or, the
first time, as the active account whose e-mail the provider asserts as verified (then linked).
Roles and memberships stay with the portal's accounts; the provider only proves who someone is.
"""

from __future__ import annotations

import secrets
import warnings
from dataclasses import dataclass, field
from typing import Any

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from ggk.web.interfaces import LoginRefused

with warnings.catch_warnings():  # authlib announces a move to "httpx2"; httpx is what we have
    import authlib.deprecate  # noqa: F401 - installs its own "always" filter; ours goes before

    warnings.simplefilter("ignore")
    from authlib.integrations.httpx_client import OAuth2Client


@dataclass
class OidcSettings:
    issuer: str
    client_id: str
    client_secret: str
    redirect_uri: str  # https://portal.example/inloggen/oidc/terug
    scope: str = "openid email profile"
    label: str = "Inloggen met uw organisatie-account"
    verify: bool | str = True  # TLS verification of the provider (CA file path for tests)
    _metadata: dict[str, Any] = field(default_factory=dict, repr=False)

    def metadata(self) -> dict[str, Any]:
        if not self._metadata:
            url = self.issuer.rstrip("/") + "/.well-known/openid-configuration"
            response = httpx.get(url, timeout=10, verify=self.verify)
            response.raise_for_status()
            self._metadata.update(response.json())
        return self._metadata


@dataclass(frozen=True)
class OidcIdentity:
    issuer: str
    subject: str
    email: str | None
    email_verified: bool
    name: str | None


def _client(settings: OidcSettings) -> OAuth2Client:
    return OAuth2Client(settings.client_id, settings.client_secret, scope=settings.scope,
                        redirect_uri=settings.redirect_uri, code_challenge_method="S256",
                        token_endpoint_auth_method="client_secret_basic",
                        verify=settings.verify, timeout=10)


def start(settings: OidcSettings) -> tuple[str, dict[str, str]]:
    """The provider's authorization URL and the values to keep in the session until the callback."""
    state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    verifier = secrets.token_urlsafe(48)
    with _client(settings) as client:
        url, _ = client.create_authorization_url(
            settings.metadata()["authorization_endpoint"], state=state, nonce=nonce,
            code_verifier=verifier)
    return url, {"state": state, "nonce": nonce, "verifier": verifier}


def finish(settings: OidcSettings, kept: dict[str, str], params: dict[str, str]) -> OidcIdentity:
    """Exchange the code from the callback and verify the ID token; LoginRefused on any problem."""
    if "error" in params:
        reason = params.get("error_description") or params["error"]
        raise LoginRefused(f"De inlogdienst weigerde: {reason}")
    if not kept or not params.get("state") or not secrets.compare_digest(
            params["state"], kept.get("state", "")):
        raise LoginRefused("Deze inlogpoging is verlopen of niet door u gestart. Probeer opnieuw.")
    metadata = settings.metadata()
    try:
        with _client(settings) as client:
            token = client.fetch_token(metadata["token_endpoint"], code=params.get("code", ""),
                                       code_verifier=kept["verifier"])
        keys = httpx.get(metadata["jwks_uri"], timeout=10, verify=settings.verify).json()
        decoded = jwt.decode(token["id_token"], KeySet.import_key_set(keys))
        jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": metadata["issuer"]},
            aud={"essential": True, "value": settings.client_id},
            nonce={"essential": True, "value": kept["nonce"]},
            sub={"essential": True},
        ).validate(decoded.claims)
        claims = dict(decoded.claims)
        if "email" not in claims and metadata.get("userinfo_endpoint"):
            info = httpx.get(metadata["userinfo_endpoint"], timeout=10, verify=settings.verify,
                             headers={"Authorization": f"Bearer {token['access_token']}"})
            info.raise_for_status()
            extra = info.json()
            if str(extra.get("sub")) == str(claims["sub"]):
                claims.update({k: v for k, v in extra.items() if k != "sub"})
    except (JoseError, KeyError, ValueError, httpx.HTTPError) as e:
        raise LoginRefused("Inloggen via de inlogdienst is mislukt; probeer het opnieuw.") from e
    except Exception as e:  # noqa: BLE001 - authlib's OAuth errors have no common base we import
        raise LoginRefused("Inloggen via de inlogdienst is mislukt; probeer het opnieuw.") from e
    return OidcIdentity(metadata["issuer"], str(claims["sub"]), claims.get("email"),
                        bool(claims.get("email_verified")), claims.get("name"))
