"""`--profile`'s arithmetic: py-spy's collapsed stacks or cProfile's stats, to shares of the time.

Kept apart from the running of profiles (`bench.profiling`) because it is pure: text in, rows out.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bench.errors import BenchError


@dataclass
class ProfileRow:
    function: str
    own: float  # share of profiled time spent in the function itself
    cumulative: float  # share of profiled time with the function on the stack


@dataclass
class Profile:
    tool: str
    samples: float
    rows: list[ProfileRow]
    by_module: list[tuple[str, float]]
    omitted: int = 0
    # The request's path through the layers: (frame, cumulative share, [(side branch, share)]).
    hot_path: list[tuple[str, float, list[tuple[str, float]]]] = field(default_factory=list)


# Frames on at least this share of the stacks (runpy, uvicorn.run, the asyncio runner) say nothing.
ENVELOPE_SHARE = 0.99


def short_path(location: str) -> str:
    """A file path relative to site-packages, the standard library or the measured tree."""
    path = location
    if "site-packages/" in path:
        path = path.split("site-packages/")[-1]
    elif "/mockserver/" in path:
        path = "mockserver/" + path.split("/mockserver/")[-1]
    elif "/python3." in path:  # the standard library
        path = path.split("/python3.", 1)[1].partition("/")[2]
    return path


def module_of(location: str) -> str:
    """A coarse layer name from a file path: `connexion.middleware.security`, `starlette.routing`…"""
    if location == "~":
        return "builtins"  # cProfile's C functions
    path = short_path(location)
    path = re.sub(r"\.py$", "", path).replace("<frozen ", "").rstrip(">")
    parts = [p for p in path.split("/") if p]
    if not parts:
        return location
    keep = 3 if parts[0] == "connexion" else 2
    if parts[0] in ("json", "asyncio", "uuid", "http", "email", "re", "enum", "typing", "abc", "functools"):
        keep = 1
    return ".".join(parts[:keep])


def parse_pyspy_raw(text: str, top: int) -> Profile:
    """Collapsed stacks (`f1;f2;…;fN count`, frames `func (file)`) to own / cumulative shares."""
    own: Counter[str] = Counter()
    cumulative: Counter[str] = Counter()
    modules: Counter[str] = Counter()
    stacks: list[tuple[str, int]] = []
    total = 0
    for line in text.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        stacks.append((stack, count))
        frames = stack.split(";")
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            cumulative[frame] += count
        leaf_file = frames[-1].rpartition("(")[2].rstrip(")")
        modules[module_of(leaf_file)] += count
    if not total:
        raise BenchError("py-spy recorded no samples")
    # Frames on (nearly) every stack are the interpreter's and uvicorn's entry points: no information.
    envelope = {frame for frame, count in cumulative.items() if count >= ENVELOPE_SHARE * total}
    ranked = sorted((f for f in cumulative if f not in envelope), key=lambda f: (-cumulative[f], -own[f]))
    by_own = sorted(own, key=lambda f: -own[f])
    chosen = list(dict.fromkeys(by_own[:top] + ranked[:top]))
    rows = [ProfileRow(f, own[f] / total, cumulative[f] / total) for f in chosen]
    by_module = [(name, count / total) for name, count in modules.most_common()]
    hot_path = heaviest_path([(s.split(";"), n) for s, n in stacks], total, envelope)
    return Profile("py-spy", total, rows, by_module, omitted=len(envelope), hot_path=hot_path)


def heaviest_path(
    stacks: list[tuple[list[str], int]], total: int, skip: set[str]
) -> list[tuple[str, float, list[tuple[str, float]]]]:
    """From the root, follow the heaviest child down: the middleware onion of a request, layer by
    layer. The drop from one layer to the next is what that layer costs itself; side branches
    over 1 % (a validator, the handler, the JSON encoder) are listed where they leave the path.
    """
    path: list[tuple[str, float, list[tuple[str, float]]]] = []
    prefix: list[str] = []
    while True:
        children: Counter[str] = Counter()
        depth = len(prefix)
        for frames, count in stacks:
            if len(frames) > depth and frames[:depth] == prefix:
                children[frames[depth]] += count
        if not children:
            return path
        (child, count), *others = children.most_common()
        if count < 0.01 * total:
            return path
        prefix.append(child)
        branches = [(name, n / total) for name, n in others if n >= 0.01 * total]
        if child not in skip:
            path.append((child, count / total, branches))


def parse_cprofile(stats_path: Path, top: int) -> Profile:
    """pstats to the same shape; cumulative of coroutines counts only their on-CPU slices."""
    import pstats

    stats = pstats.Stats(str(stats_path))
    entries = stats.stats  # type: ignore[attr-defined]
    total = sum(tt for (_cc, _nc, tt, _ct, _callers) in entries.values()) or 1.0
    rows = []
    modules: Counter[str] = Counter()
    for (filename, line, name), (_cc, _nc, tt, ct, _callers) in entries.items():
        label = f"{name} ({short_path(filename)}:{line})" if filename != "~" else name
        rows.append(ProfileRow(label, tt / total, min(ct / total, 1.0)))
        modules[module_of(filename)] += tt
    by_own = sorted(rows, key=lambda r: -r.own)[:top]
    envelope = [r for r in rows if r.cumulative >= ENVELOPE_SHARE]
    by_cum = sorted((r for r in rows if r.cumulative < ENVELOPE_SHARE), key=lambda r: -r.cumulative)[:top]
    chosen = list({id(r): r for r in by_own + by_cum}.values())
    by_module = [(name, seconds / total) for name, seconds in modules.most_common()]
    return Profile("cProfile", total, chosen, by_module, omitted=len(envelope))
