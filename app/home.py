"""The data directory (``SIGHTLINE_HOME``) is private to the account that runs Sightline.

It holds the private-side documents, their vectors, the answer trail and the password hashes, and
anyone who can run the CLI as its owner can act as any user (docs/security.md). So, like ssh with a
key file: the process creates everything owner-only (umask 077: folders 0700, files 0600), and
start-up refuses a directory that group or others can read, write or enter, or that another
account owns, unless ``SIGHTLINE_ALLOW_SHARED_HOME`` says the deployment manages access itself.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ingestion.errors import ConfigError

PRIVATE_UMASK = 0o077


def use_private_umask() -> None:
    """Make every file and folder this process creates owner-only (0600 files, 0700 folders)."""
    os.umask(PRIVATE_UMASK)


def prepare_home(home: Path, *, allow_shared: bool = False) -> Path:
    """Create ``home`` (0700) if it does not exist; refuse one that others can reach.

    Args:
        home: the data directory from the settings.
        allow_shared: the ``SIGHTLINE_ALLOW_SHARED_HOME`` setting; skips the permission check.

    Returns:
        ``home``.

    Raises:
        ConfigError: the directory is open to group or others, is owned by another account, or is
            not a directory; the hint gives the exact command that fixes it.
    """
    home = Path(home)
    try:
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = home.stat()
    except OSError as exc:
        raise ConfigError(
            f"cannot create the data directory {home}: {exc.strerror}",
            hint="set SIGHTLINE_HOME to a directory this account may create",
        ) from exc
    if not stat.S_ISDIR(info.st_mode):
        raise ConfigError(
            f"the data directory {home} is not a directory",
            hint="set SIGHTLINE_HOME to a directory",
        )
    if allow_shared:
        return home
    where = str(home.resolve())
    if info.st_uid != os.geteuid():
        raise ConfigError(
            f"the data directory {where} belongs to another account (uid {info.st_uid}); "
            "Sightline uses only a data directory owned by the account that runs it",
            hint=f"run Sightline as its owner, or `chown -R {os.geteuid()} {where}`; "
            "SIGHTLINE_ALLOW_SHARED_HOME=true skips this check",
        )
    if info.st_mode & 0o077:
        raise ConfigError(
            f"permissions {stat.S_IMODE(info.st_mode):04o} for the data directory {where} are "
            "too open: it holds private documents, the answer trail and password hashes, and "
            "other accounts must not be able to read or change them",
            hint=f"run `chmod -R go-rwx {where}` (a directory made by an older Sightline was "
            "0755); SIGHTLINE_ALLOW_SHARED_HOME=true skips this check",
        )
    return home
