"""Bearer tokens: a valid one is accepted (and remembered), anything tampered with or expired is refused
with 401 — also a token that was accepted while it was still valid."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from kit.auth import Role, TokenVerifier, mint_token
from kit.errors import HTTPProblem
from kit.settings import Settings

SETTINGS = Settings(environment="test")


async def test_a_valid_token_names_its_subject_and_roles_every_time() -> None:
    verifier = TokenVerifier(SETTINGS)
    token = mint_token(SETTINGS, subject="agent-7", roles=["agent"], name="Ana")
    first = await verifier.verify(token)
    again = await verifier.verify(token)
    assert (first.subject, first.roles, first.name) == ("agent-7", frozenset({Role.AGENT}), "Ana")
    assert again == first


async def test_a_tampered_token_is_refused_even_after_the_genuine_one_was_accepted() -> None:
    verifier = TokenVerifier(SETTINGS)
    token = mint_token(SETTINGS, subject="agent-7", roles=["agent"])
    await verifier.verify(token)
    head, _payload, signature = token.split(".")
    forged = mint_token(
        Settings(environment="test", jwt_secret="another-secret-" + "x" * 32),
        subject="boss",
        roles=["admin"],
    )
    with pytest.raises(HTTPProblem) as refused:
        await verifier.verify(f"{head}.{forged.split('.')[1]}.{signature}")
    assert refused.value.status == 401


async def test_an_expired_token_is_refused_even_if_it_was_accepted_before() -> None:
    verifier = TokenVerifier(SETTINGS)
    expired = mint_token(SETTINGS, subject="agent-7", roles=["agent"], ttl=-timedelta(minutes=5))
    with pytest.raises(HTTPProblem) as refused:
        await verifier.verify(expired)
    assert refused.value.status == 401
    # as if it had been accepted while valid: once its exp has passed, it is checked again and refused
    accepted = await verifier.verify(mint_token(SETTINGS, subject="agent-7", roles=["agent"]))
    verifier._verified[expired] = (time.time() - 1, accepted)
    with pytest.raises(HTTPProblem) as refused_again:
        await verifier.verify(expired)
    assert refused_again.value.status == 401
