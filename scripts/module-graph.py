#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Module graph of one source folder: which module calls which.

    scripts/module-graph.py [--public HEADER]... [--dot] DIR

A module is NAME.c with NAME.h. An arrow A -> B means A.c (or an inline
function in A.h) calls a function that B.c defines or that B.h defines
inline. It prints every arrow, the cycles (strongly connected components of
more than one module), the arrows inside them, the layers of the acyclic
part (0 at the bottom), and the headers that declare functions defined in
another module's .c (--public names a header that is the folder's interface
to the outside and may declare functions of several files, e.g. driver.h).

It reads the source as text (comments and strings stripped): good enough for
code that declares one function per line, as this project does.
"""
import argparse
import os
import re
import signal
import sys

# A call of a function by name; not a call through a member (x.f(), x->f()).
IDENT_CALL = re.compile(r"(?<![.>\w])([A-Za-z_]\w*)\s*\(")
DEF_START = re.compile(r"^(?!static\b)[A-Za-z_][\w \t\*]*?\b([A-Za-z_]\w*)\s*\(", re.M)
INLINE_DEF = re.compile(r"^static\s+inline\b[^;{(]*?\b([A-Za-z_]\w*)\s*\(", re.M)
PROTO = re.compile(r"^(?!static\b|typedef\b|#)[A-Za-z_][\w \t\*]*?\b([A-Za-z_]\w*)\s*\([^;{]*\)\s*"
                   r"(?:__attribute__\s*\(\(.*?\)\)\s*)?;", re.M | re.S)
KEYWORDS = {"if", "for", "while", "switch", "return", "sizeof", "defined", "__attribute__",
            "offsetof", "_Static_assert", "typeof", "__typeof__"}


def strip(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    text = re.sub(r'"(?:\\.|[^"\\])*"', '""', text)
    text = re.sub(r"'(?:\\.|[^'\\])*'", "''", text)
    return re.sub(r"^\s*#[^\n]*(?:\\\n[^\n]*)*", " ", text, flags=re.M)


def definitions(text):
    """Top-level function definitions (name followed by a body) in @text."""
    out = set()
    for m in DEF_START.finditer(text):
        rest = text[m.end():]
        depth, i = 1, 0
        while i < len(rest) and depth:
            depth += {"(": 1, ")": -1}.get(rest[i], 0)
            i += 1
        tail = rest[i:].lstrip()
        if tail.startswith("{") and m.group(1) not in KEYWORDS:
            out.add(m.group(1))
    return out


def main():
    ap = argparse.ArgumentParser(description="module graph of a C source folder")
    ap.add_argument("dir")
    ap.add_argument("--public", action="append", default=[],
                    help="a header that may declare functions of several .c files")
    ap.add_argument("--dot", action="store_true", help="print the graph as Graphviz dot")
    args = ap.parse_args()

    files = sorted(f for f in os.listdir(args.dir)
                   if f.endswith((".c", ".h")) and not f.startswith("test-"))
    text = {f: strip(open(os.path.join(args.dir, f)).read()) for f in files}
    modules = sorted({f[:-2] for f in files})
    defined_in = {}
    for f in files:
        mod = f[:-2]
        names = definitions(text[f]) if f.endswith(".c") else set(INLINE_DEF.findall(text[f]))
        for name in names:
            defined_in[name] = mod

    edges = {}
    for f in files:
        src = f[:-2]
        for name in IDENT_CALL.findall(text[f]):
            dst = defined_in.get(name)
            if dst and dst != src:
                edges.setdefault((src, dst), set()).add(name)

    misplaced = []
    for f in files:
        if not f.endswith(".h") or f in args.public:
            continue
        for name in PROTO.findall(text[f]):
            owner = defined_in.get(name)
            if owner and owner != f[:-2]:
                misplaced.append((f, name, owner + ".c"))

    # Tarjan's strongly connected components.
    graph = {m: sorted({d for (s, d) in edges if s == m}) for m in modules}
    index, low, stack, on, comps, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                on.discard(w)
                comp.add(w)
                if w == v:
                    break
            comps.append(comp)

    sys.setrecursionlimit(10000)
    for m in modules:
        if m not in index:
            visit(m)
    comp_of = {m: i for i, c in enumerate(comps) for m in c}
    cycles = [sorted(c) for c in comps if len(c) > 1]
    in_cycle = [(s, d) for (s, d) in edges if comp_of[s] == comp_of[d]]

    # Layers of the condensation: a component sits above everything it calls.
    layer = {}

    def height(c):
        if c not in layer:
            below = {comp_of[d] for m in comps[c] for d in graph[m] if comp_of[d] != c}
            layer[c] = 1 + max((height(b) for b in below), default=-1)
        return layer[c]

    for c in range(len(comps)):
        height(c)

    if args.dot:
        print("digraph modules {")
        for (s, d) in sorted(edges):
            style = " [color=red]" if (s, d) in in_cycle else ""
            print(f'  "{s}" -> "{d}"{style};')
        print("}")
        return

    print(f"modules: {len(modules)}  arrows: {len(edges)}  "
          f"modules in cycles: {sum(len(c) for c in cycles)}  arrows in cycles: {len(in_cycle)}")
    for c in cycles:
        print("cycle: " + " ".join(c))
    print("layers (0 at the bottom):")
    for lv in range(max(layer.values()) + 1):
        names = sorted(m for i, c in enumerate(comps) if layer[i] == lv for m in c)
        print(f"  {lv}: " + " ".join(names))
    print("arrows:")
    for (s, d) in sorted(edges):
        mark = "  (in a cycle)" if (s, d) in in_cycle else ""
        print(f"  {s} -> {d}: {' '.join(sorted(edges[(s, d)]))}{mark}")
    if misplaced:
        print("declared in another module's header:")
        for h, name, c in misplaced:
            print(f"  {h}: {name} (defined in {c})")


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    main()
