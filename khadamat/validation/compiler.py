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
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
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


def _term(node: Node) -> str:
    return str(node)


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
            test = f"FILTER (sameTerm(?this, {_term(value)}))"
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
                    f"{focus}\n{values}\nFILTER (!sameTerm(?value, {_term(constraint.value)}))",
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
        allowed = " || ".join(f"sameTerm(?value, {_term(m)})" for m in members) or "false"
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
    """`scope` (VALUES ?this {…}) put first in every top-level OPTIONAL group that names ?this.

    pyoxigraph evaluates such a group (one with two patterns on ?this) once for the whole store
    and joins it by hash, even when only 50 focus nodes are asked for: 6.5 s instead of 4 ms at
    50k services. The rewrite keeps the results: the focus pattern before the OPTIONAL binds
    ?this to one of these nodes in every row, so no other value of ?this could join. Nested
    groups are left alone (a UNION branch or subquery need not have ?this bound).
    """
    out: list[str] = []
    depth, last, opened = 0, 0, None
    for match in _TOKENS.finditer(body):
        token = match.group(0)
        if token.upper().startswith("OPTIONAL") and token.endswith("{"):
            if depth == 0:
                opened = match.end()
            depth += 1
        elif token == "{":
            depth += 1
        elif token == "}":
            depth -= 1
            if depth == 0 and opened is not None:
                if re.search(r"[?$]this\b", _TOKENS.sub(_keep_code, body[opened : match.start()])):
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
    """Each top-level OPTIONAL group that _hashable allows, read once as a sub-select.

    Over every focus node pyoxigraph looks an OPTIONAL group up once per row of what precedes
    it (tens of thousands of look-ups); a sub-select is evaluated once and joined by hash:
    3× faster at 50k services for `OPTIONAL { $this kh:inPersonReason ?reason }`.
    """
    code = _TOKENS.sub(_blank, body)
    pairs = _braces(body)
    out, last, group_end = [], 0, -1
    for start, end in sorted(pairs.items()):
        if start < group_end:
            continue  # nested in a group already looked at
        group_end = end
        group = body[start + 1 : end]
        if re.search(r"\bOPTIONAL\s*$", code[:start], re.I) and _hashable(group):
            out.append(body[last : start + 1] + f" {{ SELECT * WHERE {{ {group} }} }} ")
            last = end
    out.append(body[last:])
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
    if scope is not None:
        where = f"{focus}\n{_restrict_optionals(body, scope)}{binds}"
    elif uses_date:  # a subquery would hide $validationDate from pyoxigraph's substitution
        where = f"{focus}\n{body}{binds}"
    else:
        # Over every focus node the WHERE group is a subquery of its own (with $this unbound,
        # as SHACL defines it): pyoxigraph evaluates it once and joins it with the target by
        # hash, 1.5–3× faster at 50k services than one lookup per focus node.
        where = f"{focus}\n{{ SELECT * WHERE {{\n{hash_optionals(body)}{binds}\n}} }}"
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
    )


def _mergeable(constraint: Constraint) -> bool:
    """Counts other than 0 and 1 need GROUP BY: they keep a query of their own."""
    if constraint.param == "minCount":
        return int(constraint.value.value) == 1
    if constraint.param == "maxCount":
        return int(constraint.value.value) in (0, 1)
    return True


def compile_merged(
    shape: Shape,
    constraints: Sequence[Constraint],
    focus: str,
    subclasses: Subclasses,
    in_lists: Callable[[Node], list[Node]],
    hashed: bool = False,
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
            condition = f"!sameTerm(?value, {_term(constraint.value)})"
        elif param == "in":
            allowed = (
                " || ".join(f"sameTerm(?value, {_term(m)})" for m in in_lists(constraint.value)) or "false"
            )
            condition = f"BOUND(?value) && !({allowed})"
        else:
            pattern, test = _value_condition(constraint, subclasses, f"__class{index}", hashed)
            if pattern:
                inner.append(pattern)
            condition = f"BOUND(?value) && ({test})"
        branches.append(f'(?__component = "{index}" && {condition})')
        tagged.append((constraint.component, reports_value))
    if path:
        read = f"?this {path} ?value ."
        if hashed:
            read = f"{{ SELECT ?this ?value WHERE {{ {read} }} }}"
        values = f"OPTIONAL {{\n  {read}\n  " + "\n  ".join(inner) + "\n}"
    else:
        values = "BIND (?this AS ?value)\n" + "\n".join(inner)
    tags = " ".join(f'"{i}"' for i in range(len(constraints)))
    where = (
        f"{focus}\n{values}\n"
        + "".join(f"{o}\n" for o in outer)
        + f"VALUES ?__component {{ {tags} }}\nFILTER (\n  "
        + "\n  || ".join(branches)
        + "\n)"
    )
    return CompiledQuery(
        shape,
        tagged[0][0],
        _select("?this ?__component ?value", where),
        True,
        False,
        shape.messages,
        tagged=tuple(tagged),
    )


def compile_shape(
    shape: Shape,
    subclasses: Subclasses,
    in_lists: Callable[[Node], list[Node]],
    scope: Sequence[NamedNode] | None = None,
    day: Literal | None = None,
) -> list[CompiledQuery]:
    """Every query of one shape; `scope` restricts the focus nodes to those listed; `day` is the
    validation date written into the queries (else left for the caller to bind)."""
    target = target_pattern(shape, subclasses, bound=scope is not None)
    if target is None:
        return []
    scoped = _values("this", scope) if scope is not None else None
    if scoped is None:  # each focus node once (a service has several types of the closure)
        focus = f"{{ SELECT DISTINCT ?this WHERE {{ {target} }} }}"
    else:
        focus = f"{scoped}\nFILTER EXISTS {{ {target} }}"
    merged = [c for c in shape.constraints if _mergeable(c)]
    queries = (
        [compile_merged(shape, merged, focus, subclasses, in_lists, hashed=scope is None)] if merged else []
    )
    queries += [
        compile_constraint(shape, c, focus, subclasses, in_lists)
        for c in shape.constraints
        if not _mergeable(c)
    ]
    queries += [compile_sparql(shape, c, focus, scoped, day) for c in shape.sparql]
    return queries


__all__ = ["CompiledQuery", "Literal", "compile_shape", "target_pattern"]
