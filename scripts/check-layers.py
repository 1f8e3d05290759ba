#!/usr/bin/env python3
"""check-layers.py — guards the layer rule of src/ (STYLE.md section 1).

Each folder of src/ is a layer; a file may include headers of its own layer
and of the layers below it, never above:

    util < core < storage < net < cluster < cmd < (src/ top: main.c, node.h)

Usage: scripts/check-layers.py [--allowed FILE] [--write-allowed FILE]

Prints every upward include (file -> header) and the folder-level graph.
Without --allowed, any upward include fails the check.  With --allowed, the
file lists upward includes still tolerated while the restructuring of issue
12 goes on: a new one fails, and one that is gone must be removed from the
list (so the list only shrinks).  Exit 0 = the rule holds (up to the list).
"""
import os
import re
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


def edges():
    out = []
    for dirpath, _, files in os.walk(SRC):
        for fn in sorted(files):
            if not fn.endswith((".c", ".h")):
                continue
            path = os.path.join(dirpath, fn)
            rel = os.path.relpath(path, SRC)
            src_layer = layer_of(rel)
            with open(path, encoding="utf-8", errors="replace") as f:
                text = f.read()
            for inc in INCLUDE.findall(text):
                dst_layer = layer_of(inc)
                if dst_layer is None or not os.path.exists(os.path.join(SRC, inc)):
                    continue
                out.append((rel, inc, src_layer, dst_layer))
    return sorted(out)


def main(argv):
    allowed_path = write_path = None
    if "--allowed" in argv:
        allowed_path = argv[argv.index("--allowed") + 1]
    if "--write-allowed" in argv:
        write_path = argv[argv.index("--write-allowed") + 1]
    es = edges()
    upward = ["%s -> %s" % (a, b) for a, b, la, lb in es if RANK[lb] > RANK[la]]
    graph = {}
    for _, _, la, lb in es:
        if la != lb:
            graph.setdefault(la, set()).add(lb)
    print("folder graph (who includes whom):")
    for la in LAYERS:
        if la in graph:
            ups = [lb for lb in sorted(graph[la], key=RANK.get) if RANK[lb] > RANK[la]]
            downs = [lb for lb in sorted(graph[la], key=RANK.get) if RANK[lb] < RANK[la]]
            print("  %-8s -> %s%s" % (la, " ".join(downs) or "-",
                                      ("   UPWARD: " + " ".join(ups)) if ups else ""))
    if write_path:
        with open(write_path, "w") as f:
            f.write("# Upward includes still tolerated (scripts/check-layers.py);"
                    " this list may only shrink.\n")
            for u in upward:
                f.write(u + "\n")
        print("wrote %d upward includes to %s" % (len(upward), write_path))
        return 0
    allowed = set()
    if allowed_path:
        with open(allowed_path) as f:
            allowed = {l.strip() for l in f if l.strip() and not l.startswith("#")}
    new = [u for u in upward if u not in allowed]
    gone = sorted(allowed - set(upward))
    print("upward includes: %d (%d tolerated by %s)" % (
        len(upward), len(upward) - len(new), allowed_path or "nothing"))
    for u in new:
        print("  NEW upward include: " + u)
    for u in gone:
        print("  fixed, remove it from the list: " + u)
    if new or gone:
        return 1
    print("layer rule: ok" if not upward else "layer rule: ok up to the tolerated list")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
