"""The history of every change (issue 9): versions after three submissions by three principals,
their PROV record queryable by SPARQL, graphs rebuilt at any version, rollback as a new version,
secrets never written, and `GET /agencies/{code}/history` on a real server with real tokens."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import shutil
from pathlib import Path

import httpx
import pytest
from history_support import BASE, ThreeVersions, file_info, three_versions
from khadamat.api.testing import live_server
from pyoxigraph import NamedNode, RdfFormat

from khadamat import history, submissions
from khadamat.cli import main
from khadamat.config import Settings
from khadamat.jalali import to_jalali
from khadamat.namespaces import FOAF, KH, PROV, sparql_prologue
from khadamat.store import open_store

AGENCY_GRAPH = BASE + "graph/agency/"


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> ThreeVersions:
    return three_versions(tmp_path_factory.mktemp("three"))


@pytest.fixture
def three(template: ThreeVersions, tmp_path: Path) -> ThreeVersions:
    """A private copy of the three-version store (tests that write change only theirs)."""
    store_dir = shutil.copytree(template.settings.store_dir, tmp_path / "store", symlinks=True)
    settings = Settings(store_dir=store_dir, base=BASE)
    return ThreeVersions(settings, template.tokens, template.secrets, template.principals, template.folders)


def cli_json(capsys, *args: str) -> object:
    capsys.readouterr()
    assert main(list(args)) == 0
    return json.loads(capsys.readouterr().out)


def graph_lines(store, graph: str) -> list[str]:
    return sorted(f"{q.triple} ." for q in store.quads(NamedNode(graph)))


def test_history_lists_three_versions_with_who_files_and_graphs(template, capsys):
    store = str(template.settings.store_dir)
    versions = cli_json(capsys, "history", "--store", store, "--format", "json")
    assert [v["id"] for v in versions] == ["v000001", "v000002", "v000003"]
    assert [(v["who"]["name"], v["who"]["role"], v["who"]["agency"]) for v in versions] == [
        (template.principals["admin"].name, "admin", None),
        ("MCHT data officer", "editor", "MCHT"),
        ("ISIPO data officer", "editor", "ISIPO"),
    ]
    assert versions[1]["who"]["token_id"] == template.principals["mcht"].token_id
    assert versions[0]["graphs"] == [
        AGENCY_GRAPH + code for code in ("ISIPO", "ISIPO-KRM", "ISIPO-KRM-RAF", "MCHT", "MIMT")
    ] + [BASE + "graph/law/isipo-act"]
    assert versions[1]["graphs"] == [AGENCY_GRAPH + "MCHT"]
    assert versions[2]["graphs"] == [AGENCY_GRAPH + "ISIPO"]
    # files with their exact sizes and checksums; times in ISO 8601 UTC
    # (a folder's files are named folder/file)
    assert versions[2]["files"] == [
        file_info(template.folders["v3"] / "services.csv") | {"name": "isipo/services.csv"}
    ]
    assert sorted(f["name"] for f in versions[0]["files"]) == sorted(
        f"basic/{p.name}" for p in template.folders["v1"].glob("*.csv")
    )
    assert all(v["at"].endswith("+00:00") and v["started"] <= v["at"] for v in versions)

    by_agency = cli_json(capsys, "history", "--store", store, "--agency", "MCHT", "--format", "json")
    assert [v["id"] for v in by_agency] == ["v000001", "v000002"]
    # ISIPO's history includes its units' graphs (v1 wrote ISIPO-KRM too)
    isipo = cli_json(capsys, "history", "--store", store, "--agency", "ISIPO", "--format", "json")
    assert [v["id"] for v in isipo] == ["v000001", "v000003"]

    # the table is for people: Jalali dates with Persian digits
    assert main(["history", "--store", store]) == 0
    table = capsys.readouterr().out
    jalali_today = to_jalali(history.version(template.settings.store_dir, "v000003").at.date())
    assert jalali_today[:4] in table and "MCHT data officer" in table and "(3 rows)" in table
    assert main(["history", "--store", store, "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["id"], r["who"], r["agency"], r["action"]) for r in rows] == [
        ("v000001", template.principals["admin"].name, "", "submit"),
        ("v000002", "MCHT data officer", "MCHT", "submit"),
        ("v000003", "ISIPO data officer", "ISIPO", "submit"),
    ]


def test_provenance_keeps_every_version_queryable_by_sparql(template):
    store = open_store(template.settings, read_only=True)
    try:
        rows = store.select(
            sparql_prologue()
            + """SELECT ?activity ?id ?name ?agency ?started ?ended WHERE { GRAPH ?pg {
                ?activity a prov:Activity ; dct:identifier ?id ; prov:startedAtTime ?started ;
                          prov:endedAtTime ?ended ; prov:wasAssociatedWith ?agent .
                ?agent foaf:name ?name . OPTIONAL { ?agent prov:actedOnBehalfOf ?agency } } }
                ORDER BY ?id""",
        )
        assert [(r["id"].value, r["name"].value) for r in rows] == [
            ("v000001", template.principals["admin"].name),
            ("v000002", "MCHT data officer"),
            ("v000003", "ISIPO data officer"),
        ]
        assert rows[1]["agency"] == NamedNode(BASE + "agency/MCHT")
        assert rows[1]["activity"] == NamedNode(BASE + "load/v000002")
        # each graph's current link points at the version that last wrote it
        current = {
            r["g"].value: r["a"].value
            for r in store.select(
                f"SELECT ?g ?a WHERE {{ GRAPH <{BASE}graph/provenance> {{ ?g <{PROV}wasGeneratedBy> ?a }} }}"
            )
        }
        assert current[AGENCY_GRAPH + "MCHT"] == BASE + "load/v000002"
        assert current[AGENCY_GRAPH + "ISIPO"] == BASE + "load/v000003"
        assert current[AGENCY_GRAPH + "MIMT"] == BASE + "load/v000001"
        # the file v3 used, with its checksum and size
        digest = hashlib.sha256((template.folders["v3"] / "services.csv").read_bytes()).hexdigest()
        assert store.ask(
            f"""ASK {{ <{BASE}load/v000003> <{PROV}used> ?f . ?f <{KH}fileName> "isipo/services.csv" ;
                <{KH}sha256> "{digest}" }}"""
        )
        # the role of the agent in the activity, the PROV way
        assert store.ask(
            f"""ASK {{ <{BASE}load/v000002> <{PROV}qualifiedAssociation> ?q . ?q <{PROV}agent> ?agent ;
                <{PROV}hadRole> <{BASE}role/editor> . ?agent <{FOAF}name> "MCHT data officer" }}"""
        )
    finally:
        store.close()


def test_graphs_at_rebuilds_each_version_and_a_withdrawal_is_empty(three):
    store_dir = three.settings.store_dir
    mcht = NamedNode(AGENCY_GRAPH + "MCHT")
    store = open_store(three.settings)
    try:
        now = graph_lines(store, mcht.value)
        at1 = history.graphs_at(store_dir, "v000001", [mcht], store)[mcht]
        at3 = history.graphs_at(store_dir, "v000003", [mcht], store)[mcht]
        assert sorted(f"{t} ." for t in at3) == now
        assert any("13091726000" in str(t) for t in at1) and not any("14000000001" in str(t) for t in at1)
    finally:
        store.close()
    withdrawn = submissions.withdraw(three.settings, "MCHT", three.principals["mcht"])  # its own editor
    assert withdrawn.id == "v000004"
    store = open_store(three.settings)
    try:
        assert graph_lines(store, mcht.value) == []
        assert history.graphs_at(store_dir, "v000004", [mcht], store) == {mcht: []}
        assert sorted(f"{t} ." for t in history.graphs_at(store_dir, "v000003", [mcht], store)[mcht]) == now
        never = NamedNode(AGENCY_GRAPH + "NOBODY")
        assert history.graphs_at(store_dir, "v000004", [never], store) == {never: []}
        with pytest.raises(history.HistoryError, match="not a version id"):
            history.graphs_at(store_dir, "12", [mcht], store)
    finally:
        store.close()


def test_a_record_whose_write_never_happened_is_skipped_then_discarded(three):
    """A kill between record_version and the switch: the record exists, its activity does not."""
    store_dir = three.settings.store_dir
    mcht = NamedNode(AGENCY_GRAPH + "MCHT")
    orphan = history.VersionInfo(
        id=history.next_version_id(store_dir),
        at=history.version(store_dir, "v000003").at,
        principal=three.principals["mcht"],
        action="submit",
        graphs=[mcht.value],
    )
    history.record_version(store_dir, orphan, {mcht: []})
    store = open_store(three.settings)
    try:
        assert [v.id for v in history.versions(store_dir, store=store)] == ["v000001", "v000002", "v000003"]
        assert history.graphs_at(store_dir, "v000004", [mcht], store)[mcht] != []
        with pytest.raises(history.HistoryError, match="no version v000004"):
            history.version(store_dir, "v000004", store)
        assert history.discard_uncommitted(store_dir, store) == ["v000004"]
        assert sorted(p.name for p in history.history_dir(store_dir).iterdir())[-1] == "v000003.nq.gz"
    finally:
        store.close()


def test_rollback_writes_the_agency_as_it_was_as_a_new_version(three, capsys):
    store_arg = ["--store", str(three.settings.store_dir)]
    store = open_store(three.settings, read_only=True)
    mimt_before = graph_lines(store, AGENCY_GRAPH + "MIMT")
    mcht_before = graph_lines(store, AGENCY_GRAPH + "MCHT")
    store.close()
    assert main(["rollback", *store_arg, "--agency", "ISIPO", "--to", "v000001"]) == 0
    assert "version v000004" in capsys.readouterr().out
    store = open_store(three.settings, read_only=True)
    try:
        isipo = NamedNode(AGENCY_GRAPH + "ISIPO")
        at1 = sorted(f"{t} ." for t in history.graphs_at(three.settings.store_dir, "v000001", [isipo])[isipo])
        assert graph_lines(store, isipo.value) == at1
        assert graph_lines(store, AGENCY_GRAPH + "MIMT") == mimt_before
        assert graph_lines(store, AGENCY_GRAPH + "MCHT") == mcht_before
    finally:
        store.close()
    versions = cli_json(capsys, "history", *store_arg, "--format", "json")
    last = versions[-1]
    assert (last["id"], last["action"], last["detail"]) == ("v000004", "rollback", "to v000001")
    # ISIPO and the units it had (ISIPO-KRM, ISIPO-KRM-RAF: written by v1 only, so unchanged)
    assert last["graphs"] == [AGENCY_GRAPH + c for c in ("ISIPO", "ISIPO-KRM", "ISIPO-KRM-RAF")]
    # and the diff from v3 to the rollback is v3's change undone
    changes = cli_json(capsys, "diff", *store_arg, "v000003", "v000004", "--no-findings", "--format", "json")
    kinds = {(r["change"], r["service_id"]) for r in changes["changes"] if r["change"] != "field-changed"}
    assert kinds == {("added", "13091727100"), ("removed", "13091729999"), ("retitled", "13091726000")}


def test_rollback_to_an_unknown_version_says_so_and_writes_nothing(three, capsys):
    before = sorted(p.name for p in history.history_dir(three.settings.store_dir).iterdir())
    store_arg = ["--store", str(three.settings.store_dir)]
    assert main(["rollback", *store_arg, "--agency", "ISIPO", "--to", "v000009"]) == 2
    assert (
        "no version v000009 in the history of this store (versions: v000001 … v000003)"
        in capsys.readouterr().err
    )
    assert main(["rollback", *store_arg, "--agency", "ISIPO", "--to", "yesterday"]) == 2
    assert "'yesterday' is not a version id" in capsys.readouterr().err
    assert sorted(p.name for p in history.history_dir(three.settings.store_dir).iterdir()) == before


def test_token_secrets_are_never_in_provenance_history_or_dumps(three, tmp_path, capsys):
    store_dir = three.settings.store_dir
    assert main(["dump", "--store", str(store_dir), str(tmp_path / "backup.tar.gz")]) == 0
    secrets = [s.rsplit("_", 1)[-1] for s in three.secrets.values()]  # the secret part of kh_<id>_<secret>
    texts = [
        gzip.decompress(p.read_bytes()) if p.suffix == ".gz" else p.read_bytes()
        for p in history.history_files(store_dir)
    ]
    store = open_store(three.settings, read_only=True)
    texts.append(store.dump(RdfFormat.N_QUADS))
    store.close()
    texts.append(gzip.decompress((tmp_path / "backup.tar.gz").read_bytes()))
    for path in store_dir.rglob("*"):  # every file of the store but the tokens file, which holds hashes
        if path.is_file() and not path.name.startswith("tokens.json"):
            texts.append(path.read_bytes())
    assert any(three.principals["mcht"].token_id.encode() in t for t in texts)  # the public id is there
    for secret in secrets:
        assert not any(secret.encode() in t for t in texts)
        assert not any(hashlib.sha256(secret.encode()).hexdigest().encode() in t for t in texts)


def test_agency_history_over_http_by_role(template):
    with live_server(template.settings.store_dir, base=BASE) as url:

        def get(code: str, who: str | None) -> httpx.Response:
            headers = {"Authorization": f"Bearer {template.secrets[who]}"} if who else {}
            return httpx.get(f"{url}/agencies/{code}/history", headers=headers, timeout=30)

        answer = get("MCHT", "auditor")
        assert answer.status_code == 200
        body = answer.json()
        assert [v["id"] for v in body["versions"]] == ["v000001", "v000002"]
        assert body["versions"][1]["who"] == {
            "name": "MCHT data officer",
            "role": "editor",
            "agency": "MCHT",
            "token_id": template.principals["mcht"].token_id,
        }
        assert get("MCHT", "mcht").status_code == 200  # the agency's own editor
        assert [v["id"] for v in get("ISIPO", "isipo").json()["versions"]] == ["v000001", "v000003"]
        assert get("ISIPO-KRM", "isipo").status_code == 200  # a unit of the editor's agency
        denied = get("MCHT", "isipo")
        assert denied.status_code == 403
        assert "may read the history of that agency and its units only" in denied.json()["detail"]
        assert get("NOBODY", "isipo").status_code == 403  # nothing learned about other agencies
        assert get("NOBODY", "auditor").status_code == 404
        anonymous = get("MCHT", None)
        assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"].startswith("Bearer")
        revoked = template.tokens.revoke(template.principals["auditor"].token_id or "")
        assert revoked and get("MCHT", "auditor").status_code == 401
        for secret in template.secrets.values():
            assert secret.rsplit("_", 1)[-1] not in answer.text
        assert httpx.get(f"{url}/health", timeout=10).status_code == 200
