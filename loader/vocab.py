"""The contract vocabulary (docs/architecture.md, 'Vocabulary') as ready-made terms.

Built once per process: creating a NamedNode per triple would cost more than the mapping itself
on a national catalog.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import lru_cache

from pyoxigraph import Literal, NamedNode

from khadamat.namespaces import DCT, ELI, FOAF, KH, ORG, PROV, RDF, SKOS, XSD

TYPE = NamedNode(RDF + "type")
TITLE = NamedNode(DCT + "title")
DESCRIPTION = NamedNode(DCT + "description")
PREF_LABEL = NamedNode(SKOS + "prefLabel")
HOMEPAGE = NamedNode(FOAF + "homepage")
SUB_ORG = NamedNode(ORG + "subOrganizationOf")
UNIT_OF = NamedNode(ORG + "unitOf")
HAS_PART = NamedNode(ELI + "has_part")
IS_PART_OF = NamedNode(ELI + "is_part_of")
DATE_DOCUMENT = NamedNode(ELI + "date_document")

XSD_INTEGER = NamedNode(XSD + "integer")
XSD_DECIMAL = NamedNode(XSD + "decimal")
XSD_DATE = NamedNode(XSD + "date")
XSD_BOOLEAN = NamedNode(XSD + "boolean")
XSD_DATETIME = NamedNode(XSD + "dateTime")

PROV_ENTITY = NamedNode(PROV + "Entity")
PROV_ACTIVITY = NamedNode(PROV + "Activity")
GENERATED_BY = NamedNode(PROV + "wasGeneratedBy")
STARTED = NamedNode(PROV + "startedAtTime")
ENDED = NamedNode(PROV + "endedAtTime")
USED = NamedNode(PROV + "used")


class _Kh:
    """kh: terms as attributes, e.g. K.serviceId; each NamedNode is made once, then cached as an attribute."""

    def __getattr__(self, local: str) -> NamedNode:
        if local.startswith("_"):
            raise AttributeError(local)
        node = NamedNode(KH + local)
        setattr(self, local, node)
        return node


K = _Kh()


def fa(text: str) -> Literal:
    return Literal(text, language="fa")


def string(text: str) -> Literal:
    return Literal(text)


@lru_cache(maxsize=1 << 16, typed=True)  # typed: True and 1 are different cells
def typed(value: object) -> Literal | NamedNode:
    """A parsed cell value as an RDF term of the matching XSD type (text is @fa)."""
    if isinstance(value, NamedNode):
        return value
    if isinstance(value, bool):
        return Literal("true" if value else "false", datatype=XSD_BOOLEAN)
    if isinstance(value, int):
        return Literal(str(value), datatype=XSD_INTEGER)
    if isinstance(value, Decimal):
        return Literal(format(value.normalize(), "f"), datatype=XSD_DECIMAL)
    if isinstance(value, dt.date):
        return Literal(value.isoformat(), datatype=XSD_DATE)
    return fa(str(value))
