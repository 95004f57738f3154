"""Compile SHACL shapes into SPARQL SELECT queries that return one row per violation.

Each (shape, constraint component) becomes one SELECT over the store with the projection
?this (focus node), ?value and ?path where the result has them. The shapes files stay the single
source of truth: nothing here knows about services or laws, only about SHACL.

Patterns are chosen for pyoxigraph: absence is tested with `OPTIONAL {…} FILTER(!BOUND(…))`, not
`FILTER NOT EXISTS` (over a sequence path the latter was ~160× slower); class membership uses the
subclass closure computed once per run (`VALUES ?t {…}`), not `rdf:type/rdfs:subClassOf*` per row.
SHACL-SPARQL constraints run with $this unbound, their WHERE group joined with the shape's
target; our queries bind $this with their first triple pattern so that this equals pre-binding.

Two plans, because pyoxigraph joins a triple pattern or an OPTIONAL group to what precedes it by
looking it up once per row (fast for 50 focus nodes, 10–20× slower than a hash join for 50k):
- a run over every focus node reads the target once per node (SELECT DISTINCT), and the value
  nodes, the class members and each SHACL-SPARQL WHERE group as subqueries, which pyoxigraph
  evaluates once and joins by hash;
- a scoped run (VALUES ?this) keeps the row-by-row plan and also puts the VALUES into the
  SHACL-SPARQL OPTIONAL groups that name ?this, which pyoxigraph would otherwise evaluate for
  the whole store.
In a run over every focus node the same idea goes further: the steps of a sequence or alternative
path (_scan) and the triple patterns of a SHACL-SPARQL group (hash_triples) are read one by one
and joined by hash, and the queries of one target share one scan of it (merge_by_target). A scoped
run gives each shape only the scope's nodes that are its focus nodes (focus_query).
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from pyoxigraph import Literal, NamedNode

from khadamat.namespaces import RDF, SH, XSD
from khadamat.validation.graph import Node
from khadamat.validation.paths import Path
from khadamat.validation.shapes import Constraint, Shape, SparqlConstraint, UnsupportedShape, sh

Subclasses = Callable[[NamedNode], Sequence[NamedNode]]
RDF_TYPE = f"<{RDF}type>"
DATE_VARIABLE = "validationDate"

# Datatypes whose lexical form SPARQL can check by casting (ill-formed literal → cast error).
_CASTABLE = {XSD + t for t in ("integer", "decimal", "double", "float", "boolean", "date", "dateTime")}
_NODE_KINDS = {
    "IRI": "isIRI(?value)",
    "BlankNode": "isBlank(?value)",
    "Literal": "isLiteral(?value)",
    "BlankNodeOrIRI": "(isBlank(?value) || isIRI(?value))",
    "BlankNodeOrLiteral": "(isBlank(?value) || isLiteral(?value))",
    "IRIOrLiteral": "(isIRI(?value) || isLiteral(?value))",
}
_COMPARISONS = {"minInclusive": ">=", "maxInclusive": "<=", "minExclusive": ">", "maxExclusive": "<"}
_PREBOUND = re.compile(r"\$(currentShape|shapesGraph)\b")


@dataclass(frozen=True)
class CompiledQuery:
    """One SELECT that finds the violations of one constraint of one shape."""

    shape: Shape
    component: NamedNode
    text: str
    projects_value: bool
    projects_path: bool
    messages: dict[str, str]
    uses_date: bool = False
    # A merged query returns ?__component = "0", "1"…: the index of (component, reports a value).
    tagged: tuple[tuple[NamedNode, bool], ...] = ()
    # A SHACL-SPARQL query over every focus node: (prologue, focus, projection, WHERE group of
    # its own), what merge_by_target needs to put it in one query with the others of its target.
    branch: tuple[str, str, str, str] | None = None
    # A query merged by merge_by_target returns ?__query = "0", "1"…: the index of its part.
    parts: tuple[CompiledQuery, ...] = ()


def _term(node: Node) -> str:
    return str(node)


def _same_term(variable: str, node: Node) -> str:
    """`sameTerm(?variable, node)` in the form every engine evaluates alike: `=` for an IRI (the
    same test for IRIs; Virtuoso 7.2 answers sameTerm with an IRI constant false), and a literal's
    lexical form, language and datatype compared one by one (what sameTerm means for literals)."""
    if isinstance(node, NamedNode):
        return f"?{variable} = {_term(node)}"
    if isinstance(node, Literal):
        if node.language:
            return (
                f"(LANG(?{variable}) = {_string(node.language)} && STR(?{variable}) = {_string(node.value)})"
            )
        return (
            f'(isLiteral(?{variable}) && LANG(?{variable}) = ""'
            f" && DATATYPE(?{variable}) = {_term(node.datatype)} && STR(?{variable}) = {_string(node.value)})"
        )
    return f"sameTerm(?{variable}, {_term(node)})"


def _string(text: str) -> str:
    """A SPARQL string literal (JSON escapes are valid SPARQL escapes)."""
    return json.dumps(text, ensure_ascii=False)


def _values(variable: str, terms: Sequence[Node]) -> str:
    return f"VALUES ?{variable} {{ {' '.join(_term(t) for t in terms)} }}"


def target_pattern(shape: Shape, subclasses: Subclasses, bound: bool = False) -> str | None:
    """A group pattern binding ?this to every focus node of the shape, or None if it has none.

    With `bound`, ?this is already bound (a scope) and the pattern only tests it: it goes under
    FILTER EXISTS, which pyoxigraph evaluates per scoped node instead of enumerating the target.
    """
    branches: list[str] = []
    for kind, value in shape.effective_targets():
        if kind == "targetClass" and isinstance(value, NamedNode):
            branches.append(f"?this {RDF_TYPE} ?__class . {_values('__class', subclasses(value))}")
        elif kind == "targetNode":
            test = f"FILTER ({_same_term('this', value)})"
            branches.append(test if bound else _values("this", [value]))
        elif kind == "targetSubjectsOf":
            pattern = f"?this {_term(value)} ?__object ."
            branches.append(pattern if bound else f"{{ SELECT DISTINCT ?this WHERE {{ {pattern} }} }}")
        elif kind == "targetObjectsOf":
            pattern = f"?__subject {_term(value)} ?this ."
            branches.append(pattern if bound else f"{{ SELECT DISTINCT ?this WHERE {{ {pattern} }} }}")
    if not branches:
        return None
    return branches[0] if len(branches) == 1 else " UNION ".join(f"{{ {b} }}" for b in branches)


def _value_condition(
    constraint: Constraint, subclasses: Subclasses, class_var: str = "__valueClass", hashed: bool = False
) -> tuple[str, str]:
    """(extra pattern, FILTER expression true for a violating ?value) for a value-type constraint."""
    param, value = constraint.param, constraint.value
    if param == "class" and isinstance(value, NamedNode):
        typed = f"?value {RDF_TYPE} ?{class_var} . {_values(class_var, subclasses(value))}"
        if hashed:  # the instances of the class, read once (see compile_merged)
            typed = f"SELECT DISTINCT ?value ?{class_var} WHERE {{ {typed} }}"
        return f"OPTIONAL {{ {typed} }}", f"!BOUND(?{class_var})"
    if param == "datatype" and isinstance(value, NamedNode):
        # One call that reads the term, not two: for a long literal (a title, a description)
        # pyoxigraph fetches the string from disk at each call. An IRI or blank node makes
        # datatype() an error, which COALESCE turns into a violation, as !isLiteral did.
        condition = f"COALESCE(datatype(?value) != {_term(value)}, true)"
        if value.value == RDF + "langString":
            # A literal has rdf:langString exactly when it has a language: LANG() says so on every
            # engine (Virtuoso 7.2 gives a language-tagged literal no datatype at all).
            condition = 'COALESCE(LANG(?value) = "", true)'
        if value.value in _CASTABLE:
            condition += f" || !COALESCE(isLiteral({_term(value)}(?value)), false)"
        return "", condition
    if param == "nodeKind" and isinstance(value, NamedNode):
        kind = value.value.removeprefix(SH)
        if kind not in _NODE_KINDS:
            raise UnsupportedShape(f"unknown sh:nodeKind {value}")
        return "", f"!{_NODE_KINDS[kind]}"
    if param == "in":
        raise AssertionError("sh:in is compiled with its list")  # handled by compile_constraint
    if param == "pattern":
        flags = f", {_string(constraint.flags)}" if constraint.flags else ""
        return "", f"isBlank(?value) || !REGEX(STR(?value), {_string(value.value)}{flags})"
    if param in _COMPARISONS:
        return "", f"!COALESCE(?value {_COMPARISONS[param]} {_term(value)}, false)"
    if param in {"minLength", "maxLength"}:
        op = ">=" if param == "minLength" else "<="
        return "", f"isBlank(?value) || !COALESCE(STRLEN(STR(?value)) {op} {int(value.value)}, false)"
    raise UnsupportedShape(f"sh:{param} cannot be compiled")


def _scannable(path: Path) -> bool:
    """Whether every (focus, value) pair of the path can be listed with neither end bound.

    `*` and `?` paths also match every node of the graph with itself, so they are only
    evaluated from a bound focus node.
    """
    if path.op in {"zeroOrMore", "zeroOrOne", "oneOrMore"}:
        return False
    return all(_scannable(p) for p in path.parts)


def _scan(path: Path, subject: str, obj: str, fresh: Iterator[int]) -> str:
    """`subject PATH obj` as triple patterns joined by hash: a group pattern of sub-selects.

    pyoxigraph evaluates a sequence path by looking the next step up once per row, and an
    alternative path through its generic path code; with both ends unbound (a run over every
    focus node) it is cheaper to read each predicate once and join by hash (`kh:serviceId/
    ^kh:licenseServiceId`: 0.8 → 0.1 s at 50k services; six alternatives: 0.5 → 0.35 s). The
    same pairs: a sequence is the join of its steps on fresh variables, an alternative the union
    of its branches (a path's multiplicities never matter here: every count is DISTINCT). Only
    for paths `_scannable` accepts.
    """
    if path.op == "iri":
        return f"{subject} {path.iri} {obj} ."
    if path.op == "inverse":
        return _scan(path.parts[0], obj, subject, fresh)
    if path.op == "alternative":
        return " UNION ".join(f"{{ {_scan(p, subject, obj, fresh)} }}" for p in path.parts)
    if path.op != "sequence":
        raise AssertionError(f"a {path.op} path is not scannable")
    ends = [subject, *(f"?__step{next(fresh)}" for _ in path.parts[1:]), obj]
    return " ".join(
        f"{{ SELECT {a} {b} WHERE {{ {_scan(p, a, b, fresh)} }} }}"
        for p, a, b in zip(path.parts, ends, ends[1:], strict=False)
    )


def _select(head: str, where: str, tail: str = "") -> str:
    return f"SELECT DISTINCT {head} WHERE {{\n{where}\n}}{tail}"


def compile_constraint(
    shape: Shape,
    constraint: Constraint,
    focus: str,
    subclasses: Subclasses,
    in_lists: Callable[[Node], list[Node]],
) -> CompiledQuery:
    """The SELECT for one Core constraint; `focus` binds ?this (scope + target)."""
    path = shape.path.sparql() if shape.path else None
    values = f"?this {path} ?value ." if path else "BIND (?this AS ?value)"
    param = constraint.param

    def query(text: str, with_value: bool) -> CompiledQuery:
        return CompiledQuery(shape, constraint.component, text, with_value, False, shape.messages)

    if param in {"minCount", "maxCount"}:
        if not path:
            raise UnsupportedShape(f"{shape.label}: sh:{param} needs a property shape")
        count = int(constraint.value.value)
        if param == "minCount" and count == 1:
            return query(
                _select("?this", f"{focus}\nOPTIONAL {{ ?this {path} ?__v . }}\nFILTER (!BOUND(?__v))"), False
            )
        if param == "minCount":
            where = f"{focus}\nOPTIONAL {{ ?this {path} ?__v . }}"
            return query(
                _select("?this", where, f"\nGROUP BY ?this HAVING (COUNT(DISTINCT ?__v) < {count})"), False
            )
        if count == 0:
            return query(_select("?this", f"{focus}\n?this {path} ?__v ."), False)
        where = f"{focus}\n?this {path} ?__v ."
        return query(
            _select("?this", where, f"\nGROUP BY ?this HAVING (COUNT(DISTINCT ?__v) > {count})"), False
        )
    if param == "hasValue":
        if not path:
            return query(
                _select(
                    "?this ?value",
                    f"{focus}\n{values}\nFILTER (!({_same_term('value', constraint.value)}))",
                ),
                True,
            )
        where = (
            f"{focus}\nOPTIONAL {{ ?this {path} {_term(constraint.value)} . BIND (true AS ?__has) }}\n"
            "FILTER (!BOUND(?__has))"
        )
        return query(_select("?this", where), False)
    if param == "in":
        members = in_lists(constraint.value)
        allowed = " || ".join(f"({_same_term('value', m)})" for m in members) or "false"
        return query(_select("?this ?value", f"{focus}\n{values}\nFILTER (!({allowed}))"), True)
    pattern, condition = _value_condition(constraint, subclasses)
    where = f"{focus}\n{values}\n{pattern}\nFILTER ({condition})"
    return query(_select("?this ?value", where), True)


_PROJECTED_EXPRESSION = re.compile(r"\(\s*(.+?)\s+AS\s+[?$](\w+)\s*\)", re.S | re.I)
_SELECT_HEAD = re.compile(
    r"^(?P<prologue>.*?)\bSELECT\b(?P<projection>.*?)\bWHERE\s*\{(?P<body>.*)\}\s*$", re.S | re.I
)


_TOKENS = re.compile(
    r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\''
    r"|<[^<>\"{}|^`\\\x00-\x20]*>|#[^\n]*|\bOPTIONAL\s*\{|[{}]",
    re.I,
)


def _restrict_optionals(body: str, scope: str) -> str:
    """`scope` (VALUES ?this {…}) put first in every top-level OPTIONAL group and UNION branch
    that names ?this.

    pyoxigraph evaluates such a group (one with two patterns on ?this) once for the whole store
    and joins it by hash, even when only 50 focus nodes are asked for: 6.5 s instead of 4 ms at
    50k services (1.5 s instead of 6 ms for the three branches of ElectronicAllStagesShape). The
    rewrite keeps the results: the focus pattern before the group binds ?this to one of these
    nodes (each listed once) in every row, so no other value of ?this could join. Sub-selects
    and groups nested deeper are left alone.
    """
    code = _TOKENS.sub(_blank, body)
    out: list[str] = []
    depth, last, opened, optional = 0, 0, None, False
    for match in _TOKENS.finditer(body):
        token = match.group(0)
        if token.endswith("{") and (token == "{" or token.upper().startswith("OPTIONAL")):
            if depth == 0:
                opened, optional = match.end(), token != "{"
            depth += 1
        elif token == "}":
            depth -= 1
            if depth == 0 and opened is not None:
                inner = _TOKENS.sub(_keep_code, body[opened : match.start()])
                branch = re.search(r"\bUNION\s*$", code[: opened - 1], re.I) or re.match(
                    r"\s*UNION\b", code[match.end() :], re.I
                )
                if (optional or (branch and not re.match(r"\s*SELECT\b", inner, re.I))) and re.search(
                    r"[?$]this\b", inner
                ):
                    out.append(body[last:opened] + f" {scope} ")
                    last = opened
                opened = None
    out.append(body[last:])
    return "".join(out)


def _keep_code(match: re.Match[str]) -> str:
    """Strings, IRIs and comments blanked (so that `?this` inside them does not count)."""
    token = match.group(0)
    return token if token in "{}" or token.upper().startswith("OPTIONAL") else " "


_VARIABLE = re.compile(r"[?$](\w+)")


def _blank(match: re.Match[str]) -> str:
    """Like _keep_code, but a blanked token keeps its length (positions stay valid)."""
    token = match.group(0)
    return token if token in "{}" or token.upper().startswith("OPTIONAL") else " " * len(token)


_PLAIN_PROJECTION = re.compile(r"\s*(?:\*|(?:[?$]\w+\s*)+)\s*")


def _braces(text: str) -> dict[int, int]:
    """Position of each `{` → position of its matching `}` (strings, IRIs and comments skipped)."""
    pairs: dict[int, int] = {}
    stack: list[int] = []
    for match in _TOKENS.finditer(text):
        token = match.group(0)
        if token.endswith("{") and (token == "{" or token.upper().startswith("OPTIONAL")):
            stack.append(match.end() - 1)
        elif token == "}" and stack:
            pairs[stack.pop()] = match.start()
    return pairs


def _inline_one(text: str) -> str | None:
    """`text` with its first sub-select that can be inlined replaced by its WHERE group, or None.

    `{ SELECT ?a ?b WHERE { P } }` equals `{ P }` when the projection is plain variables (no
    expression, DISTINCT or solution modifier) and every variable of P that is not projected
    occurs nowhere else in the query: hiding a variable that nothing else names changes no
    solution. Blank node labels keep their sub-select (their scope is the basic graph pattern).
    """
    code = _TOKENS.sub(_blank, text)  # the same positions, strings/IRIs/comments blanked
    pairs = _braces(text)
    for start, end in sorted(pairs.items()):
        head = re.match(r"\{\s*SELECT\b", code[start:], re.I)
        if not head:
            continue
        opening = code.find("{", start + head.end())
        if opening < 0 or opening not in pairs or opening > end:
            continue
        projection = re.sub(r"\bWHERE\s*$", "", code[start + head.end() : opening], flags=re.I)
        inner_end = pairs[opening]
        if code[inner_end + 1 : end].strip() or not _PLAIN_PROJECTION.fullmatch(projection):
            continue
        inner = code[opening + 1 : inner_end]
        if "_:" in inner or "[" in inner:
            continue
        projected = set(_VARIABLE.findall(projection)) if "*" not in projection else None
        hidden = set() if projected is None else set(_VARIABLE.findall(inner)) - projected
        rest = code[:start] + code[end + 1 :]
        if any(re.search(rf"[?$]{name}\b", rest) for name in hidden):
            continue
        return text[:start] + "{" + text[opening + 1 : inner_end] + "}" + text[end + 1 :]
    return None


def inline_subselects(text: str) -> str:
    """Every sub-select that can be (see _inline_one) replaced by its WHERE group.

    SHACL-SPARQL shapes read the store in sub-selects that pyoxigraph evaluates once and joins
    by hash: the fast plan over every focus node. For a scope of a few dozen nodes the same
    patterns are better looked up from each node (the VALUES of the scope first), which
    pyoxigraph does only for patterns that are not in a sub-select.
    """
    while (inlined := _inline_one(text)) is not None:
        text = inlined
    return text


_FILTER_HEAD = re.compile(r"\bFILTER\s*(?:[A-Za-z_][\w:]*\s*)?\(", re.I)
_NOT_A_BGP = re.compile(
    r"\b(?:BIND|VALUES|OPTIONAL|UNION|MINUS|GRAPH|SERVICE|EXISTS|SELECT)\b|[{}\[(]|_:", re.I
)
_STRINGS_OR_COMMENTS = re.compile(
    r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|#[^\n]*'
)
_BGP_TOKEN = re.compile(r"<[^>]*>|[;,]|\.(?=\s|$)|[^\s;,]+?(?=[;,]|\.(?:\s|$)|\s|$)")
_PLAIN_PREDICATE = re.compile(r"\^?(?:<[^>]*>|[A-Za-z][\w-]*:[\w.-]*|:[\w.-]*|a)")


def _split_filters(group: str) -> tuple[str, list[str]] | None:
    """(the group without its FILTERs, the FILTER expressions); None if a FILTER does not parse."""
    rest, filters, position = [], [], 0
    for match in _FILTER_HEAD.finditer(group):
        if match.start() < position:
            return None
        depth, index = 1, match.end()
        while depth and index < len(group):
            depth += {"(": 1, ")": -1}.get(group[index], 0)
            index += 1
        if depth:
            return None
        rest.append(group[position : match.start()])
        filters.append(group[match.start() : index])
        position = index
    rest.append(group[position:])
    return " ".join(rest), filters


def _hashable(group: str) -> bool:
    """Whether `OPTIONAL { group }` may become `OPTIONAL { { SELECT * WHERE { group } } }`.

    The two are equal when the group is a basic graph pattern whose FILTERs name only variables
    its triple patterns bind (a FILTER in an OPTIONAL also sees the left side's variables; these
    would then be bound alike on both sides). Worth it only when each triple pattern has a fixed
    predicate: the group is then read once for the whole store, a scan of a few predicates.
    """
    code = _STRINGS_OR_COMMENTS.sub(lambda m: "" if m.group(0).startswith("#") else '""', group)
    split = _split_filters(code)
    if split is None:
        return False
    triples, filters = split
    if _NOT_A_BGP.search(triples.replace('""', " ")):
        return False
    tokens = _BGP_TOKEN.findall(triples)
    position = 0  # 0 subject, 1 predicate, 2 object, 3 after the object
    for token in tokens:
        if token in {";", ",", "."}:
            position = {";": 1, ",": 2, ".": 0}[token]
        elif position == 1 and not _PLAIN_PREDICATE.fullmatch(token):
            return False
        else:
            position = min(position + 1, 3)
    bound = set(_VARIABLE.findall(triples))
    return bool(tokens) and all(set(_VARIABLE.findall(f)) <= bound for f in filters)


def hash_optionals(body: str) -> str:
    """Each OPTIONAL group that _hashable allows, read once as a sub-select.

    Over every focus node pyoxigraph looks an OPTIONAL group up once per row of what precedes
    it (tens of thousands of look-ups); a sub-select is evaluated once and joined by hash:
    3× faster at 50k services for `OPTIONAL { $this kh:inPersonReason ?reason }`, 10× for the
    three OPTIONALs in the UNION branches of ElectronicAllStagesShape. Such a group holds no
    group of its own, so no two of them overlap.
    """
    code = _TOKENS.sub(_blank, body)
    pairs = _braces(body)
    out, last = [], 0
    for start, end in sorted(pairs.items()):
        group = body[start + 1 : end]
        if re.search(r"\bOPTIONAL\s*$", code[:start], re.I) and _hashable(group):
            out.append(body[last : start + 1] + f" {{ SELECT * WHERE {{ {group} }} }} ")
            last = end
    out.append(body[last:])
    return "".join(out)


_TRIPLE_TOKEN = re.compile(
    r"""\s*(?P<token>[?$]\w+|<[^<>"{}|^`\\\x00-\x20]*>"""
    r"""|(?:"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')(?:@[A-Za-z]+(?:-[A-Za-z0-9]+)*|\^\^(?:<[^<>]*>"""
    r"""|(?:[A-Za-z][\w.-]*)?:(?:[\w.-]*[\w-])?))?"""
    r"""|[+-]?(?:\d*\.\d+|\d+)(?:[eE][+-]?\d+)?"""
    r"""|(?:[A-Za-z][\w.-]*)?:(?:[\w.-]*[\w-])?|(?:a|true|false)(?![\w:-])|[.;,])"""
)
# Keywords, not the local part of a prefixed name (`kh:Service` is no SERVICE).
_STRUCTURE = re.compile(
    r"(?<![\w:.-])(?:OPTIONAL|UNION|MINUS|GRAPH|FILTER|BIND|SELECT|DISTINCT|REDUCED|WHERE|AS|GROUP|BY"
    r"|HAVING|ORDER|ASC|DESC|LIMIT|OFFSET)(?![\w:-])|\*",
    re.I,
)
_UNSPLITTABLE = re.compile(r"(?<![\w:.-])(?:EXISTS|SERVICE|VALUES)(?![\w:-])", re.I)


def _triples(run: str) -> list[tuple[str, str, str]] | None:
    """The triple patterns of a triples block (`;` and `,` expanded), or None if it is anything
    else: a variable or a path as predicate, a blank node, a collection, an incomplete triple."""
    tokens, position = [], 0
    while position < len(run):
        if not run[position:].strip():
            break
        match = _TRIPLE_TOKEN.match(run, position)
        if not match:
            return None
        tokens.append(match.group("token"))
        position = match.end()
    triples: list[tuple[str, str, str]] = []
    subject = predicate = ""
    state = 0  # 0 subject, 1 predicate, 2 object, 3 after an object
    for token in tokens:
        if token == ".":
            if state not in (0, 3) and not (state == 1 and predicate):
                return None
            state = 0
        elif token in {";", ","}:
            if state != 3:
                return None
            state = 1 if token == ";" else 2
        elif state == 0:
            subject, predicate, state = token, "", 1
        elif state == 1:
            if token[0] in "?$\"'" or token[0].isdigit():
                return None
            predicate, state = token, 2
        elif state == 2:
            triples.append((subject, predicate, token))
            state = 3
        else:
            return None
    return triples if state in (0, 3) else None


def hash_triples(body: str) -> str:
    """In every group with two join operands or more, each triple pattern read as a sub-select.

    pyoxigraph joins the triple patterns of a basic graph pattern by looking each next one up
    once per row; over every focus node (a run over the whole store) that is tens of thousands
    of look-ups, where reading each pattern once and joining by hash is 5–10× cheaper
    (`$this kh:declaredInterAgency false . ?value kh:inquiryOf $this ; rdf:type kh:ProcessInquiry`:
    0.87 → 0.13 s at 50k services). A basic graph pattern is the join of its triple patterns, and
    a `SELECT *` sub-select of one triple pattern is that pattern: the same solutions, in place
    (a BIND still extends what precedes it). Triples blocks that are not plain (a path, a variable
    predicate, a blank node) are left as written, and so is any query with EXISTS, SERVICE or VALUES.
    """
    if _UNSPLITTABLE.search(_TOKENS.sub(_blank, body)):
        return body
    code = _TOKENS.sub(_blank, body)
    uncommented = _TOKENS.sub(lambda m: " " * len(m.group(0)) if m.group(0)[0] == "#" else m.group(0), body)
    pairs = _braces(body)
    groups = [(-1, len(body)), *sorted(pairs.items())]
    edits: list[tuple[int, int, list[tuple[str, str, str]], dict[str, list[str]]]] = []
    for start, end in groups:
        children = [(a, b) for a, b in pairs.items() if start < a < end]
        direct = [(a, b) for a, b in children if not any(c < a and b < d for c, d in children)]
        cut = list(code[start + 1 : end])
        for a, b in direct:
            cut[a - start - 1 : b - start] = "\x00" * (b - a + 1)
        text = _blank_parentheses("".join(cut))
        runs: list[tuple[int, int, list[tuple[str, str, str]]]] = []
        offset = start + 1
        allowed = _equalities("".join(cut), uncommented[offset:end])
        for piece in re.finditer(r"[^\x00]+", _STRUCTURE.sub(lambda m: "\x00" * len(m.group(0)), text)):
            found = _triples(uncommented[offset + piece.start() : offset + piece.end()])
            if found:
                runs.append((offset + piece.start(), offset + piece.end(), found))
        plain = sum(len(found) for _, _, found in runs)
        # A lone triple pattern is read on its own too when it is joined with groups (a UNION,
        # a sub-select) and no FILTER of the group could be pushed into it.
        joined = any(not re.search(r"(?:OPTIONAL|MINUS)\s*$", code[:a], re.I) for a, _ in direct)
        alone = plain == 1 and joined and not re.search(r"(?<![\w:.-])FILTER(?![\w:-])", text, re.I)
        restricted = any(o in allowed for _, _, found in runs for _, _, o in found)
        if plain >= 2 or alone or restricted:
            edits += [(a, b, found, allowed) for a, b, found in runs]
    for a, b, found, allowed in sorted(edits, reverse=True, key=lambda e: e[0]):
        split = " ".join(
            f"{{ SELECT * WHERE {{ {_values_of(o, allowed)}{s} {p} {o} . }} }}" for s, p, o in found
        )
        body = body[:a] + f" {split} " + body[b:]
    return body


_EQUALITY = re.compile(r"\s*([?$]\w+)\s*=\s*(<[^<>\s]*>|(?:[A-Za-z][\w.-]*)?:(?:[\w.-]*[\w-])?)\s*")


def _equalities(code: str, text: str) -> dict[str, list[str]]:
    """Variable → IRIs, for each FILTER of the group that is `?v = <a> || ?v = <b> …` alone.

    `code` is the group's own text with nested groups, strings and comments blanked, `text` the
    same span as written. Such a FILTER keeps exactly the rows whose ?v is one of these IRIs (`=`
    between IRIs is sameTerm; with a literal it is false or an error), so the triple pattern that
    binds ?v may be read for these values only (a VALUES in its sub-select): the same rows, and a
    look-up by object instead of a scan (`?this rdf:type ?class . FILTER (?class = kh:Service)`:
    0.17 → 0.02 s at 50k services).
    """
    found: dict[str, list[str]] = {}
    for head in re.finditer(r"(?<![\w:.-])FILTER\s*\(", code, re.I):
        depth, index = 1, head.end()
        while depth and index < len(code):
            depth += {"(": 1, ")": -1}.get(code[index], 0)
            index += 1
        parts = [_EQUALITY.fullmatch(p) for p in text[head.end() : index - 1].split("||")]
        matches = [m for m in parts if m is not None]
        if matches and len(matches) == len(parts) and len({m.group(1) for m in matches}) == 1:
            found.setdefault(matches[0].group(1), [m.group(2) for m in matches])
    return found


def _values_of(variable: str, allowed: dict[str, list[str]]) -> str:
    return f"VALUES {variable} {{ {' '.join(allowed[variable])} }} " if variable in allowed else ""


def _blank_parentheses(code: str) -> str:
    """Every parenthesised span (an expression, a projection, a collection) replaced by a NUL run."""
    out, depth = [], 0
    for char in code:
        if char == "(":
            depth += 1
        out.append("\x00" if depth else char)
        if char == ")" and depth:
            depth -= 1
    return "".join(out)


def compile_sparql(
    shape: Shape,
    constraint: SparqlConstraint,
    focus: str,
    scope: str | None = None,
    day: Literal | None = None,
) -> CompiledQuery:
    """A SHACL-SPARQL SELECT, run with $this unbound and its WHERE group joined with the target.

    `scope` is the VALUES clause of a scoped run, pushed into the OPTIONAL groups as well.
    `day`, the validation date, is written in place of $validationDate (pre-binding it); without
    it the variable is left for the caller to bind.
    """
    text = constraint.select
    if day is not None:
        text = re.sub(rf"[?$]{DATE_VARIABLE}\b", f'"{day.value}"^^<{XSD}date>', text)
    if match := _PREBOUND.search(text):
        raise UnsupportedShape(f"{shape.label}: ${match.group(1)} is not supported")
    if shape.path is not None:
        text = text.replace("$PATH", shape.path.sparql())
    text = re.sub(r"\$this\b", "?this", text)
    if scope is not None:
        text = inline_subselects(text)
    prologue = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in sorted(constraint.prefixes.items()))
    match = _SELECT_HEAD.match(text)
    if not match:
        raise UnsupportedShape(f"{shape.label}: a sh:select must be SELECT … WHERE {{ … }} without modifiers")
    projection = match.group("projection")
    binds = "".join(f"\nBIND ({expr} AS ?{var})" for expr, var in _PROJECTED_EXPRESSION.findall(projection))
    projected = set(re.findall(r"[?$](\w+)", projection)) if "*" not in projection else {"value", "path"}
    uses_date = re.search(rf"[?$]{DATE_VARIABLE}\b", text) is not None
    head = "?this" + "".join(f" ?{v}" for v in ("value", "path") if v in projected)
    if uses_date:
        head += f" ?{DATE_VARIABLE}"  # pyoxigraph substitutes only projected variables
    # In a scoped run the WHERE group's content is spliced into the group that binds ?this (not
    # nested as a group of its own, which pyoxigraph would evaluate for every node before the
    # join: 6 s instead of 0.1 s for 50 scoped services). Equivalent, because the query binds
    # $this first: the only variable the target adds is ?this, so its FILTERs and OPTIONALs see
    # the same rows.
    body = match.group("body")
    branch: tuple[str, str, str, str] | None = None
    if scope is not None:
        where = f"{focus}\n{_restrict_optionals(body, scope)}{binds}"
    elif uses_date:  # a subquery would hide $validationDate from pyoxigraph's substitution
        where = f"{focus}\n{body}{binds}"
    else:
        # Over every focus node the WHERE group is a subquery of its own (with $this unbound,
        # as SHACL defines it): pyoxigraph evaluates it once and joins it with the target by
        # hash, 1.5–3× faster at 50k services than one lookup per focus node.
        group = f"{hash_triples(hash_optionals(body))}{binds}"
        where = f"{focus}\n{{ SELECT * WHERE {{\n{group}\n}} }}"
        branch = (prologue + match.group("prologue"), focus, head, group)
    full = prologue + match.group("prologue") + _select(head, where)
    messages = constraint.messages or shape.messages
    return CompiledQuery(
        shape,
        sh("SPARQLConstraintComponent"),
        full,
        "value" in projected,
        "path" in projected,
        messages,
        uses_date,
        branch=branch,
    )


def merge_by_target(queries: Sequence[CompiledQuery]) -> list[CompiledQuery]:
    """The queries of a run over every focus node that can be, one query per target.

    Such a query (SHACL-SPARQL, or Core constraints that no missing value violates) joins its
    shape's target (a DISTINCT scan of the class closure, 0.07 s at 50k services) with a group
    that pyoxigraph evaluates on its own; the queries with the same target share one scan: the
    target joined with the UNION of their groups, each tagged with ?__query (its index in
    `parts`). The same rows, part by part. Core groups use full IRIs: they go with any prologue.
    """
    prologues: dict[str, str] = {}  # a target → the prologue of its first query that has one
    for query in queries:
        if query.branch is not None and query.branch[0]:
            prologues.setdefault(query.branch[1], query.branch[0])
    groups: dict[tuple[str, str], list[int]] = {}
    for index, query in enumerate(queries):
        if query.branch is not None:
            prologue, focus = query.branch[0], query.branch[1]
            groups.setdefault((prologue or prologues.get(focus, ""), focus), []).append(index)
    merged: dict[int, CompiledQuery] = {}
    dropped: set[int] = set()
    for (prologue, focus), members in groups.items():
        if len(members) < 2:
            continue
        parts = tuple(queries[i] for i in members)
        union = "\nUNION\n".join(
            f'{{ {{ SELECT {q.branch[2]} WHERE {{\n{q.branch[3]}\n}} }} BIND ("{n}" AS ?__query) }}'
            for n, q in enumerate(parts)
            if q.branch is not None
        )
        text = prologue + _select("?this ?value ?path ?__component ?__query", f"{focus}\n{{\n{union}\n}}")
        first = parts[0]
        merged[members[0]] = CompiledQuery(
            first.shape, first.component, text, True, True, first.messages, parts=parts
        )
        dropped.update(members[1:])
    return [merged.get(i, q) for i, q in enumerate(queries) if i not in dropped]


def _mergeable(constraint: Constraint) -> bool:
    """Counts other than 0 and 1 need GROUP BY: they keep a query of their own."""
    if constraint.param == "minCount":
        return int(constraint.value.value) == 1
    if constraint.param == "maxCount":
        return int(constraint.value.value) in (0, 1)
    return True


def _costly_test(constraint: Constraint) -> bool:
    """Whether a value-type test costs more per value than grouping the values does.

    Measured at 50k services: sh:datatype (datatype() and a cast per value), sh:class (a join
    per value) and the string tests gain from testing each distinct value once; sh:in (a few IRI
    comparisons) and rdf:langString (LANG() of titles that are nearly all distinct) do not."""
    if constraint.param == "in":
        return False
    return not (constraint.param == "datatype" and constraint.value == NamedNode(RDF + "langString"))


def _failing_values(path: Path, pattern: str, test: str, index: int, fresh: Iterator[int]) -> str:
    """An OPTIONAL binding ?__fails{index} for each value of `path` that fails a value-type test.

    Why: such a test (sh:datatype, sh:class, sh:pattern …) depends on the value alone, and a
    catalog repeats values many times (its 300k booleans are two terms). Each distinct value is
    tested once and the answer joined back by hash, instead of testing every (node, value) pair:
    pyoxigraph reads a term's text for each test, and datatype() builds an IRI. At 50k services
    the boolean fields' query went from 0.41 to 0.25 s, the nine queries this changes from 2.25
    to 1.80 s. GROUP BY, not DISTINCT: pyoxigraph pushes a FILTER into a DISTINCT sub-select,
    back to every pair. For the embedded store only (`per_value`): Virtuoso 7.2 answered the
    boolean fields' query in this form after more than 120 s, against 1.2 s per pair, and a remote
    store may be any engine, so remote runs keep the per-pair test.
    """
    values = _scan(path, f"?__node{index}", "?value", fresh)
    group = f"{{ SELECT ?value WHERE {{ {values} }} GROUP BY ?value }}"
    test_group = f"{group} {pattern} FILTER ({test}) BIND (true AS ?__fails{index})"
    return f"OPTIONAL {{ SELECT ?value ?__fails{index} WHERE {{ {test_group} }} }}"


def compile_merged(
    shape: Shape,
    constraints: Sequence[Constraint],
    focus: str,
    subclasses: Subclasses,
    in_lists: Callable[[Node], list[Node]],
    hashed: bool = False,
    per_value: bool = False,
) -> CompiledQuery:
    """All simple constraints of one shape in one SELECT: the value nodes are read once.

    Each constraint is a branch of one FILTER, selected by ?__component (a VALUES tag); the
    patterns a branch needs (the value's classes, a second value for maxCount 1, the hasValue
    probe) are OPTIONALs nested under the value, so that a missing value never matches them.
    With `hashed` (a run over every focus node), each of these parts is a subquery: pyoxigraph
    then reads it once and joins by hash, instead of looking it up again for every focus node
    (a for-loop join: 10–20× slower on 50k services).
    """
    hashed = hashed and (shape.path is None or _scannable(shape.path))
    fresh = itertools.count()
    path = shape.path.sparql() if shape.path else None
    inner: list[str] = []  # patterns that need ?value bound
    outer: list[str] = []  # patterns on ?this alone
    branches: list[str] = []
    tagged: list[tuple[NamedNode, bool]] = []
    for index, constraint in enumerate(constraints):
        param = constraint.param
        if param in {"minCount", "maxCount"} and not path:
            raise UnsupportedShape(f"{shape.label}: sh:{param} needs a property shape")
        reports_value = param not in {"minCount", "maxCount"} and not (param == "hasValue" and path)
        if param == "minCount":
            condition = "!BOUND(?value)"
        elif param == "maxCount" and int(constraint.value.value) == 0:
            condition = "BOUND(?value)"
        elif param == "maxCount":
            other = f"?this {path} ?__other{index} ."
            if hashed:
                other = _scan(shape.path, "?this", f"?__other{index}", fresh)
                other = f"{{ SELECT ?this ?__other{index} WHERE {{ {other} }} }}"
            inner.append(f"OPTIONAL {{ {other} FILTER (!sameTerm(?__other{index}, ?value)) }}")
            condition = f"BOUND(?__other{index})"
        elif param == "hasValue" and path:
            probe = f"?this {path} {_term(constraint.value)} . BIND (true AS ?__has{index})"
            if hashed:
                probe = f"SELECT ?this ?__has{index} WHERE {{ {probe} }}"
            outer.append(f"OPTIONAL {{ {probe} }}")
            condition = f"!BOUND(?__has{index})"
        elif param == "hasValue":
            condition = f"!({_same_term('value', constraint.value)})"
        else:
            if param == "in":
                allowed = " || ".join(f"({_same_term('value', m)})" for m in in_lists(constraint.value))
                pattern, test = "", f"!({allowed or 'false'})"
            else:
                pattern, test = _value_condition(constraint, subclasses, f"__class{index}", hashed)
            if per_value and hashed and shape.path is not None and _costly_test(constraint):
                inner.append(_failing_values(shape.path, pattern, test, index, fresh))
                condition = f"BOUND(?__fails{index})"
            else:
                inner += [pattern] if pattern else []
                condition = f"BOUND(?value) && ({test})"
        branches.append(f'(?__component = "{index}" && {condition})')
        tagged.append((constraint.component, reports_value))
    if path:
        read = f"?this {path} ?value ."
        if hashed:
            read = f"{{ SELECT ?this ?value WHERE {{ {_scan(shape.path, '?this', '?value', fresh)} }} }}"
        if hashed and [c.param for c in constraints] == ["minCount"] and not outer:
            # Only "no value at all": the focus nodes minus those with a value, one hash
            # anti-join (cheaper in pyoxigraph than OPTIONAL + !BOUND; the same nodes).
            where = f'{focus}\nMINUS {{ {read} }}\nBIND ("0" AS ?__component)'
            return CompiledQuery(
                shape,
                tagged[0][0],
                _select("?this ?__component", where),
                True,
                False,
                shape.messages,
                tagged=tuple(tagged),
            )
        values = f"OPTIONAL {{\n  {read}\n  " + "\n  ".join(inner) + "\n}"
    else:
        values = "BIND (?this AS ?value)\n" + "\n".join(inner)
    tags = " ".join(f'"{i}"' for i in range(len(constraints)))
    # One row per (value, constraint) pair; a row stays when its constraint is violated.
    violated = f"VALUES ?__component {{ {tags} }}\nFILTER (\n  " + "\n  || ".join(branches) + "\n)"
    where = f"{focus}\n{values}\n" + "".join(f"{o}\n" for o in outer) + violated
    branch = None
    if hashed and path and not outer and all(c.param != "minCount" for c in constraints):
        # No violation needs a missing value: the violations can be found among the value
        # pairs alone, and joined with the target afterwards (see merge_by_target).
        group = f"{read}\n" + "".join(f"{i}\n" for i in inner) + violated
        branch = ("", focus, "?this ?__component ?value", group)
    return CompiledQuery(
        shape,
        tagged[0][0],
        _select("?this ?__component ?value", where),
        True,
        False,
        shape.messages,
        tagged=tuple(tagged),
        branch=branch,
    )


def compile_shape(
    shape: Shape,
    subclasses: Subclasses,
    in_lists: Callable[[Node], list[Node]],
    scope: Sequence[NamedNode] | None = None,
    day: Literal | None = None,
    focus_nodes: bool = False,
    per_value: bool = False,
) -> list[CompiledQuery]:
    """Every query of one shape; `scope` restricts the focus nodes to those listed (with
    `focus_nodes`, it lists focus nodes of the shape, see focus_query); `day` is the validation
    date written into the queries (else left for the caller to bind); `per_value`: test each
    distinct value once (`_failing_values`, for the embedded store only)."""
    target = target_pattern(shape, subclasses, bound=scope is not None)
    if target is None:
        return []
    scoped = _values("this", scope) if scope is not None else None
    if scoped is None:  # each focus node once (a service has several types of the closure)
        focus = f"{{ SELECT DISTINCT ?this WHERE {{ {target} }} }}"
    elif focus_nodes:
        focus = scoped
    else:
        focus = f"{scoped}\nFILTER EXISTS {{ {target} }}"
    merged = [c for c in shape.constraints if _mergeable(c)]
    hashed = scope is None
    queries = (
        [compile_merged(shape, merged, focus, subclasses, in_lists, hashed=hashed, per_value=per_value)]
        if merged
        else []
    )
    queries += [
        compile_constraint(shape, c, focus, subclasses, in_lists)
        for c in shape.constraints
        if not _mergeable(c)
    ]
    queries += [compile_sparql(shape, c, focus, scoped, day) for c in shape.sparql]
    return queries


def focus_query(shape: Shape, subclasses: Subclasses, scope: Sequence[NamedNode]) -> str | None:
    """The SELECT of the scope's nodes that are focus nodes of the shape (None: it has no target).

    A scoped run asks it once per distinct target and then gives each shape only its own focus
    nodes: a shape's queries no longer test the target for every node of the scope (a ministry's
    scope holds its inquiries, evidence and delegations too, most of them no card).
    """
    target = target_pattern(shape, subclasses, bound=True)
    if target is None:
        return None
    return _select("?this", f"{_values('this', scope)}\nFILTER EXISTS {{ {target} }}")


__all__ = [
    "CompiledQuery",
    "Literal",
    "compile_shape",
    "focus_query",
    "merge_by_target",
    "target_pattern",
]
