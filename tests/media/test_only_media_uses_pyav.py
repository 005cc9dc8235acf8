"""Every PyAV call of the package is in acsumgan.media (acsumgan.synthetic, which generates
test media, writes its files with PyAV too)."""

from __future__ import annotations

import ast
from pathlib import Path

import acsumgan

SRC = Path(acsumgan.__file__).resolve().parent
ALLOWED = {"media", "synthetic"}


def pyav_imports(path: Path) -> list[int]:
    """Lines of ``path`` that import PyAV (``import av``, ``import av.x``, ``from av[.x] import ...``),
    inside functions too."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import) and any(a.name == "av" or a.name.startswith("av.") for a in node.names):
            lines.append(node.lineno)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            if node.module == "av" or node.module.startswith("av."):
                lines.append(node.lineno)
    return lines


def test_pyav_is_imported_only_in_media_and_synthetic():
    found = {
        f"{p.relative_to(SRC)}:{line}"
        for p in sorted(SRC.rglob("*.py"))
        if p.relative_to(SRC).parts[0] not in ALLOWED
        for line in pyav_imports(p)
    }
    assert found == set(), "move the PyAV code into acsumgan.media"


def test_the_check_sees_pyav_imports(tmp_path):
    f = tmp_path / "m.py"
    f.write_text("import os\ndef g():\n    import av\n    from av.video import frame\n    import av.error as e\n")
    assert pyav_imports(f) == [3, 4, 5]
    assert pyav_imports(SRC / "media" / "decode.py")  # the media layer does import it
