"""RDF input is bounded before pyoxigraph sees it: nesting depth, literal size, parser errors.

Fifty thousand nested triple terms kill a process that parses them with SIGSEGV, so every load
here runs `khadamat load` as a child process: a crash would show as a signal, not as exit 2.
Each refusal names the file, line and column and leaves the store byte for byte as it was.
"""

from __future__ import annotations

import pytest

from tests.security.store_support import BASE, agency_turtle, khadamat, refused_by_child

S, P, OBJ = "<http://a.example/s>", "<http://a.example/p>", "<http://a.example/o>"
DEPTH = 50_000  # deep enough to crash pyoxigraph (measured: 50k triple terms → SIGSEGV)
LEAD = f"{S} {P} "  # each bomb sits on line 1 after this

NESTING = (
    "expected RDF terms nested at most 64 levels deep (quoted triples, triple terms, collections, "
    "blank-node property lists, graph blocks); this opens level 65"
)


def _bomb(opener: str, inner: str, closer: str, tail: str = " .\n") -> tuple[str, int]:
    """A statement nesting `opener … closer` DEPTH deep, and the column of the 65th opener."""
    return LEAD + opener * DEPTH + inner + closer * DEPTH + tail, len(LEAD) + 64 * len(opener) + 1


BOMBS = {
    "triple-terms.ttl": _bomb(f"<<( {S} {P} ", OBJ, " )>>"),
    "quoted-triples.ttl": _bomb("<< ", f"{S} {P} {OBJ} >>", f" {P} {OBJ} >>"),
    "collections.ttl": _bomb("( ", "", ") "),
    "blank-node-lists.ttl": _bomb(f"[ {P} ", OBJ, " ] "),
    "triple-terms.nt": _bomb(f"<<( {S} {P} ", OBJ, " )>>"),
    "triple-terms.nq": _bomb(f"<<( {S} {P} ", OBJ, " )>>", f" <{BASE}graph/agency/x> .\n"),
}
GRAPH_LEAD = f"<{BASE}graph/agency/x> {{ {S} {P} "  # the graph block is level 1
BOMBS["graph-collections.trig"] = (
    GRAPH_LEAD + "( " * DEPTH + ") " * DEPTH + ". }\n",
    len(GRAPH_LEAD) + 63 * 2 + 1,
)


@pytest.mark.parametrize("name", sorted(BOMBS))
def test_nesting_bomb_is_refused_before_parsing(store_dir, tmp_path, name):
    text, column = BOMBS[name]
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    err = refused_by_child(store_dir, path)
    assert f"{name}: {NESTING} (line 1, column {column})\n" in err


@pytest.mark.parametrize("shape", ["arrays", "objects"])
def test_json_ld_nesting_bomb_is_refused(store_dir, tmp_path, shape):
    lead = f'{{"@id": "{S[1:-1]}", "{P[1:-1]}": '
    opener = "[" if shape == "arrays" else f'{{"{P[1:-1]}": '
    inner, closer = ("1", "]") if shape == "arrays" else ("1", "}")
    path = tmp_path / f"{shape}.jsonld"
    path.write_text(lead + opener * DEPTH + inner + closer * DEPTH + "}", encoding="utf-8")
    err = refused_by_child(store_dir, path)
    column = len(lead) + 63 * len(opener) + 1  # the outer object is level 1
    assert (
        f"{shape}.jsonld: expected JSON objects and arrays nested at most 64 levels deep; this opens "
        f"level 65 (line 1, column {column})\n" in err
    )


def test_one_megabyte_literal_is_refused(store_dir, tmp_path):
    path = tmp_path / "literal.ttl"
    text = agency_turtle("big", f'<{BASE}agency/big> <{BASE}x> "' + "ب" * 1_000_001 + '" .\n')
    path.write_text(text, encoding="utf-8")
    err = refused_by_child(store_dir, path)
    line = text.count("\n")  # the literal is on the last line
    column = len(f"<{BASE}agency/big> <{BASE}x> ") + 1
    assert (
        f"literal.ttl: expected literals of at most 1000000 characters; this one is longer "
        f"(line {line}, column {column})\n" in err
    )


def test_parser_errors_name_line_and_column(store_dir, tmp_path):
    path = tmp_path / "broken.ttl"
    path.write_text(agency_turtle("broken", f"{S} {P} <not an iri> .\n"), encoding="utf-8")
    err = refused_by_child(store_dir, path)
    line = path.read_text(encoding="utf-8").count("\n")
    assert f"broken.ttl: expected a valid Turtle file; line {line}, column {len(f'{S} {P} ') + 1}" in err


def test_nesting_limit_is_a_setting(store_dir, tmp_path):
    """A file nested 10 deep loads by default and is refused under KHADAMAT_LIMIT_MAX_RDF_NESTING=8."""
    node = f"<{BASE}agency/nested>"
    path = tmp_path / "nested.ttl"
    path.write_text(agency_turtle("nested", f"{node} {P} " + "( " * 10 + ") " * 10 + ".\n"), encoding="utf-8")
    err = refused_by_child(store_dir, path, env={"KHADAMAT_LIMIT_MAX_RDF_NESTING": "8"})
    assert "nested.ttl: expected RDF terms nested at most 8 levels deep" in err
    done = khadamat("load", str(path), "--store", str(store_dir), "-q")
    assert done.returncode == 0, done.stderr
