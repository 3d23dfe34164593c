"""The training-curves figure shows ADA's p when the GAN's history has it."""

from PIL import Image

from ganaug.report import figures


def test_training_curves_add_ada_p_when_logged(tmp_path):
    rows = [{"epoch": e, "loss_d": 1.0 / e, "loss_g": 2.0 / e} for e in range(1, 6)]
    classifier = {"clf": [{"epoch": e, "loss": 1.0 / e, "val_acc": 0.1 * e} for e in range(1, 6)]}
    plain = figures.training_curves(classifier, tmp_path / "plain.png", gan_history=rows)
    ada = figures.training_curves(classifier, tmp_path / "ada.png",
                                  gan_history=[{**r, "ada_p": 0.1 * r["epoch"]} for r in rows])
    a, b = Image.open(plain).convert("L"), Image.open(ada).convert("L")
    assert a.size == b.size
    w = a.width // 3  # the GAN panel, the first of three, has the p curve and its right-hand axis
    assert a.crop((0, 0, w, a.height)).tobytes() != b.crop((0, 0, w, b.height)).tobytes()


def test_training_curves_add_a_collapse_panel_when_monitored(tmp_path):
    rows = [{"epoch": e, "loss_d": 1.0 / e, "loss_g": 2.0 / e} for e in range(1, 6)]
    rows[1].update(diversity=0.8, diversity_min=0.5)  # checkpoint epochs only
    rows[4].update(diversity=0.2, diversity_min=0.05)
    classifier = {"clf": [{"epoch": e, "loss": 1.0 / e, "val_acc": 0.1 * e} for e in range(1, 6)]}
    plain = Image.open(figures.training_curves(classifier, tmp_path / "plain.png", gan_history=rows[:1]))
    monitored = Image.open(figures.training_curves(classifier, tmp_path / "monitored.png", gan_history=rows))
    assert monitored.width > plain.width * 1.2  # four panels instead of three
