"""Device choice, seeding, profiles and the settings a notebook prints."""

import random
import warnings

import numpy as np
import pytest
import torch

from course_utils import pick_device, resolve_profile, seed_everything, setup
from course_utils.catalogue import CATALOGUE
from course_utils.profiles import PROFILES


def test_default_device_matches_hardware():
    assert pick_device(None).type == ("cuda" if torch.cuda.is_available() else "cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a GPU")
def test_cuda_without_gpu_falls_back_with_one_warning():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert pick_device("cuda").type == "cpu"
    assert len(caught) == 1 and "no CUDA GPU" in str(caught[0].message)


@pytest.mark.parametrize("bad", ["gpu", "tpu", "cuda:x"])
def test_unknown_device_is_a_clear_error(bad):
    with pytest.raises(ValueError, match="cpu, cuda, mps"):
        pick_device(bad)


def test_seed_everything_repeats_every_generator():
    def draw():
        seed_everything(7)
        return random.random(), np.random.rand(), torch.rand(3).tolist()

    assert draw() == draw()


def test_profile_resolution(monkeypatch):
    monkeypatch.delenv("COURSE_PROFILE", raising=False)
    assert resolve_profile(None, torch.device("cpu")) == "cpu"
    assert resolve_profile(None, torch.device("cuda")) == "full"
    monkeypatch.setenv("COURSE_PROFILE", "smoke")
    assert resolve_profile(None, torch.device("cpu")) == "smoke"
    assert resolve_profile("full", torch.device("cpu")) == "full"
    with pytest.raises(ValueError, match="smoke, cpu, full"):
        resolve_profile("fast", torch.device("cpu"))


def with_setting(key: str):
    """The first notebook whose profiles have ``key``: the tests of setup() need one, not a given one."""
    return next(nb for nb in CATALOGUE if key in nb.profiles["smoke"])


def test_every_notebook_has_every_profile():
    for nb in CATALOGUE:
        table = nb.profiles
        assert set(table) == set(PROFILES), nb.stem
        keys = {frozenset(settings) for settings in table.values()}
        assert len(keys) == 1, f"{nb.stem}: profiles define different settings"
        assert {"epochs", "batch_size", "train_limit", "test_limit"} <= set(table["smoke"])


def test_setup_resolves_overrides_and_prints(capsys):
    nb = CATALOGUE[0]
    cfg = setup(nb.stem, profile="smoke", seed=3, epochs=5)
    assert cfg.epochs == 5 and cfg.profile == "smoke" and cfg.seed == 3
    assert cfg.batch_size == nb.profiles["smoke"]["batch_size"]
    printed = capsys.readouterr().out
    assert "profile" in printed and "smoke" in printed and "device" in printed


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"epochs": -1}, "epochs must be a positive integer"),
        ({"train_limit": 0}, "train_limit must be a positive integer"),
        ({"batch_size": 2.5}, "batch_size must be a positive integer"),
        ({"seed": -3}, "seed must be a non-negative integer"),
        ({"profile": "quick"}, "choose one of smoke, cpu, full"),
        ({"learning_rate": 0.1}, "Unknown setting"),
    ],
)
def test_setup_rejects_bad_values(kwargs, message):
    with pytest.raises(ValueError, match=message):
        setup(CATALOGUE[0].stem, verbose=False, **kwargs)


@pytest.mark.parametrize(
    "key, text, message",
    [
        ("timed_batch_sizes", "(1, 64)", "timed_batch_sizes must be a list like"),
        ("epochs", "3", "epochs must be a number like"),
    ],
)
def test_setup_refuses_text_for_a_list_or_a_number(key, text, message):
    """What papermill makes of a tuple, or ``-p`` of a list: text, which would fail far from here."""
    stem = with_setting(key).stem
    with pytest.raises(ValueError, match=message) as error:
        setup(stem, profile="smoke", verbose=False, **{key: text})
    assert "-y" in str(error.value)
    timed = with_setting("timed_batch_sizes").stem
    assert setup(timed, profile="smoke", verbose=False, timed_batch_sizes=[1]).timed_batch_sizes == [1]


def test_max_steps_is_shown_and_caps_timing_steps(capsys):
    nb = with_setting("timing_steps")
    steps = nb.profiles["full"]["timing_steps"]
    assert steps > 2
    cfg = setup(nb.stem, profile="full", max_steps=2)
    assert cfg.max_steps == 2 and cfg.timing_steps == 2  # full times more steps per batch size
    assert "max_steps" in capsys.readouterr().out
    assert setup(nb.stem, profile="full", verbose=False).max_steps is None
    assert setup(nb.stem, profile="full", verbose=False).timing_steps == steps
    with pytest.raises(ValueError, match="max_steps must be a positive integer"):
        setup(nb.stem, verbose=False, max_steps=0)


def test_setup_rejects_unknown_notebook():
    with pytest.raises(ValueError, match=CATALOGUE[0].stem):
        setup("99_nothing", verbose=False)


def test_installed_without_a_checkout_files_go_under_the_working_directory(tmp_path, monkeypatch):
    """pip install (Colab) puts the package in site-packages: data and checkpoints must not follow it."""
    from course_utils import paths
    from course_utils.checkpoints import checkpoint_path
    from course_utils.files import data_root

    site_packages, workdir = tmp_path / "site-packages", tmp_path / "content"
    site_packages.mkdir()
    workdir.mkdir()
    monkeypatch.setattr(paths, "REPO_ROOT", site_packages)  # no pyproject.toml there
    monkeypatch.delenv("COURSE_DATA", raising=False)
    monkeypatch.chdir(workdir)
    assert paths.work_root() == workdir
    assert data_root() == workdir / "data"
    assert checkpoint_path("NN_any_notebook", "full", 0).parent == workdir / "checkpoints"
    assert not any(site_packages.iterdir())


def test_in_a_checkout_files_go_under_the_checkout():
    from course_utils import paths

    assert (paths.REPO_ROOT / "pyproject.toml").exists() and paths.work_root() == paths.REPO_ROOT
