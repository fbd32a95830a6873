#!/usr/bin/env python3
"""Regenerates the seed corpus of fuzz-oci: layer tars (whiteouts, opaque
directories, hard links, symlinks, replacements, an unterminated tar),
image configs and User/passwd/group triples, each prefixed with the byte
that selects the parser (see tests/fuzz/fuzz-oci.c).  Run from the
repository root: tests/fuzz/gen-corpus-oci.py.  Output is deterministic."""
import json
import os
import sys

sys.path.insert(0, "tests/tools")
import mkoci as m  # noqa: E402

ROOT = "tests/fuzz/corpus/oci"
os.makedirs(ROOT, exist_ok=True)


def put(name, sel, data):
    with open(os.path.join(ROOT, name), "wb") as f:
        f.write(bytes([sel]) + data)


F = lambda n, d=b"x", **k: dict(name=n, data=d, **k)  # noqa: E731
D = lambda n: dict(name=n, type="dir")  # noqa: E731
put("layer-basic", 0, m.tar_layer([D("a/"), F("a/b"), F("c", b"cc", mode=0o4755)]))
put("layer-whiteouts", 0, m.tar_layer([D("a/"), F("a/.wh.b"), F("a/.wh..wh..opq"), F("a/n"), F(".wh.c")]))
put("layer-links", 0, m.tar_layer([F("f", b"data"), dict(name="h", type="hardlink", target="f"),
                                   dict(name="s", type="symlink", target="/etc/../x"), dict(name="s/x", type="dir")]))
put("layer-swap", 3, m.tar_layer([F("p"), D("p/"), F("p/k"), D("q/"), F("q")]))
put("layer-device", 6, m.tar_layer([dict(name="null", type="chr", major=1, minor=3), dict(name="fifo", type="fifo")]))
put("layer-traversal", 0, m.tar_layer([F("../x"), F("/abs"), F("./ok")]))
put("layer-unterminated", 0, m.tar_layer([D("d/"), F("d/f", b"tail")], terminate=False))
put("layer-root", 0, m.tar_layer([D("./"), D("./a/"), F("./a/.wh.")]))
cfg = {"architecture": "amd64", "os": "linux", "config": {"Entrypoint": ["/bin/x"], "Cmd": ["a", "b"], "Env": ["A=1", "PATH=/bin"],
       "User": "1:2", "WorkingDir": "/w", "ExposedPorts": {"8080/tcp": {}}}, "rootfs": {"type": "layers", "diff_ids": []}}
put("config-full", 1, json.dumps(cfg).encode())
put("config-cmd", 5, json.dumps({"config": {"Cmd": ["prog"], "User": "name"}}).encode())
put("config-bad", 1, b'{"config": {"Entrypoint": "notalist", "Env": [1, 2]}}')
put("user-name", 2, b"app:staff\0root:x:0:0::/:/bin/sh\napp:x:5:6::/:/bin/sh\n\0staff:x:50:app\n")
put("user-num", 2, b"1001\0\0")
put("user-bad", 2, b"app:\0app:x:notnum:6\n\0")
