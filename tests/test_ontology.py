"""The ontology and the concept schemes: they parse, HermiT proves them consistent (alone and with
valid data), every term is documented in Persian and English, and they agree with the contract
(docs/architecture.md), the workbook spec and the legal corpus they cite.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

import owlready2
import pytest
import rdflib
from rdflib import OWL, RDF, RDFS, SKOS, Literal, URIRef
from rdflib.namespace import DCTERMS
from workbook_doc import doc_sheets, enumerated_values

from khadamat.namespaces import KH, KHC
from khadamat.normalize import normalize_key
from khadamat.resources import data_path

ROOT = Path(__file__).resolve().parents[1]
CONTRACT = ROOT / "docs" / "architecture.md"
FIXTURES = ROOT / "tests" / "fixtures" / "foundation"
ONTOLOGY = data_path("ontology") / "khadamat.ttl"
SCHEMES = data_path("ontology") / "schemes.ttl"
CORPUS = data_path("ontology") / "legal-corpus.ttl"
ART2 = "https://w3id.org/khadamat/id/law/circ-29168/article/2/part/بند-"
WB_COLUMN = URIRef(KH + "workbookColumn")
WB_HEADER = URIRef(KH + "workbookHeader")
XSD_DATE = URIRef("http://www.w3.org/2001/XMLSchema#date")
CORPUS_INSTRUMENT = "https://w3id.org/khadamat/id/law/circ-29168"
TERM_TYPES = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)


def _graph(*paths: Path) -> rdflib.Graph:
    graph = rdflib.Graph()
    for path in paths:
        graph.parse(path, format="turtle")
    return graph


@pytest.fixture(scope="module")
def onto() -> rdflib.Graph:
    return _graph(ONTOLOGY)


@pytest.fixture(scope="module")
def schemes() -> rdflib.Graph:
    return _graph(SCHEMES)


def _declared(graph: rdflib.Graph, namespace: str) -> set[URIRef]:
    return {
        s
        for t in TERM_TYPES
        for s in graph.subjects(RDF.type, t)
        if isinstance(s, URIRef) and str(s).startswith(namespace)
    }


def _langs(graph: rdflib.Graph, subject: URIRef, predicates: Iterable[URIRef]) -> set[str]:
    return {
        o.language
        for p in predicates
        for o in graph.objects(subject, p)
        if isinstance(o, Literal) and o.language
    }


# ---------------------------------------------------------------------------------------------
# Parsing, with both RDF libraries the project uses
# ---------------------------------------------------------------------------------------------


def test_ontology_and_schemes_parse_with_pyoxigraph_too(onto: rdflib.Graph, schemes: rdflib.Graph) -> None:
    import pyoxigraph as ox

    for path, graph in ((ONTOLOGY, onto), (SCHEMES, schemes)):
        triples = list(ox.parse(path=str(path), format=ox.RdfFormat.TURTLE))
        assert len(triples) == len(graph) > 100


# ---------------------------------------------------------------------------------------------
# HermiT (owlready2): consistency and satisfiability
# ---------------------------------------------------------------------------------------------


needs_java = pytest.mark.skipif(shutil.which("java") is None, reason="HermiT needs Java (17) on the PATH")
owlready2.reasoning.JAVA_MEMORY = 512  # MB; the ontology is small and the machine is shared


def _hermit_world(graph: rdflib.Graph, tmp_path: Path) -> owlready2.World:
    """Reason over `graph` with HermiT in a fresh owlready2 world; raises if inconsistent.

    owlready2 reads no Turtle: the graph goes over as N-Triples, every triple and literal as it is
    (xsd:date values included: the date properties are annotation properties, see khadamat.ttl).
    """
    path = tmp_path / "reasoner-input.nt"
    graph.serialize(path, format="nt", encoding="utf-8")
    world = owlready2.World()
    ontology = world.get_ontology(path.as_uri()).load(format="ntriples")
    with ontology:
        owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0)
    return world


def _unsatisfiable(world: owlready2.World) -> list[str]:
    """Classes HermiT proved empty (owl:Nothing itself is always empty and not counted)."""
    return sorted(c.iri for c in world.inconsistent_classes() if c is not owlready2.Nothing)


@needs_java
@pytest.mark.slow
def test_hermit_opens_the_ontology_folder_as_shipped_and_every_class_is_satisfiable(tmp_path: Path) -> None:
    # What a user opens in Protégé: every Turtle file of the ontology folder (ontology, schemes,
    # thesaurus, legal corpus with its xsd:date values), unchanged.
    shipped = sorted(data_path("ontology").glob("*.ttl"))
    assert {p.name for p in shipped} >= {"khadamat.ttl", "schemes.ttl", "thesaurus.ttl", "legal-corpus.ttl"}
    graph = _graph(*shipped)
    assert any(isinstance(o, Literal) and o.datatype == XSD_DATE for o in graph.objects())
    world = _hermit_world(graph, tmp_path)
    assert _unsatisfiable(world) == []
    # The whole hierarchy was loaded: a provincial unit is a CPSV-AP public organisation.
    unit = world[KH + "ProvincialUnit"]
    assert world["http://data.europa.eu/m8g/PublicOrganisation"] in unit.ancestors()
    # And the corpus with it: an instrument of the corpus reached the reasoner.
    assert world[CORPUS_INSTRUMENT] is not None


def test_date_properties_are_annotations_so_dl_reasoners_accept_their_values(onto: rdflib.Graph) -> None:
    # xsd:date is outside the OWL 2 datatype map: a data property asserting one stops HermiT.
    dated = {
        p
        for p, o in _graph(*data_path("ontology").glob("*.ttl")).predicate_objects()
        if isinstance(o, Literal) and o.datatype == XSD_DATE
    }
    dated.add(URIRef(KH + "verifiedOn"))  # the catalog's dates
    for prop in dated:
        assert (prop, RDF.type, OWL.AnnotationProperty) in onto, prop
        assert (prop, RDF.type, OWL.DatatypeProperty) not in onto, prop
        assert (prop, RDFS.range, None) not in onto, prop


@needs_java
@pytest.mark.slow
def test_hermit_finds_valid_data_consistent_including_defects_validation_reports(tmp_path: Path) -> None:
    # The fixture holds a task with a recipient and a delegated task: SHACL reports them, the
    # ontology must not turn them into a contradiction.
    data = _graph(ONTOLOGY, SCHEMES, *sorted(FIXTURES.glob("*.ttl")))
    world = _hermit_world(data, tmp_path)
    task = world["https://w3id.org/khadamat/id/agency/INTA/item/abcdefabcdef"]
    assert world[KH + "Task"] in task.is_a  # the data really reached the reasoner


@needs_java
@pytest.mark.slow
def test_hermit_finds_the_loaded_example_catalog_consistent(tmp_path: Path) -> None:
    # The real loader's output for the bundled example (with its planted defects), exported from a
    # real store together with the ontology graph: the domains and ranges fit what is written.
    from khadamat.cli import main

    catalog = ROOT / "examples" / "catalog"
    if not catalog.is_dir():
        pytest.skip("examples/catalog is not there")
    store, dump = tmp_path / "store", tmp_path / "all.ttl"
    assert main(["load", "--store", str(store), "--quiet", str(catalog)]) == 0
    # Turtle merges every named graph (agencies, laws, ontology, corpus) into one graph.
    assert main(["export", "--store", str(store), "--format", "turtle", "-o", str(dump)]) == 0
    merged = rdflib.Graph().parse(dump, format="turtle")
    assert (None, RDF.type, URIRef(KH + "Service")) in merged
    world = _hermit_world(merged, tmp_path)
    assert _unsatisfiable(world) == []


@needs_java
@pytest.mark.slow
def test_hermit_rejects_a_node_that_is_both_service_and_task(tmp_path: Path) -> None:
    data = _graph(ONTOLOGY, SCHEMES, FIXTURES / "agency-MOE.ttl")
    item = URIRef("https://w3id.org/khadamat/id/agency/MOE/service/13091728000")
    data.add((item, RDF.type, URIRef(KH + "Task")))
    with pytest.raises(owlready2.OwlReadyInconsistentOntologyError):
        _hermit_world(data, tmp_path)


@needs_java
@pytest.mark.slow
def test_hermit_reports_an_unsatisfiable_class(tmp_path: Path) -> None:
    # Proves the satisfiability check can fail: a class under both Service and Task.
    graph = _graph(ONTOLOGY)
    bad = URIRef(KH + "ServiceAndTask")
    graph.add((bad, RDF.type, OWL.Class))
    graph.add((bad, RDFS.subClassOf, URIRef(KH + "Service")))
    graph.add((bad, RDFS.subClassOf, URIRef(KH + "Task")))
    world = _hermit_world(graph, tmp_path)
    assert _unsatisfiable(world) == [str(bad)]


# ---------------------------------------------------------------------------------------------
# Documentation of every term
# ---------------------------------------------------------------------------------------------


def test_every_kh_term_has_fa_and_en_label_and_definition(onto: rdflib.Graph) -> None:
    terms = _declared(onto, KH)
    assert len(terms) > 100
    missing = []
    for term in sorted(terms):
        if _langs(onto, term, [RDFS.label]) < {"fa", "en"}:
            missing.append(f"{term}: label")
        if _langs(onto, term, [SKOS.definition, RDFS.comment]) < {"fa", "en"}:
            missing.append(f"{term}: definition")
    assert missing == []


def test_every_reused_external_class_has_a_persian_label(onto: rdflib.Graph) -> None:
    external = {
        c for c in onto.subjects(RDF.type, OWL.Class) if isinstance(c, URIRef) and not str(c).startswith(KH)
    }
    used_as_parent = {o for o in onto.objects(None, RDFS.subClassOf) if o in external}
    assert {c for c in used_as_parent if "fa" not in _langs(onto, c, [RDFS.label])} == set()


def test_every_concept_has_fa_and_en_preflabel_notation_and_scheme(schemes: rdflib.Graph) -> None:
    concepts = set(schemes.subjects(RDF.type, SKOS.Concept))
    assert len(concepts) > 50
    problems = []
    for concept in sorted(concepts):
        if _langs(schemes, concept, [SKOS.prefLabel]) != {"fa", "en"}:
            problems.append(f"{concept}: prefLabel fa+en")
        if len(list(schemes.objects(concept, SKOS.notation))) != 1:
            problems.append(f"{concept}: one notation")
        scheme = schemes.value(concept, SKOS.inScheme)
        if scheme is None or (scheme, RDF.type, SKOS.ConceptScheme) not in schemes:
            problems.append(f"{concept}: inScheme")
        top = schemes.value(concept, SKOS.topConceptOf)
        if top != scheme or (scheme, SKOS.hasTopConcept, concept) not in schemes:
            problems.append(f"{concept}: topConceptOf/hasTopConcept")
        if not str(concept).startswith(f"{scheme}-"):
            problems.append(f"{concept}: IRI not under its scheme {scheme}")
    for scheme in schemes.subjects(RDF.type, SKOS.ConceptScheme):
        if _langs(schemes, scheme, [SKOS.prefLabel]) != {"fa", "en"}:
            problems.append(f"{scheme}: scheme prefLabel fa+en")
    assert problems == []


def test_no_two_concepts_of_a_scheme_share_a_normalized_label(schemes: rdflib.Graph) -> None:
    # The loader matches cells against these labels after normalize_key: a shared key is ambiguous.
    owners: dict[tuple[str, str], set[str]] = defaultdict(set)
    for concept in schemes.subjects(RDF.type, SKOS.Concept):
        scheme = str(schemes.value(concept, SKOS.inScheme))
        for p in (SKOS.prefLabel, SKOS.altLabel, SKOS.notation):
            for label in schemes.objects(concept, p):
                owners[(scheme, normalize_key(str(label)))].add(str(concept))
    assert {k: v for k, v in owners.items() if len(v) > 1} == {}


def test_accepted_spellings_match_the_concepts_the_loader_expects(schemes: rdflib.Graph) -> None:
    index: dict[tuple[str, str], str] = {}
    for concept in schemes.subjects(RDF.type, SKOS.Concept):
        scheme = str(schemes.value(concept, SKOS.inScheme)).removeprefix(KHC)
        for p in (SKOS.prefLabel, SKOS.altLabel, SKOS.notation):
            for label in schemes.objects(concept, p):
                index[(scheme, normalize_key(str(label)))] = str(concept).removeprefix(KHC)
    cells = {
        ("nature", "تصدی گری"): "nature-proprietary",
        ("nature", "تصدي‌گري"): "nature-proprietary",  # Arabic yeh, ZWNJ
        ("nature", "حاكميتي"): "nature-sovereign",  # Arabic kaf and yeh
        ("audience", "g2b"): "audience-G2B",
        ("channel", "ICT روستایی"): "channel-rural-ict",
        ("channel", "درگاه اینترنتی"): "channel-portal",
        ("e-level", "اطلاع رسانی و دریافت فرم"): "e-level-information",
        ("inquiry", "فرایندی"): "inquiry-process",
        ("maturity", "۲"): "maturity-2",
        ("agency-kind", "موسسه دولتی"): "agency-kind-institute",
        ("law-kind", "آئین نامه"): "law-kind-regulation",
        ("life-event", "تامین اجتماعی"): "life-event-social-security",
        ("life-event", "کسب‌وکار"): "life-event-business",
        ("trigger", "درخواست متقاضی"): "trigger-request",
        ("scope", "شهرستانی"): "scope-county",
        ("auth", "حقوقی"): "auth-legal",
    }
    assert {cell: index.get((s, normalize_key(cell[1]))) for cell in cells for s in [cell[0]]} == cells


# Workbook columns whose cells take the values of a concept scheme.
ENUMERATED_COLUMNS = {
    "agencies.kind": "agency-kind",
    "laws.kind": "law-kind",
    "services.nature": "nature",
    "services.audience": "audience",
    "services.life_events": "life-event",
    "services.trigger": "trigger",
    "services.channels": "channel",
    "services.e_level": "e-level",
    "services.scope": "scope",
    "services.authentication": "auth",
    "services.smart_level": "maturity",
    "inquiries.kind": "inquiry",
}


def test_every_value_the_workbook_doc_lists_is_a_label_of_its_scheme(schemes: rdflib.Graph) -> None:
    labels = {
        (str(schemes.value(c, SKOS.inScheme)).removeprefix(KHC), normalize_key(str(o)))
        for c in schemes.subjects(RDF.type, SKOS.Concept)
        for p in (SKOS.prefLabel, SKOS.altLabel, SKOS.notation)
        for o in schemes.objects(c, p)
    }
    meanings = _spec_columns(meaning=True)
    listed = {column: enumerated_values(meanings[column]) for column in ENUMERATED_COLUMNS}
    assert len(listed["services.life_events"]) == 15 and listed["services.smart_level"] == ["۱", "۲", "۳"]
    unknown = [
        (column, value)
        for column, values in listed.items()
        for value in values
        if (ENUMERATED_COLUMNS[column], normalize_key(value)) not in labels
    ]
    assert unknown == []


# ---------------------------------------------------------------------------------------------
# Circular 29168 art. 2: every definition is modelled and cites its item
# ---------------------------------------------------------------------------------------------


def test_every_definition_of_article_2_is_cited(onto: rdflib.Graph, schemes: rdflib.Graph) -> None:
    cited = {str(o) for g in (onto, schemes) for o in g.objects(None, DCTERMS.source)}
    assert [n for n in range(1, 25) if f"{ART2}{n}" not in cited] == []


def test_cited_legal_nodes_exist_in_the_legal_corpus(onto: rdflib.Graph, schemes: rdflib.Graph) -> None:
    if not CORPUS.exists():
        pytest.skip("ontology/legal-corpus.ttl is not there yet (loader engineer's file)")
    corpus = _graph(CORPUS)
    subjects = {str(s) for s in corpus.subjects()}
    cited = {
        str(o)
        for g in (onto, schemes)
        for o in g.objects(None, DCTERMS.source)
        if str(o).startswith("https://w3id.org/khadamat/id/law/")
    }
    assert sorted(cited - subjects) == []


# ---------------------------------------------------------------------------------------------
# The contract: every kh:/khc: name in docs/architecture.md is declared
# ---------------------------------------------------------------------------------------------


def _contract_names() -> tuple[set[str], set[str]]:
    text = re.sub(r"```.*?```", "", CONTRACT.read_text(encoding="utf-8"), flags=re.DOTALL)
    kh_names: set[str] = set()
    khc_names: set[str] = set()
    for code in re.findall(r"`([^`]+)`", text):
        if any(mark in code for mark in ("*", "..", "…")):
            continue  # a pattern such as khc:agency-kind-*, not a name
        kh_names.update(re.findall(r"(?<![\w:])kh:([A-Za-z][\w]*)", code))
        khc_names.update(re.findall(r"(?<![\w:])khc:([\w][\w-]*)", code))
    # The concept-scheme section abbreviates concepts: `khc:scope` (`-national` ملی, …).
    section = text.split("## Concept schemes", 1)[1].split("\n## ", 1)[0]
    for scheme, body in re.findall(r"`khc:([\w-]+)` \(([^)]*)\)", section):
        khc_names.update(f"{scheme}{suffix}" for suffix in re.findall(r"`(-[\w-]+)`", body))
    return kh_names, khc_names


def test_every_kh_name_of_the_contract_is_declared(onto: rdflib.Graph) -> None:
    kh_names, _ = _contract_names()
    assert {"ExecutiveAgency", "serviceId", "verifiedOn", "SmartService", "sourceRow"} <= kh_names
    declared = {str(t).removeprefix(KH) for t in _declared(onto, KH)}
    assert sorted(kh_names - declared) == []


def test_every_khc_name_of_the_contract_is_a_concept_or_scheme(schemes: rdflib.Graph) -> None:
    _, khc_names = _contract_names()
    assert {"nature-sovereign", "audience-B2C", "scope-county", "maturity-3", "life-event"} <= khc_names
    # The service-title thesaurus (ontology/thesaurus.ttl) declares the khc:title-* names.
    vocabularies = schemes + _graph(data_path("ontology") / "thesaurus.ttl")
    known = {
        str(s).removeprefix(KHC)
        for t in (SKOS.Concept, SKOS.ConceptScheme, SKOS.Collection)
        for s in vocabularies.subjects(RDF.type, t)
    }
    assert sorted(khc_names - known) == []


# ---------------------------------------------------------------------------------------------
# The workbook spec: every column is documented by the property it fills, with its header
# ---------------------------------------------------------------------------------------------


def _spec_columns(meaning: bool = False) -> dict[str, str]:
    """'sheet.key' -> Persian header (or the meaning column), from the tables of docs/workbook.md."""
    return {
        f"{sheet}.{c.key}": c.meaning if meaning else c.header
        for sheet, doc in doc_sheets().items()
        for c in doc.columns
    }


def _ontology_columns(onto: rdflib.Graph) -> set[tuple[str, str]]:
    pairs: set[tuple[str, str]] = set()
    for subject in set(onto.subjects(WB_COLUMN, None)):
        headers = list(onto.objects(subject, WB_HEADER))
        if len(headers) == 1:
            pairs.update((str(c), normalize_key(str(headers[0]))) for c in onto.objects(subject, WB_COLUMN))
    for axiom in onto.subjects(OWL.annotatedProperty, WB_COLUMN):
        column = onto.value(axiom, OWL.annotatedTarget)
        pairs.update((str(column), normalize_key(str(h))) for h in onto.objects(axiom, WB_HEADER))
    return pairs


def test_every_workbook_column_is_documented_with_its_header(onto: rdflib.Graph) -> None:
    spec = _spec_columns()
    assert len(spec) > 70 and spec["services.verified_on"] == "تاریخ تایید شناسنامه"
    documented = _ontology_columns(onto)
    assert sorted((c, h) for c, h in spec.items() if (c, normalize_key(h)) not in documented) == []


# ---------------------------------------------------------------------------------------------
# Human documentation: pyLODE
# ---------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_pylode_generates_the_documentation_with_persian_labels(tmp_path: Path) -> None:
    out = tmp_path / "ontology.html"
    result = subprocess.run(
        [sys.executable, "-m", "pylode", str(ONTOLOGY), "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    html = out.read_text(encoding="utf-8")
    assert "دستگاه اجرایی" in html and "خدمت هوشمند" in html
    assert "https://w3id.org/khadamat/ontology#SmartService" in html
