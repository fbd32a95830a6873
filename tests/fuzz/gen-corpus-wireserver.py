#!/usr/bin/env python3
"""Writes the seed corpus of fuzz-wireserver (tests/fuzz/corpus/wireserver):
versions lists and goal states shaped like the WireServer's (see
../shared/notes/azure-deploy.md §6), and named corruptions of them.
Run from anywhere; output is deterministic."""
import os

top = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "wireserver")

DECL = b'<?xml version="1.0" encoding="utf-8"?>\n'
VERSIONS = DECL + (b"<Versions><Preferred><Version>2012-11-30</Version></Preferred><Supported>"
                   b"<Version>2015-04-05</Version><Version>2012-11-30</Version><Version>2010-12-15</Version>"
                   b"</Supported></Versions>")
GOAL = DECL + b"""<GoalState xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="goalstate10.xsd">
  <Version>2012-11-30</Version>
  <Incarnation>3</Incarnation>
  <Machine><ExpectedState>Started</ExpectedState><LBProbePorts><Port>16001</Port></LBProbePorts></Machine>
  <Container>
    <ContainerId>2f1c0c6e-3b5d-4c1e-9a51-0d3c4b8e7a10</ContainerId>
    <RoleInstanceList>
      <RoleInstance>
        <InstanceId>8d1a3f52-6c0e-4b7a-a1d2-93e5f0c4b6d7._cvmkit-vm</InstanceId>
        <State>Started</State>
        <Configuration>
          <!-- URLs carry escaped ampersands -->
          <SharedConfig>http://10.0.0.1:80/machine/x?comp=config&amp;type=sharedConfig&amp;incarnation=3</SharedConfig>
          <Empty/>
        </Configuration>
      </RoleInstance>
    </RoleInstanceList>
  </Container>
</GoalState>
"""

CASES = {
    "versions": VERSIONS,
    "versions-only-2015": b"<Versions><Supported><Version>2015-04-05</Version></Supported></Versions>",
    "versions-none": b"<Versions><Supported/></Versions>",
    "goalstate": GOAL,
    "goalstate-bom-crlf": b"\xef\xbb\xbf" + GOAL.replace(b"\n", b"\r\n"),
    "goalstate-entities": GOAL.replace(b"._cvmkit-vm", b"&#x2E;_a&amp;b&lt;&#62;&quot;&apos;"),
    "goalstate-doctype": DECL + b'<!DOCTYPE GoalState [<!ENTITY x "y">]>' + GOAL[len(DECL):],
    "goalstate-cdata": GOAL.replace(b"<Incarnation>3", b"<Incarnation><![CDATA[3]]>"),
    "goalstate-mismatched": GOAL.replace(b"</Container>", b"</Containr>"),
    "goalstate-truncated": GOAL[:400],
    "goalstate-no-instance": GOAL.replace(b"InstanceId", b"InstanceID"),
    "goalstate-bad-incarnation": GOAL.replace(b"<Incarnation>3", b"<Incarnation>-3"),
    "goalstate-space-in-id": GOAL.replace(b"._cvmkit-vm", b" x"),
    "goalstate-long-id": GOAL.replace(b"._cvmkit-vm", b"x" * 300),
    "goalstate-deep": b"<GoalState>" + b"<a>" * 30 + b"</a>" * 30 + b"</GoalState>",
    "goalstate-two-roots": GOAL + b"<GoalState/>",
    "goalstate-bad-ref": GOAL.replace(b"&amp;type", b"&nbsp;type"),
    "goalstate-nul": GOAL.replace(b"Started", b"Sta\x00rted", 1),
    "garbage": b"\x00\xffnot xml at all <<<>>>",
    "html-error": b"<html><body><h1>500 Internal Server Error</h1></body></html>",
}

os.makedirs(top, exist_ok=True)
for name, data in CASES.items():
    with open(os.path.join(top, name), "wb") as f:
        f.write(data)
