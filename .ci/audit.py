"""Dependency audit for CI: pip-audit over the installed environment, reported in one line.

Known vulnerabilities fail the run (set NA_AUDIT=report to only report them). When the
advisory service cannot be reached, or has no data for the packages (a registry mirror),
the audit is informational and says so. The full report goes to test-artifacts/audit.json.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    out = ROOT / "test-artifacts"
    out.mkdir(exist_ok=True)
    cmd = [sys.executable, "-m", "pip_audit", "--progress-spinner", "off", "--skip-editable", "-f", "json"]
    try:
        run = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired:
        print("audit: advisory service did not answer within 300 s (informational only)")
        return 0
    try:
        report = json.loads(run.stdout)
    except ValueError:
        last = (run.stderr.strip().splitlines() or ["no output"])[-1][:200]
        print(f"audit: advisory service unreachable (informational only): {last}")
        return 0
    (out / "audit.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
    deps = report.get("dependencies", [])
    audited = [d for d in deps if "skip_reason" not in d]
    vulnerable = [d for d in audited if d.get("vulns")]
    if not audited:
        print(f"audit: the advisory service had no data for any of {len(deps)} packages "
              "(a registry mirror without advisories?) — informational only")
        return 0
    if not vulnerable:
        print(f"audit: no known vulnerabilities in {len(audited)} packages ({len(deps) - len(audited)} not audited)")
        return 0
    for d in vulnerable:
        ids = ", ".join(v["id"] + (f" (fixed in {', '.join(v['fix_versions'])})" if v.get("fix_versions") else "")
                        for v in d["vulns"])
        print(f"audit: {d['name']} {d['version']}: {ids}")
    if os.environ.get("NA_AUDIT") == "report":
        print("audit: vulnerabilities reported only (NA_AUDIT=report)")
        return 0
    print("audit: known vulnerabilities in pinned dependencies; update constraints.txt (or NA_AUDIT=report)")
    return 1


if __name__ == "__main__":
    sys.exit(main())
