"""The experiments' shared leak-audit helpers: a seeded subset, and closest pairs that index the whole generated set."""

import pytest
import torch
import yaml

from ganaug.data import ImageDataset, load_dataset
from ganaug.config import AugmentConfig, ConfigError, DemoConfig
from ganaug.experiments.common import audit_generated, claim_run_folder, seeded_subset


def test_seeded_subset_is_a_sorted_seeded_choice():
    ds = load_dataset("digits").test
    a, b = seeded_subset(ds, 50, seed=3), seeded_subset(ds, 50, seed=3)
    assert len(a) == 50 and torch.equal(a.images, b.images) and torch.equal(a.indices, a.indices.sort().values)
    assert not torch.equal(a.images, seeded_subset(ds, 50, seed=4).images)
    assert len(seeded_subset(ds, 10**6, seed=0)) == len(ds)


def test_closest_pairs_index_the_generated_set_not_the_audited_subset():
    data = load_dataset("digits")
    train, test = data.train, seeded_subset(data.test, 100, seed=0)
    noise = torch.randint(0, 256, (300, *train.images.shape[1:]), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    copied = 7  # every generated image is noise except this exact copy of a training image
    noise[copied] = train.images[42]
    generated = ImageDataset(noise, torch.zeros(300, dtype=torch.int64), train.class_names)

    audit = audit_generated(generated, train, test, n=300, seed=0)
    assert audit["closest_pairs"][0] == {"generated": copied, "train": 42, "distance": 0.0}
    assert audit["exact_copies"] == 1 and (audit["audited"], audit["of"]) == (300, 300)
    assert "generated_distances" not in audit and "flagged" not in audit  # long lists left out of metrics.json

    some = audit_generated(generated, train, test, n=120, seed=1)  # a subset: indices still point into `generated`
    assert (some["audited"], some["of"]) == (120, 300)
    for pair in some["closest_pairs"]:
        distance = (generated.images[pair["generated"]].float() - train.images[pair["train"]].float()) / 255
        assert abs(distance.pow(2).mean().sqrt().item() - pair["distance"]) < 1e-5


def test_a_run_folder_of_an_older_version_resumes_when_new_keys_keep_their_defaults(tmp_path):
    """A key added to the config since the run started (here classifier.precision) does not block resuming it;
    a changed value does, and the error names the key."""
    import yaml

    from ganaug.config import AugmentConfig, ConfigError, DemoConfig
    from ganaug.experiments.common import claim_run_folder

    cfg = DemoConfig(out=str(tmp_path))
    claim_run_folder(tmp_path, cfg)
    (tmp_path / "metrics.json").write_text("{}")  # it computed something: only the same config may resume it
    saved = yaml.safe_load((tmp_path / "config.yaml").read_text())
    del saved["classifier"]["precision"], saved["judge_samples_per_class"]
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(saved))
    claim_run_folder(tmp_path, cfg)  # resumes
    changed = DemoConfig(out=str(tmp_path), classifier={"precision": "fp32", "steps": 10})
    with pytest.raises(ConfigError, match=r"different config \(classifier.precision, classifier.steps\)"):
        claim_run_folder(tmp_path, changed)


def test_a_folder_with_nothing_computed_takes_the_corrected_config(tmp_path):
    """A run that failed before anything was computed leaves only config.yaml: the corrected command proceeds."""
    claim_run_folder(tmp_path, DemoConfig(out=str(tmp_path), seed=1))
    claim_run_folder(tmp_path, DemoConfig(out=str(tmp_path), seed=2))
    assert yaml.safe_load((tmp_path / "config.yaml").read_text())["seed"] == 2
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "last.json").write_text("{}")
    with pytest.raises(ConfigError, match="different config"):
        claim_run_folder(tmp_path, DemoConfig(out=str(tmp_path), seed=3))


def test_a_computed_run_may_change_its_number_of_seeds_and_scale_note_only(tmp_path):
    """repeats (any depth) and scale_note are free to change on resume; the saved config then says the new value."""
    claim_run_folder(tmp_path, AugmentConfig(out=str(tmp_path)))
    (tmp_path / "metrics.json").write_text("{}")
    claim_run_folder(tmp_path, AugmentConfig(out=str(tmp_path), classifier={"repeats": 5}, scale_note="5 seeds"))
    saved = yaml.safe_load((tmp_path / "config.yaml").read_text())
    assert saved["classifier"]["repeats"] == 5 and saved["scale_note"] == "5 seeds"
    with pytest.raises(ConfigError, match=r"different config \(classifier.steps\)"):
        claim_run_folder(tmp_path, AugmentConfig(out=str(tmp_path), classifier={"repeats": 2, "steps": 7}))
