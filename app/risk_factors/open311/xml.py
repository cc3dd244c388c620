"""GeoReport v2's XML format (the spec's default): the same values as the JSON, in the
spec's element names, so each route builds its answer once and picks the format here.

The element lists are the spec's (wiki.open311.org/GeoReport_v2, "Sample Response" of each
method); tests/test_open311_formats.py validates every XML body against them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from xml.etree import ElementTree as ET

MEDIA_TYPE = "text/xml; charset=utf-8"

# root element -> (child element, the child's own elements), as the spec lists them
SERVICE = (
    "service_code",
    "service_name",
    "description",
    "metadata",
    "type",
    "keywords",
    "group",
)
ATTRIBUTE = (
    "variable",
    "code",
    "datatype",
    "required",
    "datatype_description",
    "order",
    "description",
    "values",
)
REQUEST = (
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
)
CREATED = ("service_request_id", "service_notice", "account_id")
ERROR = ("code", "description")
ENDPOINT = ("specification", "url", "changeset", "type", "formats")
DISCOVERY = ("changeset", "contact", "key_service", "endpoints")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _fill(parent: ET.Element, names: Iterable[str], values: Mapping[str, Any]) -> None:
    for name in names:
        child = ET.SubElement(parent, name)
        value = values.get(name)
        if name == "values" and isinstance(value, list):  # an attribute's allowed values
            for item in value:
                entry = ET.SubElement(child, "value")
                _fill(entry, ("key", "name"), item)
        elif name == "formats" and isinstance(value, list):
            for media_type in value:
                ET.SubElement(child, "format").text = media_type
        else:
            child.text = _text(value)


def _document(root: ET.Element) -> bytes:
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True))


def _list(root_name: str, item_name: str, names: tuple[str, ...], items: list[Any]) -> bytes:
    root = ET.Element(root_name)
    for item in items:
        _fill(ET.SubElement(root, item_name), names, item)
    return _document(root)


def services(items: list[dict[str, Any]]) -> bytes:
    return _list("services", "service", SERVICE, items)


def service_definition(definition: dict[str, Any]) -> bytes:
    root = ET.Element("service_definition")
    ET.SubElement(root, "service_code").text = definition["service_code"]
    attributes = ET.SubElement(root, "attributes")
    for attribute in definition["attributes"]:
        _fill(ET.SubElement(attributes, "attribute"), ATTRIBUTE, attribute)
    return _document(root)


def requests(items: list[dict[str, Any]]) -> bytes:
    return _list("service_requests", "request", REQUEST, items)


def created(items: list[dict[str, Any]]) -> bytes:
    return _list("service_requests", "request", CREATED, items)


def errors(items: list[dict[str, Any]]) -> bytes:
    return _list("errors", "error", ERROR, items)


def discovery(document: dict[str, Any]) -> bytes:
    root = ET.Element("discovery")
    _fill(root, ("changeset", "contact", "key_service"), document)
    endpoints = ET.SubElement(root, "endpoints")
    for endpoint in document["endpoints"]:
        _fill(ET.SubElement(endpoints, "endpoint"), ENDPOINT, endpoint)
    return _document(root)
