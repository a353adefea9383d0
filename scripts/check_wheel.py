"""Check a built hotmess wheel: the package, its data files and the console script are inside it.

Usage: python scripts/check_wheel.py dist/hotmess-*.whl   (run by `make test` after building the wheel, so that
publishing is one `twine upload`).
"""

from __future__ import annotations

import sys
import zipfile

REQUIRED = (
    "hotmess/__init__.py",
    "hotmess/py.typed",
    "hotmess/cli/main.py",
    "hotmess/sampling/claims.py",
    "hotmess/report/html.py",
)


def main(paths: list[str]) -> int:
    if len(paths) != 1:
        print(f"error: expected one wheel, got {len(paths)}: {paths} (clean dist/ and rebuild)", file=sys.stderr)
        return 2
    with zipfile.ZipFile(paths[0]) as wheel:
        names = set(wheel.namelist())
        missing = [n for n in REQUIRED if n not in names]
        entry = next((n for n in names if n.endswith(".dist-info/entry_points.txt")), None)
        scripts = wheel.read(entry).decode() if entry else ""
    if missing:
        print(
            f"error: {paths[0]} lacks {', '.join(missing)} (check [tool.setuptools] in pyproject.toml)", file=sys.stderr
        )
        return 1
    if "hotmess = hotmess.cli.main:main" not in scripts:
        print(f"error: {paths[0]} has no `hotmess` console script (check [project.scripts])", file=sys.stderr)
        return 1
    print(f"wheel ok: {paths[0]} ({len(names)} files)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
