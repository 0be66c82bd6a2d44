#!/usr/bin/env python3
"""Lists import cycles between the crate's modules.

Reads every `use crate::…`, `crate::…` path and `super::…` path in src/,
builds the graph "module A names module B" at two levels (top-level
modules such as `db`, `service`, `api`; and files inside them such as
`db::council`), and prints each strongly connected component with more
than one member. Exit status 1 when there is one. Run from the repo root:
    python3 scripts/module-cycles.py
"""
import pathlib
import re
import sys

SRC = pathlib.Path("src")
ITEM = re.compile(r"\b(crate|super)((?:::[a-z_][a-z0-9_]*)+)")


def module_of(path: pathlib.Path) -> list[str]:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return parts


def known_modules() -> set[tuple[str, ...]]:
    return {tuple(module_of(p)) for p in SRC.rglob("*.rs")}


def edges(level: int):
    mods = known_modules()
    graph: dict[str, set[str]] = {}
    for path in SRC.rglob("*.rs"):
        me = module_of(path)
        text = re.sub(r"//[^\n]*", "", path.read_text())
        # `use crate::db::{a, b}` names a and b as well as db.
        for m in re.finditer(r"\b(crate|super)((?:::[a-z_][a-z0-9_]*)*)::\{([^}]*)\}", text):
            base = resolve(me, m.group(1), m.group(2), path)
            for name in re.findall(r"\b([a-z_][a-z0-9_]*)\b", m.group(3)):
                add(graph, me, base + [name], mods, level)
        for m in ITEM.finditer(text):
            add(graph, me, resolve(me, m.group(1), m.group(2), path), mods, level)
    return graph


def resolve(me, root, rest, path):
    names = [n for n in rest.split("::") if n]
    if root == "crate":
        return names
    base = me if path.name == "mod.rs" else me[:-1]
    while names and names[0] == "super":
        names = names[1:]
        base = base[:-1]
    return base + names


def add(graph, me, target, mods, level):
    # The longest known module the path names.
    for n in range(len(target), 0, -1):
        if tuple(target[:n]) in mods:
            target = target[:n]
            break
    else:
        return
    a, b = "::".join(me[:level]), "::".join(target[:level])
    if len(me) < level or len(target) < level or a == b:
        return
    if level == 2 and me[0] != target[0]:
        return
    graph.setdefault(a, set()).add(b)


def components(graph):
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in list(graph):
        if v not in index:
            visit(v)
    return out


found = False
for level, what in ((1, "top-level modules"), (2, "files within one module")):
    cycles = components(edges(level))
    print(f"{what}: {len(cycles)} cycle(s)")
    for c in cycles:
        found = True
        print("  " + " <-> ".join(c))
sys.exit(1 if found else 0)
