"""What an Azure SDK client needs to talk to a sandbox: a credential, the endpoint and the CA.

Why: the same wiring serves a sandbox in this process (`Sandbox`) and one running elsewhere (`RemoteSandbox`);
every azure-mgmt client takes `base_url`, `credential_scopes` and `connection_verify`.
"""

from __future__ import annotations

import inspect
import time
from typing import Any

from azure.core.credentials import AccessToken, AccessTokenInfo

TOKEN_LIFETIME_S = 24 * 3600


class StaticCredential:
    """A token credential that always succeeds (the sandbox only checks that a bearer token is sent)."""

    def __init__(self, token: str = "sandbox-token"):
        self.token = token

    def get_token(self, *scopes: str, claims: str | None = None, tenant_id: str | None = None,
                  enable_cae: bool = False, **kwargs: Any) -> AccessToken:
        return AccessToken(self.token, int(time.time()) + TOKEN_LIFETIME_S)

    def get_token_info(self, *scopes: str, options: dict | None = None) -> AccessTokenInfo:
        return AccessTokenInfo(self.token, int(time.time()) + TOKEN_LIFETIME_S)

    def close(self) -> None:
        return None

    def __enter__(self) -> StaticCredential:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


class ClientFactory:
    """Mixin: needs `base_url`, `ca_file`, `subscription_id` and `credential`."""

    base_url: str
    ca_file: str
    subscription_id: str
    credential: StaticCredential

    def client_kwargs(self) -> dict:
        """Keyword arguments that point any azure-core client at the sandbox."""
        return {"base_url": self.base_url, "credential_scopes": [self.base_url + "/.default"],
                "connection_verify": self.ca_file}

    def client(self, client_class: type, **kwargs: Any) -> Any:
        """An azure-mgmt client bound to the sandbox (extra kwargs go to the client)."""
        opts = {**self.client_kwargs(), **kwargs}
        if "subscription_id" in inspect.signature(client_class.__init__).parameters:
            return client_class(self.credential, self.subscription_id, **opts)
        return client_class(self.credential, **opts)

    def info(self) -> dict:
        return {"base_url": self.base_url, "ca_file": self.ca_file, "subscription_id": self.subscription_id,
                "tenant_id": getattr(self, "tenant_id", "")}
