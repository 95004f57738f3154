"""IRI minting is stable and readable, whatever spelling the cell used."""

from __future__ import annotations

import pytest

from khadamat.iris import Minter

BASE = "https://example.org/kh/"


def test_legal_references_of_the_spec() -> None:
    m = Minter(BASE)
    assert m.legal_ref("circ-29168").value == BASE + "law/circ-29168"
    assert m.legal_ref("circ-29168:10").value == BASE + "law/circ-29168/article/10"
    assert m.legal_ref("fifth-plan:46:بند ج جزء ۲").value == (
        BASE + "law/fifth-plan/article/46/part/بند-ج-جزء-2"
    )
    # Persian digits, Arabic letters and ZWNJ land on the same node.
    assert m.legal_ref("circ-29168:۴:تبصره ۳") == m.legal_ref("circ-29168:4:تبصره\u200c3")


@pytest.mark.parametrize("bad", ["", ":10", "a:b:c:d", "csml::2"])
def test_malformed_legal_references_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="CODE:ARTICLE"):
        Minter(BASE).legal_ref(bad)


def test_service_iri_is_scoped_by_owner_and_id() -> None:
    m = Minter(BASE)
    assert m.service("MIMT", "۱۳۰۹۱۷۲۸۰۰۰").value == BASE + "agency/MIMT/service/13091728000"


def test_unidentified_items_are_stable_and_ordinal() -> None:
    m = Minter(BASE)
    first = m.unidentified_item("A1", "صدور پروانه")
    assert first == m.unidentified_item("A1", "صدور پروانه")
    assert m.unidentified_item("A1", "صدور پروانه", 2).value == first.value + "-2"


def test_reserved_characters_are_escaped() -> None:
    assert Minter(BASE).agency("A/B C?").value == BASE + "agency/A%2FB-C%3F"
