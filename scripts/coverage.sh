#!/usr/bin/env bash
# Line and branch coverage of the orchestration (Core/Orchestration) and the functions (Functions/) from the test
# projects that need no moto and no child process: Core.Tests and Handlers.Tests (coverlet's collector).
# Prints a row per source file and a total per folder. Usage: bash scripts/coverage.sh
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for project in Core Handlers; do
  dotnet test "test/TrainingOrchestrator.$project.Tests" --collect:"XPlat Code Coverage" --results-directory "$out/$project" >/dev/null
done
python3 - "$out" <<'PY'
import glob, sys, xml.etree.ElementTree as ET
from collections import defaultdict
# file -> line -> (hits, covered branches, branches); a line is covered if any run covered it
lines = defaultdict(dict)
for report in glob.glob(f"{sys.argv[1]}/**/coverage.cobertura.xml", recursive=True):
    for cls in ET.parse(report).iter("class"):
        name = cls.get("filename").replace("\\", "/")
        for ln in cls.iter("line"):
            n = int(ln.get("number")); hits = int(ln.get("hits"))
            covered, total = 0, 0
            if ln.get("branch") == "True":
                cond = ln.get("condition-coverage")  # "50% (1/2)"
                covered, total = map(int, cond.split("(")[1].rstrip(")").split("/"))
            h, c, t = lines[name].get(n, (0, 0, 0))
            lines[name][n] = (max(h, hits), max(c, covered), max(t, total))
folders = {"Core/Orchestration": "TrainingOrchestrator.Core/Orchestration/", "Functions": "TrainingOrchestrator.Functions/"}
for label, part in folders.items():
    files = sorted(f for f in lines if part in f and "/obj/" not in f)  # not the source-generated JSON code
    tl = tc = bl = bc = 0
    print(f"{label}")
    for f in files:
        ls = lines[f].values()
        l_all = len(ls); l_cov = sum(1 for h, _, _ in ls if h > 0)
        b_all = sum(t for _, _, t in ls); b_cov = sum(c for _, c, _ in ls)
        tl += l_all; tc += l_cov; bl += b_all; bc += b_cov
        pct = lambda a, b: f"{100*a/b:5.1f}%" if b else "    -"
        print(f"  {f.split(part)[1]:<28} lines {l_cov:4}/{l_all:<4} {pct(l_cov, l_all)}   branches {b_cov:4}/{b_all:<4} {pct(b_cov, b_all)}")
    print(f"  {'total':<28} lines {tc:4}/{tl:<4} {100*tc/tl:5.1f}%   branches {bc:4}/{bl:<4} {100*bc/max(bl,1):5.1f}%")
PY
