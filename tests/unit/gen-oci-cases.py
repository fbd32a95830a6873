#!/usr/bin/python3
"""Writes the OCI image layouts test-oci reads, one folder per case, with
tests/tools/mkoci.py (Python's tarfile/gzip/hashlib, independent of cvmkit).
The expectations live in test-oci.c; the fact sheet's §7 table names the
cases.  Usage: gen-oci-cases.py OUTDIR"""
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import mkoci as m  # noqa: E402

out = sys.argv[1]
F = lambda name, data=b"x", **k: dict(name=name, data=data, **k)  # noqa: E731
D = lambda name, **k: dict(name=name, type="dir", **k)  # noqa: E731
ENTRY = {"Entrypoint": ["/bin/prog"]}
PROG = F("bin/prog", b"#!/bin/sh\n", mode=0o755)


def case(name, layers, cfg=None, **k):
    d = os.path.join(out, name)
    conv = lambda l: m.tar_layer(l) if isinstance(l, list) else (m.tar_layer(l[0]), l[1]) if isinstance(l, tuple) else l  # noqa: E731
    return m.layout(d, [conv(l) for l in layers],
                    cfg if cfg is not None else ENTRY, **k)


def blob_path(d, digest):
    return os.path.join(out, d, "blobs", "sha256", digest[7:])


def manifest_of(name):
    idx = json.load(open(os.path.join(out, name, "index.json")))
    dg = idx["manifests"][0]["digest"]
    return dg, json.load(open(blob_path(name, dg)))


# --- §7 rows
case("whiteout", [[D("bin/"), PROG, D("a/"), F("a/b"), F("a/c")], [F("a/.wh.b")]])
case("opaque", [[PROG, D("a/"), F("a/x"), D("a/d/"), F("a/d/y")],
                [F("a/c"), F("a/.wh..wh..opq")]])  # the opaque marker after the layer's own file
case("samelayer", [[PROG, D("f/"), F("f/z")], [F("f/n"), F("f/.wh.n"), F("f/.wh.z")]])
case("typeswap", [[PROG, F("p"), D("q/"), F("q/inner")], [D("p/"), F("p/k"), F("q", b"file now")]])
case("symlink-escape", [[PROG, dict(name="x", type="symlink", target="/")], [F("x/etc/passwd", b"owned")]])
case("symlinks-kept", [[PROG, dict(name="abs", type="symlink", target="/etc/outside"),
                        dict(name="rel", type="symlink", target="../../../host")]])
case("hardlink", [[PROG, D("h/"), F("h/orig", b"hl-data", mode=0o640, uid=7, gid=8)],
                  [dict(name="h/link", type="hardlink", target="h/orig")]])
term = [D("bin/"), PROG, F("data", b"unterminated")]
case("terminated", [m.tar_layer(term)], comp="none")
case("unterminated", [m.tar_layer(term, terminate=False)], comp="none")
case("unterminated-gz", [m.tar_layer(term, terminate=False)], comp="gzip")
case("zstd", [[PROG, F("z", b"zstd layer")]], comp="zstd")
case("mixed", [([PROG], "none"), ([F("g", b"gz")], "gzip"), ([F("s", b"zst")], "zstd")])

# argv rules
case("entrypoint-only", [[PROG]], {"Entrypoint": ["/bin/prog", "-x"]})
case("cmd-only", [[PROG]], {"Cmd": ["/bin/prog", "c1"]})
case("both", [[PROG]], {"Entrypoint": ["/bin/prog"], "Cmd": ["c1", "c2"],
                        "Env": ["A=1", "PATH=/bin"], "WorkingDir": "/work"})
case("pathsearch", [[D("usr/"), D("usr/bin/"), F("usr/bin/tool", b"", mode=0o755), dict(name="bin", type="symlink", target="usr/bin")]],
     {"Cmd": ["tool"]})
case("user-name", [[PROG, D("etc/"), F("etc/passwd", b"root:x:0:0::/:/bin/sh\napp:x:1234:1235::/:/bin/sh\n"),
                    F("etc/group", b"root:x:0:\nstaff:x:50:app\n")]], {"Entrypoint": ["/bin/prog"], "User": "app:staff"})
case("user-missing", [[PROG, D("etc/"), F("etc/passwd", b"root:x:0:0::/:/bin/sh\n")]],
     {"Entrypoint": ["/bin/prog"], "User": "nobody"})

# refusals
case("dotdot", [[PROG, F("../evil")]])
case("absolute", [[PROG, F("/abs")]])
case("device", [[PROG, dict(name="dev-null", type="chr", major=1, minor=3, mode=0o666)]])
case("setuid", [[PROG, F("su", b"s", mode=0o4755)]])
case("bare-whiteout", [[PROG, F("a/.wh.")]])

mdg, cdg = case("digest-mismatch", [[PROG, F("f", b"will be corrupted")]])
_, man = manifest_of("digest-mismatch")
p = blob_path("digest-mismatch", man["layers"][0]["digest"])
b = bytearray(open(p, "rb").read()); b[-9] ^= 0xff; open(p, "wb").write(bytes(b))

case("missing-blob", [[PROG]])
_, man = manifest_of("missing-blob")
os.unlink(blob_path("missing-blob", man["layers"][0]["digest"]))


def rewrite_manifest(name, fn):
    d = os.path.join(out, name)
    _, man = manifest_of(name)
    fn(man)
    mb = m.dumps(man)
    m.write_index(d, [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": m.put_blob(d, mb), "size": len(mb)}])


case("size-mismatch", [[PROG]])
rewrite_manifest("size-mismatch", lambda man: man["layers"][0].update(size=man["layers"][0]["size"] + 1))
case("unknown-layer-type", [[PROG]])
rewrite_manifest("unknown-layer-type", lambda man: man["layers"][0].update(mediaType="application/vnd.example.layer"))

# an index entry of an unknown media type is skipped, the image beside it used
d = os.path.join(out, "unknown-index-entry")
md, _ = m.image(d, [m.tar_layer([PROG])], ENTRY)
m.write_index(d, [{"mediaType": "application/vnd.example.thing+json", "digest": m.put_blob(d, b"{}"), "size": 2}, md])

# several platforms in a nested index: linux/amd64 is picked
d = os.path.join(out, "multiarch")
arm, arm_cfg = m.image(d, [m.tar_layer([PROG, F("arch", b"arm64")])], ENTRY, arch="arm64")
amd, amd_cfg = m.image(d, [m.tar_layer([PROG, F("arch", b"amd64")])], ENTRY)
nested = m.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [
    dict(arm, platform={"architecture": "arm64", "os": "linux"}),
    dict(amd, platform={"architecture": "amd64", "os": "linux"})]})
m.write_index(d, [{"mediaType": "application/vnd.oci.image.index.v1+json", "digest": m.put_blob(d, nested),
                   "size": len(nested), "annotations": {"org.opencontainers.image.ref.name": "multi"}}])
open(os.path.join(out, "multiarch.amd64"), "w").write(amd_cfg)

# two tags in one layout
d = os.path.join(out, "tags")
a, _ = m.image(d, [m.tar_layer([PROG, F("which", b"a")])], ENTRY)
bb, bcfg = m.image(d, [m.tar_layer([PROG, F("which", b"b")])], ENTRY)
open(os.path.join(out, "tags.b"), "w").write(bcfg)
m.write_index(d, [dict(a, annotations={"org.opencontainers.image.ref.name": "a"}),
                  dict(bb, annotations={"org.opencontainers.image.ref.name": "b"})])

# caps: a layer over max_blob (random, so it does not compress), a gzip bomb
case("oversized", [[PROG, F("rand", os.urandom(64 << 10))]])
case("bomb", [[PROG, F("zeros", bytes(32 << 20))]])

# the archive forms, written by Debian's skopeo from the "whiteout" layout
if shutil.which("skopeo"):
    for dst in ("oci-archive:%s/whiteout.oci.tar:v1" % out, "docker-archive:%s/whiteout.docker.tar:example/whiteout:v1" % out):
        subprocess.run(["skopeo", "--insecure-policy", "copy", "-q", "oci:%s/whiteout" % out, dst], check=True,
                       stdout=subprocess.DEVNULL)

# a real capture of the unterminated tar: Debian's umoci 0.4.7 `insert`
if shutil.which("umoci"):
    d = os.path.join(out, "umoci-insert")
    src = os.path.join(out, "umoci-f.txt")
    open(src, "w").write("from umoci\n")
    for cmd in (["init", "--layout", d], ["new", "--image", d + ":v1"], ["insert", "--image", d + ":v1", src, "/etc/f.txt"],
                ["config", "--image", d + ":v1", "--config.entrypoint", "/etc/f.txt", "--created", "1970-01-01T00:00:00Z",
                 "--history.created", "1970-01-01T00:00:00Z"]):
        subprocess.run(["umoci"] + cmd, check=True, stdout=subprocess.DEVNULL)
