"""The README is a two-minute read: under 220 lines, its first screen says what acsumgan is and
gives exactly the two set-up commands, and every link in it leads to a file of the repository."""

from __future__ import annotations

import re

from .conftest import ROOT

README = ROOT / "README.md"
#: A first screen: what a terminal or GitHub shows before scrolling.
FIRST_SCREEN = 25


def test_readme_is_short():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) < 220, f"README.md has {len(lines)} lines; move the detail to the docs site"


def test_first_screen_says_what_it_is_then_the_two_setup_commands():
    lines = README.read_text(encoding="utf-8").splitlines()[:FIRST_SCREEN]
    assert lines[0] == "# acsumgan"
    first = " ".join(lines)
    for words in ("summarizes videos", "without human labels", "AC-SUM-GAN", "summary video"):
        assert words in first, f"the README's first screen does not say {words!r}"
    fence = [i for i, line in enumerate(lines) if line.startswith("```")]
    block = lines[fence[0] + 1 : fence[1]]
    assert [line.split("#")[0].strip() for line in block] == ["make demo", "make test"]
    # the paragraph of what it is comes before the commands
    assert lines.index(block[0]) > next(i for i, line in enumerate(lines) if "AC-SUM-GAN" in line)


def test_readme_links_lead_to_files_of_the_repository():
    text = README.read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)
    local = [t for t in targets if "://" not in t]
    assert local, "the README links into the docs"
    missing = [t for t in local if not (ROOT / t).exists()]
    assert not missing, f"README.md links to missing files: {missing}"
    assert "../shared" not in text, "the README points outside the repository"
