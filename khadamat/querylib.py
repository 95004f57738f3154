"""The query library: the `.rq` files of `queries/`, their grlc decorators and parameters.

Each file is plain SPARQL 1.1 with grlc's `#+` YAML decorators (summary, description, tags,
defaults, enumerate) and grlc's parameter convention, so that grlc itself could serve the folder
and the API can turn each query into an endpoint:

    ?_name            required parameter          ?__name          optional parameter
    ?_name_iri        an IRI                      ?_name_integer   an xsd:integer (any XSD type name)
    ?_name_xsd_date   a literal of prefix:type    ?_name_fa        a literal in that language

Values are bound as pyoxigraph substitutions, never spliced into the text. pyoxigraph only
substitutes variables of the top-level projection, so `run_query` adds the parameter variables to
the top-level SELECT (and GROUP BY) of its copy of the text and drops them from the rows again:
the files therefore use parameters in their top-level scope (FILTER, BIND, EXISTS; in nested
groups too, never inside a sub-select), and grlc's own text substitution of the same files stays
valid SPARQL.

Two rules keep grlc 1.3 (tests/test_queries_grlc.py serves the folder with it) giving the same
answers: a boolean is `?_name_xsd_boolean` (grlc reads `?_name_boolean` as a language tag and binds
`"true"@boolean`), and a file with an XSD-typed parameter declares
`PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>` itself (otherwise grlc inserts that line before
every SELECT, sub-selects included, and the text no longer parses).

Paging: SPARQL 1.1 has no variable LIMIT, so a query is paged by grlc's own `#+ pagination: N`
decorator: grlc appends `LIMIT N OFFSET (page-1)·N` for its `page` parameter, and the library adds
the optional integer parameters `limit` (default N) and `offset` (default 0), appended the same way
after checking that each is a whole number ≥ 0 — the only values that are not substitutions.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path

import yaml
from pyoxigraph import Literal, NamedNode, Triple

from khadamat.jalali import DateFormatError, parse_date
from khadamat.namespaces import PREFIXES, XSD
from khadamat.normalize import latin_digits
from khadamat.resources import data_files, data_path
from khadamat.results import Graph
from khadamat.store import Store, Term

# grlc's own pattern (src/gquery.py): name, then an optional type and an optional user-defined part.
_PARAM = re.compile(r"[?$](_{1,2})([A-Za-z0-9]+)(?:_([A-Za-z0-9]+))?(?:_([A-Za-z0-9]+))?\b")
_XSD_TYPES = frozenset(
    {
        "string",
        "boolean",
        "decimal",
        "integer",
        "double",
        "float",
        "date",
        "dateTime",
        "time",
        "gYear",
        "gYearMonth",
        "duration",
        "nonNegativeInteger",
        "positiveInteger",
        "anyURI",
    }
)
_PLAIN_TYPES = frozenset({"iri", "number", "literal", "string"})


class QueryError(ValueError):
    """A query cannot run as asked: unknown name, missing or malformed parameter."""


@dataclass(frozen=True)
class Param:
    """One API parameter, as grlc derives it from a `?_name…` variable."""

    name: str
    variable: str  # without the leading '?', e.g. "__threshold_xsd_decimal"
    required: bool
    kind: str  # iri | number | literal
    datatype: str | None = None  # full IRI
    lang: str | None = None
    default: str | None = None
    enum: tuple[str, ...] = ()
    paging: bool = False  # `limit` or `offset` of a paginated query: a LIMIT/OFFSET, not a substitution

    def term(self, value: str, base: str) -> Term:
        """The RDF term for a value given on the command line or in a request."""
        text = latin_digits(str(value)).strip()
        if self.kind == "iri":
            return NamedNode(text if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", text) else base + text)
        if self.lang:
            return Literal(str(value), language=self.lang)
        if self.kind == "number" or self.datatype in {XSD + "decimal", XSD + "integer", XSD + "double"}:
            return self._number(text)
        if self.datatype == XSD + "date":
            try:
                return Literal(parse_date(text).isoformat(), datatype=NamedNode(XSD + "date"))
            except DateFormatError as exc:
                raise QueryError(f"parameter {self.name}: {exc}") from exc
        if self.datatype == XSD + "boolean":
            return Literal(text.casefold() in {"true", "1", "yes", "بله"})
        if self.datatype:
            return Literal(text, datatype=NamedNode(self.datatype))
        return Literal(str(value))

    def _number(self, text: str) -> Literal:
        try:
            number = Decimal(text)
        except InvalidOperation as exc:
            raise QueryError(f"parameter {self.name}: expected a number, got {text!r}") from exc
        datatype = self.datatype or (XSD + ("integer" if number == number.to_integral() else "decimal"))
        if datatype == XSD + "integer" and number != number.to_integral():
            raise QueryError(f"parameter {self.name}: expected an integer, got {text!r}")
        return Literal(text, datatype=NamedNode(datatype))


@dataclass(frozen=True)
class QuerySpec:
    """One `.rq` file: its decorators, parameters and text."""

    name: str
    path: Path
    summary: str
    description: str
    tags: list[str]
    params: list[Param]
    text: str
    decorators: dict[str, object] = field(default_factory=dict)

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)


def decorators(text: str) -> dict[str, object]:
    """grlc's `#+` lines as YAML (an empty mapping when there are none)."""
    lines = [line[2:] for line in text.splitlines() if line.startswith("#+")]
    if not lines:
        return {}
    try:
        data = yaml.safe_load("\n".join(lines))
    except yaml.YAMLError as exc:
        raise QueryError(f"the #+ decorators are not valid YAML: {exc}") from exc
    return data if isinstance(data, dict) else {}


def _strip_comments(text: str) -> str:
    # Variables in comments (the header describes them) are not parameters.
    return "\n".join(
        line.split("#", 1)[0] if not line.lstrip().startswith("PREFIX") else "" for line in text.splitlines()
    )


def _mapping(entries: object) -> dict[str, object]:
    # grlc writes defaults and enumerate as a list of one-key mappings (or bare names).
    out: dict[str, object] = {}
    for entry in entries if isinstance(entries, list) else [entries] if entries else []:
        if isinstance(entry, dict):
            out.update({str(k): v for k, v in entry.items()})
        elif entry is not None:
            out[str(entry)] = None
    return out


def _text(value: object) -> str | None:
    # YAML reads `false` as a bool; the parameter's text is what a user would type.
    if value is None:
        return None
    return str(value).lower() if isinstance(value, bool) else str(value)


def parameters(text: str, meta: Mapping[str, object]) -> list[Param]:
    """The parameters of a query, in order of first use, with their defaults and enumerations."""
    defaults = _mapping(meta.get("defaults"))
    enums = _mapping(meta.get("enumerate"))
    found: dict[str, Param] = {}
    for match in _PARAM.finditer(_strip_comments(text)):
        underscores, name, mtype, user = match.groups()
        variable = match.group(0)[1:]
        if name in found:
            continue
        kind, datatype, lang = "literal", None, None
        if mtype in _PLAIN_TYPES:
            kind = "literal" if mtype == "string" else mtype
        elif mtype in _XSD_TYPES:
            datatype = XSD + mtype
        elif mtype and user and mtype in PREFIXES:
            datatype = PREFIXES[mtype] + user
        elif mtype and len(mtype) == 2:
            lang = mtype
        enum = enums.get(name, enums.get(variable))
        default = defaults.get(name, defaults.get(variable))
        found[name] = Param(
            name=name,
            variable=variable,
            required=underscores == "_",
            kind=kind,
            datatype=datatype,
            lang=lang,
            default=_text(default),
            enum=tuple(str(v) for v in enum) if isinstance(enum, list) else (),
        )
    return list(found.values())


def paging_params(meta: Mapping[str, object]) -> list[Param]:
    """`limit` and `offset` for a query with grlc's `pagination` decorator (rows a page)."""
    size = meta.get("pagination")
    if not isinstance(size, int) or isinstance(size, bool) or size < 1:
        return []
    integer = XSD + "integer"
    return [
        Param("limit", "__limit_integer", False, "literal", integer, default=str(size), paging=True),
        Param("offset", "__offset_integer", False, "literal", integer, default="0", paging=True),
    ]


def load_spec(path: Path) -> QuerySpec:
    """Read one `.rq` file (parsed once while it stays unchanged: see _parsed_spec)."""
    stat = path.stat()
    return _parsed_spec(path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=512)
def _parsed_spec(path: Path, mtime_ns: int, size: int) -> QuerySpec:
    """The spec of `path` as it was at (mtime, size): an edited file is read again.

    Why a cache: every `library()` and `resolve()` parses all the files and their YAML decorators
    (35 ms), and one evaluation report asks seven times, mostly before its queries start."""
    text = path.read_text(encoding="utf-8")
    meta = decorators(text)
    tags = meta.get("tags") or []
    return QuerySpec(
        name=path.stem,
        path=path,
        summary=str(meta.get("summary") or path.stem).strip(),
        description=str(meta.get("description") or "").strip(),
        tags=[str(t) for t in tags] if isinstance(tags, list) else [str(tags)],
        params=parameters(text, meta) + paging_params(meta),
        text=text,
        decorators=meta,
    )


def library(include_internal: bool = False) -> dict[str, QuerySpec]:
    """Every `queries/*.rq` by name (the file stem); names starting with '_' (helpers of other
    commands, such as _stats.rq) only when asked for."""
    return {
        p.stem: load_spec(p)
        for p in data_files("queries", ".rq")
        if include_internal or not p.stem.startswith("_")
    }


def resolve(name_or_path: str) -> QuerySpec:
    """A library name, or the path of any `.rq` file."""
    path = Path(name_or_path)
    if path.suffix == ".rq" and path.exists():
        return load_spec(path)
    specs = library(include_internal=True)
    if name_or_path in specs:
        return specs[name_or_path]
    raise QueryError(
        f"no query named {name_or_path!r}; `khadamat queries` lists them: {', '.join(sorted(library()))}"
    )


def bindings_for(spec: QuerySpec, params: Mapping[str, str], base: str) -> dict[str, Term]:
    """Terms for the given values and the declared defaults; unknown or missing names are errors."""
    unknown = sorted(set(params) - {p.name for p in spec.params})
    if unknown:
        known = ", ".join(p.name for p in spec.params) or "none"
        raise QueryError(f"query {spec.name} has no parameter {', '.join(unknown)} (parameters: {known})")
    out: dict[str, Term] = {}
    for param in spec.params:
        value = params.get(param.name, param.default)
        if value is None or value == "":
            if param.required:
                raise QueryError(f"query {spec.name} needs the parameter {param.name}")
            continue
        if param.enum and str(value) not in param.enum:
            expected = ", ".join(param.enum)
            raise QueryError(f"parameter {param.name}: expected one of {expected}, got {value!r}")
        out[param.variable] = param.term(str(value), base)
    return out


_SELECT = re.compile(r"\bSELECT\b(\s+(?:DISTINCT|REDUCED)\b)?", re.IGNORECASE)
_GROUP_BY = re.compile(r"\bGROUP\s+BY\b", re.IGNORECASE)


def _top_level(text: str, pattern: re.Pattern[str]) -> re.Match[str] | None:
    """The first match of `pattern` outside braces, comments and strings."""
    depth, i, n = 0, 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "#":
            i = text.find("\n", i)
            i = n if i < 0 else i
            continue
        if ch in "\"'":
            end = text.find(ch, i + 1)
            i = n if end < 0 else end + 1
            continue
        if ch == "<" and (close := re.match(r"<[^\s<>\"{}|^`\\]*>", text[i:])):
            i += close.end()  # an IRI, which may hold '#'
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif depth == 0 and (match := pattern.match(text, i)):
            return match
        i += 1
    return None


def with_projected(text: str, variables: list[str]) -> str:
    """The query with `variables` added to its top-level projection (and GROUP BY, if any)."""
    if not variables:
        return text
    extra = " " + " ".join("?" + v for v in variables) + " "
    group = _top_level(text, _GROUP_BY)
    if group is not None:
        text = text[: group.end()] + extra + text[group.end() :]
    select = _top_level(text, _SELECT)
    if select is None:
        raise QueryError("only SELECT queries take parameters")
    return text[: select.end()] + extra + text[select.end() :]


def paged(text: str, spec: QuerySpec, bindings: dict[str, Term]) -> str:
    """The text with the page's LIMIT and OFFSET appended; the paging values leave `bindings`."""
    clauses = []
    for param in (p for p in spec.params if p.paging):
        term = bindings.pop(param.variable, None)
        if term is None:
            continue
        value = int(term.value)
        if value < 0:
            raise QueryError(f"parameter {param.name}: expected a whole number ≥ 0, got {term.value!r}")
        clauses.append(f"{param.name.upper()} {value}")
    return text + ("\n" + " ".join(clauses) if clauses else "")


def run_query(
    store: Store, spec: QuerySpec, params: Mapping[str, str] | None = None
) -> list[dict[str, Term]]:
    """Rows of a library query; parameter values bound as substitutions, never spliced (a
    paginated query's whole-number `limit` and `offset` become its LIMIT and OFFSET)."""
    bindings = bindings_for(spec, params or {}, store.minter.base)
    text = paged(spec.text, spec, bindings)
    text = with_projected(text, list(bindings))
    rows = store.select(text, bindings)
    return [{k: v for k, v in row.items() if k not in bindings} for row in rows]


def columns(spec: QuerySpec) -> list[str]:
    """The projected variables of the top-level SELECT, in order (for stable table columns)."""
    select = _top_level(spec.text, _SELECT)
    if select is None:
        return []
    rest = spec.text[select.end() :]
    head = re.split(r"\bWHERE\b|\{", rest, maxsplit=1, flags=re.IGNORECASE)[0]
    names: list[str] = []
    depth, start = 0, 0
    for i, ch in enumerate(head):
        if ch == "(":
            depth, start = depth + 1, (i if depth == 0 else start)
        elif ch == ")":
            depth -= 1
            if depth == 0 and (alias := re.search(r"\bAS\s+\?(\w+)\s*$", head[start + 1 : i], re.I)):
                names.append(alias.group(1))
        elif depth == 0 and ch == "?" and (var := re.match(r"\?(\w+)", head[i:])):
            names.append(var.group(1))
    return [n for n in dict.fromkeys(names) if not n.startswith("_")]


# Profiles: CONSTRUCT mappings to and from other vocabularies (queries/profiles/{name}/{direction}/).
PROFILES = ("cpsv-ap",)


def profile_specs(profile: str, direction: str) -> list[QuerySpec]:
    """The CONSTRUCT files of one profile and direction ('export' or 'import'), in file-name order.

    They live under queries/profiles/, outside the top-level folder `library()` lists, so that
    they are never offered as library endpoints: they are whole-catalog mappings, not reports."""
    if profile not in PROFILES:
        raise QueryError(f"no profile named {profile!r}; profiles: {', '.join(PROFILES)}")
    folder = data_path("queries") / "profiles" / profile / direction
    return [load_spec(p) for p in sorted(folder.glob("*.rq"))]


def run_construct(
    store: Store, spec: QuerySpec, default_graph: list[NamedNode] | None = None
) -> list[Triple]:
    """The triples of a CONSTRUCT file; the default graph is the union, or the given graphs."""
    result = store.raw_query(spec.text, default_graph=default_graph)
    if not isinstance(result, Graph):
        raise QueryError(f"{spec.path.name} is not a CONSTRUCT query")
    return list(result)
