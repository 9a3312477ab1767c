"""Who is asking: users, roles, bearer tokens and the principal every request acts as."""

from guanghe.access.tokens import Principal, authenticate, create_token

__all__ = ["Principal", "authenticate", "create_token"]
