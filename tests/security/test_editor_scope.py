"""Every way for the editor of one agency to change another agency's data is refused.

The editor of `maj` (the Ministry of Agriculture, examples/catalog) may write maj and its
provincial and county units, maj-fars and maj-fars-marvdasht — not its affiliates (maj-ppo,
maj-ivo … are agencies of their own), not their units (maj-ivo-khrz), not another ministry, not
laws, not the reserved graphs. Each attack is a real submission (CSV sheets, TriG, Turtle) built
here and handed to the loader with the editor's scope; each must be refused whole with the exact
message naming the file, sheet, row and column or graph, and every file of the store must be the
same byte for byte afterwards. Each attack goes both to the loader directly and through
`khadamat.submissions.submit` (the one write path of the CLI and the API), writing for real.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from khadamat.loader.errors import SubmissionError
from khadamat.loader.resolve import read_agencies
from khadamat.loader.submission import Submission, build_submission

from khadamat.accounts import ANY, Principal, Role, Scope, is_scope_error, write_scope
from khadamat.config import Settings
from khadamat.store import open_store
from khadamat.submissions import submit
from tests.security.store_support import BASE, PREFIXES, fingerprint

EDITOR = Principal("Ministry of Agriculture data officer", Role.EDITOR, "maj", "0123456789ab")
ADMIN = Principal("supervisor", Role.ADMIN, None, "ba9876543210")
SCOPE = (
    "expected data within the write scope of the editor of agency maj (the agency and its provincial "
    "and county units: maj, maj-fars, maj-fars-marvdasht)"
)
OWN = "expected only the graphs of the agencies and laws it declares"
ORG = "<http://www.w3.org/ns/org#>"
TTL = f"{PREFIXES}@prefix org: {ORG} .\n"


def agency(code: str, extra: str = "") -> str:
    """Turtle declaring an agency node (its type and code), plus `extra` predicates."""
    return f'<{BASE}agency/{code}> a kh:ExecutiveAgency ; kh:agencyCode "{code}" {extra}.\n'


def unit(code: str, parent: str) -> str:
    return agency(code, f"; a kh:AgencyUnit, kh:ProvincialUnit ; org:unitOf <{BASE}agency/{parent}> ")


def trig(graph: str, body: str) -> str:
    return f"{TTL}<{BASE}graph/{graph}> {{\n{body}}}\n"


def write_files(folder: Path, files: dict[str, str]) -> list[Path]:
    """The submission's paths: its CSV sheets as one folder, each RDF file on its own."""
    folder.mkdir(parents=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    rdf = [folder / name for name in files if not name.endswith(".csv")]
    return rdf if rdf else [folder]


# -- the two ways in: the loader with a scope, and the submissions module ------------------------


def _build(store_dir: Path, paths: list[Path], principal: Principal) -> tuple[Submission | None, list[str]]:
    store = open_store(Settings(store_dir=store_dir), read_only=True)
    try:
        scope = write_scope(principal, read_agencies(store))
        return build_submission(paths, store, scope=scope), []
    except SubmissionError as refusal:
        return None, [str(e) for e in refusal.errors]
    finally:
        store.close()


def _submit(store_dir: Path, paths: list[Path], principal: Principal) -> tuple[object | None, list[str]]:
    outcome = submit(Settings(store_dir=store_dir), paths, principal)  # a real write
    assert (outcome.id is not None) == outcome.accepted
    return (outcome if outcome.accepted else None), [str(e) for e in outcome.errors]


WAYS: dict[str, Callable[[Path, list[Path], Principal], tuple[object | None, list[str]]]] = {
    "build_submission": _build,
    "submit": _submit,
}


@pytest.fixture(params=sorted(WAYS))
def way(
    request: pytest.FixtureRequest,
) -> Callable[[Path, list[Path], Principal], tuple[object | None, list[str]]]:
    return WAYS[request.param]


def refused(
    way, store_dir: Path, tmp_path: Path, files: dict[str, str], principal: Principal = EDITOR
) -> list[str]:
    """Submit `files` as `principal`: refused, every file of the store unchanged; the error lines."""
    before = fingerprint(store_dir)
    accepted, errors = way(store_dir, write_files(tmp_path / "submission", files), principal)
    assert accepted is None, "the submission was accepted"
    assert fingerprint(store_dir) == before
    return errors


def accepted(way, store_dir: Path, tmp_path: Path, files: dict[str, str], principal: Principal = EDITOR):
    result, errors = way(store_dir, write_files(tmp_path / "submission", files), principal)
    assert errors == []
    return result


# -- rows in CSV sheets -----------------------------------------------------------------------------

SERVICE = "agency,title,service_id\n"
MAJ_ROW = "maj,صدور گواهی آزمایشی,14230109900\n"  # a good row: the refusal is still whole
ROWS: dict[str, tuple[dict[str, str], str]] = {
    "another ministry's services": (
        {"services.csv": SERVICE + MAJ_ROW + "mrud,خدمت جعلی,13150109900\n"},
        f"services.csv, sheet services, row 3, column agency (کد دستگاه): {SCOPE}; agency mrud is "
        "another agency, got 'mrud'",
    ),
    "an affiliate's services": (
        {"services.csv": SERVICE + "maj-ppo,خدمت جعلی,14230209900\n"},
        f"services.csv, sheet services, row 2, column agency (کد دستگاه): {SCOPE}; agency maj-ppo is "
        "an affiliate of maj: an agency of its own, with its own editor, got 'maj-ppo'",
    ),
    "a unit of an affiliate": (
        {"services.csv": SERVICE + "maj-ivo-khrz,خدمت جعلی,14230300400\n"},
        f"services.csv, sheet services, row 2, column agency (کد دستگاه): {SCOPE}; agency maj-ivo-khrz "
        "is a unit of maj-ivo, got 'maj-ivo-khrz'",
    ),
    "another agency's missions": (
        {"missions.csv": "code,agency,title,legal_basis\nfake-m1,mrud,مأموریت جعلی,ex-maj-law:1\n"},
        f"missions.csv, sheet missions, row 2, column agency (کد دستگاه): {SCOPE}; agency mrud is "
        "another agency, got 'mrud'",
    ),
    "another agency's licenses": (
        {"licenses.csv": "code,title,agency\n99990001,مجوز جعلی,doe\n"},
        f"licenses.csv, sheet licenses, row 2, column agency (کد دستگاه): {SCOPE}; agency doe is "
        "another agency, got 'doe'",
    ),
    "a law": (
        {"laws.csv": "code,title\nmaj-rule,آیین‌نامه جعلی\n"},
        f"laws.csv, sheet laws, row 2, column code (کد مقرره): {SCOPE}: laws are submitted by an admin; "
        f"<{BASE}graph/law/maj-rule> is the graph of law maj-rule, got 'maj-rule'",
    ),
    "a new unit of another parent": (
        {"agencies.csv": "code,name,parent,kind\nmaj-new,واحد جعلی,mrud,واحد استانی\n"},
        f"agencies.csv, sheet agencies, row 2, column code (کد دستگاه): {SCOPE}; agency maj-new is "
        "declared a unit of mrud, outside it, got 'maj-new'",
    ),
    "a new affiliate of its own agency": (
        {"agencies.csv": "code,name,parent,kind\nmaj-aff,سازمان جعلی,maj,سازمان\n"},
        f"agencies.csv, sheet agencies, row 2, column code (کد دستگاه): {SCOPE}; agency maj-aff is "
        "declared an agency of its own, not a provincial or county unit of maj, got 'maj-aff'",
    ),
    "adopting another ministry's unit": (
        {"agencies.csv": "code,name,parent,kind\nmrud-isf,اداره جعلی,maj,واحد استانی\n"},
        f"agencies.csv, sheet agencies, row 2, column code (کد دستگاه): {SCOPE}; agency mrud-isf is "
        "a unit of mrud, got 'mrud-isf'",
    ),
    "moving its own unit under another ministry": (
        {"agencies.csv": "code,name,parent,kind\nmaj-fars,سازمان جهاد فارس,mrud,واحد استانی\n"},
        f"agencies.csv, sheet agencies, row 2, column code (کد دستگاه): {SCOPE}; agency maj-fars is "
        "declared a unit of mrud, outside it, got 'maj-fars'",
    ),
    "making itself a unit of another ministry": (
        {"agencies.csv": "code,name,parent,kind\nmaj,وزارت جهاد کشاورزی,mrud,واحد استانی\n"},
        f"agencies.csv, sheet agencies, row 2, column code (کد دستگاه): {SCOPE}; agency maj stays where "
        "it is loaded, under no other agency and not a unit: only an admin moves an agency, got 'maj'",
    ),
    "taking another agency's mission code": (
        {"missions.csv": "code,agency,title,legal_basis\nmrud-m1,maj,مأموریت جعلی,ex-maj-law:1\n"},
        "missions.csv, sheet missions, row 2, column code (کد ماموریت): expected a unique mission code; "
        "it is already loaded for another agency, got 'mrud-m1'",
    ),
    "taking another agency's license code": (
        {"licenses.csv": "code,title,agency\n13010002,مجوز جعلی,maj\n"},
        "licenses.csv, sheet licenses, row 2, column code (کد مجوز): expected a unique license code; "
        "already in another agency's data, got '13010002'",
    ),
}


@pytest.mark.parametrize("case", sorted(ROWS))
def test_rows_outside_the_scope_refuse_the_whole_submission(way, store_dir, tmp_path, case):
    files, message = ROWS[case]
    expected = [message]
    if case == "making itself a unit of another ministry":  # its services row is then out of place too
        expected.append(
            f"services.csv, sheet services, row 2, column agency (کد دستگاه): {SCOPE}; "
            "agency maj stays where it is loaded, under no other agency and not a unit: only an "
            "admin moves an agency, got 'maj'"
        )
    submission = {"services.csv": SERVICE + MAJ_ROW, **files}  # every submission has a services sheet
    assert sorted(refused(way, store_dir, tmp_path, submission)) == sorted(expected)


# -- RDF files ---------------------------------------------------------------------------------------

MRUD_SERVICE = f"<{BASE}agency/mrud/service/13150100100>"
MAJ_SERVICE = f"<{BASE}agency/maj/service/14230100100>"
RESERVED = "which Khadamat maintains itself"
AFFILIATE = "agency maj-ppo is an affiliate of maj: an agency of its own, with its own editor"
GRAPHS: dict[str, tuple[dict[str, str], str]] = {
    "another ministry's graph, declared": (
        {"attack.trig": trig("agency/mrud", agency("mrud"))},
        f"attack.trig: {SCOPE}; agency mrud is another agency",
    ),
    "an affiliate's graph, undeclared": (
        {"attack.trig": trig("agency/maj-ppo", f'<{BASE}agency/maj-ppo/service/14230200100> kh:fee "0" .\n')},
        f"attack.trig: {SCOPE}; {AFFILIATE}",
    ),
    "an affiliate's node as plain Turtle": (
        {"attack.ttl": TTL + agency("maj-ppo", '; kh:province "x" ')},
        f"attack.ttl: {SCOPE}; {AFFILIATE}",
    ),
    "a law's graph": (
        {
            "attack.trig": trig(
                "law/maj-rule", f'<{BASE}law/maj-rule> a kh:LegalInstrument ; kh:legalCode "maj-rule" .\n'
            )
        },
        f"attack.trig: {SCOPE}: laws are submitted by an admin; <{BASE}graph/law/maj-rule> is the graph "
        "of law maj-rule",
    ),
    "the provenance graph": (
        {"attack.trig": trig("provenance", f'<{BASE}load/x> kh:fileName "x" .\n')},
        f"attack.trig: {OWN}; <{BASE}graph/provenance> is the provenance graph, {RESERVED}",
    ),
    "the ontology graph": (
        {"attack.trig": trig("ontology", 'kh:Service kh:note "x" .\n')},
        f"attack.trig: {OWN}; <{BASE}graph/ontology> is the ontology graph, {RESERVED}",
    ),
    "the corpus graph": (
        {"attack.trig": trig("corpus", f'<{BASE}law/csml> kh:text "x"@fa .\n')},
        f"attack.trig: {OWN}; <{BASE}graph/corpus> is the corpus graph, {RESERVED}",
    ),
    "its own graph retitling another's service": (
        {"attack.trig": trig("agency/maj", agency("maj") + f'{MRUD_SERVICE} dct:title "جعلی"@fa .\n')},
        f"attack.trig: expected triples in <{BASE}graph/agency/maj> about the nodes of agency maj "
        f"(<{BASE}agency/maj>, <{BASE}agency/maj/…>, missions, licenses, counter offices or blank nodes); "
        f"<{BASE}agency/mrud/service/13150100100> is not one of them",
    ),
    "its own graph retitling another's mission": (
        {
            "attack.trig": trig(
                "agency/maj", agency("maj") + f'<{BASE}mission/mrud-m1> dct:title "جعلی"@fa .\n'
            )
        },
        f"attack.trig: expected triples in <{BASE}graph/agency/maj> about the nodes of agency maj "
        f"(<{BASE}agency/maj>, <{BASE}agency/maj/…>, missions, licenses, counter offices or blank nodes); "
        f"<{BASE}mission/mrud-m1> is not one of them",
    ),
    "its own unit delivering another's service": (
        {
            "attack.trig": trig(
                "agency/maj-fars",
                unit("maj-fars", "maj") + f"{MRUD_SERVICE} kh:deliveredBy <{BASE}agency/maj-fars> .\n",
            )
        },
        f"attack.trig: expected triples in <{BASE}graph/agency/maj-fars> about the nodes of agency maj-fars "
        f"(<{BASE}agency/maj-fars>, <{BASE}agency/maj-fars/…>, missions, licenses, counter offices or blank "
        f"nodes); <{BASE}agency/mrud/service/13150100100> is not one of them",
    ),
    "detaching its own unit": (
        {"attack.trig": trig("agency/maj-fars", agency("maj-fars"))},
        f"attack.trig: {SCOPE}; agency maj-fars is declared an agency of its own, not a provincial or county "
        "unit of maj",
    ),
    "a new unit under another ministry's unit": (
        {"attack.trig": trig("agency/maj-x", unit("maj-x", "mrud-isf"))},
        f"attack.trig: {SCOPE}; agency maj-x is declared a unit of mrud-isf, outside it",
    ),
    "its own agency made a unit of another": (
        {"attack.trig": trig("agency/maj", unit("maj", "mrud"))},
        f"attack.trig: {SCOPE}; agency maj stays where it is loaded, under no other agency and not a unit: "
        "only an admin moves an agency",
    ),
}


@pytest.mark.parametrize("case", sorted(GRAPHS))
def test_graphs_outside_the_scope_are_refused(way, store_dir, tmp_path, case):
    files, message = GRAPHS[case]
    assert refused(way, store_dir, tmp_path, files) == [message]


# -- what the editor may do (so that the refusals above are about scope, not about the files) --------


def test_the_editor_writes_its_agency_and_its_units(way, store_dir, tmp_path):
    files = {
        "agencies.csv": "code,name,parent,kind\nmaj-fars-new,مدیریت تازه,maj-fars,واحد شهرستانی\n",
        "services.csv": SERVICE + MAJ_ROW + "maj-fars,صدور گواهی آزمایشی,14230109900\n"
        "maj-fars-new,صدور گواهی آزمایشی,14230109900\n",
    }
    accepted(way, store_dir, tmp_path, files)


def test_the_editor_writes_its_unit_as_trig(way, store_dir, tmp_path):
    body = unit("maj-fars", "maj") + f"{MAJ_SERVICE} kh:deliveredBy <{BASE}agency/maj-fars> .\n"
    accepted(way, store_dir, tmp_path, {"unit.trig": trig("agency/maj-fars", body)})


def test_an_affiliates_editor_keeps_its_place(way, store_dir, tmp_path):
    ppo = Principal("PPO data officer", Role.EDITOR, "maj-ppo", "00000000000f")
    placed = agency(
        "maj-ppo", f"; org:subOrganizationOf <{BASE}agency/maj> ; kh:affiliateOf <{BASE}agency/maj> "
    )
    accepted(way, store_dir, tmp_path / "a", {"ppo.trig": trig("agency/maj-ppo", placed)}, ppo)
    errors = refused(
        way, store_dir, tmp_path / "b", {"ppo.trig": trig("agency/maj-ppo", agency("maj-ppo"))}, ppo
    )
    assert errors == [
        "ppo.trig: expected data within the write scope of the editor of agency maj-ppo (the agency and its "
        "provincial and county units: maj-ppo); agency maj-ppo stays where it is loaded, under maj and not a "
        "unit: only an admin moves an agency"
    ]


def test_an_admin_may_submit_laws_and_any_agency(way, store_dir, tmp_path):
    files = {
        "laws.csv": "code,title\nmaj-rule,آیین‌نامه تازه\n",
        "services.csv": SERVICE + "mrud,خدمت تازه,13150109900\n",
    }
    accepted(way, store_dir, tmp_path, files, ADMIN)


# -- the scope itself ---------------------------------------------------------------------------------


def test_write_scope_by_role(template):
    store = open_store(Settings(store_dir=template), read_only=True)
    try:
        tree = read_agencies(store)
    finally:
        store.close()
    assert write_scope(EDITOR, tree) == Scope(
        frozenset({"maj", "maj-fars", "maj-fars-marvdasht"}), False, "maj"
    )
    ivo = Principal("IVO", Role.EDITOR, "MAJ-IVO", None)  # codes compare normalized
    assert write_scope(ivo, tree) == Scope(frozenset({"maj-ivo", "maj-ivo-khrz"}), False, "maj-ivo")
    assert write_scope(ADMIN, tree) == ANY
    for role in (Role.PUBLIC, Role.AUDITOR):
        with pytest.raises(PermissionError, match=f"a {role.value} may not write data"):
            write_scope(Principal("x", role, None, None), tree)
    with pytest.raises(PermissionError, match="agency maj-fars is now a unit of maj"):
        write_scope(Principal("x", Role.EDITOR, "maj-fars", None), tree)


def test_scope_refusals_are_told_from_bad_input(store_dir, tmp_path):
    """The API answers 403 for scope, 422 for a bad file: `is_scope_error` tells them apart."""
    files = {"services.csv": SERVICE + "mrud,خدمت جعلی,13150109900\nmaj,,bad-id\n"}
    store = open_store(Settings(store_dir=store_dir), read_only=True)
    try:
        with pytest.raises(SubmissionError) as caught:
            scope = write_scope(EDITOR, read_agencies(store))
            build_submission(write_files(tmp_path / "s", files), store, scope=scope)
    finally:
        store.close()
    kinds = sorted((e.row or 0, e.column or "", is_scope_error(e)) for e in caught.value.errors)
    assert (2, "agency", True) in kinds
    assert all(not scope for row, _, scope in kinds if row == 3) and any(row == 3 for row, _, _ in kinds)
