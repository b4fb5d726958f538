#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Checks that the module layering docs/architecture.md draws holds.

    scripts/check-layers.py [ROOT]

Between folders: every `#include "FOLDER/NAME.h"` of a production file
(test-*.c and test-*.h are left out: a test may build its scenario from any
layer) names a folder its folder may use, and, where only some headers of a
folder are its interface to another, one of those headers.

Inside a folder: the module graphs (scripts/module-graph.py) of src/daemon,
src/driver, lib and preload have exactly the cycles the architecture names,
and no header there declares a function another .c defines (one header per
module; src/driver's driver.h is its public interface). Prints one line per breach and exits 1 if there is any.
"""
import os
import re
import subprocess
import sys

# What each folder's production code may include, besides its own headers,
# the public <ubinder/...> headers, ubinder-config.h and system headers.
# None for a folder: any header of it; a set: only those headers.
ALLOWED = {
    "src/common": {},
    "src/managers": {},
    "src/wire": {"common": None},
    "src/region": {"common": None},
    "src/alloc": {"common": None},
    "src/transport": {"common": None, "wire": None},
    "src/driver": {"common": None, "region": None, "alloc": None},
    # The driver's interface (driver.h, and the copy job of fetch.h); the
    # region's fault injection, which the admin channel arms.
    "src/daemon": {"common": None, "wire": None, "driver": {"driver.h", "fetch.h"},
                   "region": {"region.h"}, "fuse": {"fuse_server.h"}},
    # The FUSE devices: served on the daemon's loop with its copy workers, as
    # the seccomp path is (its /proc reader of a caller's ids too); daemon.c
    # starts them through fuse_server.h.
    "src/fuse": {"common": None, "wire": None, "driver": {"driver.h"},
                 "daemon": {"loop.h", "copier.h", "quota.h", "endpoint.h", "ns_read.h",
                            "proc_info.h", "seccomp_target.h"}},
    "lib": {"common": None, "transport": None, "managers": None},
    "preload": {"common": None, "transport": None, "wire": None},
    "tools": {"common": None, "wire": None, "managers": None, "alloc": None,
              "region": None},
}

# The cycles each folder's module graph may have (sets of modules).
CYCLES = {
    "src/daemon": ([], []),
    "src/driver": (["--public", "driver.h"], [{"proc", "thread", "transaction", "work_ops"}]),
    "lib": ([], [{"default_transactions", "object"}]),
    "preload": ([], []),
}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/([A-Za-z0-9_.-]+)"', re.M)


def folder_breaches(root):
    out = []
    for folder, allowed in ALLOWED.items():
        for dirpath, _, files in os.walk(os.path.join(root, folder)):
            for name in sorted(files):
                if not name.endswith((".c", ".h")) or name.startswith("test-"):
                    continue
                path = os.path.join(dirpath, name)
                own = os.path.relpath(dirpath, os.path.join(root, "src")).split(os.sep)[0] \
                    if folder.startswith("src/") else None
                with open(path, encoding="utf-8") as f:
                    text = f.read()
                for m in INCLUDE.finditer(text):
                    target, header = m.group(1), m.group(2)
                    if target in ("ubinder", own):
                        continue
                    if target not in allowed:
                        out.append(f"{os.path.relpath(path, root)}: includes {target}/{header}"
                                   f" ({folder} may use: {', '.join(sorted(allowed)) or 'nothing'})")
                    elif allowed[target] is not None and header not in allowed[target]:
                        out.append(f"{os.path.relpath(path, root)}: includes {target}/{header}"
                                   f" (of {target}/, {folder} may use only"
                                   f" {', '.join(sorted(allowed[target]))})")
    return out


def cycle_breaches(root):
    out = []
    graph = os.path.join(root, "scripts", "module-graph.py")
    for folder, (args, expected) in CYCLES.items():
        res = subprocess.run([sys.executable, graph, *args, os.path.join(root, folder)],
                             capture_output=True, text=True, check=True)
        lines = res.stdout.splitlines()
        found = [set(line.split()[1:]) for line in lines if line.startswith("cycle:")]
        if "declared in another module's header:" in lines:
            for line in lines[lines.index("declared in another module's header:") + 1:]:
                out.append(f"{folder}: a header declares another file's function: {line.strip()}")
        for c in found:
            if c not in expected:
                out.append(f"{folder}: a cycle the architecture does not name: {' '.join(sorted(c))}")
        for c in expected:
            if c not in found:
                out.append(f"{folder}: the cycle {' '.join(sorted(c))} is gone or changed:"
                           f" update docs/architecture.md and this script")
    return out


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    breaches = folder_breaches(root) + cycle_breaches(root)
    for b in breaches:
        print(b)
    if breaches:
        return 1
    print("layers: as docs/architecture.md draws them")
    return 0


if __name__ == "__main__":
    sys.exit(main())
