"""Tones and the one-bin tone meter used to check which audio landed where."""

from __future__ import annotations

import numpy as np
import pytest

from telephony.rtp.tone import (
    DTMF_FREQUENCIES,
    FLOOR_DB,
    dtmf_tone,
    dual_tone,
    frames,
    silence,
    tone,
    tone_power_db,
)


def test_tone_shape_and_level() -> None:
    pcm = tone(1000, 1.0)
    assert pcm.dtype == np.int16 and len(pcm) == 8000
    assert int(np.abs(pcm).max()) == round(32767 * 10 ** (-10 / 20))  # 10362
    assert pcm[0] == 0 and pcm[2] == 10362  # 1 kHz at 8 kHz: a quarter period is 2 samples


def test_tone_power_reads_the_level_of_its_frequency_only() -> None:
    pcm = tone(440, 0.1, dbfs=-6.0)
    assert tone_power_db(pcm, 440) == pytest.approx(-6.0, abs=0.1)
    assert tone_power_db(pcm, 1000) < -60
    assert tone_power_db(tone(1000, 0.02, rate=16000, dbfs=-20), 1000, 16000) == pytest.approx(
        -20, abs=0.1
    )


def test_dual_tone_components_are_6_db_below_the_peak() -> None:
    pcm = dual_tone(697, 1209, 0.2, dbfs=-3.0)
    assert np.abs(pcm.astype(np.int32)).max() <= round(32767 * 10 ** (-3 / 20))
    for f in (697, 1209):
        assert tone_power_db(pcm, f) == pytest.approx(-3.0 - 6.02, abs=0.15)
    assert tone_power_db(pcm, 1336) < -40


def test_dtmf_tones_hit_their_row_and_column() -> None:
    assert DTMF_FREQUENCIES["5"] == (770, 1336)
    assert DTMF_FREQUENCIES["#"] == (941, 1477)
    assert DTMF_FREQUENCIES["D"] == (941, 1633)
    pcm = dtmf_tone("9")
    row, col = DTMF_FREQUENCIES["9"]
    assert tone_power_db(pcm, row) > -20 and tone_power_db(pcm, col) > -20
    assert tone_power_db(pcm, 697) < -40


def test_silence_and_empty_read_the_floor() -> None:
    assert tone_power_db(silence(0.1), 1000) == FLOOR_DB
    assert tone_power_db(np.array([], dtype=np.int16), 1000) == FLOOR_DB


def test_frames_pads_the_last_frame() -> None:
    pcm = np.arange(400, dtype=np.int16)
    chunks = list(frames(pcm))
    assert [len(c) for c in chunks] == [160, 160, 160]
    assert chunks[1][0] == 160
    assert chunks[2][:80].tolist() == list(range(320, 400)) and not chunks[2][80:].any()
    assert list(frames(np.array([], dtype=np.int16))) == []
    assert [len(c) for c in frames(pcm, 200)] == [200, 200]
