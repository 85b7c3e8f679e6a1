"""The list of modules that define tables, for Alembic and the app."""

import importlib

TABLE_MODULES = (
    "keys.store",
    "keys.history",
    "audit.models",
    "accounts.models",
    "issuer.models",
    "wallet_web.models",
    "verifier.models",
    "wallet_web.sharing_models",
    "verifier.received_models",
    "workflows.models",
)


def import_all_models() -> None:
    """Import every table module so that ``SQLModel.metadata`` knows them all."""
    for name in TABLE_MODULES:
        importlib.import_module(name)
