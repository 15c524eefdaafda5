"""Chapter parameters as a user types them: every form read one way, every mistake one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from bnnoise import cli
from bnnoise.build.chapter_parameters import as_list_parameters, read_value

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(("name", "text", "value"), [
    ("etas", "[0.1, 0.3]", [0.1, 0.3]),
    ("etas", "0.1", [0.1]),          # one value where a list is meant: a one-item list
    ("seeds", "1", [1]),
    ("models", "resnet20", ["resnet20"]),
    ("scoring", "argmax", "argmax"),  # not a list parameter: as given
    ("overrides", "{lr: 0.05}", {"lr": 0.05}),
])
def test_values_are_read_as_yaml_and_list_parameters_become_lists(name, text, value) -> None:
    assert read_value(name, text) == value


@pytest.mark.parametrize(("name", "text", "message"), [
    ("etas", "[0.1, 0.2", r"cannot read '\[0.1, 0.2'; write a list as"),
    ("etas", "0.1,0.2", r'write the list as "\[0.1, 0.2\]"'),
    ("seeds", "0,1", r'write the list as "\[0, 1\]"'),
    ("etas", "{a: 1}", "takes a list"),
])
def test_malformed_values_stop_with_one_line_naming_the_form(name, text, message) -> None:
    with pytest.raises(ValueError, match=message) as err:
        read_value(name, text)
    assert "\n" not in str(err.value)


def test_python_callers_get_the_same_reading() -> None:
    assert as_list_parameters({"etas": 0.1, "seeds": (0, 1), "profile": "smoke"}) == {
        "etas": [0.1], "seeds": [0, 1], "profile": "smoke"}


def test_the_command_line_stops_before_anything_runs(tmp_path: Path, monkeypatch,
                                                     capsys) -> None:
    monkeypatch.setenv("BNNOISE_ROOT", str(ROOT))
    with pytest.raises(SystemExit) as stop:
        cli.main(["chapter", "02_noise", "--profile", "smoke", "-p", "etas", "0.1,0.2",
                  "--output-dir", str(tmp_path / "out")])
    assert str(stop.value).startswith("bnnoise: parameter etas:")
    assert not (tmp_path / "out").exists()


def test_the_protocol_page_shows_the_published_profiles_values_from_params_yaml() -> None:
    """Each ``literalinclude`` of ``book/protocol.md`` cuts the cpu profile's part of
    ``params.yaml`` (Sphinx matches its markers as substrings, the end after the start, and
    only warns when one is missing)."""
    import re

    root = Path(__file__).resolve().parents[1]
    page = (root / "book" / "protocol.md").read_text()
    lines = (root / "params.yaml").read_text().splitlines()
    includes = re.findall(r":start-at: \"(.*)\"\n:end-before: \"(.*)\"", page)
    assert len(includes) == 2
    profile = next(i for i, line in enumerate(lines) if line == "  cpu:")
    end = next(i for i, line in enumerate(lines) if i > profile and re.match(r"  \w+:$", line))
    for start_at, end_before in includes:
        start = next(i for i, line in enumerate(lines) if start_at in line)
        stop = next(i for i, line in enumerate(lines) if i > start and end_before in line)
        assert profile <= start < stop <= end, (start_at, end_before)
    assert "etas:" in "\n".join(lines[profile:end])
