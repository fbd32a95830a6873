#!/usr/bin/python3
"""Builds OCI image layouts for the tests, independently of cvmkit's reader:
Python's tarfile, gzip and hashlib (zstd through Debian's zstd command).

As a library: layout(dir, layers, config, ...) where each layer is a list of
entries (dicts, see tar_layer) and returns the manifest and config digests.

As a command:
  mkoci.py DIR [--tag T] [--entrypoint A ...] [--cmd A ...] [--env K=V ...]
           [--user U] [--workdir D] [--expose 8080/tcp ...]
           --layer [SPEC ...] [--layer [SPEC ...] ...]
  SPEC: IMAGEPATH=HOSTFILE[:MODE]  a file (mode octal, default from the host)
        IMAGEPATH/                 a directory
        IMAGEPATH->TARGET          a symlink
        IMAGEPATH=-               a whiteout of IMAGEPATH (.wh.NAME)
Everything is deterministic: mtime 0, uid/gid 0, sorted as given, gzip mtime 0.
"""
import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile


def sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


def tar_layer(entries, terminate=True):
    """entries: dicts with name, type (file|dir|symlink|hardlink|chr|blk|fifo),
    data (bytes), mode, uid, gid, target, major, minor."""
    buf = io.BytesIO()
    t = tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT)
    end = 0
    for e in entries:
        ti = tarfile.TarInfo(e["name"])
        ti.mtime = 0
        ti.uid = e.get("uid", 0)
        ti.gid = e.get("gid", 0)
        ti.uname = ti.gname = ""
        kind = e.get("type", "file")
        ti.mode = e.get("mode", 0o755 if kind == "dir" else 0o644)
        data = None
        if kind == "file":
            data = e.get("data", b"")
            ti.size = len(data)
        elif kind == "dir":
            ti.type = tarfile.DIRTYPE
        elif kind == "symlink":
            ti.type = tarfile.SYMTYPE
            ti.linkname = e["target"]
        elif kind == "hardlink":
            ti.type = tarfile.LNKTYPE
            ti.linkname = e["target"]
        elif kind in ("chr", "blk"):
            ti.type = tarfile.CHRTYPE if kind == "chr" else tarfile.BLKTYPE
            ti.devmajor, ti.devminor = e.get("major", 1), e.get("minor", 3)
        elif kind == "fifo":
            ti.type = tarfile.FIFOTYPE
        t.addfile(ti, io.BytesIO(data) if data is not None else None)
        # where this member's data ends, before tarfile pads it to 512
        end = t.offset - ((512 - ti.size % 512) % 512 if ti.size else 0)
    t.close()
    raw = buf.getvalue()
    if not terminate:
        # As umoci 0.4.7 insert writes: the last member's data, then nothing.
        raw = raw[:end]
    return raw


def compress(raw, how):
    if how == "none":
        return raw, "application/vnd.oci.image.layer.v1.tar"
    if how == "gzip":
        return gzip.compress(raw, mtime=0), "application/vnd.oci.image.layer.v1.tar+gzip"
    if how == "zstd":
        z = subprocess.run(["zstd", "-q", "-c", "-19"], input=raw, stdout=subprocess.PIPE, check=True).stdout
        return z, "application/vnd.oci.image.layer.v1.tar+zstd"
    raise ValueError(how)


def put_blob(d, data):
    dg = sha(data)
    os.makedirs(os.path.join(d, "blobs", "sha256"), exist_ok=True)
    with open(os.path.join(d, "blobs", "sha256", dg[7:]), "wb") as f:
        f.write(data)
    return dg


def dumps(o):
    return json.dumps(o, sort_keys=True, separators=(",", ":")).encode()


def image(d, layers, cfg=None, comp="gzip", arch="amd64", os_="linux"):
    """Writes the blobs of one image into layout d; returns (manifest descriptor, config digest).
    layers: list of raw tar bytes (or (raw, comp) tuples)."""
    descs, diff_ids = [], []
    for l in layers:
        raw, how = (l if isinstance(l, tuple) else (l, comp))
        blob, mt = compress(raw, how)
        descs.append({"mediaType": mt, "digest": put_blob(d, blob), "size": len(blob)})
        diff_ids.append(sha(raw))
    config = {"architecture": arch, "os": os_, "config": cfg or {},
              "rootfs": {"type": "layers", "diff_ids": diff_ids}}
    cb = dumps(config)
    cdg = put_blob(d, cb)
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cdg, "size": len(cb)},
                "layers": descs}
    mb = dumps(manifest)
    return {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": put_blob(d, mb),
            "size": len(mb)}, cdg


def write_index(d, manifests):
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "oci-layout"), "wb") as f:
        f.write(b'{"imageLayoutVersion":"1.0.0"}')
    with open(os.path.join(d, "index.json"), "wb") as f:
        f.write(dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                       "manifests": manifests}))


def layout(d, layers, cfg=None, tag=None, comp="gzip"):
    os.makedirs(d, exist_ok=True)
    md, cdg = image(d, layers, cfg, comp)
    if tag:
        md = dict(md, annotations={"org.opencontainers.image.ref.name": tag})
    write_index(d, [md])
    return md["digest"], cdg


def parse_spec(spec):
    if "->" in spec:
        name, target = spec.split("->", 1)
        return [{"name": name, "type": "symlink", "target": target}]
    if spec.endswith("/"):
        return [{"name": spec, "type": "dir", "mode": 0o755}]
    name, src = spec.split("=", 1)
    if src == "-":
        head, base = os.path.split(name)
        return [{"name": os.path.join(head, ".wh." + base), "mode": 0o644}]
    mode = None
    if ":" in src:
        src, m = src.rsplit(":", 1)
        mode = int(m, 8)
    with open(src, "rb") as f:
        data = f.read()
    return [{"name": name, "data": data, "mode": mode if mode is not None else os.stat(src).st_mode & 0o7777}]


def main(argv):
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        sys.exit(0 if argv else 2)
    if argv[0].startswith("-"):
        sys.exit("mkoci.py: fatal: the first argument is the layout's DIR, not an option: %s" % argv[0])
    d, tag, cfg, layers = argv[0], None, {}, []
    i = 1
    lists = {"--entrypoint": "Entrypoint", "--cmd": "Cmd", "--env": "Env"}
    while i < len(argv):
        a = argv[i]
        if a in lists:
            cfg.setdefault(lists[a], []).append(argv[i + 1]); i += 2
        elif a == "--tag":
            tag = argv[i + 1]; i += 2
        elif a == "--user":
            cfg["User"] = argv[i + 1]; i += 2
        elif a == "--workdir":
            cfg["WorkingDir"] = argv[i + 1]; i += 2
        elif a == "--expose":
            cfg.setdefault("ExposedPorts", {})[argv[i + 1]] = {}; i += 2
        elif a == "--layer":
            layers.append([]); i += 1
        else:
            layers[-1].extend(parse_spec(a)); i += 1
    m, c = layout(d, [tar_layer(l) for l in layers], cfg, tag)
    print(m, c)


if __name__ == "__main__":
    main(sys.argv[1:])
