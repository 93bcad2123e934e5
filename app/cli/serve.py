"""``sightline serve``: the inference service (FastAPI on uvicorn) on HOST:PORT."""

from __future__ import annotations

import click

from app.runtime import Runtime


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.pass_obj
def serve(rt: Runtime, host: str, port: int) -> None:
    """Serve /v1/predict/pd, /v1/risk, /v1/features/{entity}, /v1/ask, /v1/search (tokens)."""
    import uvicorn

    from app.service import create_app

    click.echo(f"serving on http://{host}:{port} (OpenAPI at /openapi.json)", err=True)
    config = uvicorn.Config(create_app(rt), host=host, port=port, log_level="warning")
    uvicorn.Server(config).run()
