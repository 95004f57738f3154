"""`khadamat export`: the store, or one agency's named graph, as an RDF file.

For handing a catalog to another tool or archiving one agency's submission as the graph holds it.
Dataset formats (TriG, N-Quads, JSON-LD) keep the named graphs; Turtle merges the chosen graphs
into one graph. With `--profile cpsv-ap` the catalog is written as CPSV-AP 3.2 instead (one graph,
mapped by the CONSTRUCT files of queries/profiles/cpsv-ap/export/).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pyoxigraph import NamedNode, RdfFormat

from khadamat.commands.stats import open_existing_store
from khadamat.output import output_problem, write_output
from khadamat.profiles import export_triples, serialize
from khadamat.querylib import PROFILES
from khadamat.store import OxigraphStore

FORMATS: dict[str, RdfFormat] = {
    "trig": RdfFormat.TRIG,
    "nquads": RdfFormat.N_QUADS,
    "turtle": RdfFormat.TURTLE,
    "jsonld": RdfFormat.JSON_LD,
}


def add_parser(subparsers: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "export",
        parents=[parent],
        help="write the store or one agency's graph as RDF — برون‌بری گراف",
        description=(
            "Write every named graph of the store (or, with --agency, that agency's graph only) as TriG, "
            "N-Quads, JSON-LD (graphs kept) or Turtle (graphs merged), to a file or to stdout. "
            "برون‌بری همه گراف‌ها یا گراف یک دستگاه."
        ),
    )
    parser.add_argument("--format", choices=tuple(FORMATS), default="trig", help="RDF format (default: trig)")
    parser.add_argument("--agency", metavar="CODE", help="export only the named graph of this agency")
    parser.add_argument("-o", "--output", type=Path, metavar="FILE", help="write to FILE (default: stdout)")
    parser.add_argument(
        "--profile",
        choices=PROFILES,
        help="write the catalog in a standard's terms instead of the store's graphs: cpsv-ap = "
        "CPSV-AP 3.2 (public services, organisations, rules, legal resources, evidence, outputs, "
        "channels, costs, life events), by the CONSTRUCT files of queries/profiles/",
    )
    parser.set_defaults(run=run)


def agency_graphs(store: OxigraphStore) -> dict[NamedNode, str]:
    """Every agency graph of the store -> its code as it appears in the graph IRI."""
    prefix = store.minter.agency_graph("x").value[: -len("x")]
    return {g: g.value[len(prefix) :] for g in store.named_graphs() if g.value.startswith(prefix)}


def chosen_graphs(store: OxigraphStore, agency: str | None) -> list[NamedNode] | None:
    """The graphs to export (None = all), or raise LookupError naming the agencies there are."""
    if agency is None:
        return None
    graph = store.minter.agency_graph(agency)
    known = agency_graphs(store)
    if graph not in known:
        codes = ", ".join(sorted(known.values())) or "none"
        raise LookupError(
            f"no graph for agency '{agency}' in the store (agencies with a graph: {codes}) — "
            f"گرافی برای دستگاه «{agency}» در انباره نیست"
        )
    return [graph]


def run(args: argparse.Namespace) -> int:
    if args.output is not None and (problem := output_problem(args.output)):
        print(f"error: {problem}", file=sys.stderr)
        return 2
    store = open_existing_store(args)
    if store is None:
        return 2
    try:
        graphs = chosen_graphs(store, args.agency)
        if args.profile is None:
            data = store.dump(FORMATS[args.format], graphs)
        else:
            data = serialize(export_triples(store, args.profile, graphs), FORMATS[args.format])
    except LookupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        store.close()
    if args.output is None:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        if problem := write_output(args.output, data):
            print(f"error: {problem}", file=sys.stderr)
            return 2
        print(f"wrote {len(data)} bytes to {args.output}", file=sys.stderr)
    return 0
