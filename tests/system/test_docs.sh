#!/usr/bin/env bash
# The docs tell the truth about the program: every command `wirepath
# --help` lists has its page, docs/wirepath-CMD.md; every `--help` a page
# shows (a fenced block starting "$ wirepath ... --help") is what the
# program prints; and every link between the pages (README.md and docs/)
# reaches an existing file and, with a #fragment, an existing heading.
#   usage: test_docs.sh PATH/TO/wirepath
set -euo pipefail
wp=$(realpath "$1")
root=$(cd "$(dirname "$0")/../.." && pwd)
py=/usr/bin/python3
[ -x "$py" ] || py=python3
exec "$py" - "$wp" "$root" <<'PY'
import os, re, subprocess, sys

wp, root = sys.argv[1], sys.argv[2]
bad = []

def run(*args):
    return subprocess.run([wp, *args], capture_output=True, text=True,
                          timeout=60).stdout

top = run("--help")
cmds = re.findall(r"^  ([a-z]+)  +\S", top.split("commands:")[1].split("options:")[0], re.M)
if len(cmds) < 5:
    bad.append("wirepath --help lists %d commands" % len(cmds))
pages = [os.path.join(root, "README.md")]
docs = os.path.join(root, "docs")
pages += sorted(os.path.join(docs, f) for f in os.listdir(docs) if f.endswith(".md"))
for c in cmds:
    if not os.path.exists(os.path.join(docs, "wirepath-%s.md" % c)):
        bad.append("no page docs/wirepath-%s.md for the command %s" % (c, c))

fence = re.compile(r"^```[a-z]*\n(.*?)^```", re.M | re.S)
helps = 0
for p in pages:
    text = open(p).read()
    for m in fence.finditer(text):
        block = m.group(1)
        first, _, rest = block.partition("\n")
        h = re.fullmatch(r"\$ wirepath ((?:[a-z]+ )?)--help", first.strip())
        if not h:
            continue
        helps += 1
        args = h.group(1).split() + ["--help"]
        want = run(*args).rstrip("\n")
        if rest.rstrip("\n") != want:
            bad.append("%s: the block '%s' is not what the program prints now"
                       % (os.path.relpath(p, root), first.strip()))
if helps < len(cmds):
    bad.append("only %d --help blocks for %d commands" % (helps, len(cmds)))

def slug(h):
    h = h.strip().lower()
    h = re.sub(r"[^\w\- ]", "", h)
    return h.replace(" ", "-")

anchors = {}
for p in pages:
    text = fence.sub("", open(p).read())
    anchors[p] = {slug(m.group(1)) for m in re.finditer(r"^#+ (.*)$", text, re.M)}
link = re.compile(r"\]\(([^)\s]+)\)")
for p in pages:
    text = fence.sub("", open(p).read())
    text = re.sub(r"`[^`\n]*`", "", text)
    for m in link.finditer(text):
        target = m.group(1)
        if re.match(r"[a-z]+:", target):
            continue
        path, _, frag = target.partition("#")
        dest = os.path.normpath(os.path.join(os.path.dirname(p), path)) if path else p
        if not os.path.exists(dest):
            bad.append("%s: link to %s: no such file" % (os.path.relpath(p, root), target))
            continue
        if frag and dest.endswith(".md") and frag not in anchors.get(dest, set()):
            bad.append("%s: link to %s: no such heading" % (os.path.relpath(p, root), target))

for b in bad:
    print("FAIL: " + b, file=sys.stderr)
if bad:
    sys.exit(1)
print("docs: %d commands, %d --help blocks, %d pages: OK" % (len(cmds), helps, len(pages)))
PY
