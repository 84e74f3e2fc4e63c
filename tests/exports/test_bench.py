"""The export benchmark keeps working: CI runs it small."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_export_benchmark_runs_small_and_reports_rows_per_second_and_peak_rss():
    done = subprocess.run(
        [sys.executable, "-m", "bench.export_access", "--rows", "500"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "rows exported: 507 (the subject's customers, orders and invoices)" in done.stdout
    assert re.search(r"^export\s+[\d.]+\s+[\d,]+\s+[\d.]+$", done.stdout, re.M), done.stdout
    assert re.search(r"^export / baseline: [\d.]+x the rows/s, [\d.]+x the peak RSS$", done.stdout, re.M)
