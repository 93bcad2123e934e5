"""Streamlit entry point (`make run`): the Sightline app. The pages live in ``app/ui/views``.

See docs/app.md for what each role sees and how the app is tested.
"""

from __future__ import annotations

from app.ui.shell import main

main()
