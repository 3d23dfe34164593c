"""What each report holds, read from its HTML: every figure the issue asks for, tables, the command to reproduce,
and nothing that needs a file or the network (images are data URIs)."""

import re

import pytest

FIGURES = {  # the alt texts of each report's figures
    "demo_run": ["recall per class", "training curves", "confusion matrices", "ROC curves",
                 "real and synthetic samples per class", "closest synthetic and training images",
                 "closest test and training images"],
    "augment_run": ["recall per class", "paired differences", "training curves", "confusion matrices", "ROC curves",
                    "real and generated images", "closest generated and training images",
                    "closest test and training images"],
    "ssl_run": ["recall per class", "training curves", "ROC curves", "confusion matrices", "real and generated images"],
}


@pytest.fixture(params=list(FIGURES))
def report(request):
    run = request.getfixturevalue(request.param)
    out = run[0] if isinstance(run, tuple) else run
    return request.param, (out / "report.html").read_text()


def test_every_figure_is_embedded_and_nothing_is_fetched(report):
    name, page = report
    alts = re.findall(r'<img alt="([^"]*)" src="data:image/png;base64,[A-Za-z0-9+/=]+"', page)
    assert sorted(set(alts)) == sorted(FIGURES[name])
    assert len(alts) == page.count("<img")  # no other image
    assert all(url.startswith("data:") for url in re.findall(r'(?:src|href)="([^"]*)"', page))
    assert "http://" not in page and "https://" not in page  # no external URL at all


def test_tables_and_the_command_to_reproduce(report):
    name, page = report
    assert page.count("<table>") >= 1 and "<td>" in page
    reproduce = page.split("<h2>Reproduce</h2>")[1]
    assert re.match(r"\s*<pre><code>ganaug\b", reproduce)  # the command line (in-process runs: the test runner's)


def test_precision_note_names_every_trainer_that_fell_back():
    from ganaug.report.html import precision_note

    assert precision_note([]) == [] and precision_note(None) == []
    event = {"trainer": "GAN", "at": "epoch 7", "restored": "the start of epoch 7", "from": "bf16", "to": "fp32"}
    text = "\n".join(precision_note([event, {**event, "trainer": "classifier baseline #2", "at": "epoch 3"}]))
    assert "2 trainer(s)" in text and "GAN at epoch 7 (restarted from the start of epoch 7)" in text
    assert "classifier baseline #2 at epoch 3" in text
