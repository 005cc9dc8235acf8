"""report.html of an experiment (written by write_report beside report.md) in a real headless Chromium."""

from __future__ import annotations

import re

import numpy as np
import pytest

from acsumgan.experiment.report import write_report
from acsumgan.pages import Cell, Figure, Link, Section, Table, write_report_page
from acsumgan.runs import COLUMNS, ExperimentFolder
from acsumgan.selection import RULES

from .conftest import (
    LAPTOP,
    PHONE,
    assert_offline,
    file_of,
    no_horizontal_overflow,
    open_page,
    requested_urls,
    screenshot,
    severe_console,
    wait_for,
)

SIGMAS = (0.3, 0.7)
SPLITS = (0, 1)
EPOCHS = 6
BASELINES = [
    {"baseline": "random", "split": "mean", "f_score": 40.1, "kendall": 0.001, "spearman": 0.002},
    {"baseline": "uniform", "split": "mean", "f_score": 38.5, "kendall": None, "spearman": None},
    {"baseline": "human", "split": "mean", "f_score": 55.0, "kendall": 0.18, "spearman": 0.21},
    {"baseline": "human", "split": 0, "f_score": 54.0, "kendall": 0.17, "spearman": 0.20},
]


def fake_experiment(root, missing_log=None):
    """An experiment folder of 2 sigmas x 2 splits: real metrics.csv, config.yaml, train.log,
    scores.h5 stand-ins and COMPLETE markers (what select and report read), no training."""
    exp = ExperimentFolder(root)
    rng = np.random.default_rng(3)
    for s in SIGMAS:
        for k in SPLITS:
            run = exp.run(s, k)
            rows = []
            for e in range(-1, EPOCHS):
                r = {c: float(rng.random()) for c in COLUMNS}
                r.update(epoch=e, f_score=30 + 20 * rng.random(), seconds=1.0)
                rows.append(r)
            run.write_metrics(rows)
            run.config.write_text(f"resolved:\n  regularization_factor: {s}\n")
            run.scores.write_bytes(b"\x89HDF\r\n\x1a\n")
            if (s, k) != missing_log:
                run.log.write_text("epoch 0 done\n")
            run.mark_complete({"epochs": EPOCHS})
    return exp.path


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    exp = fake_experiment(tmp_path_factory.mktemp("exp") / "my exp", missing_log=(0.7, 1))
    return exp, write_report(exp, baselines=BASELINES)


def test_write_report_writes_report_html_beside_report_md(report):
    exp, out = report
    assert out["report.html"] == exp / "report.html" and out["report.md"] == exp / "report.md"
    text = out["report.html"].read_text()
    assert "data:image/png;base64," in text and "<script" not in text
    assert not re.search(r"(src|href)=\"(https?:)?//", text)
    md = out["report.md"].read_text()
    # the same figures as report.md, in a table of the same rows
    for rule in RULES:
        assert f"| {rule} |" in md and f"<td>{rule}</td>" in text


def test_report_html_in_the_browser(driver, report):
    exp, out = report
    open_page(driver, out["report.html"])
    counts = driver.execute_script(
        "return Object.fromEntries([...document.querySelectorAll('table[data-table]')]"
        ".map(t => [t.dataset.table, t.tBodies[0].rows.length]))"
    )
    assert counts == {"rules": len(RULES), "baselines": 3, "runs": len(SIGMAS) * len(SPLITS)}
    headers = driver.execute_script(
        "return [...document.querySelectorAll('table[data-table=rules] th')].map(th => th.textContent)"
    )
    assert headers == ["rule", "uses test labels", "mean", "split 0", "split 1"]
    # every plot is embedded and decodes
    plots = wait_for(
        driver,
        "var p=[...document.querySelectorAll('img.plot')];"
        "return p.every(i => i.complete && i.naturalWidth > 0) && p.map(i => i.src.slice(0, 22))",
    )
    assert plots == ["data:image/png;base64,"] * (2 * len(SPLITS) + 1)
    # each run's row links its files, which exist (the missing train.log is not linked)
    rows = driver.execute_script(
        "return [...document.querySelectorAll('table[data-table=runs] tbody tr')].map(tr => "
        "[tr.cells[0].textContent, tr.cells[1].textContent, [...tr.querySelectorAll('a')].map(a => a.href)])"
    )
    for split, sigma, links in rows:
        paths = [file_of(u) for u in links]
        assert all(p.is_file() for p in paths), paths
        assert {p.parent for p in paths} == {(exp / f"sigma{sigma}" / f"split{split}").resolve()}
        names = [p.name for p in paths]
        want = ["metrics.csv", "config.yaml", "train.log", "scores.h5"]
        assert names == ([n for n in want if n != "train.log"] if (sigma, split) == ("0.7", "1") else want)
    assert severe_console(driver) == []
    assert_offline(requested_urls(driver))
    screenshot(driver, "report-laptop")
    open_page(driver, out["report.html"], PHONE)
    doc, vw = no_horizontal_overflow(driver)
    assert doc <= vw, (doc, vw)  # wide tables scroll inside their box
    screenshot(driver, "report-phone")
    assert severe_console(driver) == []


def test_report_page_escapes_and_renders_cells(tmp_path, driver):
    png = tmp_path / "p.png"
    from PIL import Image

    Image.new("RGB", (40, 20), (10, 200, 30)).save(png)
    (tmp_path / "a b.csv").write_text("x\n")
    page = write_report_page(
        tmp_path / "r.html",
        "Report `<x>`",
        [
            Section(
                "One & two",
                ["Use `acsumgan report` <now>"],
                [
                    Table(
                        ["a", "b"], [["<i>", Cell("5.00", strong=True, links=[Link("a b.csv", "a%20b.csv")])]], name="t"
                    )
                ],
                [Figure(png, "a plot"), Figure(tmp_path / "missing.png", "gone")],
            )
        ],
        "subtitle",
    )
    text = page.read_text()
    assert "<code>&lt;x&gt;</code>" in text and "<code>acsumgan report</code> &lt;now&gt;" in text
    assert "<td>&lt;i&gt;</td>" in text and "<strong>5.00</strong>" in text and "missing plot: missing.png" in text
    open_page(driver, page, LAPTOP)
    assert driver.execute_script("return document.querySelector('img.plot').naturalWidth") == 40
    href = driver.execute_script("return document.querySelector('td a').href")
    assert file_of(href).is_file()
    assert severe_console(driver) == []
