"""ISO 20022 schema validation of the bank files, against the official XSDs
vendored in payments/schemas/ (their sources are in the README there).

A document is checked against the XSD of the message version its namespace
declares; a version with no vendored XSD is refused. The schemas are parsed once
per process (a few milliseconds) and validation of a file of a few hundred
transfers takes about as long, so every generated pain.001 and every imported
pain.002 is checked.
"""

import functools
import re
from pathlib import Path

from lxml import etree

SCHEMAS = Path(__file__).resolve().parent / "schemas"
NAMESPACE = re.compile(r"^urn:iso:std:iso:20022:tech:xsd:(?P<message>[a-z]{4}\.[0-9]{3}\.[0-9]{3}\.[0-9]{2})$")


class SchemaError(ValueError):
    """The document is not XML, declares no vendored message version, or breaks its XSD."""


def parser() -> etree.XMLParser:
    # No DTDs, no entities, no network: a bank file is data, never instructions.
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


@functools.cache
def schema(message: str) -> etree.XMLSchema:
    path = SCHEMAS / f"{message}.xsd"
    if not re.fullmatch(r"[a-z]{4}\.[0-9]{3}\.[0-9]{3}\.[0-9]{2}", message) or not path.is_file():
        raise SchemaError(f"no vendored XSD for {message}")
    return etree.XMLSchema(etree.parse(str(path), parser()))


def supported(prefix: str) -> list[str]:
    """The message versions starting with `prefix` (e.g. "pain.002") that have an XSD here."""
    return sorted(p.stem for p in SCHEMAS.glob(f"{prefix}.*.xsd"))


def parse(content: bytes) -> etree._Element:
    try:
        return etree.fromstring(content, parser())
    except etree.XMLSyntaxError as exc:
        raise SchemaError(f"not well-formed XML: {exc}") from exc


def message_of(root: etree._Element) -> str:
    """The message version the document declares (its root's namespace)."""
    match = NAMESPACE.match(etree.QName(root).namespace or "")
    if match is None or etree.QName(root).localname != "Document":
        raise SchemaError("not an ISO 20022 Document")
    return match["message"]


def validate(content: bytes | etree._Element, expected_prefix: str = "") -> tuple[etree._Element, str]:
    """Check `content` against the XSD of the version it declares. Returns the
    parsed root and that version; raises SchemaError naming the first problems."""
    root = parse(content) if isinstance(content, bytes) else content
    message = message_of(root)
    if expected_prefix and not message.startswith(expected_prefix + "."):
        raise SchemaError(f"expected a {expected_prefix} document, got {message}")
    xsd = schema(message)
    if not xsd.validate(root):
        problems = "; ".join(f"line {e.line}: {e.message}" for e in list(xsd.error_log)[:5])
        raise SchemaError(f"{message} does not match its XSD: {problems}")
    return root, message
