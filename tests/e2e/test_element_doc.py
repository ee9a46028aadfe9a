#!/usr/bin/env python3
"""docs/element.md documents every pad, property, enum value, signal and stats field of
dtlstransportbin — the same interface `gst-inspect-1.0 dtlstransportbin` lists, read here through
GObject introspection of the element the build produced. A property or signal added to gst/ without
a line in the reference fails this test; so does a documented name that no longer exists (a `name`
in a reference table row that the element does not have)."""
import os
import re
import sys

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GObject, Gst  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DOC = os.environ.get("ELEMENT_MD", os.path.join(HERE, "..", "..", "docs", "element.md"))


def main():
    Gst.init(None)
    factory = Gst.ElementFactory.find("dtlstransportbin")
    if not factory:
        print("FAIL: dtlstransportbin not found (GST_PLUGIN_PATH?)")
        return 1
    element = factory.create(None)
    gtype = type(element).__gtype__
    with open(DOC) as f:
        doc = f.read()
    documented = set(re.findall(r"`([^`\s]+)`", doc))

    missing = []

    def need(kind, name):
        if name not in documented:
            missing.append(f"{kind} `{name}`")

    for template in factory.get_static_pad_templates():
        need("pad", template.name_template)
    own_properties = [p for p in GObject.list_properties(element) if p.owner_type == gtype]
    for pspec in own_properties:
        need("property", pspec.name)
        if GObject.type_is_a(pspec.value_type, GObject.TYPE_ENUM):
            enum_class = pspec.default_value.__class__
            for value in enum_class.__enum_values__.values():
                need(f"value of {pspec.name}:", value.value_nick)
    for signal_id in GObject.signal_list_ids(gtype):
        need("signal", GObject.signal_name(signal_id))
    stats = element.get_property("stats")
    for i in range(stats.n_fields()):
        need("stats field", stats.nth_field_name(i))

    # The other way round: rows of the property and signal tables name real things.
    known = {p.name for p in own_properties} | {
        GObject.signal_name(s) for s in GObject.signal_list_ids(gtype)}
    stale = []
    for section in ("## Properties", "## Signals"):
        start = doc.find(section)
        if start < 0:
            missing.append(f"section '{section}'")
            continue
        end = doc.find("\n## ", start + 1)
        for name in re.findall(r"^\| `([a-z0-9-]+)`", doc[start:end if end > 0 else None], re.M):
            if name not in known:
                stale.append(name)

    print(f"checked {len(own_properties)} properties, "
          f"{len(GObject.signal_list_ids(gtype))} signals, {stats.n_fields()} stats fields, "
          f"{len(factory.get_static_pad_templates())} pads against {os.path.relpath(DOC)}")
    for item in missing:
        print(f"undocumented: {item}")
    for name in stale:
        print(f"documented but not in the element: `{name}`")
    ok = not missing and not stale
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
