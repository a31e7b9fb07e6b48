"""Device XML: what a device (or someone posing as one) sends cannot read files or take the memory."""

from __future__ import annotations


def test_device_xml_refuses_external_entities_dtds_and_oversized_bodies() -> None:
    """Hikvision, Dahua and partner XML goes through hub.devices.xml; ONVIF's through zeep, made as strict."""
    import pytest

    from hub.core.errors import DeviceError
    from hub.devices.xml import MAX_XML_BYTES, parse

    xxe = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>'
    with pytest.raises(DeviceError, match="unsafe XML"):
        parse(xxe, "cam:80: deviceInfo")
    with pytest.raises(DeviceError, match="too large"):
        parse(b"<r>" + b"a" * MAX_XML_BYTES + b"</r>", "cam:80: deviceInfo")

    from lxml import etree
    from zeep.exceptions import DTDForbidden
    from zeep.loader import parse_xml

    from plugins.onvif.client import harden_xml

    settings = harden_xml()
    assert settings.forbid_dtd and settings.forbid_entities and not settings.xml_huge_tree
    with pytest.raises((DTDForbidden, etree.XMLSyntaxError)):
        parse_xml(xxe, None, settings=settings)
