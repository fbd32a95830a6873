#!/usr/bin/python3
"""A TEST Azure WireServer for the boot rig (test code only).

  wireserver.py --bind ADDR --port N --dir DIR

Serves what the guest's Ready report needs (../shared/notes/azure-deploy.md
§6): GET /?comp=versions, GET /machine/?comp=goalstate (x-ms-version
required, as the WireServer requires it), POST /machine?comp=health.  Every
request is appended to DIR/requests.jsonl (method, path, headers, body).  The
behaviour is read from DIR/mode at each request, so one server serves a whole
test:
  ok         well-formed answers
  garbage    the goal state is not XML
  oversized  the goal state is 128 KiB (twice the guest's cap)
  status500  every request answers 500
  hang       every request is accepted and never answered
The goal state's ids are in DIR/goalstate.json {incarnation, container_id,
instance_id}, written by the test, which checks the report against them with
validate (below), an independent implementation (xml.etree).

  wireserver.py validate DIR   -> prints one line per check, exit 1 on any failure
"""
import argparse
import http.server
import json
import os
import sys
import threading
import time
import xml.etree.ElementTree as ET

VERSIONS = (b'<?xml version="1.0" encoding="utf-8"?>\n<Versions><Preferred><Version>2012-11-30</Version>'
            b'</Preferred><Supported><Version>2015-04-05</Version><Version>2012-11-30</Version>'
            b'<Version>2010-12-15</Version></Supported></Versions>')


def goalstate(ids):
    return ('<?xml version="1.0" encoding="utf-8"?>\n'
            '<GoalState xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            'xsi:noNamespaceSchemaLocation="goalstate10.xsd">\n'
            '  <Version>2012-11-30</Version>\n  <Incarnation>%(incarnation)s</Incarnation>\n'
            '  <Machine>\n    <ExpectedState>Started</ExpectedState>\n'
            '    <StopRolesDeadlineHint>300000</StopRolesDeadlineHint>\n'
            '    <LBProbePorts><Port>16001</Port></LBProbePorts>\n'
            '    <ExpectHealthReport>FALSE</ExpectHealthReport>\n  </Machine>\n'
            '  <Container>\n    <ContainerId>%(container_id)s</ContainerId>\n'
            '    <RoleInstanceList>\n      <RoleInstance>\n        <InstanceId>%(instance_id)s</InstanceId>\n'
            '        <State>Started</State>\n        <Configuration>\n'
            '          <HostingEnvironmentConfig>http://168.63.129.16:80/machine/%(container_id)s/x?comp=config'
            '&amp;type=hostingEnvironmentConfig&amp;incarnation=%(incarnation)s</HostingEnvironmentConfig>\n'
            '        </Configuration>\n      </RoleInstance>\n    </RoleInstanceList>\n  </Container>\n'
            '</GoalState>\n' % ids).encode()


def serve(args):
    d = args.dir
    lock = threading.Lock()

    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def record(self, body):
            with lock, open(os.path.join(d, "requests.jsonl"), "a") as f:
                f.write(json.dumps({"t": time.time(), "method": self.command, "path": self.path,
                                    "headers": {k.lower(): v for k, v in self.headers.items()},
                                    "body": body.decode("latin-1")}) + "\n")

        def answer(self, status, body=b"", ctype="text/xml; charset=utf-8"):
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)
            self.close_connection = True

        def handle_any(self):
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n) if n else b""
            self.record(body)
            try:
                mode = open(os.path.join(d, "mode")).read().strip()
            except OSError:
                mode = "ok"
            if mode == "hang":
                time.sleep(3600)
                return
            if mode == "status500":
                return self.answer(500, b"<Error>test</Error>")
            if self.command == "GET" and self.path == "/?comp=versions":
                return self.answer(200, VERSIONS)
            if self.command == "GET" and self.path == "/machine/?comp=goalstate":
                if not self.headers.get("x-ms-version"):
                    return self.answer(400, b"<Error>x-ms-version missing</Error>")
                if mode == "garbage":
                    return self.answer(200, b"\x00\xffthis is <not> xml &&&")
                if mode == "oversized":
                    ids = json.load(open(os.path.join(d, "goalstate.json")))
                    g = goalstate(ids)
                    pad = b"<!-- " + b"x" * (128 * 1024 - len(g)) + b" -->\n"
                    return self.answer(200, g + pad)
                return self.answer(200, goalstate(json.load(open(os.path.join(d, "goalstate.json")))))
            if self.command == "POST" and self.path == "/machine?comp=health":
                return self.answer(200)
            return self.answer(404, b"<Error>not found</Error>")

        do_GET = do_POST = handle_any

    class S(http.server.ThreadingHTTPServer):
        daemon_threads = True

    srv = S((args.bind, args.port), H)
    with open(os.path.join(d, "ready"), "w") as f:
        f.write("%d\n" % os.getpid())
    srv.serve_forever()


def validate(d):
    """Checks the recorded Ready report against DIR/goalstate.json."""
    ids = json.load(open(os.path.join(d, "goalstate.json")))
    reqs = [json.loads(line) for line in open(os.path.join(d, "requests.jsonl"))]
    fails = 0

    def check(desc, cond):
        nonlocal fails
        print(("  ok: " if cond else "  FAILED: ") + desc)
        fails += 0 if cond else 1

    order = [(r["method"], r["path"]) for r in reqs]
    check("requests in order: versions, goal state, health (%s)" % order,
          order == [("GET", "/?comp=versions"), ("GET", "/machine/?comp=goalstate"),
                    ("POST", "/machine?comp=health")])
    if len(reqs) != 3:
        return 1
    gs, health = reqs[1], reqs[2]
    check("goal state asked with x-ms-version 2012-11-30", gs["headers"].get("x-ms-version") == "2012-11-30")
    h = health["headers"]
    check("health: x-ms-version 2012-11-30", h.get("x-ms-version") == "2012-11-30")
    check("health: x-ms-agent-name set (%r)" % h.get("x-ms-agent-name"), bool(h.get("x-ms-agent-name")))
    check("health: Content-Type text/xml;charset=utf-8 (%r)" % h.get("content-type"),
          (h.get("content-type") or "").replace(" ", "").lower() == "text/xml;charset=utf-8")
    check("health: Content-Length matches the body",
          int(h.get("content-length", -1)) == len(health["body"].encode("latin-1")))
    try:
        root = ET.fromstring(health["body"].encode("latin-1"))
    except ET.ParseError as e:
        check("health body is well-formed XML (%s)" % e, False)
        return 1
    check("health body is well-formed XML", True)
    check("root element Health", root.tag == "Health")
    check("GoalStateIncarnation = %s" % ids["incarnation"], root.findtext("GoalStateIncarnation") == ids["incarnation"])
    check("Container/ContainerId = %s" % ids["container_id"], root.findtext("Container/ContainerId") == ids["container_id"])
    check("Container/RoleInstanceList/Role/InstanceId = %s" % ids["instance_id"],
          root.findtext("Container/RoleInstanceList/Role/InstanceId") == ids["instance_id"])
    check("Role/Health/State = Ready", root.findtext("Container/RoleInstanceList/Role/Health/State") == "Ready")
    check("exactly one Role", len(root.findall("Container/RoleInstanceList/Role")) == 1)
    return 1 if fails else 0


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "validate":
        sys.exit(validate(sys.argv[2]))
    ap = argparse.ArgumentParser()
    ap.add_argument("--bind", required=True)
    ap.add_argument("--port", type=int, default=80)
    ap.add_argument("--dir", required=True)
    serve(ap.parse_args())


if __name__ == "__main__":
    main()
