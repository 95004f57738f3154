"""A store on a standard SPARQL server: SPARQL 1.1 Query, Update and (optionally) the Graph Store
Protocol over HTTP, nothing else — so the same code runs on Oxigraph server, Virtuoso, Fuseki,
GraphDB, QLever (read-only) or Amazon Neptune (docs/deployment.md).

What the embedded store does with pyoxigraph, this one does with requests:

* queries: POST `query=` (form-encoded, which every engine takes), answers read as SPARQL JSON
  results (our own reader: engines differ — Virtuoso writes `typed-literal`, `nodeID://` blank
  nodes and booleans as 1/0) or N-Triples, into Khadamat's result containers (khadamat/results.py)
  holding pyoxigraph terms. The server must give the union of all graphs as the default graph
  (Oxigraph: `serve --union-default-graph`; Virtuoso does by default; Fuseki: `unionDefaultGraph`).
* bound parameters: the protocol has no substitutions, so each bound variable is replaced in the
  query text by its term written as SPARQL (in a projection by `(term AS ?var)`), token by token
  with the endpoint's tokenizer — never by splicing text: a value is one IRI or literal token.
* writes (`replace_graphs`): one SPARQL Update request that drops each graph and inserts its new
  triples, when it is small. A large write goes as the endpoint's `write_mode` says:
  `single` — the same one request, its body streamed (`application/sparql-update`): for engines
  that run a request as one transaction (Oxigraph server), so a reader sees before or after and
  nothing else; `staged` — the new content (the extra quads, i.e. the provenance, too) uploaded
  into staging graphs (`urn:khadamat:staging:…`, chunk by chunk), then short requests of
  `MOVE`/`ADD` only (one for up to SWITCH_BATCH graphs) switch them in — the only way on an engine
  whose parser cannot take a large request (Virtuoso 7.2), at the price of readers of the union
  graph seeing the staging triples during the upload, and a write of more graphs than a batch
  being switched in several requests. A failed upload drops its staging graphs, changes nothing;
  a switch that fails after its first request says which part is switched (run the load again).
* answers: a server that cut an answer short raises `PartialAnswer`, never taken as whole —
  Virtuoso's row cap on a SELECT (`X-SPARQL-MaxRows`) and "anytime" partial results
  (`X-SQL-State`); a CONSTRUCT it cuts silently, so a whole graph read is checked against its count.
* credentials: HTTP basic or digest (`Endpoint.auth`), never printed: messages name the URL only.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import httpx
import pyoxigraph as ox
from pyoxigraph import Literal, NamedNode, Quad, RdfFormat, Triple

from khadamat import __version__
from khadamat.api.sparql_lexer import LexicalError, tokens
from khadamat.config import Endpoint
from khadamat.iris import Minter
from khadamat.namespaces import KH, PROV, XSD
from khadamat.results import Boolean, Graph, QueryResult, Solutions, Term

# Writes of more quads than this upload staging graphs first; SPARQL Update uploads go in chunks
# of this size (Virtuoso 7.2's SPARQL parser runs out of memory on an INSERT DATA of ~5,000 triples
# of long Persian texts).
REMOTE_CHUNK = 2_000  # quads per update request
# The staged write switches at most this many graphs per request: Virtuoso 7.2 compiles a request
# of ~800 operations past its limit ("Query too large, variables in state over the limit").
SWITCH_BATCH = 150
STAGING = "urn:khadamat:staging:"
GENERATION_TTL = 2.0  # seconds a remote generation marker is trusted before asking again
_RESULTS_JSON = "application/sparql-results+json"
_NTRIPLES = "application/n-triples"
_RDF_JSON = "application/rdf+json"
# Graphs: RDF/JSON (W3C's RDF 1.1 JSON Alternate Serialization) where the engine writes it, else
# N-Triples. Virtuoso 7.2 writes an xsd:double in N-Triples (and RDF/XML) with six significant
# digits ("2.32e+06" for 2320000, "1.13543e+07" for 11354321) and in Turtle as a decimal
# ("8200000.0"); in RDF/JSON it writes the whole number. Oxigraph server answers N-Triples.
_GRAPH_ACCEPT = f"{_RDF_JSON}, {_NTRIPLES};q=0.9, text/plain;q=0.8, text/turtle;q=0.7"
_BOOLEAN = XSD + "boolean"
_CONTENT_HASH = NamedNode(KH + "contentHash")


class RemoteError(RuntimeError):
    """The SPARQL server refused or failed a request; the message names the URL, never a password.
    `status` is the HTTP status it answered with, when it answered (413: a request too large)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class RemoteUnavailable(RemoteError):
    """The SPARQL server could not be reached."""


class RemoteTimeout(RemoteError):
    """The SPARQL server did not answer within the time limit."""


class AnswerTooLarge(RemoteError):
    """The server's answer was larger than the byte limit it was read with."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the answer is larger than {limit} bytes")
        self.limit = limit


class PartialAnswer(RemoteError):
    """The server answered with part of the result (a time or row limit of its own hit): an
    index, a validation or an export built on it would be silently wrong, so it is refused."""


class RemoteSyntaxError(SyntaxError):
    """The server refused the query text (HTTP 400): what the endpoint reports as a syntax error."""


def endpoint_auth(endpoint: Endpoint) -> httpx.Auth | None:
    """The HTTP authentication the endpoint's settings ask for (none without a user)."""
    if not endpoint.user:
        return None
    if endpoint.auth == "digest":
        return httpx.DigestAuth(endpoint.user, endpoint.password or "")
    return httpx.BasicAuth(endpoint.user, endpoint.password or "")


class SparqlStore:
    """The `Store` interface (khadamat/store.py) over a SPARQL 1.1 server.

    `path` is the local folder of what stays with the writer (history, base, write lock).
    `timeout` bounds each request; `max_bytes` (None: no bound) bounds each answer read.
    """

    def __init__(
        self,
        endpoint: Endpoint,
        minter: Minter,
        path: Any = None,
        timeout: float = 600.0,
        max_bytes: int | None = None,
        client: httpx.Client | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.minter = minter
        self.path = path
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.reference_graphs_changed = False
        self._client = client or httpx.Client(
            auth=endpoint_auth(endpoint),
            headers={"User-Agent": f"khadamat/{__version__}"},
            timeout=timeout,
            follow_redirects=False,
        )
        self._own_client = client is None
        self._marker: tuple[float, str | None] = (0.0, None)
        self._graph_prefix = minter.graph("x").value[:-1]

    def __repr__(self) -> str:  # the endpoint's repr leaves the password out
        return f"SparqlStore({self.endpoint.query!r})"

    def limited(self, timeout: float, max_bytes: int | None) -> SparqlStore:
        """The same store (one connection pool) with its own time and answer-size limits:
        what the SPARQL endpoint forwards a client's query with (api/query_workers.py)."""
        return SparqlStore(self.endpoint, self.minter, self.path, timeout, max_bytes, self._client)

    # HTTP ------------------------------------------------------------------------------
    def _post(
        self,
        url: str,
        data: Mapping[str, Any] | None,
        accept: str | None,
        content: Iterable[bytes] | None = None,
    ) -> tuple[bytes, str]:
        """POST form `data`, or else `content` as a SPARQL Update body (streamed, chunked)."""
        headers = {"Accept": accept} if accept else {}
        if content is not None:
            headers["Content-Type"] = "application/sparql-update; charset=utf-8"
        try:
            with self._client.stream(
                "POST", url, data=data, content=content, headers=headers, timeout=self.timeout
            ) as response:
                _refuse_partial(url, response.headers)
                body = self._read(response)
        except httpx.TimeoutException:
            raise RemoteTimeout(
                f"the SPARQL server at {url} did not answer within {self.timeout:g} s"
            ) from None
        except httpx.TransportError as exc:
            raise RemoteUnavailable(
                f"cannot reach the SPARQL server at {url}: {type(exc).__name__}"
            ) from None
        if response.status_code == 400:
            raise RemoteSyntaxError(_first_line(body))
        if response.status_code in (401, 403):
            raise RemoteError(
                f"the SPARQL server at {url} refused the request ({response.status_code}): "
                "check the user and KHADAMAT_ENDPOINT_PASSWORD, and the user's rights",
                response.status_code,
            )
        if response.status_code >= 300:
            raise RemoteError(
                f"the SPARQL server at {url} answered {response.status_code}: {_first_line(body)[:300]}",
                response.status_code,
            )
        return body, response.headers.get("content-type", "")

    def _read(self, response: httpx.Response) -> bytes:
        if self.max_bytes is None:
            return response.read()
        chunks, size = [], 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > self.max_bytes:
                raise AnswerTooLarge(self.max_bytes)
            chunks.append(chunk)
        return b"".join(chunks)

    def update(self, text: str) -> None:
        """Run one SPARQL 1.1 Update request."""
        self._post(self.endpoint.update_url, {"update": text}, None)

    # Reading ---------------------------------------------------------------------------
    def raw_query(
        self,
        query: str,
        bindings: Mapping[str, Term] | None = None,
        default_graph: Sequence[NamedNode] | None = None,
        named_graphs: Sequence[NamedNode] | None = None,
        base_iri: str | None = None,
    ) -> QueryResult:
        """Run any query; without a dataset description the server's default graph (the union).

        The dataset goes as the protocol's `default-graph-uri` / `named-graph-uri`, `base_iri` as a
        BASE line before the query (a query's own BASE, later, wins)."""
        text, projected = bind_projected(query, bindings) if bindings else (query, [])
        if base_iri:
            text = f"BASE <{base_iri}>\n{text}"
        data: dict[str, Any] = {"query": text}
        if default_graph:
            data["default-graph-uri"] = [g.value for g in default_graph]
        if named_graphs:
            data["named-graph-uri"] = [g.value for g in named_graphs]
        graph_form = query_form(text) in ("construct", "describe")
        body, media = self._post(self.endpoint.query, data, _GRAPH_ACCEPT if graph_form else _RESULTS_JSON)
        if _is_results(media, body):
            answer = parse_results(body)
            if projected and isinstance(answer, Solutions):  # the bound columns, as substitution keeps them
                return _with_columns(answer, {name: bindings[name] for name in projected})  # type: ignore[index]
            return answer
        return Graph(parse_triples(body, media))

    def select(self, query: str, bindings: Mapping[str, Term] | None = None) -> list[dict[str, Term]]:
        from khadamat.store import select_rows

        return select_rows(self.raw_query(query, bindings))

    def ask(self, query: str, bindings: Mapping[str, Term] | None = None) -> bool:
        from khadamat.store import ask_value

        return ask_value(self.raw_query(query, bindings))

    def construct(self, query: str, bindings: Mapping[str, Term] | None = None) -> list[Triple]:
        from khadamat.store import construct_triples

        return construct_triples(self.raw_query(query, bindings))

    def named_graphs(self) -> list[NamedNode]:
        """Khadamat's graphs on the server (under the base's `graph/`): not the engine's own
        (Virtuoso keeps system graphs) nor staging graphs. Empty graphs are not listed (engines
        do not keep them), which the embedded store does: neither shows them in an export."""
        # Not `GRAPH ?g { ?s ?p ?o }`: Virtuoso 7.2 reads every quad for it (over 100 s at 10k
        # services, in every submission's validation). Every graph Khadamat writes types its
        # nodes and is recorded in the provenance graph: the typed graphs, and the recorded ones
        # that still hold a triple (a withdrawn agency's graph is recorded but empty).
        typed = self._graphs("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s a ?type } }")
        recorded = self._graphs(
            f"SELECT DISTINCT ?g WHERE {{ GRAPH {self.minter.provenance_graph} "
            f"{{ ?g <{PROV}wasGeneratedBy> ?activity }} }}"
        )
        found = typed | {g for g in recorded - typed if self.ask(f"ASK {{ GRAPH {g} {{ ?s ?p ?o }} }}")}
        return sorted(found, key=str)

    def _graphs(self, query: str) -> set[NamedNode]:
        """The graphs `query` binds to ?g that are Khadamat's (under the base's `graph/`)."""
        found = (row.get("g") for row in self.select(query))
        return {g for g in found if isinstance(g, NamedNode) and g.value.startswith(self._graph_prefix)}

    def quads(self, graph: NamedNode | None = None) -> Iterator[Quad]:
        for named in self.named_graphs() if graph is None else [graph]:
            for triple in self._graph_triples(named):
                yield Quad(triple.subject, triple.predicate, triple.object, named)

    def _graph_triples(self, graph: NamedNode) -> Iterator[Triple]:
        """One graph's triples: a Graph Store Protocol GET when there is one, else a CONSTRUCT."""
        if self.endpoint.graph_store:
            try:
                response = self._client.get(
                    self.endpoint.graph_store,
                    params={"graph": graph.value},
                    headers={"Accept": _GRAPH_ACCEPT},
                    timeout=self.timeout,
                )
            except httpx.TransportError as exc:
                raise RemoteUnavailable(
                    f"cannot reach the graph store at {self.endpoint.graph_store}: {type(exc).__name__}"
                ) from None
            if response.status_code == 404:
                return iter(())
            if response.status_code >= 300:
                raise RemoteError(
                    f"the graph store at {self.endpoint.graph_store} answered {response.status_code}"
                )
            return parse_triples(response.content, response.headers.get("content-type", ""))
        return iter(self._whole_graph(graph))

    def _whole_graph(self, graph: NamedNode) -> list[Triple]:
        """A graph's triples by CONSTRUCT, checked against its count: Virtuoso cuts a CONSTRUCT
        answer at its row cap and says nothing (no header), so a short one is refused."""
        triples = self.construct(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH {graph} {{ ?s ?p ?o }} }}")
        rows = self.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH {graph} {{ ?s ?p ?o }} }}")
        expected = int(rows[0]["n"].value) if rows else 0
        if len(triples) < expected:
            raise PartialAnswer(
                f"the SPARQL server at {self.endpoint.query} answered {len(triples)} of the {expected} "
                f"triples of {graph}: raise its row cap (docs/deployment.md, what the API needs "
                "from the engine)"
            )
        return triples

    def dump(self, fmt: RdfFormat, graphs: Sequence[NamedNode] | None = None) -> bytes:
        from khadamat.store import dump_graphs

        return dump_graphs(self, fmt, graphs)

    @property
    def generation(self) -> str | None:
        """A marker that changes with every version written: what answer caches and the browse
        index are keyed on (the embedded store's generation name). It is the size and latest
        time of the provenance graph, asked at most every GENERATION_TTL seconds."""
        at, marker = self._marker
        now = time.monotonic()
        if now - at < GENERATION_TTL:
            return marker
        rows = self.select(
            f"PREFIX prov: <{PROV}>\nSELECT (COUNT(?t) AS ?n) (MAX(STR(?t)) AS ?last) WHERE "
            f"{{ GRAPH {self.minter.provenance_graph} {{ ?a prov:endedAtTime ?t }} }}"
        )
        row = rows[0] if rows else {}
        marker = (
            "remote-"
            + hashlib.sha256(
                f"{row.get('n', Literal('0')).value}|{row.get('last', Literal('')).value}".encode()
            ).hexdigest()[:16]
        )
        self._marker = (now, marker)
        return marker

    # Writing ---------------------------------------------------------------------------
    def replace_graphs(
        self,
        graphs: Mapping[NamedNode, Iterable[Triple]],
        extra: Iterable[Quad] = (),
        *,
        before_switch: Callable[[], None] | None = None,
        version: str | None = None,
    ) -> None:
        """Drop each graph and write its new triples, plus `extra` quads, so that readers see the
        change whole (see the module doc); `version` is the embedded store's only.

        `before_switch` runs when everything is uploaded, just before the request that switches."""
        content = {g: list(t) for g, t in graphs.items()}
        added = list(extra)
        try:
            size = sum(len(t) for t in content.values()) + len(added)
            if size <= REMOTE_CHUNK or self.endpoint.write_mode == "single":
                if before_switch is not None:
                    before_switch()
                self._replace_single(content, added, streamed=size > REMOTE_CHUNK)
            else:
                self._replace_staged(content, added, before_switch)
        finally:
            self._marker = (0.0, None)

    def _replace_single(
        self, content: Mapping[NamedNode, list[Triple]], added: list[Quad], streamed: bool
    ) -> None:
        """The whole write as one update request: drops, then inserts. A large one is streamed as
        a SPARQL Update body; a server that refuses its size changes nothing (one request)."""
        drops = [f"DROP SILENT GRAPH {g}" for g in content]
        quads = [Quad(t.subject, t.predicate, t.object, g) for g, ts in content.items() for t in ts]
        if not streamed:
            operations = [*drops, *insert_operations([*quads, *added])]
            if operations:
                self.update(" ;\n".join(operations))
            return
        sent = [0]

        def body() -> Iterator[bytes]:
            for part in _update_parts(drops, [*quads, *added], self.minter.base):
                data = part.encode()
                sent[0] += len(data)
                yield data

        try:
            self._post(self.endpoint.update_url, None, None, content=body())
        except (RemoteSyntaxError, RemoteError) as exc:
            # A body over the server's limit: 413, or 400 from Oxigraph server ("SPARQL body
            # payloads are limited to 134217728 bytes"); the text we send is never malformed.
            if isinstance(exc, RemoteError) and exc.status != 413:
                raise  # unreachable, timed out, refused the user: said as it is
            raise RemoteError(
                f"the SPARQL server at {self.endpoint.update_url} refused one update request of "
                f"{sent[0] / 1e6:.0f} MB ({len(quads) + len(added)} quads; nothing was written): "
                f"{str(exc)[:200]} — with this engine or size use --write-mode staged "
                "(docs/deployment.md)"
            ) from None

    def _replace_staged(
        self,
        content: Mapping[NamedNode, list[Triple]],
        added: list[Quad],
        before_switch: Callable[[], None] | None,
    ) -> None:
        """A large write: the new graphs and the added quads uploaded into staging graphs, chunk
        by chunk, then short update requests (`MOVE` over each replaced graph, `ADD` into a graph
        that only gains quads; SWITCH_BATCH graphs each) switch them in — no data in them,
        whatever the size. A failure between two switch requests leaves the graphs moved so far
        switched: the error says so (the same load run again finishes it)."""
        uploads: dict[NamedNode, list[Triple]] = {g: list(t) for g, t in content.items()}
        gains: list[NamedNode] = []  # graphs `added` adds to without replacing them
        for quad in added:
            graph = quad.graph_name
            if not isinstance(graph, NamedNode):
                raise ValueError("a remote write adds quads to named graphs only")
            if graph not in uploads:
                uploads[graph] = []
                gains.append(graph)
            uploads[graph].append(quad.triple)
        staging = {g: NamedNode(f"{STAGING}{uuid.uuid4().hex}") for g, t in uploads.items() if t}
        try:
            if self.endpoint.graph_store:  # each graph in one Graph Store Protocol POST
                for graph, target in staging.items():
                    self._post_graph(target, uploads[graph])
            else:  # SPARQL Update only: INSERT DATA in chunks an engine's parser takes
                staged = [Quad(*t, to) for g, to in staging.items() for t in uploads[g]]
                for chunk in _chunks([q for q in staged if not _has_blank(q)], REMOTE_CHUNK):
                    self.update(" ;\n".join(insert_operations(chunk)))
                blank = [q for q in staged if _has_blank(q)]  # one request: a blank node's triples together
                if blank:
                    self.update(" ;\n".join(insert_operations(blank)))
            if before_switch is not None:
                before_switch()
            batches = list(_chunks(_switch_operations(content, gains, staging), SWITCH_BATCH))
            for done, batch in enumerate(batches):
                try:
                    self.update(" ;\n".join(batch))
                except RemoteError as exc:
                    if not done:
                        raise
                    # Some graphs are the new version already: say so, and how to finish it.
                    raise RemoteError(
                        f"the switch stopped after {done} of {len(batches)} requests ({exc}): the graphs "
                        "moved so far hold the new version, the others the old one — run the same load "
                        "again to finish it (it rewrites every graph of the submission)"
                    ) from exc
        except BaseException:
            for target in staging.values():
                with contextlib.suppress(RemoteError):
                    self.update(f"DROP SILENT GRAPH {target}")
            raise

    def _post_graph(self, graph: NamedNode, triples: list[Triple]) -> None:
        """Add `triples` to `graph` with one Graph Store Protocol POST of N-Triples."""
        url = self.endpoint.graph_store
        body = ox.serialize(triples, format=RdfFormat.N_TRIPLES) or b""
        try:
            response = self._client.post(
                url,  # type: ignore[arg-type]
                params={"graph": graph.value},
                content=body,
                headers={"Content-Type": _NTRIPLES},
                timeout=self.timeout,
            )
        except httpx.TransportError as exc:
            raise RemoteUnavailable(f"cannot reach the graph store at {url}: {type(exc).__name__}") from None
        if response.status_code >= 300:
            raise RemoteError(f"the graph store at {url} answered {response.status_code}")

    def ensure_reference_graphs(self) -> None:
        """Load the ontology and the legal corpus when missing or when their files changed."""
        from khadamat.store import ensure_reference_graphs

        self.reference_graphs_changed = ensure_reference_graphs(self, self._stored_hash)

    def _stored_hash(self, graph: NamedNode) -> str | None:
        rows = self.select(f"SELECT ?h WHERE {{ GRAPH {graph} {{ {graph} {_CONTENT_HASH} ?h }} }}")
        return rows[0]["h"].value if rows else None

    def close(self) -> None:
        if self._own_client:
            self._client.close()


def _switch_operations(
    content: Mapping[NamedNode, list[Triple]],
    gains: Sequence[NamedNode],
    staging: Mapping[NamedNode, NamedNode],
) -> list[str]:
    """What switches a staged write in, one string per graph (the order of `content`, whose last
    graph is the provenance: a version becomes visible to caches when its data is in): each
    replaced graph moved from its staging graph (or dropped, when its new content is empty),
    each gaining graph added to."""
    moves = [
        f"MOVE SILENT GRAPH {staging[g]} TO GRAPH {g}" if g in staging else f"DROP SILENT GRAPH {g}"
        for g in content
    ]
    adds = [f"ADD SILENT GRAPH {staging[g]} TO GRAPH {g} ;\nDROP SILENT GRAPH {staging[g]}" for g in gains]
    return [*moves, *adds]


def _update_parts(drops: Sequence[str], quads: Sequence[Quad], base: str | None = None) -> Iterator[str]:
    """The text of `drops` then `insert_operations(quads)`, piece by piece (the body of a streamed
    request is never held whole): one INSERT DATA of the ground quads and one INSERT {…} WHERE {}
    of those with blank nodes, graph by graph, each subject's triples as one `s p o ; p o .`
    and IRIs under `base` relative to a BASE line — a third smaller than N-Triples lines, as a
    server's request limit counts bytes (Oxigraph server: 128 MiB)."""
    inserts = [
        (head, tail, chosen)
        for head, tail, chosen in (
            ("INSERT DATA {\n", "}", [q for q in quads if not _has_blank(q)]),
            ("INSERT {\n", "} WHERE {}", [q for q in quads if _has_blank(q)]),
        )
        if chosen
    ]
    if base:
        yield f"BASE <{base}>\n"

    def short(term: Any) -> str:
        if isinstance(term, NamedNode) and base and term.value.startswith(base):
            relative = term.value[len(base) :]
            if _safe_relative(relative):
                return f"<{relative}>"
        return str(term)

    if drops:
        yield " ;\n".join(drops)
    for n, (head, tail, chosen) in enumerate(inserts):
        yield (" ;\n" if drops or n else "") + head
        by_graph: dict[Any, dict[Any, list[Quad]]] = {}
        for quad in chosen:
            by_graph.setdefault(quad.graph_name, {}).setdefault(quad.subject, []).append(quad)
        for graph, subjects in by_graph.items():
            yield f"GRAPH {short(graph)} {{\n"
            for chunk in _chunks(list(subjects.items()), REMOTE_CHUNK):
                yield "".join(
                    short(subject)
                    + " "
                    + " ;\n  ".join(f"{short(q.predicate)} {short(q.object)}" for q in members)
                    + " .\n"
                    for subject, members in chunk
                )
            yield "}\n"
        yield tail


def _safe_relative(relative: str) -> bool:
    """Whether `<relative>` resolves against the base to exactly base + relative (RFC 3986): no
    scheme-like first segment, no leading '/', '?', '#' or '.', no dot segment."""
    if not relative or relative[0] in "/?#." or ":" in relative.split("/", 1)[0]:
        return False
    return not any(segment in (".", "..") for segment in relative.split("/"))


def _refuse_partial(url: str, headers: httpx.Headers) -> None:
    """Raise PartialAnswer when the server says its answer may be cut short: Virtuoso sends
    `X-SPARQL-MaxRows: N` with an answer of N rows, its cap (ResultSetMaxRows) reached — an answer
    of exactly N rows is refused too, as it cannot be told from a cut one — and X-SQL-State /
    X-SQL-Message with an "anytime" query's partial result."""
    cap = headers.get("x-sparql-maxrows")
    state = headers.get("x-sql-state")
    if cap or state:
        said = f"its row cap of {cap}" if cap else f"{state}: {headers.get('x-sql-message', '')[:200]}"
        raise PartialAnswer(
            f"the SPARQL server at {url} answered with a partial result ({said}): raise its row and "
            "time limits (docs/deployment.md, what the API needs from the engine)"
        )


def _has_blank(quad: Quad) -> bool:
    return isinstance(quad.subject, ox.BlankNode) or isinstance(quad.object, ox.BlankNode)


def insert_operations(quads: Sequence[Quad]) -> list[str]:
    """SPARQL Update operations that add `quads`: INSERT DATA for the ground ones, and one
    INSERT {…} WHERE {} for those with blank nodes (standard SPARQL, which Virtuoso refuses in
    INSERT DATA; a template's blank node label is one new node, as in the data)."""
    ground = [q for q in quads if not _has_blank(q)]
    blank = [q for q in quads if _has_blank(q)]
    operations = []
    if ground:
        operations.append("INSERT DATA {\n" + _graph_blocks(ground) + "\n}")
    if blank:
        operations.append("INSERT {\n" + _graph_blocks(blank) + "\n} WHERE {}")
    return operations


def _graph_blocks(quads: Sequence[Quad]) -> str:
    by_graph: dict[Any, list[str]] = {}
    for quad in quads:
        by_graph.setdefault(quad.graph_name, []).append(f"{quad.triple} .")
    return "\n".join(f"GRAPH {graph} {{\n" + "\n".join(lines) + "\n}" for graph, lines in by_graph.items())


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def _first_line(body: bytes) -> str:
    text = body.decode("utf-8", errors="replace").strip()
    return text.splitlines()[0] if text else ""


# Parameters -------------------------------------------------------------------------------------
_PROJECTION_END = {"where", "from"}
_MODIFIERS = {"group", "order"}
_MODIFIER_END = {"having", "limit", "offset", "values"}


def bind(query: str, bindings: Mapping[str, Term]) -> str:
    """The query text of `bind_projected`."""
    return bind_projected(query, bindings)[0]


def bind_projected(query: str, bindings: Mapping[str, Term]) -> tuple[str, list[str]]:
    """The query with each bound variable replaced by its term (SEP-0007 substitution in
    standard SPARQL), and the bound variables it took out of SELECT projections.

    In a SELECT projection a bound variable is left out (the caller adds its column back: a
    constant projected and sorted trips Virtuoso 7.2), unless it is all the projection has, then
    it is `(term AS ?var)`; in GROUP BY and ORDER BY it is left out (grouping or ordering by a
    constant changes nothing); `BOUND(?var)` becomes `true`; elsewhere it becomes the term.
    Terms print as N-Triples, which SPARQL reads as one token each."""
    names = set(bindings)
    out: list[str] = []
    last = 0
    in_projection = in_modifier = False
    projection_others = 0  # items of the current projection that stay
    depth = 0  # parentheses open in the current projection
    pending: list[
        tuple[int, int, bool]
    ] = []  # bound variables of the projection (start, end, in an expression)
    projected: list[str] = []
    recent: list[tuple[str, int, int]] = []  # the last tokens seen, for BOUND ( ?var )
    bound_call: int | None = None  # where a BOUND( ?var ) being replaced starts

    def end_projection() -> None:
        nonlocal last
        for start, end, in_expression in pending:
            name = query[start + 1 : end]
            term = _sparql_term(bindings[name])
            if in_expression:
                replacement = term
            elif projection_others == 0:  # the only item: keep the column in the query
                replacement = f"({term} AS ?{name})"
            else:
                replacement = ""
                projected.append(name)
            out.extend([query[last:start], replacement])
            last = end
        pending.clear()

    try:
        for kind, start, end in tokens(query):
            text = query[start:end]
            word = text.lower() if kind == "word" else ""
            if bound_call is not None:  # the ")" that closes BOUND(?var)
                out += [query[last:bound_call], "true"]
                last, bound_call = end, None
                continue
            if word == "select":
                in_projection, in_modifier, projection_others, depth = True, False, 0, 0
                continue
            if in_projection and (word in _PROJECTION_END or text == "{"):
                in_projection = False
                end_projection()
            elif word in _MODIFIERS:
                in_modifier = True
            elif in_modifier and (word in _MODIFIER_END or text in ("{", "}")):
                in_modifier = False
            recent = [*recent[-1:], (kind, start, end)]
            is_bound = kind == "var" and text[1:] in names
            if in_projection:
                depth += (text == "(") - (text == ")")
                if is_bound:
                    pending.append((start, end, depth > 0))
                if not is_bound or depth > 0:
                    projection_others += word not in ("distinct", "reduced")
                continue
            if not is_bound:
                continue
            before = recent[:-1]
            if (
                before
                and query[before[0][1] : before[0][2]] == "("
                and _is_bound_call(query, last, before[0][1])
            ):
                bound_call = _bound_start(query, before[0][1])
                continue
            out += [query[last:start], "" if in_modifier else _sparql_term(bindings[text[1:]])]
            last = end
    except LexicalError as exc:
        raise RemoteSyntaxError(str(exc)) from None
    out.append(query[last:])
    return "".join(out), projected


def _bound_start(query: str, paren: int) -> int:
    """Where the word BOUND before the parenthesis at `paren` starts."""
    head = query[:paren].rstrip()
    return len(head) - len("bound")


def _is_bound_call(query: str, last: int, paren: int) -> bool:
    """Whether the parenthesis at `paren` follows the keyword BOUND (in text not yet replaced)."""
    start = _bound_start(query, paren)
    return (
        start >= last
        and query[start:paren].strip().lower() == "bound"
        and not (start > 0 and (query[start - 1].isalnum() or query[start - 1] in "_:"))
    )


_FORMS = ("select", "ask", "construct", "describe")


def query_form(query: str) -> str | None:
    """select, ask, construct or describe: the first such keyword of the text (after the
    prologue), which decides the Accept header — engines answer what is asked first."""
    try:
        for kind, start, end in tokens(query):
            if kind == "word" and (word := query[start:end].lower()) in _FORMS:
                return word
    except LexicalError:
        return None
    return None


def _with_columns(answer: Solutions, columns: Mapping[str, Term]) -> Solutions:
    """`answer` with constant columns added (the bound variables a projection left out)."""
    names = [*answer.variables, *(n for n in columns if n not in answer.variables)]
    extra = tuple(columns[n] for n in names[len(answer.variables) :])
    index = {name: i for i, name in enumerate(answer.variables)}

    def rows() -> Iterator[tuple[Term | None, ...]]:
        for row in answer:
            values = [row[name] for name in index]
            yield (*values, *extra)

    return Solutions(names, rows())


def _sparql_term(term: Term) -> str:
    if isinstance(term, ox.BlankNode):
        raise ValueError("a blank node cannot be bound as a parameter of a remote query")
    return str(term)


# Reading answers --------------------------------------------------------------------------------
def _is_results(media: str, body: bytes) -> bool:
    media = media.split(";")[0].strip().lower()
    if media in (_RESULTS_JSON, "application/json"):
        return True
    return not media and body.lstrip().startswith(b"{")


def parse_results(body: bytes) -> Solutions | Boolean:
    """A SPARQL 1.1 JSON results document, as every engine writes it (see the module doc)."""
    document = json.loads(body)
    if "boolean" in document:
        value = document["boolean"]
        return Boolean(value is True or str(value).lower() in ("true", "1"))
    variables = list(document.get("head", {}).get("vars", []))
    blanks: dict[str, ox.BlankNode] = {}

    def rows() -> Iterator[tuple[Term | None, ...]]:
        for binding in document.get("results", {}).get("bindings", []):
            yield tuple(_term(binding[name], blanks) if name in binding else None for name in variables)

    return Solutions(variables, rows())


def _term(value: Mapping[str, Any], blanks: dict[str, ox.BlankNode]) -> Term:
    kind = value.get("type")
    text = value.get("value")
    if kind == "uri":
        return NamedNode(text)
    if kind == "bnode":
        node = blanks.get(text)
        if node is None:  # Virtuoso writes nodeID://b123, which is no blank node label
            node = blanks[text] = ox.BlankNode()
        return node
    if kind == "triple":
        inner = text
        return Triple(
            _term(inner["subject"], blanks), _term(inner["predicate"], blanks), _term(inner["object"], blanks)
        )  # type: ignore[arg-type]
    language = value.get("xml:lang")
    if language:
        return Literal(text, language=language)
    datatype = value.get("datatype")
    if datatype:
        if datatype == _BOOLEAN and text in ("1", "0"):  # Virtuoso stores booleans as integers
            text = "true" if text == "1" else "false"
        return Literal(text, datatype=NamedNode(datatype))
    return Literal(text)


def parse_triples(body: bytes, media: str) -> Iterator[Triple]:
    """Triples of an RDF/JSON, N-Triples or Turtle answer."""
    kind = media.split(";")[0].strip().lower()
    if kind == _RDF_JSON:
        return _rdf_json_triples(body)
    fmt = RdfFormat.TURTLE if kind in ("text/turtle", "application/x-turtle") else RdfFormat.N_TRIPLES
    return (quad.triple for quad in ox.parse(body, format=fmt))


def _rdf_json_triples(body: bytes) -> Iterator[Triple]:
    """RDF/JSON: `{subject: {predicate: [{"type", "value", "lang", "datatype"}…]}}`, a blank
    subject written `_:label` (Virtuoso: `nodeID://…`). A value written as a JSON number
    (Virtuoso does, for numbers) keeps its text as written."""
    document = json.loads(body, parse_float=str, parse_int=str)
    blanks: dict[str, ox.BlankNode] = {}
    for subject, properties in document.items():
        kind = "bnode" if subject.startswith(("_:", "nodeID://")) else "uri"
        node = _term({"type": kind, "value": subject}, blanks)
        for predicate, values in properties.items():
            for value in values:
                if "lang" in value:
                    value = {**value, "xml:lang": value["lang"]}
                yield Triple(node, NamedNode(predicate), _term(value, blanks))  # type: ignore[arg-type]


__all__ = [
    "AnswerTooLarge",
    "PartialAnswer",
    "RemoteError",
    "RemoteSyntaxError",
    "RemoteTimeout",
    "RemoteUnavailable",
    "SparqlStore",
    "bind",
    "parse_results",
]
