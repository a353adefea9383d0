"""How to install an optional extra, said the same way in every error hint.

hotmess is installed from a clone (it is not published on PyPI yet), so hints give the command that works there.
"""

from __future__ import annotations

__all__ = ["install_hint"]


def install_hint(extras: str) -> str:
    """The install command for ``extras`` (e.g. ``"inspect"`` or ``"synthetic,plot"``).

    Examples
    --------
    >>> install_hint("plot")
    "install it: pip install -e '.[plot]' in your hotmess clone"
    """
    return f"install it: pip install -e '.[{extras}]' in your hotmess clone"
