"""Summarise a py-spy profile (`python -m bench.run --profile lifecycle` writes
var/bench/profile-<scenario>.txt, collapsed stacks of every gunicorn worker, and
profile-<scenario>-worker.txt, those of the Celery worker's processes).

    python -m bench.profile var/bench/profile-lifecycle.txt [--top 25]

Prints where the CPU goes: the share of samples under each of the project's own
functions (inclusive), under each library (inclusive), and the hottest leaf
functions (exclusive).
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^:()]+)(?::(?P<line>\d+))?\)$")
LIBS = ("django/db", "django/template", "django/core/handlers", "django/middleware", "django/contrib", "django/urls",
        "rest_framework", "psycopg2", "allauth", "drf_spectacular", "weasyprint", "cryptography", "rfc8785",
        "celery", "kombu", "redis", "gunicorn", "json", "django/utils", "django/http", "django/views")


def _frames(stack: str) -> list[tuple[str, str]]:
    out = []
    for part in stack.split(";"):
        m = FRAME.match(part.strip())
        if m:
            out.append((m["func"], m["file"]))
    return out


ROOT = Path(__file__).resolve().parent.parent
# The repository's packages: py-spy writes paths relative to sys.path
# ("payments/services/notifications.py", "celery/bin/celery.py"), so a library
# is not told apart by "site-packages" in its path.
PACKAGES = {p.name for p in ROOT.iterdir() if (p / "__init__.py").exists()}


def _is_project(file: str) -> bool:
    if not file.endswith(".py") or "site-packages" in file or "/lib/python" in file:
        return False
    if file.startswith("/"):
        return file.startswith(str(ROOT)) or file.startswith("/work/main/")
    return file.split("/", 1)[0] in PACKAGES


def summarise(path: Path, top: int = 25) -> str:
    own: Counter[str] = Counter()
    libs: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    total = 0
    for raw in path.read_text(errors="replace").splitlines():
        stack, _sep, count = raw.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        frames = _frames(stack)
        if not frames:
            continue
        total += n
        seen_own, seen_lib = set(), set()
        for func, file in frames:
            if _is_project(file):
                key = f"{file.split('/work/main/')[-1]}:{func}"
                if key not in seen_own:
                    seen_own.add(key)
                    own[key] += n
            for lib in LIBS:
                if lib in file and lib not in seen_lib:
                    seen_lib.add(lib)
                    libs[lib] += n
        func, file = frames[-1]
        leaves[f"{func} ({file.split('site-packages/')[-1]})"] += n
    if not total:
        return "no samples"
    lines = [f"{total} samples", "", "Project functions (inclusive):"]
    lines += [f"  {100 * c / total:5.1f}%  {k}" for k, c in own.most_common(top)]
    lines += ["", "Libraries (inclusive):"]
    lines += [f"  {100 * c / total:5.1f}%  {k}" for k, c in libs.most_common()]
    lines += ["", "Hottest leaf functions (exclusive):"]
    lines += [f"  {100 * c / total:5.1f}%  {k}" for k, c in leaves.most_common(top)]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("path", type=Path)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    print(summarise(args.path, args.top))


if __name__ == "__main__":
    main()
