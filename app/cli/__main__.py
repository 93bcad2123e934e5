"""``python -m app.cli`` runs the ``sightline`` command."""

from app.cli import main

main()
