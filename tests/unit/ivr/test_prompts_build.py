"""The prompt builder and the prompts it made for the demo (committed in config/ivr/prompts)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile

from ivr.prompts import NUMBER_PROMPTS, RATE, load_audio
from ivr.prompts_build import (
    DEFAULT_OUT,
    TEXTS,
    _trim_and_normalise,
    build,
    main,
    synthesise_beep,
    synthesise_hold,
)
from telephony.rtp.inband import InbandDtmfDetector
from telephony.rtp.tone import tone_power_db
from tests.unit.ivr.ladder import PROMPTS


def test_the_committed_prompts_are_exactly_what_the_builder_makes() -> None:
    assert DEFAULT_OUT == PROMPTS
    files = sorted(PROMPTS.rglob("*.*"))
    names = {f.relative_to(PROMPTS).with_suffix("").as_posix() for f in files}
    assert names == set(TEXTS) | {"beep", "hold"}
    assert {f.suffix for f in files} == {".flac"}
    assert set(NUMBER_PROMPTS) <= names
    assert sum(f.stat().st_size for f in files) < 1.5 * 1024 * 1024


def test_beep_and_hold_music() -> None:
    beep = synthesise_beep()
    assert len(beep) == int(0.3 * RATE) and beep[0] == 0
    assert tone_power_db(beep, 1000) == pytest.approx(-10.0, abs=0.5)
    hold = synthesise_hold()
    assert len(hold) == 6 * RATE and np.abs(hold).max() < 32767 * 10 ** (-17 / 20)
    detector = InbandDtmfDetector()
    assert detector.feed(hold) == []  # one note at a time is never a key


def test_trim_and_normalise() -> None:
    pcm = np.concatenate([np.zeros(4000), 1000 * np.ones(800), np.zeros(4000)]).astype(np.int16)
    out = _trim_and_normalise(pcm)
    assert len(out) == 800 + 2 * 400  # 50 ms kept either side
    assert int(np.abs(out).max()) == round(32767 * 10 ** (-3 / 20))
    assert len(_trim_and_normalise(np.zeros(0, dtype=np.int16))) == 0


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_build_with_espeak(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    written = build(tmp_path, only=["digits/5", "beep"])
    assert written == [tmp_path / "digits" / "5.flac", tmp_path / "beep.flac"]
    info = soundfile.info(str(written[0]))
    assert (info.samplerate, info.channels, info.subtype) == (8000, 1, "PCM_16")
    assert 0.2 < info.duration < 1.5
    assert np.array_equal(load_audio(written[0]), load_audio(PROMPTS / "digits" / "5.flac"))
    assert main(["--out", str(tmp_path), "minute"]) == 0
    assert capsys.readouterr().out.startswith("1 prompts, ")


def test_main_without_espeak(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--espeak", "/nonexistent/espeak-ng"]) == 1
    assert "not found" in capsys.readouterr().err
