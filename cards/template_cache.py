"""Compiled card templates kept between starts, in the user's cache directory.

Compiling a template (Jinja: lex, parse, generate Python, `compile`) costs a first help card about
15 ms of a cold start; loading the compiled code back costs about 1 ms. Like Python's own
`__pycache__`, this is only a cache: the rendered cards are the same with or without it.

* Where: `$XDG_CACHE_HOME/kivett/cards`, or `~/.cache/kivett/cards`; never the repository or the
  data directory. The directory must belong to this user and be writable by nobody else (the
  cache holds code that is run), else no cache is used.
* What a file is valid for: Jinja keys each file by the template's path and checks the template's
  source (a changed template is compiled again); the file name also carries a fingerprint of the
  Jinja and Python versions and of the environment's compile options, so code compiled under
  other options is never loaded.
* Failures: a cache that cannot be read, is damaged or cannot be written is passed over; the
  template is compiled as without a cache.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from jinja2 import FileSystemBytecodeCache
from jinja2 import __version__ as jinja_version

if TYPE_CHECKING:
    from jinja2 import Environment
    from jinja2.bccache import Bucket

PRIVATE_DIRECTORY = stat.S_IRWXU  # rwx------


def user_cache_dir(part: str = "cards", environ: Mapping[str, str] | None = None) -> Path | None:
    """`$XDG_CACHE_HOME/kivett/<part>` (default `~/.cache`), created if missing; None when it
    cannot be made or is not this user's own private directory. Also used for the parsed content
    files (bot.content_loader)."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_CACHE_HOME", "")
    try:
        root = Path(base) if base and os.path.isabs(base) else Path.home() / ".cache"
        directory = root / "kivett" / part
        directory.mkdir(mode=PRIVATE_DIRECTORY, parents=True, exist_ok=True)
        return directory if _private(directory) else None
    except (OSError, RuntimeError):  # no home directory, or not writable
        return None


def _private(directory: Path) -> bool:
    info = directory.lstat()
    return (
        stat.S_ISDIR(info.st_mode)  # not a symbolic link
        and info.st_uid == os.getuid()
        and stat.S_IMODE(info.st_mode) & (stat.S_IWGRP | stat.S_IWOTH) == 0
        and os.access(directory, os.W_OK)
    )


def fingerprint(env: Environment) -> str:
    """What the compiled code depends on besides the template's source."""
    finalize = getattr(env.finalize, "__qualname__", repr(env.finalize))
    options = (
        jinja_version,
        sys.version_info[:3],
        env.block_start_string,
        env.block_end_string,
        env.variable_start_string,
        env.variable_end_string,
        env.comment_start_string,
        env.comment_end_string,
        env.line_statement_prefix,
        env.line_comment_prefix,
        env.trim_blocks,
        env.lstrip_blocks,
        env.newline_sequence,
        env.keep_trailing_newline,
        env.optimized,
        getattr(env.autoescape, "__qualname__", env.autoescape),
        finalize,
        getattr(env.finalize, "jinja_pass_arg", None),  # pass_context and the like
        sorted(env.extensions),
        env.is_async,
    )
    return hashlib.sha256(repr(options).encode()).hexdigest()[:16]


class CardTemplateCache(FileSystemBytecodeCache):
    """Jinja's file cache, passed over on any trouble instead of failing a render."""

    def __init__(self, directory: Path, env: Environment) -> None:
        super().__init__(str(directory), f"kivett-{fingerprint(env)}-%s.cache")

    def load_bytecode(self, bucket: Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:  # unpickling a damaged file can raise almost anything
            bucket.reset()  # compiled again, and written over

    def dump_bytecode(self, bucket: Bucket) -> None:
        with contextlib.suppress(OSError):  # full or read-only: the next start compiles again
            super().dump_bytecode(bucket)
