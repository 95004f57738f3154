"""How the remote store writes bound parameters into standard SPARQL and reads engines' answers.

No server here: the texts and documents are the ones the engines send (Virtuoso's JSON as
captured from virtuoso-t 7.2.5), and each bound query is run on pyoxigraph to show that the
rewritten text means what the substitution meant.
"""

from __future__ import annotations

import pyoxigraph as ox
from pyoxigraph import Literal, NamedNode

from khadamat.remote_store import bind_projected, parse_results, parse_triples, query_form
from khadamat.results import Boolean, Solutions

EX = "http://example.org/"
XSD = "http://www.w3.org/2001/XMLSchema#"


def _rows(result: ox.QuerySolutions, leave_out: list[str]) -> list[dict[str, str]]:
    names = [v.value for v in result.variables if v.value not in leave_out]
    return [{name: str(row[name]) for name in names if row[name] is not None} for row in result]


def test_a_bound_parameter_becomes_its_term_everywhere_but_where_it_cannot() -> None:
    query = (
        "SELECT ?s ?_agency_iri ?__min_integer (COALESCE(?__min_integer, 0) AS ?floor) WHERE {"
        " ?s <http://example.org/p> ?o FILTER(?o >= COALESCE(?__min_integer, 0))"
        " FILTER(?s = ?_agency_iri) }"
        " ORDER BY ?_agency_iri ?s"
    )
    bindings = {
        "_agency_iri": NamedNode(EX + "a"),
        "__min_integer": Literal("2", datatype=NamedNode(XSD + "integer")),
    }
    text, projected = bind_projected(query, bindings)
    assert projected == ["_agency_iri", "__min_integer"]  # left out: the store adds the columns back
    assert "?_agency_iri" not in text and "?__min_integer" not in text
    assert 'COALESCE("2"^^<http://www.w3.org/2001/XMLSchema#integer>, 0) AS ?floor' in text
    assert "FILTER(?s = <http://example.org/a>)" in text
    store = ox.Store()
    store.update(f"INSERT DATA {{ <{EX}a> <{EX}p> 3 . <{EX}b> <{EX}p> 5 . <{EX}a> <{EX}p> 1 }}")
    substituted = store.query(query, substitutions={ox.Variable(k): v for k, v in bindings.items()})
    assert (
        _rows(store.query(text), [])
        == _rows(substituted, projected)
        == [{"s": f"<{EX}a>", "floor": f'"2"^^<{XSD}integer>'}]
    )


def test_bound_of_a_parameter_is_true() -> None:
    """SEP-0007: a bound parameter is bound (pyoxigraph's own substitution answers BOUND false)."""
    text, _ = bind_projected("ASK { FILTER(!BOUND(?_a) || bound( ?_a )) }", {"_a": NamedNode(EX + "a")})
    assert text == "ASK { FILTER(!true || true) }"


def test_a_parameter_alone_in_the_projection_stays_a_column() -> None:
    text, projected = bind_projected("SELECT ?_x WHERE { }", {"_x": Literal("v")})
    assert projected == [] and text == 'SELECT ("v" AS ?_x) WHERE { }'


def test_text_in_strings_and_comments_is_not_a_variable() -> None:
    query = 'SELECT ?s WHERE { ?s ?p "?_x" # ?_x\n FILTER(?p != ?_x) }'
    text, _ = bind_projected(query, {"_x": NamedNode(EX + "p")})
    assert text == f'SELECT ?s WHERE {{ ?s ?p "?_x" # ?_x\n FILTER(?p != <{EX}p>) }}'


def test_virtuoso_results_read_as_standard_terms() -> None:
    document = b"""{ "head": { "link": [], "vars": ["s", "flag", "title", "n"] },
      "results": { "distinct": false, "ordered": true, "bindings": [
        { "s": { "type": "bnode", "value": "nodeID://b10006" },
          "flag": { "type": "typed-literal",
                    "datatype": "http://www.w3.org/2001/XMLSchema#boolean", "value": "1" },
          "title": { "type": "literal", "xml:lang": "fa", "value": "\\u0633\\u0644\\u0627\\u0645" } },
        { "s": { "type": "bnode", "value": "nodeID://b10006" },
          "n": { "type": "typed-literal",
                 "datatype": "http://www.w3.org/2001/XMLSchema#integer", "value": "7" } } ] } }"""
    answer = parse_results(document)
    assert isinstance(answer, Solutions) and answer.variables == ["s", "flag", "title", "n"]
    first, second = list(answer)
    assert first["flag"] == Literal("true", datatype=NamedNode(XSD + "boolean"))
    assert first["title"] == Literal("سلام", language="fa")
    assert first["n"] is None and second["n"] == Literal("7", datatype=NamedNode(XSD + "integer"))
    assert isinstance(first["s"], ox.BlankNode) and first["s"] == second["s"]  # one node, one label


def test_ask_answers_and_query_forms() -> None:
    assert bool(parse_results(b'{"head": {}, "boolean": true}')) is True
    assert isinstance(parse_results(b'{"head": {}, "boolean": false}'), Boolean)
    assert query_form("PREFIX select: <urn:x> # CONSTRUCT\nASK { ?s select:p 'SELECT' }") == "ask"
    assert query_form("BASE <http://x/> CONSTRUCT WHERE { ?s ?p ?o }") == "construct"


# A CONSTRUCT answer as virtuoso-t 7.2.5 writes it in RDF/JSON, lines wrapped (its N-Triples of the same query
# writes the doubles "2.32e+06" and "1.13543e+07": six digits).
VIRTUOSO_RDF_JSON = b"""{
  "http://example.org/cost" : { "http://example.org/value" : [
      { "type" : "literal", "value" : 2320000 ,
        "datatype" : "http://www.w3.org/2001/XMLSchema#double" } ,
      { "type" : "literal", "value" : 11354321 ,
        "datatype" : "http://www.w3.org/2001/XMLSchema#double" } ] ,
    "http://example.org/part" : [ { "type" : "bnode", "value" : "_:vb10034" } ] ,
    "http://example.org/title" : [
      { "type" : "literal", "value" : "\\u0647\\u0632\\u06CC\\u0646\\u0647" , "lang" : "fa" } ] } ,
  "_:vb10034" : { "http://example.org/value" : [
      { "type" : "literal", "value" : 0.5 , "datatype" : "http://www.w3.org/2001/XMLSchema#decimal" } ] }
}
"""


def test_virtuoso_rdf_json_keeps_every_digit_of_a_double() -> None:
    triples = list(parse_triples(VIRTUOSO_RDF_JSON, "application/rdf+json"))
    cost, value = NamedNode(EX + "cost"), NamedNode(EX + "value")
    assert {t.object for t in triples if t.subject == cost and t.predicate == value} == {
        Literal("2320000", datatype=NamedNode(XSD + "double")),
        Literal("11354321", datatype=NamedNode(XSD + "double")),
    }
    assert Literal("هزینه", language="fa") in {t.object for t in triples}
    (part,) = [t.object for t in triples if t.predicate == NamedNode(EX + "part")]
    assert isinstance(part, ox.BlankNode)  # the same node as the subject of its own triple
    assert [str(t.object) for t in triples if t.subject == part] == [
        '"0.5"^^<http://www.w3.org/2001/XMLSchema#decimal>'
    ]
