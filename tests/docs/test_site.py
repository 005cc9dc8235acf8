"""The built docs site: strict build, the command reference complete, and the pages open in
headless Chromium without a console error or a request that leaves the machine."""

from __future__ import annotations

import html
import re

import click
import pytest

from acsumgan.cli import cli
from pages.conftest import (  # the page tests' headless Chromium and helpers
    LAPTOP,
    driver,  # noqa: F401  (the fixture)
    requested_urls,
    screenshot,
    set_viewport,
    severe_console,
    wait_for,
)

from .conftest import ROOT, build_site

CLI_PAGE = "reference/cli/index.html"


def commands(group: click.Command, path: tuple[str, ...] = ("acsumgan",)):
    """(path, command) for the group and every command under it, depth first."""
    yield path, group
    if isinstance(group, click.Group):
        for name, sub in sorted(group.commands.items()):
            if not sub.hidden:
                yield from commands(sub, (*path, name))


def sections(page: str) -> dict[str, str]:
    """The HTML of each heading's section by the heading's id (up to the next heading)."""
    parts = re.split(r'(<h[1-6][^>]*\bid="([^"]+)")', page)
    out = {}
    for i in range(1, len(parts) - 2, 3):
        out[parts[i + 1]] = parts[i] + parts[i + 2]
    return out


def test_every_command_and_option_is_in_the_generated_reference(site):
    page = (site / CLI_PAGE).read_text(encoding="utf-8")
    by_id = sections(page)
    seen = 0
    for path, command in commands(cli):
        anchor = "-".join(path)
        assert anchor in by_id, f"`{' '.join(path)}` has no section in the command reference"
        text = html.unescape(re.sub(r"<[^>]+>", "", by_id[anchor]))
        ctx = click.Context(command, info_name=path[-1])
        for param in command.params:
            if getattr(param, "hidden", False):
                continue
            # an option by each of its spellings; an argument as the usage line shows it
            if isinstance(param, click.Option):
                names = param.opts + param.secondary_opts
            else:
                names = param.get_usage_pieces(ctx)
            for name in names:
                assert name in text, f"`{' '.join(path)}`: {name} is missing from the command reference"
                seen += 1
    assert seen > 100  # every command's options were looked at


def test_commands_walks_nested_groups():
    # known answer: the walk on a small group of its own
    root = click.Group("r", commands=[click.Group("a", commands=[click.Command("x")]), click.Command("b")])
    assert [p for p, _ in commands(root, ("r",))] == [("r",), ("r", "a"), ("r", "a", "x"), ("r", "b")]


def test_a_broken_link_fails_the_strict_build(tmp_path):
    # the same build on a copy of the docs with one link to a page that does not exist
    import shutil

    copy = tmp_path / "repo"
    shutil.copytree(ROOT / "docs", copy / "docs")
    shutil.copy(ROOT / "mkdocs.yml", copy / "mkdocs.yml")
    (copy / "src").symlink_to(ROOT / "src")
    index = copy / "docs" / "index.md"
    index.write_text(index.read_text(encoding="utf-8") + "\n[gone](no-such-page.md)\n", encoding="utf-8")
    import acsumgan  # noqa: F401  (the build imports the package for the CLI reference)

    from . import conftest

    saved = conftest.ROOT
    conftest.ROOT = copy
    try:
        proc = build_site(tmp_path / "out")
    finally:
        conftest.ROOT = saved
    assert proc.returncode != 0
    assert "no-such-page.md" in proc.stdout + proc.stderr


@pytest.mark.parametrize("page,name", [("index.html", "docs-index"), (CLI_PAGE, "docs-cli-reference")])
def test_pages_open_offline_without_errors(driver, site_url, page, name):  # noqa: F811
    set_viewport(driver, LAPTOP)
    driver.get("about:blank")
    driver.get_log("browser")
    driver.get_log("performance")
    driver.get(site_url + page)
    wait_for(driver, "return document.readyState === 'complete'")
    # the search index is fetched by the search's worker once the page has loaded
    wait_for(driver, "return !!document.querySelector('.md-search__input')")
    driver.execute_script("document.querySelector('.md-search__input').focus()")
    # the search's worker has read the local index: it says so instead of "Initializing search"
    wait_for(
        driver,
        "var m=document.querySelector('.md-search-result__meta');return m&&!/Initializing/.test(m.textContent)",
    )
    driver.execute_script("document.querySelector('.md-search__input').blur();document.activeElement.blur()")
    driver.execute_script("document.querySelector('[data-md-toggle=search]').checked=false")
    assert wait_for(driver, "return document.querySelectorAll('h1').length") >= 1
    urls = requested_urls(driver)
    assert urls, "the performance log saw no request at all (is it on?)"
    remote = [u for u in urls if not u.startswith((site_url, "data:", "blob:"))]
    assert not remote, f"{page} requested addresses outside this machine: {remote}"
    assert severe_console(driver) == []
    screenshot(driver, name, max_height=4000)
