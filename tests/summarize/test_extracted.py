"""The studio's server reads summaries without torch: ExtractedFeatures lives in a torch-free module."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_studio_server_imports_no_torch():
    code = "import acsumgan.studio.app, acsumgan.summarize.analysis, sys; print('torch' in sys.modules)"
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "False"


def test_features_re_exports_the_class():
    from acsumgan.summarize.extracted import ExtractedFeatures
    from acsumgan.summarize.features import ExtractedFeatures as Again

    assert Again is ExtractedFeatures
