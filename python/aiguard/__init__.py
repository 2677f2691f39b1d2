"""aiguard: audit a project against the security checklist for paid AI APIs.

The wheel ships the `aiguard` binary (a Rust program) in the environment's
scripts directory; this package only finds it, for `python -m aiguard`.
"""

from aiguard._find_bin import find_aiguard_bin

__all__ = ["find_aiguard_bin"]
