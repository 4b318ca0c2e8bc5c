"""Render the campaigns' figures (build/campaigns/figures.json, written by the pytest session
that ran them) into the marked blocks of docs/reliability.md.

    python -m pytest tests/campaigns            # runs the campaigns, writes the figures
    python tests/campaigns/report.py            # fills docs/reliability.md from them
    python tests/campaigns/report.py --summary  # prints the headline figures only (CI log)

Only what the run measured is written; a campaign that did not run leaves its block as it
was, and the summary says which campaigns it is missing.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "reliability.md"
FIGURES = Path(
    os.environ.get("ECMT_CAMPAIGN_FIGURES") or ROOT / "build" / "campaigns" / "figures.json"
)
BLOCK = re.compile(r"(<!-- figures:(\w+) -->\n).*?(<!-- /figures -->)", re.S)


def yes(value: bool) -> str:
    return "yes" if value else "no"


def table(head: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _secrets(figures: dict[str, Any]) -> dict[str, int]:
    records = [*figures.get("faults", {}).values(), *figures.get("crash", {}).values()]
    return {
        "runs": len(records),
        "files": sum(r["files_scanned"] for r in records),
        "argv": sum(r["argv_lines"] for r in records),
        "found": sum(r["secrets_found"] for r in records),
    }


def summary(figures: dict[str, Any]) -> str:
    fuzz = figures.get("fuzz", {})
    parsers = fuzz.get("parsers", {})
    faults = figures.get("faults", {})
    crash = figures.get("crash", {})
    secrets = _secrets(figures)
    total = sum(p["structured"] + p["mutated"] for p in parsers.values())
    least = min((p["structured"] + p["mutated"] for p in parsers.values()), default=0)
    http = fuzz.get("http", {})
    rows = [
        [
            "faults injected, survived",
            f"{len(faults)}, {sum(r['lost_nothing'] for r in faults.values())}",
        ],
        [
            "crash points, recovered",
            f"{len(crash)}, {sum(r['rerun'] == 'ok' for r in crash.values())}",
        ],
        [
            "inputs fuzzed",
            f"{total:,} over {len(parsers)} parsers (at least {least:,} each), "
            f"{http.get('sent', 0):,} through the HTTP app",
        ],
        [
            "uncaught exceptions or undocumented outcomes",
            str(sum(p["failures"] for p in parsers.values()) + http.get("server_errors", 0)),
        ],
        [
            "secrets found",
            f"{secrets['found']} (in {secrets['files']:,} files and {secrets['argv']:,} recorded "
            f"child command lines of {secrets['runs']} cases)",
        ],
    ]
    return table(["figure", "value"], rows)


def fuzz_block(figures: dict[str, Any]) -> str:
    fuzz = figures["fuzz"]
    rows = []
    for name, p in sorted(fuzz["parsers"].items(), key=lambda kv: (kv[1]["side"], kv[0])):
        refusals = sorted(o for o in p["outcomes"] if not o.startswith("accepted"))
        rows.append(
            [
                f"`{name}`",
                p["side"],
                p["what"],
                f"{p['structured']:,}",
                f"{p['mutated']:,}",
                f"{p['structured'] + p['mutated']:,}",
                p["failures"],
                ", ".join(refusals) or "-",
            ]
        )
    head = ["parser", "side", "what", "structured", "mutated", "total", "failures", "refusals seen"]
    text = f"Scale {fuzz['scale']}, seed {fuzz['seed']}.\n\n" + table(head, rows)
    http = fuzz.get("http")
    if http:
        text += (
            f"\n\nThrough the real HTTP application over TLS: {http['sent']:,} requests sent "
            f"({http['not_sendable']} more were refused by the HTTP library before sending), "
            f"answers {', '.join(f'{n} x {s}' for s, n in http['statuses'].items())}, "
            f"{http['server_errors']} server errors."
        )
    return text


def crash_block(figures: dict[str, Any]) -> str:
    rows = [
        [
            r["how"],
            f"`{r['point']}`: {r['what']}",
            yes(r["rerun"] == "ok"),
            r["issued_before_kill"],
            r["issued"],
            r["in_store"],
            yes(not r["journal_left"] and not r["left_in_temp"]),
        ]
        for r in sorted(figures["crash"].values(), key=lambda r: r["index"])
    ]
    head = [
        "renewal",
        "crash point",
        "recovered",
        "issued before the kill",
        "certificates issued in all",
        "certificates in store",
        "journal and temp clean",
    ]
    return table(head, rows)


def fault_block(figures: dict[str, Any]) -> str:
    rows = [
        [
            f"`{r['stage']}`",
            r["fault"],
            f"{r['code']}, exit {r['exit']}",
            "yes" if r["issued_in_first_run"] else "no",
            yes(r["journal_kept"]),
            r["second_run"],
            yes(r["lost_nothing"]),
        ]
        for r in sorted(figures["faults"].values(), key=lambda r: r["index"])
    ]
    head = [
        "stage",
        "fault",
        "outcome (code, exit status)",
        "server had issued",
        "journal kept",
        "second run",
        "lost nothing",
    ]
    return table(head, rows)


RENDER = {
    "summary": summary,
    "fuzz": fuzz_block,
    "crash": crash_block,
    "faults": fault_block,
}
NEEDS = {"summary": ("fuzz", "faults", "crash"), "fuzz": ("fuzz",), "crash": ("crash",)}


def render(doc: str, figures: dict[str, Any]) -> tuple[str, list[str]]:
    skipped: list[str] = []

    def fill(match: re.Match[str]) -> str:
        name = match.group(2)
        if not all(figures.get(k) for k in NEEDS.get(name, (name,))):
            skipped.append(name)
            return match.group(0)
        return f"{match.group(1)}{RENDER[name](figures)}\n{match.group(3)}"

    return BLOCK.sub(fill, doc), skipped


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--summary", action="store_true", help="print the headline figures")
    args = parser.parse_args()
    if not FIGURES.exists():
        print(f"no figures at {FIGURES}: run python -m pytest tests/campaigns", file=sys.stderr)
        return 1
    figures = json.loads(FIGURES.read_text())
    if args.summary:
        print(summary(figures))
        return 0
    text, skipped = render(DOC.read_text(), figures)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    text = re.sub(r"(<!-- measured-at -->).*?(<!-- /measured-at -->)", rf"\g<1>{commit}\g<2>", text)
    DOC.write_text(text)
    if skipped:
        print(f"not in this run's figures, left as they were: {', '.join(skipped)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
