/* measure/corim.c: the CoRIM is decoded back twice — with libcbor's decoder
 * (structure walked here) and with an independent decoder, Debian's
 * python3-cbor2 — and every digest compared with the prediction's. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <cbor.h>

#include "cvmkit/corim.h"
#include "cvmkit/fileio.h"
#include "cvmkit/hex.h"
#include "testutil.h"

static struct cvm_prediction *fake_prediction(void)
{
	struct cvm_prediction *p = calloc(1, sizeof(*p));

	assert_non_null(p);
	p->n_banks = 3;
	p->banks[0] = CVM_HASH_SHA256;
	p->banks[1] = CVM_HASH_SHA1; /* no CoRIM algorithm id: left out */
	p->banks[2] = CVM_HASH_SHA384;
	for (unsigned i = 0; i < CVM_PCR_COUNT; i++) {
		p->pcr[i].status = CVM_PREDICT_PLATFORM;
		for (size_t b = 0; b < 3; b++)
			for (size_t k = 0; k < CVM_HASH_MAX_SIZE; k++)
				p->pcr[i].value[b][k] = (uint8_t)(i * 16 + b * 4 + k);
	}
	p->pcr[4].status = p->pcr[9].status = p->pcr[11].status = p->pcr[7].status = CVM_PREDICT_PREDICTED;
	p->pcr[7].profile = "qemu-ovmf";
	return p;
}

static cbor_item_t *map_get(cbor_item_t *map, uint64_t key)
{
	struct cbor_pair *pairs;

	assert_true(cbor_isa_map(map));
	pairs = cbor_map_handle(map);
	for (size_t i = 0; i < cbor_map_size(map); i++)
		if (cbor_isa_uint(pairs[i].key) && cbor_get_int(pairs[i].key) == key)
			return pairs[i].value;
	return NULL;
}

static void libcbor_decode(void **state)
{
	struct cvm_prediction *p = fake_prediction();
	static const unsigned want_pcrs[] = { 4, 9, 11 };
	struct cbor_load_result res;
	uint8_t *buf, *buf2;
	size_t len, len2;
	cbor_item_t *root, *corim, *tags, *comid_tag, *comid, *triples, *ref, *triple, *env, *ms;

	assert_int_equal(cvm_corim_build(p, NULL, &buf, &len), 0);
	assert_int_equal(cvm_corim_build(p, NULL, &buf2, &len2), 0);
	assert_int_equal(len, len2);
	assert_memory_equal(buf, buf2, len); /* deterministic */
	free(buf2);

	root = cbor_load(buf, len, &res);
	assert_non_null(root);
	assert_int_equal(res.read, len);
	assert_true(cbor_isa_tag(root));
	assert_int_equal(cbor_tag_value(root), 501);
	corim = cbor_tag_item(root);
	assert_int_equal(cbor_string_length(map_get(corim, 0)), 23);
	assert_memory_equal(cbor_string_handle(map_get(corim, 0)), "cvmkit-b0b1b2b3b4b5b6b7", 23);
	tags = map_get(corim, 1);
	assert_int_equal(cbor_array_size(tags), 1);
	comid_tag = cbor_array_get(tags, 0);
	assert_int_equal(cbor_tag_value(comid_tag), 506);
	{
		cbor_item_t *bytes = cbor_tag_item(comid_tag);
		assert_true(cbor_isa_bytestring(bytes));
		comid = cbor_load(cbor_bytestring_handle(bytes), cbor_bytestring_length(bytes), &res);
		assert_non_null(comid);
		cbor_decref(&bytes);
	}
	assert_int_equal(cbor_get_int(map_get(map_get(comid, 1), 1)), 0);
	triples = map_get(comid, 4);
	ref = map_get(triples, 0);
	assert_int_equal(cbor_array_size(ref), 1);
	triple = cbor_array_get(ref, 0);
	env = cbor_array_get(triple, 0);
	assert_memory_equal(cbor_string_handle(map_get(map_get(env, 0), 1)), "cvmkit", 6);
	ms = cbor_array_get(triple, 1);
	assert_int_equal(cbor_array_size(ms), 3);
	for (size_t i = 0; i < 3; i++) {
		cbor_item_t *m = cbor_array_get(ms, i), *digests;

		assert_int_equal(cbor_get_int(map_get(m, 0)), want_pcrs[i]);
		digests = map_get(map_get(m, 1), 2);
		assert_int_equal(cbor_array_size(digests), 2);
		for (size_t d = 0; d < 2; d++) {
			cbor_item_t *pair = cbor_array_get(digests, d), *alg = cbor_array_get(pair, 0), *val = cbor_array_get(pair, 1);
			size_t bank = d == 0 ? 0 : 2;

			assert_int_equal(cbor_get_int(alg), d == 0 ? 1 : 7);
			assert_int_equal(cbor_bytestring_length(val), d == 0 ? 32 : 48);
			assert_memory_equal(cbor_bytestring_handle(val), p->pcr[want_pcrs[i]].value[bank], d == 0 ? 32 : 48);
			cbor_decref(&alg);
			cbor_decref(&val);
			cbor_decref(&pair);
		}
		cbor_decref(&m);
	}
	cbor_decref(&ms);
	cbor_decref(&env);
	cbor_decref(&triple);
	cbor_decref(&comid);
	cbor_decref(&comid_tag);
	cbor_decref(&root);
	free(buf);

	/* Profile-bound PCR 7 only on request; nothing predicted -> -ENODATA. */
	{
		struct cvm_corim_opts o = { .with_profile = true, .id = "x", .vendor = "v", .model = "m" };
		assert_int_equal(cvm_corim_build(p, &o, &buf, &len), 0);
		root = cbor_load(buf, len, &res);
		assert_non_null(root);
		corim = cbor_tag_item(root);
		assert_memory_equal(cbor_string_handle(map_get(corim, 0)), "x", 1);
		cbor_decref(&corim);
		cbor_decref(&root);
		free(buf);
	}
	for (unsigned i = 0; i < CVM_PCR_COUNT; i++)
		p->pcr[i].status = CVM_PREDICT_PLATFORM;
	assert_int_equal(cvm_corim_build(p, NULL, &buf, &len), -ENODATA);
	free(p);
}

/* python3-cbor2 (Debian package) as the independent decoder: it prints one
 * line per measurement, "PCR alg hex alg hex", compared with the prediction. */
static void independent_decoder(void **state)
{
	static const char script[] =
		"import cbor2,sys\n"
		"d=cbor2.load(open(sys.argv[1],'rb'))\n"
		"assert d.tag==501\n"
		"t=d.value[1][0]\n"
		"assert t.tag==506\n"
		"m=cbor2.loads(t.value)\n"
		"print(m[1][0], m[4][0][0][0][0][1], m[4][0][0][0][0][2])\n"
		"for e in m[4][0][0][1]:\n"
		"  print(e[0], ' '.join('%d %s'%(a,v.hex()) for a,v in e[1][2]))\n";
	struct cvm_prediction *p;
	char *dir, path[4096], cmd[8192], line[512], want[512], h1[65], h2[97];
	uint8_t *buf;
	size_t len;
	FILE *f;
	int n = 0, st;

	tu_require_python_module("cbor2");
	p = fake_prediction();
	dir = tu_mkdtemp();
	assert_int_equal(cvm_corim_build(p, NULL, &buf, &len), 0);
	snprintf(path, sizeof(path), "%s/c.cbor", dir);
	assert_int_equal(cvm_write_file_atomic(path, buf, len, 0600), 0);
	snprintf(cmd, sizeof(cmd), "%s/d.py", dir);
	assert_int_equal(cvm_write_file_atomic(cmd, script, strlen(script), 0600), 0);
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s/d.py %s", dir, path);
	f = popen(cmd, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (n == 0) {
			assert_string_equal(line, "cvmkit-b0b1b2b3b4b5b6b7 cvmkit uki");
		} else {
			static const unsigned pcrs[] = { 4, 9, 11 };
			unsigned i = pcrs[n - 1];
			cvm_hex_encode(p->pcr[i].value[0], 32, h1);
			cvm_hex_encode(p->pcr[i].value[2], 48, h2);
			snprintf(want, sizeof(want), "%u 1 %s 7 %s", i, h1, h2);
			assert_string_equal(line, want);
		}
		n++;
	}
	st = pclose(f);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_equal(n, 4);
	free(buf);
	tu_rmtree(dir);
	free(dir);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(libcbor_decode),
		cmocka_unit_test(independent_decoder),
	};
	return cmocka_run_group_tests_name("corim", tests, NULL, NULL);
}
