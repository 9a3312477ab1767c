"""HTTP adapter: FastAPI routers per capability, bearer auth and problem+json errors."""

from guanghe.api.app import create_app, serve, serve_workers

__all__ = ["create_app", "serve", "serve_workers"]
