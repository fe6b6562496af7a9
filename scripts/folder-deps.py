#!/usr/bin/env python3
"""Which top-level folders of each module under Sources/ refer to each other.

For every module (Sources/NAME), a file belongs to the folder its path starts with inside the
module ("." for files at the module's root). A folder declares the names of its top-level
`struct|class|enum|actor|protocol|typealias|func` declarations, and the members declared in its
top-level `extension`s of types the module does not declare (e.g. `extension Duration { var seconds }`),
matched as `.member`. Folder A depends on folder B when a file in A mentions, as a whole identifier
outside comments and string literals, a name B declares that A does not declare itself.

Prints each module's edges (A -> B: a few of the names) and exits 1 if two folders of one module
depend on each other both ways. Usage: scripts/folder-deps.py [Sources]
"""
import os
import re
import sys
from collections import defaultdict

DECL = re.compile(
    r"^(?:(?:@\w+(?:\([^)]*\))?\s+)*)"
    r"(?:(?:public|package|internal|fileprivate|private|open|final|indirect|nonisolated|"
    r"static|mutating|nonmutating|override|convenience|required|dynamic|lazy|"
    r"consuming|borrowing)\s+)*"
    r"(struct|class|enum|actor|protocol|typealias|func|extension)\s+([A-Za-z_][A-Za-z0-9_]*)"
)
MEMBER = re.compile(
    r"^\s+(?:(?:@\w+(?:\([^)]*\))?\s+)*)"
    r"(?:(?:public|package|internal|fileprivate|private|static|mutating|nonisolated|override)\s+)*"
    r"(func|var|let)\s+([A-Za-z_][A-Za-z0-9_]*)"
)
IDENT = re.compile(r"(\.?)([A-Za-z_][A-Za-z0-9_]*)(\s*\(?)")


def strip_comments_and_strings(text):
    """Blanks out comments and string literals (interpolations included), keeping newlines."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if text.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif text.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    if text[i] == "\n":
                        out.append("\n")
                    i += 1
        elif c == '"' or (c == "#" and re.match(r'#+"', text[i:])):
            hashes = len(re.match(r"#*", text[i:]).group(0))
            i += hashes
            quote = '"""' if text.startswith('"""', i) else '"'
            i += len(quote)
            end = quote + "#" * hashes
            while i < n and not text.startswith(end, i):
                if text[i] == "\\" and hashes == 0:
                    i += 1
                if i < n and text[i] == "\n":
                    out.append("\n")
                i += 1
            i += len(end)
            out.append('""')
        else:
            out.append(c)
            i += 1
    return "".join(out)


def module_files(module_dir):
    for root, _, files in os.walk(module_dir):
        for name in sorted(files):
            if name.endswith(".swift"):
                path = os.path.join(root, name)
                rel = os.path.relpath(path, module_dir)
                folder = rel.split(os.sep)[0] if os.sep in rel else "."
                yield folder, path


def analyse(module_dir):
    sources = {}
    for folder, path in module_files(module_dir):
        with open(path, encoding="utf-8") as f:
            sources[path] = (folder, strip_comments_and_strings(f.read()))

    types = defaultdict(set)  # name -> folders declaring it
    extension_members = []  # (folder, extended type, member)
    for folder, code in sources.values():
        extended = None
        for line in code.split("\n"):
            m = DECL.match(line)
            if m:
                kind, name = m.groups()
                if re.search(r"\b(private|fileprivate)\b", line[: m.start(1)]):
                    extended = None
                    continue
                extended = name if kind == "extension" else None
                if kind != "extension":
                    types[name].add(folder)
                continue
            if line and not line[0].isspace():
                extended = None
            elif extended:
                m = MEMBER.match(line)
                if m and len(line) - len(line.lstrip()) == 4 and not re.search(r"\b(private|fileprivate)\b", line[: m.start(1)]):
                    # A property is used as `.name`, a method as `.name(`: `.seconds` is not `.seconds(1)`.
                    member = m.group(2) + ("(" if m.group(1) == "func" else "")
                    extension_members.append((folder, extended, member))
    # A function a folder declares itself, even as a member, shadows a top-level one elsewhere.
    own_functions = defaultdict(set)
    for folder, code in sources.values():
        own_functions[folder].update(re.findall(r"\bfunc\s+([A-Za-z_][A-Za-z0-9_]*)", code))
    members = defaultdict(set)
    for folder, extended, member in extension_members:
        if extended not in types:
            members[member].add(folder)

    edges = defaultdict(set)
    for folder, code in sources.values():
        for dot, name, call in IDENT.findall(code):
            # Top-level names are used unqualified; extension members after a dot.
            member = name + ("(" if call.strip() else "")
            owners = members.get(member, set()) if dot else types.get(name, set())
            if not owners or folder in owners or (not dot and name in own_functions[folder]):
                continue
            for owner in owners:
                edges[(folder, owner)].add(name)
    return edges


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "Sources"
    both_ways = []
    for module in sorted(os.listdir(root)):
        module_dir = os.path.join(root, module)
        if not os.path.isdir(module_dir):
            continue
        edges = analyse(module_dir)
        if not edges:
            continue
        print(f"{module}:")
        for (a, b), names in sorted(edges.items()):
            sample = ", ".join(sorted(names)[:4]) + (", …" if len(names) > 4 else "")
            print(f"  {a} -> {b}  ({sample})")
        for (a, b) in sorted(edges):
            if a < b and (b, a) in edges:
                both_ways.append(f"{module}: {a} <-> {b}")
    if both_ways:
        print("\nFolders that depend on each other both ways:")
        for pair in both_ways:
            print(f"  {pair}")
        return 1
    print("\nNo folder pair depends both ways.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
