#!/usr/bin/env python3
"""check-layers.py — guards the layer rule of src/ (STYLE.md section 1).

Each folder of src/ is a layer; a file may use its own layer and the layers
below it, never one above:

    util < core < storage < net < cluster < cmd < (src/ top: main.c)

Two checks, both run by scripts/test.sh:
  1. includes: every #include "x/y.h" of every file in src/ (from the
     sources, no build needed);
  2. calls (with --objects DIR...): every undefined symbol of every object
     file of a build (nm) that another object file of the tree defines, so
     a function reached through a hand-written prototype, without its header,
     is caught too.  Object files are named <folder>_<file>.c.o by meson.

Prints the folder-level graph of each check and every upward edge.
Usage: scripts/check-layers.py [--objects BUILD_DIR ...]
Exit 0 = no upward include and no upward call, so no cycle crosses a folder.
"""
import glob
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, "src")
LAYERS = ["util", "core", "storage", "net", "cluster", "cmd", "top"]
RANK = {name: i for i, name in enumerate(LAYERS)}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def layer_of(rel):
    """Layer of a path relative to src/ (a file or an include)."""
    head = rel.split("/", 1)[0] if "/" in rel else "top"
    return head if head in RANK else None


def include_edges():
    out = []
    for dirpath, _, files in os.walk(SRC):
        for fn in sorted(files):
            if not fn.endswith((".c", ".h")):
                continue
            path = os.path.join(dirpath, fn)
            rel = os.path.relpath(path, SRC)
            with open(path, encoding="utf-8", errors="replace") as f:
                text = f.read()
            for inc in INCLUDE.findall(text):
                if layer_of(inc) is None or not os.path.exists(os.path.join(SRC, inc)):
                    continue
                out.append((rel, inc, layer_of(rel), layer_of(inc)))
    return sorted(out)


def nm(path, *flags):
    res = subprocess.run(["nm", "-P", *flags, path], capture_output=True, text=True, check=True)
    return {line.split()[0] for line in res.stdout.splitlines() if line.strip()}


def object_layer(name):
    """meson names src/<folder>/<file>.c's object <folder>_<file>.c.o."""
    if name == "main.c.o":
        return "top", "main.c"
    head, _, rest = name.partition("_")
    if head in RANK and head != "top" and rest:
        return head, "%s/%s" % (head, rest[:-2])
    return None, None


def call_edges(build_dirs):
    objs = []
    for d in build_dirs:
        for path in sorted(glob.glob(os.path.join(d, "src", "*.p", "*.c.o"))):
            layer, rel = object_layer(os.path.basename(path))
            if layer:
                objs.append((rel, layer, path))
    if not objs:
        raise SystemExit("check-layers: no object files under %s (build first)" % build_dirs)
    defined = {}
    for rel, layer, path in objs:
        for sym in nm(path, "--defined-only", "-g"):
            defined.setdefault(sym, (rel, layer))
    out = set()
    for rel, layer, path in objs:
        for sym in nm(path, "--undefined-only"):
            if sym in defined:
                drel, dlayer = defined[sym]
                out.add((rel, "%s (%s)" % (drel, sym), layer, dlayer))
    return sorted(out), len(objs)


def report(title, es):
    graph = {}
    for _, _, la, lb in es:
        if la != lb:
            graph.setdefault(la, set()).add(lb)
    print("%s — folder graph:" % title)
    for la in LAYERS:
        if la in graph:
            ups = [lb for lb in sorted(graph[la], key=RANK.get) if RANK[lb] > RANK[la]]
            downs = [lb for lb in sorted(graph[la], key=RANK.get) if RANK[lb] < RANK[la]]
            print("  %-8s -> %s%s" % (la, " ".join(downs) or "-",
                                      ("   UPWARD: " + " ".join(ups)) if ups else ""))
    upward = ["%s -> %s" % (a, b) for a, b, la, lb in es if RANK[lb] > RANK[la]]
    print("%s: %d edges, %d upward" % (title, len(es), len(upward)))
    for u in upward:
        print("  UPWARD: " + u)
    return not upward


def main(argv):
    build_dirs = []
    if "--objects" in argv:
        build_dirs = argv[argv.index("--objects") + 1:]
        if not build_dirs:
            raise SystemExit("usage: check-layers.py [--objects BUILD_DIR ...]")
    ok = report("includes", include_edges())
    if build_dirs:
        es, nobjs = call_edges(build_dirs)
        ok = report("calls (%d object files)" % nobjs, es) and ok
    print("layer rule: ok" if ok else "layer rule: BROKEN (see UPWARD above)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
