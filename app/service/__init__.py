"""The inference service (``sightline serve``): FastAPI, per-user tokens, recorded predictions."""

from app.service.api import create_app

__all__ = ["create_app"]
