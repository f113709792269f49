#!/usr/bin/env python3
"""Fails when the top-level modules of src/ import each other in a cycle.

A top-level module is src/NAME.rs or src/NAME/ (lib.rs, the crate root, is not one; src/bin/
holds binaries, crates of their own). Module A
depends on B when a file of A names `crate::B` (in a `use` or a path); comments and string
literals are skipped. The dependencies must form a DAG: exports -> fronts -> engine, everything
-> abi. Prints the graph, and every cycle found (one per strongly connected component).

usage: tools/check_module_cycles.py [SRC_DIR]   (default: src)
"""
import os
import re
import sys

src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "src")


def modules(src):
    found = {}
    for entry in sorted(os.listdir(src)):
        path = os.path.join(src, entry)
        if entry == "bin":
            continue
        if os.path.isdir(path):
            files = [os.path.join(d, f) for d, _, fs in os.walk(path) for f in fs if f.endswith(".rs")]
            found[entry] = sorted(files)
        elif entry.endswith(".rs") and entry != "lib.rs":
            found[entry[:-3]] = [path]
    return found


def code_only(text):
    """The text without comments and string literals (Rust's, roughly: enough for paths)."""
    out, i, n = [], 0, len(text)
    while i < n:
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = n if j < 0 else j + 2
        elif text[i] == '"' and not text[max(0, i - 1)].isalnum():
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append('""')
            i = j + 1
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def dependencies(mods):
    graph = {m: set() for m in mods}
    for m, files in mods.items():
        for f in files:
            with open(f, encoding="utf-8") as fh:
                code = code_only(fh.read())
            # `crate::x`, and `use crate::{x, y::z}`.
            for target in re.findall(r"\bcrate::(\w+)", code):
                graph[m].add(target)
            for group in re.findall(r"\bcrate::\{([^}]*)\}", code):
                graph[m].update(re.findall(r"(?:^|,)\s*(\w+)", group))
        graph[m] = {t for t in graph[m] if t in mods and t != m}
    return graph


def cycles(graph):
    """Tarjan's strongly connected components with more than one module."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
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

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def main():
    mods = modules(src)
    graph = dependencies(mods)
    for m in sorted(graph):
        print(f"  {m} -> {', '.join(sorted(graph[m])) or '(nothing)'}")
    found = cycles(graph)
    for comp in found:
        edges = [f"{a} -> {b}" for a in comp for b in sorted(graph[a]) if b in comp]
        print(f"cycle between {', '.join(comp)}: {'; '.join(edges)}")
    if found:
        print(f"module cycles: {len(found)} found")
        return 1
    print("module cycles: none")
    return 0


if __name__ == "__main__":
    sys.exit(main())
