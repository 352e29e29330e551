"""The catalogs: every English key has a Chinese translation with the same placeholders, the
floor's own terms, fallbacks, language negotiation, and bad catalog files named."""

from __future__ import annotations

import string
from pathlib import Path

import pytest

from callfloor.web.i18n import (
    CatalogError,
    catalog,
    load_catalogs,
    missing_keys,
    negotiate,
    normalise_lang,
    translate,
)


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_english_key_has_a_chinese_translation() -> None:
    assert missing_keys("zh") == []
    found = load_catalogs()
    assert set(found["zh"]) - set(found["en"]) == set()  # nothing only in Chinese either


def test_translations_keep_their_placeholders() -> None:
    found = load_catalogs()
    wrong = {k: (fields(v), fields(found["zh"][k])) for k, v in found["en"].items()
             if fields(v) != fields(found["zh"].get(k, v))}
    assert wrong == {}


def test_the_floors_own_terms() -> None:
    zh = catalog("zh")
    assert [zh[k] for k in ("role.seat", "role.lead", "role.qa", "metric.connect_rate",
                            "metric.service_level", "metric.abandon_rate", "metric.asa", "metric.aht",
                            "presence.paused", "presence.wrap-up", "call_state.on-call",
                            "presence.ready", "presence.logged-out")] == [
        "坐席", "班长", "质检", "接通率", "服务水平", "放弃率", "平均应答速度", "平均处理时长",
        "小休/示忙", "整理", "通话中", "空闲", "签出"]


def test_translate_fills_and_falls_back() -> None:
    assert translate("zh", "login.throttled", minutes=3) == "登录失败次数过多，请 3 分钟后再试。"
    assert translate("zh-CN", "role.lead") == "班长"
    assert translate("fr", "role.lead") == "Team lead"
    assert translate("en", "no.such.key") == "no.such.key"
    assert translate("en", "nav.signed_in_as", name="Ann") == "Signed in as Ann ({role})"


def test_catalog_is_english_where_a_language_lacks_a_key(tmp_path: Path) -> None:
    assert catalog("zh")["app.name"] == "callfloor" and catalog("de") == catalog("en")
    (tmp_path / "common.en.toml").write_text('[a]\nb = "B"\nc = "C {n}"\n', encoding="utf-8")
    (tmp_path / "common.zh.toml").write_text('[a]\nb = "乙"\n', encoding="utf-8")
    assert missing_keys("zh", tmp_path) == ["a.c"]


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"common.en.toml": "a = 1\n"}, r"common\.en\.toml: a: a translation is a string, not int"),
        ({"common.fr.toml": 'a = "x"\n'}, r"common\.fr\.toml: catalog files are named <area>\.<lang>\.toml"),
        ({"common.en.toml": 'a = "x"\n', "monitor.en.toml": 'a = "y"\n'},
         r"monitor\.en\.toml: a is also defined in common\.en\.toml"),
        ({"common.en.toml": "a = \n"}, r"common\.en\.toml: Invalid value"),
    ],
)
def test_bad_catalogs_name_the_file(tmp_path: Path, files: dict[str, str], message: str) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    with pytest.raises(CatalogError, match=message):
        load_catalogs(tmp_path)


@pytest.mark.parametrize(
    ("header", "lang"),
    [("zh-CN,zh;q=0.9,en;q=0.8", "zh"), ("en-US,en;q=0.9,zh;q=0.8", "en"), ("fr, zh;q=0.5", "zh"),
     ("zh;q=0, en;q=0.1", "en"), ("zh-Hans", "zh"), ("de", "en"), ("", "en"), (None, "en"),
     ("en, zh", "en"), ("zh;q=bad, en;q=0.2", "en")],
)
def test_negotiate(header: str | None, lang: str) -> None:
    assert negotiate(header) == lang


def test_normalise_lang() -> None:
    assert [normalise_lang(v) for v in ("zh-CN", "ZH_hans", "en-GB", "fr", "", None)] == [
        "zh", "zh", "en", None, None, None]
