#!/usr/bin/python3
"""Seed corpus for tests/fuzz/fuzz-initdata.c, also the TOML corpus that
tests/cli/test-initdata.sh checks against Python's tomllib:

  ok-*.toml   in cvmkit's initdata subset: tomllib and cvmkit must agree on every value
  bad-*.toml  outside the subset (or not TOML at all): cvmkit must refuse
  ud-*        IMDS userData (base64 text), both forms, broken ones and a gzip bomb

    tests/fuzz/gen-corpus-initdata.py tests/fuzz/corpus/initdata
"""
import base64
import gzip
import os
import sys

HEAD = 'version = "0.1.0"\nalgorithm = "sha256"\n\n[data]\n'
# ../shared/notes/initdata.md: §1's example (116 bytes), its sha384 twin, CAA's dummy (66 bytes).
EXAMPLE = HEAD + "\"aa.toml\" = '''\n[token_configs.kbs]\nurl = \"http://10.0.0.4:8080\"\n'''\n"
DUMMY = "algorithm = \"sha256\"\nversion = \"0.1.0\"\n\n[data]\n\"aa.toml\" = '''\n'''"
AA = ("[token_configs.kbs]\nurl = \"https://169.254.0.2:8443\"\n"
      'cert = """\n-----BEGIN CERTIFICATE-----\nMIIBtest\n-----END CERTIFICATE-----\n"""\n')

OK = {
    "example": EXAMPLE,
    "example-sha384": EXAMPLE.replace("sha256", "sha384"),
    "example-sha512": EXAMPLE.replace("sha256", "sha512"),
    "caa-dummy": DUMMY,
    "three-files": HEAD + "\"aa.toml\" = '''\n" + AA + "'''\n\"cdh.toml\" = '''\nsocket = 'unix:///run/cdh.sock'\n"
                   "[kbc]\nname = \"cc_kbc\"\nurl = \"https://kbs\"\n'''\n\"policy.rego\" = '''\npackage agent_policy\n"
                   "default AllowRequestsFailingPolicy := true\n'''\n",
    "basic-escapes": HEAD + 'a = "tab\\there \\"q\\" back\\\\slash \\u00e9 \\U0001F600 \\b\\f\\r\\n"\n',
    "literal": HEAD + "a = 'C:\\Users\\nodejs\\templates'\nb = '<\\i\\c*\\s*>'\n",
    "ml-basic": HEAD + 'a = """\nRoses are red\nViolets are blue"""\nb = """The quick brown \\\n\n\n  fox."""\n',
    "ml-quotes": HEAD + "a = '''x''y'''''\nb = \"\"\"\"\"q\"\"\"\"\"\n",
    "crlf": "version = \"0.1.0\"\r\nalgorithm = \"sha256\"\r\n[data]\r\na = '''\r\none\r\ntwo'''\r\n",
    "comments": "# initdata\nversion = \"0.1.0\" # v\n\talgorithm = 'sha256'\t# tab\n[ data ] # table\n# x\n\"\" = ''\n'quoted key' = \"x\"\nbare-key_1 = \"y\"\n",
    "order": "algorithm = \"sha256\"\nversion = \"0.1.0\"\n[data]\nz = 'last'\na = 'first'\n",
    "empty-data": HEAD,
    "unicode": HEAD + "\"clé\" = \"värde ☃\"\n",
    "no-final-newline": HEAD + "a = 'x'",
}
BAD = {
    "integer": HEAD + "a = 1\n",
    "bool": HEAD + "a = true\n",
    "array": HEAD + "a = ['x', 'y']\n",
    "inline-table": HEAD + "a = { b = 'c' }\n",
    "float": HEAD + "a = 1.5\n",
    "datetime": HEAD + "a = 1979-05-27T07:32:00Z\n",
    "algorithm-dash": EXAMPLE.replace("sha256", "sha-256"),
    "algorithm-upper": EXAMPLE.replace("sha256", "SHA256"),
    "version": EXAMPLE.replace("0.1.0", "0.2.0"),
    "no-version": "algorithm = \"sha256\"\n[data]\n",
    "no-data": "version = \"0.1.0\"\nalgorithm = \"sha256\"\n",
    "unknown-key": "version = \"0.1.0\"\nalgorithm = \"sha256\"\nextra = 'x'\n[data]\n",
    "other-table": HEAD + "[more]\n",
    "dotted": HEAD + "a.b = 'x'\n",
    "duplicate": HEAD + "a = 'x'\n'a' = 'y'\n",
    "data-twice": HEAD + "[data]\n",
    "bad-escape": HEAD + "a = \"\\e\"\n",
    "surrogate": HEAD + "a = \"\\uD800\"\n",
    "newline-in-string": HEAD + "a = \"x\ny\"\n",
    "unterminated": HEAD + "a = '''x\n",
    "six-quotes": HEAD + "a = '''x''''''\n",
    "junk": HEAD + "a = 'x' y\n",
    "no-equals": HEAD + "a 'x'\n",
    "control": HEAD + "a = 'x\x01'\n",
    "control-comment": HEAD + "# \x7f\n",
    "json": '{"version":"0.1.0","algorithm":"sha256","data":{}}\n',
}


def write(d, name, data):
    with open(os.path.join(d, name), "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)


def cloud_config(toml, extra=""):
    inner = base64.b64encode(gzip.compress(toml.encode(), mtime=0)).decode()
    cc = ("#cloud-config\nwrite_files:\n  - path: /run/peerpod/apf.json\n    content: |\n      {\"pod-network\": {}}\n"
          "  - path: /run/peerpod/initdata\n    content: |\n      %s\n%s" % (inner, extra))
    return base64.b64encode(cc.encode()).decode() + "\n"


def main():
    d = sys.argv[1]
    os.makedirs(d, exist_ok=True)
    for k, v in OK.items():
        write(d, "ok-%s.toml" % k, v)
    for k, v in BAD.items():
        write(d, "bad-%s.toml" % k, v)
    write(d, "bad-utf8.toml", HEAD.encode() + b"a = '\xc3\x28'\n")
    write(d, "bad-bare-cr.toml", HEAD.encode() + b"a = 'x'\r")
    write(d, "aa.toml", AA)
    write(d, "ud-native", base64.b64encode(EXAMPLE.encode()).decode() + "\n")
    write(d, "ud-peerpod", cloud_config(EXAMPLE))
    write(d, "ud-peerpod-dummy", cloud_config(DUMMY))
    write(d, "ud-peerpod-extra-key", cloud_config(EXAMPLE, "    owner: root\n"))
    write(d, "ud-no-initdata", base64.b64encode(b"#cloud-config\nwrite_files:\n  - path: /x\n    content: |\n      y\n").decode())
    write(d, "ud-empty", "")
    write(d, "ud-not-base64", "not base64 at all!\n")
    bomb = gzip.compress(bytes(8 << 20), mtime=0)
    cc = "#cloud-config\nwrite_files:\n  - path: /run/peerpod/initdata\n    content: |\n      %s\n" % \
        base64.b64encode(bomb).decode()
    write(d, "ud-gzip-bomb", base64.b64encode(cc.encode()).decode())


if __name__ == "__main__":
    main()
