"""Namespace IRIs used across Khadamat (see docs/architecture.md)."""

from __future__ import annotations

from pyoxigraph import NamedNode

KH = "https://w3id.org/khadamat/ontology#"
KHC = "https://w3id.org/khadamat/code/"
CPSV = "http://purl.org/vocab/cpsv#"
CV = "http://data.europa.eu/m8g/"
ORG = "http://www.w3.org/ns/org#"
ELI = "http://data.europa.eu/eli/ontology#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCT = "http://purl.org/dc/terms/"
PROV = "http://www.w3.org/ns/prov#"
FOAF = "http://xmlns.com/foaf/0.1/"
XSD = "http://www.w3.org/2001/XMLSchema#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
SH = "http://www.w3.org/ns/shacl#"

PREFIXES: dict[str, str] = {
    "kh": KH,
    "khc": KHC,
    "cpsv": CPSV,
    "cv": CV,
    "org": ORG,
    "eli": ELI,
    "skos": SKOS,
    "dct": DCT,
    "prov": PROV,
    "foaf": FOAF,
    "xsd": XSD,
    "rdf": RDF,
    "rdfs": RDFS,
    "owl": OWL,
    "sh": SH,
}


def kh(local: str) -> NamedNode:
    """A term of the Khadamat ontology."""
    return NamedNode(KH + local)


def khc(local: str) -> NamedNode:
    """A concept of one of the Khadamat concept schemes."""
    return NamedNode(KHC + local)


def term(prefix: str, local: str) -> NamedNode:
    """Any prefixed name, e.g. term("dct", "title")."""
    return NamedNode(PREFIXES[prefix] + local)


def sparql_prologue() -> str:
    """PREFIX lines for every namespace, for queries written in Python (tests, tools)."""
    return "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in PREFIXES.items())
