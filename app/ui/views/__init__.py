"""One module per page of the app; each exposes ``render(rt, user)``."""
