#!/usr/bin/env bash
# cvm-image with a container image as the workload, on the host:
#  - the same OCI input built twice gives a byte-identical disk.raw;
#  - the initramfs holds the flattened tree under rootfs/ (read back with an
#    independent newc reader in Python, after objcopy and lz4 -d), the init's
#    own files untouched, and init.conf carries the resolved process;
#  - an oci-archive and a docker-archive of the same image (Debian's skopeo)
#    give the same tree;
#  - refusals are one line naming the blob, with exit status 2.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
pass=0 fail=0
check() { local d=$1; shift; if "$@"; then pass=$((pass + 1)); echo "  ok: $d"; else fail=$((fail + 1)); echo "  FAILED: $d"; fi; }
jqq() { jq -e "$@" >/dev/null; }
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cd "$top"
for tool in skopeo lz4 objcopy python3; do
	command -v "$tool" >/dev/null || { echo "test-oci-image: fatal: $tool is missing (scripts/setup-host.sh test)" >&2; exit 1; }
done
make -s -j2 all >/dev/null || exit 1
img=build/bin/cvm-image
kargs=(--init build/guest/init --stub "$(scripts/kernel.sh stub)" --linux "$(scripts/kernel.sh vmlinuz)" --uname "$(scripts/kernel.sh kver)")
export SOURCE_DATE_EPOCH=1700000000

printf 'root:x:0:0::/:/bin/sh\nweb:x:1001:1002::/srv:/bin/sh\n' >"$work/passwd"
tests/tools/mkoci.py "$work/oci" --tag v1 --entrypoint /hello-openshift --user web --expose 8080/tcp --workdir /srv \
	--env RESPONSE=hi --layer hello-openshift=build/guest/hello:0755 etc/ etc/passwd="$work/passwd" init=/etc/hostname:0644 \
	>"$work/ids"
read -r manifest config <"$work/ids"

echo "== reproducible: the same input twice"
./build.sh --workload-image "$work/oci:v1" --out "$work/a" >"$work/a.log" 2>&1; check "first build" test $? -eq 0
./build.sh --workload-image "$work/oci:v1" --out "$work/b" >"$work/b.log" 2>&1; check "second build" test $? -eq 0
check "disk.raw byte-identical" cmp -s "$work/a/disk.raw" "$work/b/disk.raw"
check "measurements.json identical and names the image" bash -c "cmp -s '$work/a/measurements.json' '$work/b/measurements.json' &&
	jq -e --arg m $manifest --arg c $config '.workload_image.manifest_digest == \$m and .workload_image.config_digest == \$c' '$work/a/measurements.json' >/dev/null"
check "build summary: manifest, config, process" bash -c "grep -q 'manifest $manifest' '$work/a.log' && grep -q 'config   $config' '$work/a.log' &&
	grep -q 'process  /hello-openshift as 1001:1002, exposes 8080/tcp' '$work/a.log'"

echo "== the initramfs, read back independently"
objcopy -O binary --only-section=.initrd "$work/a/uki.efi" "$work/initrd.lz4"
lz4 -dc "$work/initrd.lz4" >"$work/initrd.cpio" 2>/dev/null
python3 - "$work/initrd.cpio" >"$work/list" <<'EOF'
import sys
b = open(sys.argv[1], "rb").read()
o = 0
while o + 110 <= len(b) and b[o:o + 6] == b"070701":
    f = [int(b[o + 6 + 8 * i:o + 14 + 8 * i], 16) for i in range(13)]
    name = b[o + 110:o + 110 + f[11] - 1].decode()
    d = (o + 110 + f[11] + 3) & ~3
    data = b[d:d + f[6]]
    o = (d + f[6] + 3) & ~3
    if name == "TRAILER!!!":
        while o < len(b) and b[o] == 0:
            o += 1
        continue
    print("%s %o %d %d %d %s" % (name, f[1], f[2], f[3], f[5], data.decode(errors="replace") if name.endswith("init.conf") else ""))
EOF
check "the init is /init, the image's own 'init' file is rootfs/init" bash -c \
	"grep -q '^init 100755 0 0 ' '$work/list' && grep -q '^rootfs/init 100644 0 0 ' '$work/list'"
check "rootfs/hello-openshift 0755, mtime = SOURCE_DATE_EPOCH" grep -q '^rootfs/hello-openshift 100755 0 0 1700000000 ' "$work/list"
check "mount points and WorkingDir exist in the tree" bash -c \
	"for d in dev run srv; do grep -q \"^rootfs/\$d 40755 \" '$work/list' || exit 1; done;
	 grep -q '^rootfs/proc 40555 ' '$work/list' && grep -q '^rootfs/sys 40555 ' '$work/list' && grep -q '^rootfs/tmp 41777 ' '$work/list'"
check "init.conf: path, env, user resolved from /etc/passwd, root, digests" bash -c \
	"tr '\n' '|' <'$work/list' | grep -q 'path = /hello-openshift|env = RESPONSE=hi|env = PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin|uid = 1001|gid = 1002|workdir = /srv|root = /rootfs|image_manifest = $manifest|image_config = $config|'"

check "no host path in the initramfs listing or init.conf" bash -c "! grep -qF '$work' '$work/list'"

echo "== oci-archive and docker-archive of the same image"
skopeo --insecure-policy copy -q "oci:$work/oci:v1" "oci-archive:$work/img.oci.tar:v1" >/dev/null
skopeo --insecure-policy copy -q "oci:$work/oci:v1" "docker-archive:$work/img.docker.tar:web:v1" >/dev/null
for form in "img.oci.tar:v1" "img.docker.tar" "img.docker.tar:web:v1"; do
	"$img" build "${kargs[@]}" --workload-image "$work/$form" --out "$work/f" --json >"$work/f.json" 2>"$work/f.err"
	check "$form builds" test $? -eq 0
	check "$form: same config digest" jqq --arg c "$config" '.workload_image.config_digest == $c' "$work/f.json"
done
check "docker-archive has no manifest digest" jqq '.workload_image.manifest_digest == null' "$work/f.json"

echo "== refusals"
cp -r "$work/oci" "$work/bad"
layer=$(python3 -c 'import json,sys; d=sys.argv[1]; i=json.load(open(d+"/index.json")); m=json.load(open(d+"/blobs/sha256/"+i["manifests"][0]["digest"][7:])); print(m["layers"][0]["digest"])' "$work/bad")
printf 'X' | dd of="$work/bad/blobs/sha256/${layer#sha256:}" bs=1 seek=100 conv=notrunc 2>/dev/null
"$img" build "${kargs[@]}" --workload-image "$work/bad:v1" --out "$work/x" >/dev/null 2>"$work/x.err"
check "corrupted layer: exit 2" test $? -eq 2
check "one line naming the blob: $(head -c 120 "$work/x.err")..." bash -c \
	"[ \$(wc -l <'$work/x.err') -eq 1 ] && grep -q 'cvm-image: fatal: unable to use the container image .*$layer: digest mismatch' '$work/x.err'"
"$img" build "${kargs[@]}" --workload-image "$work/oci:nope" --out "$work/x" >/dev/null 2>"$work/x.err"
check "unknown tag: exit 2, names the tags" bash -c "[ $? -eq 2 ] && grep -q 'tagged nope (tags: v1)' '$work/x.err'"
"$img" build "${kargs[@]}" --workload-image "$work/oci:v1" --workload-path /x --out "$work/x" >/dev/null 2>"$work/x.err"
check "image with [workload] path: exit 2" test $? -eq 2
"$img" build "${kargs[@]}" --workload-image "$work/oci:v1" --workload-image-special maybe --out "$work/x" >/dev/null 2>"$work/x.err"
check "bad image_special: exit 2 naming the key" bash -c "[ $? -eq 2 ] && grep -q 'image_special' '$work/x.err'"
echo "test-oci-image: ${pass} passed, ${fail} failed"
[ "$fail" -eq 0 ]
