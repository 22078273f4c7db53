"""The offline cache's default place: the checkout's ``results/`` inside the repository, the user cache
directory anywhere else, ``HARNESS_OFFLINE_CACHE`` or ``offline.cache_dir`` when given."""

from __future__ import annotations

from pathlib import Path

import platformdirs

import harness
from harness.offline.cache_location import offline_cache_dir

ROOT = Path(__file__).resolve().parents[1]
USER_CACHE = str(Path(platformdirs.user_cache_dir("drift-harness")) / "offline_cache")


def test_outside_the_checkout_the_cache_goes_to_the_user_cache_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HARNESS_OFFLINE_CACHE")
    assert offline_cache_dir() == USER_CACHE
    assert harness.compose([]).offline.cache_dir == USER_CACHE  # what a run started here reads
    assert not Path(USER_CACHE).is_relative_to(tmp_path)


def test_another_project_pyproject_is_not_the_checkout(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "my-notebooks"\n')
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HARNESS_OFFLINE_CACHE")
    assert offline_cache_dir() == USER_CACHE


def test_a_broken_pyproject_is_not_the_checkout(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text("[project\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HARNESS_OFFLINE_CACHE")
    assert offline_cache_dir() == USER_CACHE


def test_inside_the_checkout_the_cache_stays_in_its_results(monkeypatch):
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("HARNESS_OFFLINE_CACHE")
    assert offline_cache_dir() == "results/offline_cache"


def test_the_environment_variable_wins_over_both(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("HARNESS_OFFLINE_CACHE", str(tmp_path / "c"))
    assert offline_cache_dir() == str(tmp_path / "c")
    assert harness.compose([]).offline.cache_dir == str(tmp_path / "c")


def test_the_config_key_wins_over_everything(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HARNESS_OFFLINE_CACHE", str(tmp_path / "env"))
    assert harness.compose([f"offline.cache_dir={tmp_path / 'key'}"]).offline.cache_dir == str(tmp_path / "key")
