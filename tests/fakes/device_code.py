"""A stand-in for azure-identity's `DeviceCodeCredential`: no Entra, no person.

Like the real one it is synchronous, calls the prompt callback with the address, the code and
when the code expires the first time a token is asked for, then hands out a token (one the fake
Graph accepts) from its cache. It can fail the way Entra does, with a ClientAuthenticationError
that carries an AADSTS code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from azure.core.credentials import AccessToken
from azure.core.exceptions import ClientAuthenticationError

from bot.operator.sharepoint import PromptCallback
from tests.fakes.graph import FAKE_TOKEN

__all__ = ["DEVICE_LOGIN", "USER_CODE", "FakeDeviceCode"]

DEVICE_LOGIN = "https://microsoft.com/devicelogin"
USER_CODE = "KVT7-QX2L"
CODE_EXPIRES = datetime(2026, 3, 2, 12, 15, tzinfo=UTC)


@dataclass
class FakeDeviceCode:
    """The factory `PersonSignIn.make_credential` takes; it remembers what it was asked."""

    token: str = FAKE_TOKEN
    error: str | None = None  # the message of a ClientAuthenticationError to raise instead
    made: list[tuple[str, str]] = field(default_factory=list)  # (tenant id, client id)
    credentials: list[FakeDeviceCodeCredential] = field(default_factory=list)

    def __call__(
        self, tenant_id: str, client_id: str, prompt: PromptCallback
    ) -> FakeDeviceCodeCredential:
        self.made.append((tenant_id, client_id))
        credential = FakeDeviceCodeCredential(prompt, self.token, self.error)
        self.credentials.append(credential)
        return credential


class FakeDeviceCodeCredential:
    def __init__(self, prompt: PromptCallback, token: str, error: str | None) -> None:
        self._prompt = prompt
        self._token = token
        self._error = error
        self.prompts = 0
        self.scopes: list[tuple[str, ...]] = []
        self.closed = False

    def get_token(
        self,
        *scopes: str,
        claims: str | None = None,
        tenant_id: str | None = None,
        enable_cae: bool = False,
        **kwargs: Any,
    ) -> AccessToken:
        self.scopes.append(scopes)
        if self.prompts == 0:
            self.prompts += 1
            self._prompt(DEVICE_LOGIN, USER_CODE, CODE_EXPIRES)
        if self._error is not None:
            raise ClientAuthenticationError(message=self._error)
        return AccessToken(self._token, int((CODE_EXPIRES + timedelta(days=3650)).timestamp()))

    def close(self) -> None:
        self.closed = True
