/* Fuzzes what cvm-image reads from a container image: the first byte picks
 * the parser, the rest is its input.
 *   0: a layer tar applied twice onto a tree (whiteouts, links, replacements),
 *      then the tree written as cpio and parsed back;
 *   1: an image config resolved into a process against that kind of tree;
 *   2: a User value resolved against passwd/group text ("user\0passwd\0group"). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cvmkit/cpio.h"
#include "cvmkit/oci.h"

static void tree_roundtrip(struct cvm_oci_tree *t)
{
	struct cvm_cpio w;
	struct cvm_cpio_reader r;
	struct cvm_cpio_entry e;
	uint8_t *buf;
	size_t len;
	long n;
	long back = 0;

	cvm_cpio_init(&w);
	n = cvm_oci_tree_cpio(t, "rootfs", 0, 1, &w);
	if (n >= 0 && cvm_cpio_finish(&w, false, &buf, &len) == 0) {
		cvm_cpio_reader_init(&r, buf, len);
		while (cvm_cpio_next(&r, &e) == 1)
			back++;
		/* Every entry the tree wrote must parse back. */
		if (back != n || (size_t)n != cvm_oci_tree_count(t))
			abort();
		free(buf);
	}
	cvm_cpio_free(&w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cvm_oci_tree *t;
	char err[CVM_OCI_ERR_MAX];

	if (size < 1 || cvm_oci_tree_new(&t) < 0)
		return 0;
	switch (data[0] % 3) {
	case 0:
		for (int i = 0; i < 2; i++)
			if (cvm_oci_tree_apply(t, data + 1, size - 1, (enum cvm_oci_special)(data[0] / 3 % 3), 5000, err,
					       sizeof(err)) < 0 && !memchr(err, 0, sizeof(err)))
				abort();
		tree_roundtrip(t);
		break;
	case 1: {
		struct cvm_oci_process p;
		const char *args[] = { "a" };
		cvm_oci_tree_mkdir(t, "/bin", 0755);
		if (cvm_oci_process_resolve(data + 1, size - 1, t, data[0] & 4 ? args : NULL, 1, NULL, 0, &p, err,
					    sizeof(err)) == 0)
			cvm_oci_process_free(&p);
		break;
	}
	default: {
		const uint8_t *user = data + 1, *pw, *gr, *end = data + size;
		uint32_t u, g;
		char ubuf[300];
		pw = memchr(user, 0, (size_t)(end - user));
		if (!pw || (size_t)(pw - user) >= sizeof(ubuf))
			break;
		memcpy(ubuf, user, (size_t)(pw - user) + 1);
		pw++;
		gr = memchr(pw, 0, (size_t)(end - pw));
		if (gr)
			cvm_oci_user_resolve(ubuf, pw, (size_t)(gr - pw), gr + 1, (size_t)(end - gr - 1), &u, &g, err, sizeof(err));
		else
			cvm_oci_user_resolve(ubuf, pw, (size_t)(end - pw), NULL, 0, &u, &g, err, sizeof(err));
		break;
	}
	}
	cvm_oci_tree_free(t);
	return 0;
}
