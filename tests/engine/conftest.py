"""Engine fixtures: an Azurite whose account is named like the test spec's state backend account."""

import pytest

from tests.azurite import azurite_for_tests

BACKEND_ACCOUNT = "cmtfstate"      # tests/engine/specs/backend.yaml


@pytest.fixture(scope="module")
def azurite_backend():
    with azurite_for_tests(accounts=[BACKEND_ACCOUNT]) as server:
        yield server.account(BACKEND_ACCOUNT)


@pytest.fixture
def backend_settings(azurite_backend):
    """Sandbox settings that make the spec's storage account answer with Azurite's endpoint and key."""
    base = azurite_backend.account_url.rstrip("/").rsplit("/", 1)[0]
    return {"blob_endpoint_template": base + "/{name}/", "storage_account_key": azurite_backend.account_key,
            "blob_api_version": azurite_backend.api_version}
