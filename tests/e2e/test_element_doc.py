#!/usr/bin/env python3
"""docs/element.md documents dtlstransportbin's interface, entry by entry.

The interface is read at run time from the element the build produced (GObject introspection, the
same data `gst-inspect-1.0 dtlstransportbin` prints), so a property, signal or pad added to or
removed from gst/ is checked without touching this test. Every item must have an entry of its own
in the section for its kind — a table row whose first cell is the name in backticks and whose last
cell describes it, or a heading naming it followed by a paragraph — and a row's columns must agree
with the element:

- pads (`## Pads`): one row per pad template, its direction column `sink` or `src` as the template;
- properties (`## Properties` and its subsections): one row per property of the element's own
  class, its "type, access" column `rw`, `read` or `write-only` as the param spec's flags; every
  value of an enum property is named (in backticks) in the row of a property of that enum type;
- signals (`## Signals`): one row per signal, its kind column `action` for action signals
  (G_SIGNAL_ACTION: emitted by the application) and `signal` for the others;
- stats (`## Stats`): one row per field of the `stats` structure, its type column the field's type.

The other way round, a row in those sections that names something the element does not have fails
too. A backticked name elsewhere in the text (a cross-reference) counts for nothing.
"""
import os
import re
import sys

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GObject, Gst  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DOC = os.environ.get("ELEMENT_MD", os.path.join(HERE, "..", "..", "docs", "element.md"))

# Field types of the stats structure as docs/element.md writes them.
TYPE_NAMES = {"gchararray": "string"}


class Entry:
    """One documented item: a table row (with its columns by header name) or a heading."""

    def __init__(self, name, description, columns, line):
        self.name = name
        self.description = description
        self.columns = columns  # header name -> cell text; empty for a heading
        self.line = line


def split_row(line):
    """The cells of a Markdown table row, `|` inside backticks kept."""
    cells, cell, in_code = [], "", False
    for char in line.strip().strip("|"):
        if char == "`":
            in_code = not in_code
        if char == "|" and not in_code:
            cells.append(cell.strip())
            cell = ""
        else:
            cell += char
    cells.append(cell.strip())
    return cells


def parse_sections(text):
    """{"Pads": [Entry, …], …}: the entries of each level-2 section (its subsections included)."""
    lines = text.splitlines()
    sections = {}
    current = None
    header = None
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("## "):
            current = line[3:].strip()
            sections.setdefault(current, [])
            header = None
        elif current is None:
            pass
        elif line.startswith("|"):
            is_separator = re.fullmatch(r"\|?[\s:|-]+\|?", line.strip()) is not None
            following = lines[i + 1] if i + 1 < len(lines) else ""
            if is_separator:
                pass
            elif re.fullmatch(r"\|?[\s:|-]+\|?", following.strip()) and "-" in following:
                header = [cell.lower() for cell in split_row(line)]
            elif header:
                cells = split_row(line)
                match = re.fullmatch(r"`([^`]+)`", cells[0]) if cells else None
                if match:
                    columns = dict(zip(header, cells))
                    sections[current].append(Entry(match.group(1), cells[-1], columns, i + 1))
        else:
            header = None
            heading = re.fullmatch(r"#{3,6}\s+`([^`]+)`.*", line.strip())
            if heading:
                # A heading entry: its description is the paragraph that follows.
                paragraph = []
                j = i + 1
                while j < len(lines) and not lines[j].strip():
                    j += 1
                while j < len(lines) and lines[j].strip() and not lines[j].startswith("#"):
                    paragraph.append(lines[j].strip())
                    j += 1
                sections[current].append(Entry(heading.group(1), " ".join(paragraph), {}, i + 1))
        i += 1
    return sections


def describes(text):
    """Whether a description says something: a few words, not a placeholder like "—"."""
    return len(re.findall(r"[A-Za-z]{2,}", text)) >= 2


def main():
    Gst.init(None)
    factory = Gst.ElementFactory.find("dtlstransportbin")
    if not factory:
        print("FAIL: dtlstransportbin not found (GST_PLUGIN_PATH?)")
        return 1
    element = factory.create(None)
    gtype = type(element).__gtype__
    with open(DOC) as f:
        sections = parse_sections(f.read())

    problems = []
    checked = {}

    def entries(section):
        if section not in sections:
            problems.append(f"section '## {section}' is missing")
            return {}
        found = {}
        for entry in sections[section]:
            if entry.name in found:
                problems.append(f"{section}: `{entry.name}` has two entries "
                                f"(lines {found[entry.name].line} and {entry.line})")
            found[entry.name] = entry
        return found

    def entry_for(kind, section, table, name):
        entry = table.get(name)
        if entry is None:
            problems.append(f"undocumented {kind} `{name}`: no entry of its own in '## {section}'")
            return None
        if not describes(entry.description):
            problems.append(f"{kind} `{name}` (line {entry.line}) has no description")
        return entry

    def stale(kind, section, table, known):
        for name, entry in table.items():
            if name not in known:
                problems.append(f"documented {kind} `{name}` (line {entry.line}, '## {section}') "
                                "is not in the element")

    # Pads.
    pads = entries("Pads")
    templates = factory.get_static_pad_templates()
    for template in templates:
        entry = entry_for("pad", "Pads", pads, template.name_template)
        direction = {Gst.PadDirection.SRC: "src", Gst.PadDirection.SINK: "sink"}.get(
            template.direction, "unknown")
        if entry and "direction" in entry.columns and entry.columns["direction"] != direction:
            problems.append(f"pad `{template.name_template}` (line {entry.line}) is documented as "
                            f"{entry.columns['direction']!r}, the element says {direction!r}")
    stale("pad", "Pads", pads, {t.name_template for t in templates})
    checked["pads"] = len(templates)

    # Properties, their access, and the values of enum properties.
    properties = entries("Properties")
    own = [p for p in GObject.list_properties(element) if p.owner_type == gtype]
    enum_values = {}  # enum GType name -> ({value nick}, [rows of properties of that type])
    for pspec in own:
        entry = entry_for("property", "Properties", properties, pspec.name)
        readable = bool(pspec.flags & GObject.ParamFlags.READABLE)
        writable = bool(pspec.flags & GObject.ParamFlags.WRITABLE)
        if entry and "type, access" in entry.columns:
            access = set(re.findall(r"\b(rw|read|write-only)\b", entry.columns["type, access"]))
            expected = "rw" if readable and writable else "read" if readable else "write-only"
            if access != {expected}:
                problems.append(f"property `{pspec.name}` (line {entry.line}): access documented "
                                f"as {sorted(access) or 'nothing'}, the element says {expected}")
        if GObject.type_is_a(pspec.value_type, GObject.TYPE_ENUM):
            nicks = {v.value_nick for v in pspec.default_value.__class__.__enum_values__.values()}
            _, rows = enum_values.setdefault(pspec.value_type.name, (nicks, []))
            if entry:
                rows.append(entry)
    for type_name, (nicks, rows) in enum_values.items():
        named = set()
        for entry in rows:
            named |= set(re.findall(r"`([^`]+)`", " ".join(entry.columns.values())))
        for nick in sorted(nicks - named):
            problems.append(f"value `{nick}` of {type_name} is named in no row of a property of "
                            "that type")
    stale("property", "Properties", properties, {p.name for p in own})
    checked["properties"] = len(own)

    # Signals: plain and action.
    signals = entries("Signals")
    signal_ids = GObject.signal_list_ids(gtype)
    for signal_id in signal_ids:
        query = GObject.signal_query(signal_id)
        name = query.signal_name
        kind = "action" if query.signal_flags & GObject.SignalFlags.ACTION else "signal"
        entry = entry_for(f"{kind} signal" if kind == "action" else "signal", "Signals", signals,
                          name)
        if entry and "kind" in entry.columns and entry.columns["kind"] != kind:
            problems.append(f"signal `{name}` (line {entry.line}) is documented as kind "
                            f"{entry.columns['kind']!r}, the element says {kind!r}")
    stale("signal", "Signals", signals, {GObject.signal_name(s) for s in signal_ids})
    checked["signals"] = len(signal_ids)
    checked["action signals"] = sum(
        1 for s in signal_ids if GObject.signal_query(s).signal_flags & GObject.SignalFlags.ACTION)

    # Stats fields and their types.
    stats_table = entries("Stats")
    stats = element.get_property("stats")
    fields = [stats.nth_field_name(i) for i in range(stats.n_fields())]
    for name in fields:
        entry = entry_for("stats field", "Stats", stats_table, name)
        type_name = stats.get_field_type(name).name
        type_name = TYPE_NAMES.get(type_name, type_name)
        if entry and "type" in entry.columns and entry.columns["type"] != type_name:
            problems.append(f"stats field `{name}` (line {entry.line}) is documented as "
                            f"{entry.columns['type']!r}, the element says {type_name!r}")
    stale("stats field", "Stats", stats_table, set(fields))
    checked["stats fields"] = len(fields)

    # A check of nothing proves nothing: the element has all four kinds of item.
    for kind, count in checked.items():
        if count == 0 and kind != "action signals":
            problems.append(f"the element reports no {kind}: introspection failed?")

    print("checked " + ", ".join(f"{n} {k}" for k, n in checked.items()) +
          f" against {os.path.relpath(DOC)}")
    for problem in problems:
        print(problem)
    print("PASS" if not problems else "FAIL")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
