"""Graph ownership: a submission writes only the graphs of the agencies and laws it declares.

Each attack is a real file loaded with `khadamat load` into a store holding examples/catalog;
each must be refused with the message naming the file and the graph, and leave every file of
the store exactly as it was.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from khadamat.cli import main
from tests.security.store_support import BASE, PREFIXES, agency_turtle, refused

HEAD = "expected only the graphs of the agencies and laws it declares"
FAKE = f'<{BASE}law/csml/article/38> kh:text "متن جعلی"@fa .'


def trig(tmp_path: Path, graph: str, body: str = FAKE, name: str = "attack.trig") -> Path:
    path = tmp_path / name
    path.write_text(f"{PREFIXES}<{graph}> {{\n{body}\n}}\n", encoding="utf-8")
    return path


# Every spelling of a reserved graph names it; each is refused.
SPELLINGS = {
    "exact": lambda g: f"{BASE}graph/{g}",
    "trailing-slash": lambda g: f"{BASE}graph/{g}/",
    "host-case": lambda g: f"https://W3ID.ORG/khadamat/id/graph/{g}",
    "scheme-case": lambda g: f"HTTPS://w3id.org/khadamat/id/graph/{g}",
    "percent-encoded": lambda g: f"{BASE}graph/%{ord(g[0]):02x}{g[1:]}",
    "dot-segment": lambda g: f"{BASE}graph/agency/../{g}",
    "dot": lambda g: f"{BASE}graph/./{g}",
    "default-port": lambda g: f"https://w3id.org:443/khadamat/id/graph/{g}",
}


@pytest.mark.parametrize("reserved", ["ontology", "corpus", "provenance"])
@pytest.mark.parametrize("spelling", sorted(SPELLINGS))
def test_reserved_graph_in_any_spelling_is_refused(store_dir, tmp_path, capsys, reserved, spelling):
    graph = SPELLINGS[spelling](reserved)
    err = refused(store_dir, trig(tmp_path, graph), capsys)
    assert f"attack.trig: {HEAD}; <{graph}> is the {reserved} graph, which Khadamat maintains itself\n" in err


def test_another_agencys_graph_is_refused(store_dir, tmp_path, capsys):
    # Three triples that would replace maj-ivo's whole graph and rename it.
    graph = f"{BASE}graph/agency/maj-ivo"
    label = "<http://www.w3.org/2004/02/skos/core#prefLabel>"
    body = f'<{BASE}agency/maj-ivo> a kh:ExecutiveAgency ; {label} "x"@fa .'
    err = refused(store_dir, trig(tmp_path, graph, body), capsys)
    assert (
        f"attack.trig: {HEAD}; <{graph}> is the graph of agency maj-ivo, which the submission does "
        "not declare\n" in err
    )


def test_built_in_instrument_cannot_be_redefined(store_dir, tmp_path, capsys):
    graph = f"{BASE}graph/law/csml"
    body = f'<{BASE}law/csml> a kh:LegalInstrument ; kh:legalCode "csml" .\n{FAKE}'
    err = refused(store_dir, trig(tmp_path, graph, body), capsys)
    assert (
        f"attack.trig: {HEAD}; <{graph}> is the graph of csml, a built-in instrument of the legal "
        "corpus, which can't be redefined\n" in err
    )


@pytest.mark.parametrize(
    ("graph", "reason"),
    [
        ("urn:evil", f"not an http(s) IRI under {BASE}"),
        ("http://evil.example/graph", f"outside {BASE}"),
        (f"{BASE}graph/x", "not the graph of an agency or law it declares"),
        (
            f"{BASE}graph/agency/evil/",
            f"another spelling of <{BASE}graph/agency/evil>, the graph of agency evil; name it exactly so",
        ),
    ],
)
def test_graphs_nobody_owns_are_refused(store_dir, tmp_path, capsys, graph, reason):
    body = agency_turtle("evil").removeprefix(PREFIXES)
    err = refused(store_dir, trig(tmp_path, graph, body), capsys)
    assert f"attack.trig: {HEAD}; <{graph}> is {reason}" in err


def test_turtle_cannot_set_a_foreign_service_title(store_dir, tmp_path, capsys):
    service = f"{BASE}agency/maj-ivo/service/14230300500"
    path = tmp_path / "evil.ttl"
    path.write_text(agency_turtle("evil", f'<{service}> dct:title "ربوده شده"@fa .\n'), encoding="utf-8")
    err = refused(store_dir, path, capsys)
    own = f"{BASE}agency/evil"
    assert (
        f"evil.ttl: expected triples in <{BASE}graph/agency/evil> about the nodes of agency evil "
        f"(<{own}>, <{own}/…>, missions, licenses, counter offices or blank nodes); <{service}> is not "
        "one of them\n" in err
    )


def test_turtle_cannot_rewrite_the_corpus_from_its_own_graph(store_dir, tmp_path, capsys):
    path = tmp_path / "evil.ttl"
    path.write_text(agency_turtle("evil", FAKE + "\n"), encoding="utf-8")
    err = refused(store_dir, path, capsys)
    assert f"<{BASE}law/csml/article/38> is not one of them\n" in err


def test_workbook_obeys_the_same_rule(store_dir, tmp_path, capsys):
    # An agency code `..` would mint the graph <…/graph/agency/..>, read as <…/graph/>.
    folder = tmp_path / "sub"
    folder.mkdir()
    (folder / "agencies.csv").write_text("کد دستگاه,نام دستگاه\n..,دستگاه\n", encoding="utf-8")
    (folder / "services.csv").write_text("کد دستگاه,عنوان خدمت,شناسه خدمت\n..,خدمت,1\n", encoding="utf-8")
    err = refused(store_dir, folder, capsys)
    assert (
        f"agencies.csv, sheet agencies, row 2, column code (کد دستگاه): {HEAD}; <{BASE}graph/agency/..> is "
        f"not a name of its own: the agency code '..' makes it read as <{BASE}graph/>, got '..'\n" in err
    )


def test_an_agency_may_write_its_own_graph(store_dir, tmp_path, capsys):
    """The rule refuses what it should, not everything: a declared agency loads into its graph."""
    graph = f"{BASE}graph/agency/new-agency"
    body = agency_turtle("new-agency", f'<{BASE}agency/new-agency/service/1> dct:title "خدمت"@fa .')
    path = trig(tmp_path, graph, body.removeprefix(PREFIXES), "own.trig")
    assert main(["load", str(path), "--store", str(store_dir), "-q"]) == 0
