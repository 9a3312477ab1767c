"""Who is asking: users, roles, bearer tokens and the principal every request acts as."""

from guanghe.access.tokens import (
    MAX_TOKEN_PAGE,
    Principal,
    TokenView,
    authenticate,
    create_token,
    list_tokens,
    revoke_token,
)

__all__ = [
    "MAX_TOKEN_PAGE",
    "Principal",
    "TokenView",
    "authenticate",
    "create_token",
    "list_tokens",
    "revoke_token",
]
