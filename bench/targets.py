#!/usr/bin/env python3
"""Prints issue 19's targets against the figures one `bench/run.sh` run produced, as a Markdown table.
Usage: targets.py BDN_RESULTS_DIR REQUESTS_DIR COLDSTART_MD CONCURRENCY_MD
  BDN_RESULTS_DIR  BenchmarkDotNet's results folder (SubmitPath-report.csv)
  REQUESTS_DIR     the bodies the benchmarks read (size.request.json), for allocations per body byte
  COLDSTART_MD     bench/coldstart.sh's output (cold start table, then the warm CPU table)
  CONCURRENCY_MD   the cost suite's concurrency figure"""
import csv
import glob
import os
import re
import sys

results, requests, coldstart_md, concurrency_md = sys.argv[1:5]


def number(text):
    return float(re.sub(r"[^0-9.]", "", text))


def row(what, measured, target, met):
    print(f"| {what} | {measured} | {target} | {'met' if met else 'missed'} |")


print("| target | measured | wanted | |")
print("| --- | --- | --- | --- |")

with open(glob.glob(os.path.join(results, "*SubmitPath-report.csv"))[0], newline="") as f:
    submit = {r["Request"]: r for r in csv.DictReader(f) if r["Method"] == "PrepareAndSerialize"}
for size in ("small", "typical", "large"):
    ratio = number(submit[size]["Ratio"])
    row(f"Submit path, {size}: times a plain JsonDocument parse", f"{ratio:.2f}", "<= 5", ratio <= 5)
typical_body = os.path.getsize(os.path.join(requests, "typical.request.json"))
allocated = number(submit["typical"]["Allocated"])
row("Submit path, typical: allocated per body byte", f"{allocated / typical_body:.1f} ({allocated:.0f} B for {typical_body} B)", "<= 2",
    allocated / typical_body <= 2)

tables = [[line.split("|")[1:-1] for line in block.splitlines() if line.startswith("| ") and "---" not in line][1:]
          for block in open(coldstart_md).read().split("\n\n") if block.lstrip().startswith("| build")]
cold, warm = tables[0], tables[1]
for cells in cold:
    name = cells[0].strip()
    if name.startswith("managed") or name.startswith("Native AOT"):
        wanted = 0.6 if name.startswith("managed") else 0.08
        ratio = float(cells[-1])
        row(f"cold start to the peer: {name}", f"{ratio:.2f} ({cells[1].strip()} ms)", f"<= {wanted}", ratio <= wanted)
for cells in warm:
    if cells[0].strip().startswith("Native AOT"):
        cpu = float(cells[1])
        row("warm CPU per message, Native AOT", f"{cpu:.2f} ms ({float(cells[2]):.2f} of the peer's)", "<= 0.25 ms", cpu <= 0.25)

figure = open(concurrency_md).read()
ratio = float(re.search(r"ratio \*\*([0-9.]+)\*\*", figure).group(1))
row("a batch of ten to one message, 50 ms per call", f"{ratio:.2f}", "<= 1.5", ratio <= 1.5)
