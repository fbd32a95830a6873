/* CoRIM encoder (include/cvmkit/corim.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cbor.h>

#include "cvmkit/corim.h"
#include "cvmkit/hex.h"
#include "cvmkit/refvalues.h"

/* libcbor builders return NULL on allocation failure; a NULL anywhere makes
 * the whole tree fail, checked once at the end by the callers. */
static cbor_item_t *uint_item(uint64_t v)
{
	return cbor_build_uint64(v);
}

static bool map_put(cbor_item_t *map, cbor_item_t *key, cbor_item_t *value)
{
	bool ok = map && key && value && cbor_map_add(map, (struct cbor_pair){ .key = key, .value = value });

	if (key)
		cbor_decref(&key);
	if (value)
		cbor_decref(&value);
	return ok;
}

static bool array_put(cbor_item_t *arr, cbor_item_t *item)
{
	bool ok = arr && item && cbor_array_push(arr, item);

	if (item)
		cbor_decref(&item);
	return ok;
}

static int corim_alg(enum cvm_hash_alg alg)
{
	switch (alg) {
	case CVM_HASH_SHA256:
		return CVM_CORIM_ALG_SHA256;
	case CVM_HASH_SHA384:
		return CVM_CORIM_ALG_SHA384;
	case CVM_HASH_SHA512:
		return CVM_CORIM_ALG_SHA512;
	default:
		return -1;
	}
}

static bool selected(const struct cvm_prediction *p, unsigned i, const struct cvm_corim_opts *o)
{
	return cvm_rv_takes(p, i, (o->with_profile ? CVM_RV_WITH_PROFILE : 0) | (o->with_pcr5 ? CVM_RV_WITH_PCR5 : 0));
}

static cbor_item_t *measurements(const struct cvm_prediction *p, const struct cvm_corim_opts *o, size_t *ret_n)
{
	size_t n = 0, nb = 0;
	cbor_item_t *arr;
	bool ok = true;

	for (size_t b = 0; b < p->n_banks; b++)
		nb += corim_alg(p->banks[b]) > 0;
	for (unsigned i = 0; i < CVM_PCR_COUNT; i++)
		n += selected(p, i, o);
	*ret_n = nb ? n : 0;
	if (!nb || !n)
		return NULL;
	arr = cbor_new_definite_array(n);
	for (unsigned i = 0; arr && ok && i < CVM_PCR_COUNT; i++) {
		cbor_item_t *mm, *mv, *digests;

		if (!selected(p, i, o))
			continue;
		mm = cbor_new_definite_map(2);
		mv = cbor_new_definite_map(1);
		digests = cbor_new_definite_array(nb);
		for (size_t b = 0; digests && b < p->n_banks; b++) {
			int alg = corim_alg(p->banks[b]);
			cbor_item_t *pair;

			if (alg < 0)
				continue;
			pair = cbor_new_definite_array(2);
			ok &= array_put(pair, uint_item((uint64_t)alg));
			ok &= array_put(pair, cbor_build_bytestring(p->pcr[i].value[b], cvm_hash_size(p->banks[b])));
			ok &= array_put(digests, pair);
		}
		ok &= map_put(mv, uint_item(2), digests);
		ok &= map_put(mm, uint_item(0), uint_item(i));
		ok &= map_put(mm, uint_item(1), mv);
		ok &= array_put(arr, mm);
	}
	if (!arr || !ok) {
		if (arr)
			cbor_decref(&arr);
		return NULL;
	}
	return arr;
}

int cvm_corim_build(const struct cvm_prediction *p, const struct cvm_corim_opts *opts, uint8_t **ret_buf,
		    size_t *ret_len)
{
	const struct cvm_corim_opts none = { 0 };
	const struct cvm_corim_opts *o = opts ? opts : &none;
	cbor_item_t *ms, *comid = NULL, *corim = NULL, *tagged = NULL;
	unsigned char *cbuf = NULL, *out = NULL;
	size_t n, csize = 0, clen, olen, osize = 0;
	char id[64];
	bool ok = true;
	int r = -ENOMEM;

	ms = measurements(p, o, &n);
	if (!ms)
		return n ? -ENOMEM : -ENODATA;
	if (o->id) {
		snprintf(id, sizeof(id), "%s", o->id);
	} else {
		size_t b;
		char hex[17];

		for (b = 0; b < p->n_banks && p->banks[b] != CVM_HASH_SHA256; b++)
			;
		if (b < p->n_banks && p->pcr[CVM_PCR_KERNEL_BOOT].status == CVM_PREDICT_PREDICTED)
			cvm_hex_encode(p->pcr[CVM_PCR_KERNEL_BOOT].value[b], 8, hex);
		else
			snprintf(hex, sizeof(hex), "unnamed");
		snprintf(id, sizeof(id), "cvmkit-%s", hex);
	}

	/* concise-mid-tag { 1: tag-identity, 4: triples } */
	{
		cbor_item_t *ident = cbor_new_definite_map(2), *triples = cbor_new_definite_map(1);
		cbor_item_t *reftriples = cbor_new_definite_array(1), *triple = cbor_new_definite_array(2);
		cbor_item_t *env = cbor_new_definite_map(1), *class = cbor_new_definite_map(2);

		comid = cbor_new_definite_map(2);
		ok &= map_put(ident, uint_item(0), cbor_build_string(id));
		ok &= map_put(ident, uint_item(1), uint_item(0));
		ok &= map_put(class, uint_item(1), cbor_build_string(o->vendor ? o->vendor : "cvmkit"));
		ok &= map_put(class, uint_item(2), cbor_build_string(o->model ? o->model : "uki"));
		ok &= map_put(env, uint_item(0), class);
		ok &= array_put(triple, env);
		ok &= array_put(triple, ms);
		ok &= array_put(reftriples, triple);
		ok &= map_put(triples, uint_item(0), reftriples);
		ok &= map_put(comid, uint_item(1), ident);
		ok &= map_put(comid, uint_item(4), triples);
	}
	if (!ok || !comid)
		goto out;
	clen = cbor_serialize_alloc(comid, &cbuf, &csize);
	if (!clen)
		goto out;
	/* unsigned-corim-map { 0: id, 1: [ #6.506(bstr .cbor comid) ] } */
	{
		cbor_item_t *tags = cbor_new_definite_array(1), *bytes = cbor_build_bytestring(cbuf, clen);

		corim = cbor_new_definite_map(2);
		ok &= map_put(corim, uint_item(0), cbor_build_string(id));
		ok &= array_put(tags, bytes ? cbor_build_tag(CVM_CORIM_TAG_COMID, bytes) : NULL);
		if (bytes)
			cbor_decref(&bytes);
		ok &= map_put(corim, uint_item(1), tags);
	}
	if (!ok || !corim)
		goto out;
	tagged = cbor_build_tag(CVM_CORIM_TAG_UNSIGNED, corim);
	if (!tagged)
		goto out;
	olen = cbor_serialize_alloc(tagged, &out, &osize);
	if (!olen)
		goto out;
	*ret_buf = out;
	*ret_len = olen;
	out = NULL;
	r = 0;
out:
	free(out);
	free(cbuf);
	if (tagged)
		cbor_decref(&tagged);
	if (corim)
		cbor_decref(&corim);
	if (comid)
		cbor_decref(&comid);
	return r;
}
