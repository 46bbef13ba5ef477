"""OAuth2 bearer JWTs: RS256 with a JWKS URL in production, a shared HS256 secret in development."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

import httpx
import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from kit.errors import HTTPProblem
from kit.settings import Settings


class Role(StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    DISPATCHER = "dispatcher"
    TECHNICIAN = "technician"
    WAREHOUSE = "warehouse"
    WARRANTY_REVIEWER = "warranty_reviewer"
    FINANCE = "finance"
    DEALER = "dealer"
    PARTNER = "partner"
    ADMIN = "admin"


PARTNER_ROLES = frozenset({Role.DEALER, Role.PARTNER})


@dataclass(frozen=True)
class Principal:
    """Who is calling: subject, roles, and for dealers/partners the dealer they act for."""

    subject: str
    roles: frozenset[Role]
    dealer_id: str | None = None
    name: str | None = None
    claims: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_partner(self) -> bool:
        """A dealer/partner caller sees only its own dealer's data."""
        return bool(self.roles) and self.roles <= PARTNER_ROLES

    def has_any(self, roles: Iterable[Role]) -> bool:
        return Role.ADMIN in self.roles or bool(self.roles & set(roles))

    def may_see_dealer(self, dealer_id: str | None) -> bool:
        return not self.is_partner or (dealer_id is not None and dealer_id == self.dealer_id)

    @property
    def actor(self) -> str:
        return self.subject


#: How many verified tokens a process remembers (least recently used go first).
VERIFIED_TOKENS = 4096


class TokenVerifier:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._jwks: dict[str, jwt.PyJWK] = {}
        self._jwks_fetched = 0.0
        self._lock = asyncio.Lock()
        self._verified: OrderedDict[str, tuple[float, Principal]] = OrderedDict()

    async def verify(self, token: str) -> Principal:
        """The principal of a valid token. A client sends the same token with every request until it
        expires, so a token verified once is remembered (up to ``VERIFIED_TOKENS``, never past its
        ``exp``): checking the signature and claims again would find the same."""
        known = self._verified.get(token)
        if known is not None:
            if known[0] > time.time():
                self._verified.move_to_end(token)
                return known[1]
            del self._verified[token]
        principal = await self._verify(token)
        expires = principal.claims.get("exp")
        if isinstance(expires, int | float):
            self._verified[token] = (float(expires), principal)
            if len(self._verified) > VERIFIED_TOKENS:
                self._verified.popitem(last=False)
        return principal

    async def _verify(self, token: str) -> Principal:
        s = self._settings
        try:
            header = jwt.get_unverified_header(token)
            if s.jwt_jwks_url:
                key: Any = await self._key(header.get("kid"))
                algorithms = ["RS256", "ES256"]
            else:
                key = s.jwt_secret.get_secret_value()
                algorithms = ["HS256"]
            claims = jwt.decode(
                token,
                key,
                algorithms=algorithms,
                audience=s.jwt_audience,
                issuer=s.jwt_issuer,
                options={"require": ["exp", "sub"]},
                leeway=30,
            )
        except (jwt.PyJWTError, KeyError, ValueError) as exc:
            raise HTTPProblem(
                401,
                "invalid-token",
                f"The bearer token is not valid: {exc}",
                {"WWW-Authenticate": 'Bearer error="invalid_token"'},
            ) from exc
        raw_roles = claims.get("roles", [])
        if isinstance(raw_roles, str):
            raw_roles = raw_roles.split()
        roles = frozenset(Role(r) for r in raw_roles if r in Role._value2member_map_)
        dealer_id = claims.get("dealer_id")
        if roles and roles <= PARTNER_ROLES and not dealer_id:
            raise HTTPProblem(403, "dealer-id-missing", "A dealer or partner token must carry its dealer_id.")
        return Principal(str(claims["sub"]), roles, dealer_id, claims.get("name"), claims)

    async def _key(self, kid: str | None) -> jwt.PyJWK:
        if kid is None:
            raise KeyError("token has no kid")
        if kid not in self._jwks or time.monotonic() - self._jwks_fetched > 3600:
            async with self._lock:
                if kid not in self._jwks and time.monotonic() - self._jwks_fetched > 10:
                    await self._refresh()
        return self._jwks[kid]

    async def _refresh(self) -> None:
        assert self._settings.jwt_jwks_url
        async with httpx.AsyncClient(timeout=5) as client:
            response = await client.get(self._settings.jwt_jwks_url)
            response.raise_for_status()
        keys = jwt.PyJWKSet.from_dict(response.json())
        self._jwks = {k.key_id: k for k in keys.keys if k.key_id}
        self._jwks_fetched = time.monotonic()


def mint_token(
    settings: Settings,
    *,
    subject: str,
    roles: Iterable[str],
    dealer_id: str | None = None,
    name: str | None = None,
    ttl: timedelta = timedelta(hours=12),
) -> str:
    """A development HS256 token (the dev CLI and tests use it)."""
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "sub": subject,
        "roles": list(roles),
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
    }
    if dealer_id:
        claims["dealer_id"] = dealer_id
    if name:
        claims["name"] = name
    return jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm="HS256")


_bearer = HTTPBearer(auto_error=False, description="OAuth2 bearer JWT")


async def current_principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPProblem(401, "unauthorized", "A bearer token is required.", {"WWW-Authenticate": "Bearer"})
    verifier: TokenVerifier = request.app.state.runtime.verifier
    principal = await verifier.verify(credentials.credentials)
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require(*roles: Role) -> Callable[..., Any]:
    """A dependency that admits callers holding any of ``roles`` (admins always)."""

    async def check(principal: CurrentPrincipal) -> Principal:
        if not principal.has_any(roles):
            raise HTTPProblem(403, "forbidden", "Requires one of the roles: " + ", ".join(sorted(roles)))
        return principal

    return check
