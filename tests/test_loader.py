"""The loader end to end: every sheet of the workbook spec, read from a CSV folder and from an
.xlsx workbook, into a real on-disk pyoxigraph store (issue 2, section 2)."""

from __future__ import annotations

import hashlib

import openpyxl
import pyoxigraph as ox
import pytest
from khadamat.loader.errors import SubmissionError
from khadamat.loader.submission import build_submission, load_submission
from pyoxigraph import Literal, NamedNode
from test_loader_helpers import (
    BASE,
    BASIC,
    copy_basic,
    csv_folder_to_xlsx,
    disk_store,
    graph_lines,
    read_csv,
    write_csv,
)

from khadamat import __version__
from khadamat.cli import main
from khadamat.namespaces import KH, KHC, ORG, PROV, RDF, XSD, sparql_prologue

ID = BASE
T = NamedNode(RDF + "type")


def kh(local: str) -> NamedNode:
    return NamedNode(KH + local)


def node(path: str) -> NamedNode:
    return NamedNode(ID + path)


def objects(store, s: NamedNode, p: NamedNode, graph: NamedNode | None = None) -> set:
    return {q.object for q in store._store.quads_for_pattern(s, p, None, graph)}


@pytest.fixture
def loaded(tmp_path):
    store = disk_store(tmp_path / "store")
    submission = load_submission([BASIC], store)
    yield store, submission
    store.close()


def test_agencies_hierarchy_and_graphs(loaded):
    store, sub = loaded
    assert sub.agencies == ["ISIPO", "ISIPO-KRM", "ISIPO-KRM-RAF", "MCHT", "MIMT"]
    assert sub.laws == ["isipo-act"]
    isipo, krm = node("agency/ISIPO"), node("agency/ISIPO-KRM")
    g = store.minter.agency_graph("ISIPO-KRM")
    assert objects(store, krm, NamedNode(ORG + "unitOf"), g) == {isipo}
    assert objects(store, krm, NamedNode(ORG + "subOrganizationOf"), g) == {isipo}
    assert kh("ProvincialUnit") in objects(store, krm, T, g)
    assert objects(store, isipo, kh("affiliateOf")) == {node("agency/MIMT")}
    assert objects(store, isipo, kh("agencyKind")) == {NamedNode(KHC + "agency-kind-organization")}
    assert objects(store, isipo, NamedNode("http://xmlns.com/foaf/0.1/homepage")) == {
        NamedNode("http://isipo.ir")
    }
    assert objects(store, node("agency/ISIPO-KRM-RAF"), kh("county")) == {Literal("رفسنجان")}


def test_service_card_values(loaded):
    store, _ = loaded
    s = node("agency/ISIPO/service/13091726000")
    g = store.minter.agency_graph("ISIPO")
    # kh: types, and the standard type the ontology puts above them (khadamat/standard_types.py)
    assert objects(store, s, T, g) == {
        kh("Service"),
        kh("CardItem"),
        NamedNode("http://purl.org/vocab/cpsv#PublicService"),
    }
    assert objects(store, s, NamedNode("http://purl.org/dc/terms/title")) == {
        Literal("صدور مجوز حق بهره‌برداری از زمین", language="fa")
    }
    assert objects(store, s, kh("normalizedTitle")) == {Literal("صدور مجوز حق بهره برداری از زمین")}
    assert objects(store, s, kh("nature")) == {NamedNode(KHC + "nature-proprietary")}
    assert objects(store, s, kh("audience")) == {
        NamedNode(KHC + "audience-G2B"),
        NamedNode(KHC + "audience-G2C"),
    }
    assert objects(store, s, kh("channel")) == {
        NamedNode(KHC + "channel-in-person"),
        NamedNode(KHC + "channel-portal"),
    }
    assert objects(store, s, kh("annualRecipients")) == {Literal("1200", datatype=NamedNode(XSD + "integer"))}
    assert objects(store, s, kh("directCost")) == {Literal("1200000", datatype=NamedNode(XSD + "integer"))}
    assert objects(store, s, kh("frequency")) == {Literal("0.5", datatype=NamedNode(XSD + "decimal"))}
    assert objects(store, s, kh("verifiedOn")) == {Literal("2024-06-22", datatype=NamedNode(XSD + "date"))}
    assert objects(store, s, kh("declaredInterAgency")) == {Literal(True)}
    assert objects(store, s, kh("maturityLevel")) == {NamedNode(KHC + "maturity-2")}
    assert objects(store, s, kh("lifeEvent")) == {NamedNode(KHC + "life-event-business")}
    assert objects(store, s, kh("realizesMission")) == {node("mission/M-ISIPO-1")}
    assert objects(store, s, kh("legalBasis")) == {node("law/isipo-act/article/2/part/تبصره-1")}
    evidence = objects(store, s, kh("requiresEvidence"))
    assert evidence == {
        node("agency/ISIPO/service/13091726000/evidence/1"),
        node("agency/ISIPO/service/13091726000/evidence/2"),
    }
    assert objects(
        store,
        node("agency/ISIPO/service/13091726000/evidence/2"),
        NamedNode("http://purl.org/dc/terms/title"),
    ) == {Literal("پروانه کسب", language="fa")}
    assert objects(store, s, kh("sourceRow")) >= {Literal("services.csv#services!2")}
    assert Literal("مجوز") in objects(store, s, kh("titleToken"))
    sub_service = node("agency/ISIPO/service/13091727100")
    assert objects(store, sub_service, kh("parentService")) == {s}
    assert objects(store, sub_service, kh("parentServiceId")) == {Literal("13091726000")}
    assert objects(store, sub_service, kh("nature")) == {NamedNode(KHC + "nature-proprietary")}  # «تصدی گری»


def test_units_deliver_their_owners_service_and_other_lines_conflict(loaded):
    store, _ = loaded
    s = node("agency/ISIPO/service/13091726000")
    # the provincial unit (Latin digits) and the county unit (Persian digits) name the same node
    assert objects(store, s, kh("deliveredBy")) == {node("agency/ISIPO-KRM"), node("agency/ISIPO-KRM-RAF")}
    assert objects(store, s, kh("provider")) == {node("agency/ISIPO")}
    assert len(objects(store, s, NamedNode("http://purl.org/dc/terms/title"))) == 1
    # another ministry with the same ID is another service (validation reports the conflict)
    other = node("agency/MCHT/service/13091726000")
    assert objects(store, other, kh("provider")) == {node("agency/MCHT")}
    assert objects(store, other, kh("serviceId")) == {Literal("13091726000")}


def test_task_without_id_gets_title_hash_iri(loaded):
    store, _ = loaded
    rows = store.select(sparql_prologue() + "SELECT ?s WHERE { ?s a kh:Task ; kh:provider ?a }")
    assert len(rows) == 1
    iri = rows[0]["s"].value
    assert iri == store.minter.unidentified_item("ISIPO-KRM", "پاسخ به مکاتبات اداری").value
    assert iri.startswith(ID + "agency/ISIPO-KRM/item/")


def test_laws_missions_inquiries_licenses_counters(loaded):
    store, _ = loaded
    law, art = node("law/isipo-act"), node("law/isipo-act/article/2")
    part = node("law/isipo-act/article/2/part/تبصره-1")
    g = store.minter.law_graph("isipo-act")
    eli = "http://data.europa.eu/eli/ontology#"
    assert objects(store, law, NamedNode(eli + "has_part"), g) == {art}
    assert objects(store, part, NamedNode(eli + "is_part_of"), g) == {art}
    assert objects(store, part, kh("partLabel")) == {Literal("تبصره ۱", language="fa")}
    assert objects(store, law, NamedNode(eli + "date_document")) == {
        Literal("2005-05-10", datatype=NamedNode(XSD + "date"))
    }
    assert objects(store, law, kh("lawKind")) == {NamedNode(KHC + "law-kind-resolution")}
    mission = node("mission/M-ISIPO-1")
    assert objects(store, mission, kh("legalBasis")) == {art, node("law/csml/article/38")}
    assert objects(store, node("mission/M-MCHT-1"), kh("missionOf")) == {node("agency/MCHT")}
    q = node("agency/ISIPO/service/13091727100/inquiry/1")
    assert objects(store, q, T) == {kh("Inquiry"), kh("ProcessInquiry")}
    assert objects(store, q, kh("answeredBy")) == {node("agency/MIMT")}
    # a license citing a service ID that no loaded service carries still loads
    assert objects(store, node("license/LIC-2"), kh("licenseServiceId")) == {Literal("99999999999")}
    delegation = node("agency/ISIPO/service/13091727100/delegation/P-1001")
    assert objects(store, delegation, kh("counterOffice")) == {node("counter-office/P-1001")}
    assert objects(store, node("agency/ISIPO/service/13091727100"), kh("delegation")) == {delegation}
    assert objects(store, node("counter-office/P-1001"), kh("address")) == {
        Literal("کرمان، خیابان شفا", language="fa")
    }


def test_provenance_names_files_checksums_and_version(loaded):
    store, sub = loaded
    pg = store.minter.provenance_graph
    gen = NamedNode(PROV + "wasGeneratedBy")
    for graph in sub.graphs:
        activities = objects(store, graph, gen, pg)
        assert len(activities) == 1
    activity = next(iter(objects(store, store.minter.agency_graph("ISIPO"), gen, pg)))
    assert activity.value.startswith(ID + "load/")
    sources = objects(store, activity, NamedNode(PROV + "used"), pg)
    names = {next(iter(objects(store, s, kh("fileName"), pg))).value: s for s in sources}
    assert set(names) == {p.name for p in BASIC.glob("*.csv")}
    services_src = names["services.csv"]
    digest = hashlib.sha256((BASIC / "services.csv").read_bytes()).hexdigest()
    assert objects(store, services_src, kh("sha256"), pg) == {Literal(digest)}
    assert objects(store, services_src, kh("loaderVersion"), pg) == {Literal(__version__)}
    assert objects(store, activity, NamedNode(PROV + "startedAtTime"), pg)


def _content(store, graphs) -> dict[str, list[str]]:
    """Graph content without kh:sourceRow (which names the file) for comparison across formats."""
    return {g.value: [line for line in graph_lines(store, g) if "sourceRow" not in line] for g in graphs}


def test_xlsx_with_english_headers_and_persian_sheet_names_equals_csv(tmp_path, loaded):
    csv_store, csv_sub = loaded
    workbook = csv_folder_to_xlsx(
        BASIC, tmp_path / "catalog.xlsx", english_headers=True, persian_sheet_names=True
    )
    store = disk_store(tmp_path / "xlsx-store")
    sub = load_submission([workbook], store)
    assert sorted(g.value for g in sub.graphs) == sorted(g.value for g in csv_sub.graphs)
    assert _content(store, sub.graphs) == _content(csv_store, csv_sub.graphs)
    s = node("agency/ISIPO/service/13091726000")
    assert objects(store, s, kh("sourceRow")) >= {Literal("catalog.xlsx#شناسنامه خدمات!2")}
    store.close()


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "cp1256"])  # UTF-16 only with a BOM
def test_csv_encodings(tmp_path, encoding, loaded):
    csv_store, csv_sub = loaded
    folder = copy_basic(tmp_path)
    for path in folder.glob("*.csv"):
        header, rows = read_csv(path)
        if encoding == "cp1256":
            # Windows-1256 has no Persian yeh: Excel writes the Arabic one, which normalization unifies
            # and no Persian digits or Arabic thousands separator: Excel writes Latin ones
            table = str.maketrans({"ی": "ي", "٬": ",", **{d: str(i) for i, d in enumerate("۰۱۲۳۴۵۶۷۸۹")}})
            header = [h.translate(table) for h in header]
            rows = [[c.translate(table) for c in row] for row in rows]
        write_csv(path, header, rows, encoding=encoding)
    store = disk_store(tmp_path / "store2")
    sub = load_submission([folder], store)
    if encoding == "cp1256":
        norm = kh("normalizedTitle")
        assert {(q.subject, q.object) for q in store._store.quads_for_pattern(None, norm, None)} == {
            (q.subject, q.object) for q in csv_store._store.quads_for_pattern(None, norm, None)
        }
        s = node("agency/ISIPO/service/13091726000")
        assert objects(store, s, NamedNode("http://purl.org/dc/terms/title")) == {
            Literal("صدور مجوز حق بهره‌برداري از زمين", language="fa")
        }  # kept as written
    else:
        assert _content(store, sub.graphs) == _content(csv_store, csv_sub.graphs)
    store.close()


def test_build_writes_nothing(tmp_path):
    store = disk_store(tmp_path / "store")
    before = store.named_graphs()
    sub = build_submission([BASIC], store)
    assert sub.triple_count > 150
    assert store.named_graphs() == before


def test_rdf_files_keep_or_find_their_graph(tmp_path, loaded):
    source, _ = loaded
    mcht = source.minter.agency_graph("MCHT")
    turtle = tmp_path / "mcht.ttl"
    turtle.write_bytes(source.dump(ox.RdfFormat.TURTLE, [mcht]))
    quads = tmp_path / "laws.nq"
    quads.write_bytes(source.dump(ox.RdfFormat.N_QUADS, [source.minter.law_graph("isipo-act")]))
    store = disk_store(tmp_path / "rdf-store")
    sub = load_submission([turtle, quads], store)
    assert set(sub.graphs) == {mcht, source.minter.law_graph("isipo-act")}
    assert sub.agencies == ["MCHT"]
    assert graph_lines(store, mcht) == graph_lines(source, mcht)
    # JSON-LD and TriG too; a broken file is an error naming it
    jsonld, trig = tmp_path / "mimt.jsonld", tmp_path / "krm.trig"
    mimt, krm = source.minter.agency_graph("MIMT"), source.minter.agency_graph("ISIPO-KRM")
    jsonld.write_bytes(source.dump(ox.RdfFormat.JSON_LD, [mimt]))
    trig.write_bytes(source.dump(ox.RdfFormat.TRIG, [krm]))
    load_submission([jsonld, trig], store)
    assert graph_lines(store, mimt) == graph_lines(source, mimt)
    assert graph_lines(store, krm) == graph_lines(source, krm)
    broken = tmp_path / "broken.ttl"
    broken.write_text("<a> <b> .", encoding="utf-8")
    with pytest.raises(SubmissionError) as info:
        build_submission([broken], store)
    assert info.value.errors[0].file == "broken.ttl" and "Turtle" in info.value.errors[0].expected
    # a triple file about two agencies cannot be placed
    both = tmp_path / "both.nt"
    both.write_bytes(source.dump(ox.RdfFormat.N_TRIPLES, [mcht, source.minter.agency_graph("MIMT")]))
    assert main(["load", str(both), "--store", str(tmp_path / "rdf-store"), "-q"]) == 2
    store.close()


def test_cli_load_prints_summary(tmp_path, capsys):
    assert main(["load", str(BASIC), "--store", str(tmp_path / "cli-store")]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("loaded: 6 graphs replaced (5 agencies, 1 laws)")
    assert "parsing services.csv: services" in err
    assert "writing" in err


def _trimmed(sheets):
    out = []
    for sheet in sheets:
        rows = []
        for number, cells in sheet.rows:
            cells = list(cells)
            while cells and cells[-1] is None:
                cells.pop()
            rows.append((number, cells))
        out.append((sheet.name, sheet.header, rows))
    return out


def test_fast_xlsx_reader_agrees_with_openpyxl(tmp_path):
    import datetime as dt

    from khadamat.loader.readers import read_xlsx, read_xlsx_openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "services"
    sheet.append(
        ["agency", "title", "service_id", "verified_on", "inter_agency", "frequency", "annual_recipients"]
    )
    sheet.append(["ISIPO", "خدمت یک", 13091726000, dt.datetime(2024, 6, 22), True, 0.5, 1200])
    sheet.append(["ISIPO", "خدمت دو", None, "۱۴۰۳/۰۴/۰۲", False, 2, None])
    sheet["J5"] = "دور از جدول"  # a gap of a row and of columns
    sheet["D3"].number_format = "yyyy/mm/dd"
    book.create_sheet("counters").append(["service_id", "office_code", "address"])
    path = tmp_path / "types.xlsx"
    book.save(path)
    fast = read_xlsx(path, [])
    assert _trimmed(fast) == _trimmed(read_xlsx_openpyxl(path, []))
    assert fast[0].rows[0][1][3] == dt.datetime(2024, 6, 22)
    assert fast[0].rows[2] == (5, [None] * 9 + ["دور از جدول"])
