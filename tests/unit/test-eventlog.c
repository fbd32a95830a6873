/* measure/eventlog.c: TCG event-log parsing, replay and descriptions.
 * Expected PCRs come from the vectors (tpm2-tools replays, a TPM quote, PCRs
 * read from swtpm) and from the constants of measured-boot.md §9. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>
#include <mbedtls/base64.h>

#include "cvmkit/bytes.h"
#include "cvmkit/eventlog.h"
#include "cvmkit/hash.h"
#include "cvmkit/hex.h"
#include "cvmkit/pcr.h"
#include "testutil.h"

#define SEP_SHA256 "df3f619804a92fdb4057192dc43dd748ea778adc52bc498ce80524c014b81119"
#define SEP_PCR_SHA256 "3d458cfe55cc03ea1f443f1562beec8df51c75e14a9fcf9a7234a13f198e7969"
#define SEP_PCR_SHA1 "b2a83b0ebf2f8374299a5b2bdfc31ea955ad7236"

/* ------------------------------------------------------------ helpers */

static const struct cvm_pcr_bank_values *find_bank(const struct cvm_pcr_bank_values *v, size_t n,
						   const char *name)
{
	enum cvm_hash_alg alg;

	if (cvm_hash_from_name(name, &alg) < 0)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (v[i].alg == alg)
			return &v[i];
	return NULL;
}

static void pcr_hex(const struct cvm_pcr_bank_values *b, unsigned i, char *out)
{
	cvm_hex_encode(b->pcr[i], cvm_hash_size((enum cvm_hash_alg)b->alg), out);
}

static uint8_t *read_vec(const char *sub, size_t *len)
{
	const char *p = tu_vectors(sub);
	return tu_read(p, len);
}

/* Whether tpm2-tools' own reading of vector log SUB (SUB.yaml, when there is
 * one) shows an event with fewer digests (DigestCount) than the banks the
 * header declares (numberOfAlgorithms): such a log is refused by replay. */
static bool yaml_incomplete(const char *sub)
{
	char path[600], line[256];
	unsigned banks = 0, count;
	bool incomplete = false;
	FILE *f;

	snprintf(path, sizeof(path), "%s.yaml", tu_vectors(sub));
	f = fopen(path, "r");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		const char *s = line + strspn(line, " -");
		if (sscanf(s, "numberOfAlgorithms: %u", &count) == 1)
			banks = count;
		else if (sscanf(s, "DigestCount: %u", &count) == 1 && count < banks)
			incomplete = true;
	}
	fclose(f);
	return incomplete;
}

/* Replays a vector log into a fresh array (freed by the caller). */
static struct cvm_pcr_bank_values *replay_vec(const char *sub, size_t *ret_n)
{
	struct cvm_pcr_bank_values *v = calloc(CVM_EVLOG_MAX_BANKS, sizeof(*v));
	size_t len;
	uint8_t *buf = read_vec(sub, &len);

	assert_non_null(v);
	assert_int_equal(cvm_evlog_replay(buf, len, v, CVM_EVLOG_MAX_BANKS, ret_n), 0);
	free(buf);
	return v;
}

/* A growable byte buffer for crafted logs. */
struct blob {
	uint8_t *p;
	size_t n;
};

static void put(struct blob *b, const void *d, size_t n)
{
	b->p = realloc(b->p, b->n + n + 1);
	assert_non_null(b->p);
	if (n)
		memcpy(b->p + b->n, d, n);
	b->n += n;
}

static void put32(struct blob *b, uint32_t v)
{
	uint8_t x[4];
	cvm_put_le32(x, v);
	put(b, x, 4);
}

static void put16(struct blob *b, uint16_t v)
{
	uint8_t x[2];
	cvm_put_le16(x, v);
	put(b, x, 2);
}

static const uint16_t two_banks[] = { CVM_HASH_SHA1, CVM_HASH_SHA256 };

/* The crypto-agile header: legacy record, Spec ID Event03 with the given banks. */
static void put_specid(struct blob *b, const uint16_t *algs, uint32_t n, uint8_t vendor)
{
	static const uint8_t zero[20];
	const char sig[16] = "Spec ID Event03";

	put32(b, 0);
	put32(b, CVM_EV_NO_ACTION);
	put(b, zero, 20);
	put32(b, 16 + 4 + 4 + 4 + 4 * n + 1 + vendor);
	put(b, sig, 16);
	put32(b, 0);                              /* platformClass */
	put(b, "\x00\x02\x00\x02", 4);            /* 2.0 errata 0, uintn 2 */
	put32(b, n);
	for (uint32_t i = 0; i < n; i++) {
		put16(b, algs[i]);
		put16(b, (uint16_t)cvm_hash_size((enum cvm_hash_alg)algs[i]));
	}
	put(b, &vendor, 1);
	for (unsigned i = 0; i < vendor; i++)
		put(b, "v", 1);
}

/* A TCG_PCR_EVENT2 record whose digest in every bank is H(data). */
static void put_event2(struct blob *b, uint32_t pcr, uint32_t type, const uint16_t *algs, uint32_t n,
		       const void *data, uint32_t len)
{
	put32(b, pcr);
	put32(b, type);
	put32(b, n);
	for (uint32_t i = 0; i < n; i++) {
		uint8_t d[CVM_HASH_MAX_SIZE];
		assert_int_equal(cvm_hash((enum cvm_hash_alg)algs[i], data, len, d), 0);
		put16(b, algs[i]);
		put(b, d, cvm_hash_size((enum cvm_hash_alg)algs[i]));
	}
	put32(b, len);
	put(b, data, len);
}

static void put_locality(struct blob *b, uint32_t pcr, uint8_t loc)
{
	uint8_t data[17] = "StartupLocality";
	static const uint8_t zero[32];

	data[16] = loc;
	put32(b, pcr);
	put32(b, CVM_EV_NO_ACTION);
	put32(b, 2);
	put16(b, CVM_HASH_SHA1);
	put(b, zero, 20);
	put16(b, CVM_HASH_SHA256);
	put(b, zero, 32);
	put32(b, sizeof(data));
	put(b, data, sizeof(data));
}

static const uint8_t sep_data[4] = { 0 };

static int replay_blob(const struct blob *b, struct cvm_pcr_bank_values *v, size_t *n)
{
	return cvm_evlog_replay(b->p, b->n, v, CVM_EVLOG_MAX_BANKS, n);
}

static int count_events(const uint8_t *buf, size_t len, size_t *ret)
{
	struct cvm_evlog log;
	struct cvm_evlog_event ev;
	size_t n = 0;
	int r = cvm_evlog_open(&log, buf, len);

	if (r < 0)
		return r;
	while ((r = cvm_evlog_next(&log, &ev)) > 0)
		n++;
	*ret = n;
	return r;
}

/* ------------------------------------------------------- vector tests */

/* Every value of tpm2-tools' replays (EXPECTED-PCRS.txt) is reproduced. */
static void tpm2_tools_expected_pcrs(void **state)
{
	char line[512], file[256] = "";
	struct cvm_pcr_bank_values *v = NULL;
	size_t nv = 0, len;
	unsigned matched = 0, lines = 0, files = 0, refused = 0, refused_files = 0;
	bool incomplete = false;
	FILE *f;

	f = fopen(tu_vectors("measured-boot/tpm2-tools/EXPECTED-PCRS.txt"), "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		char bank[16], hex[2 * CVM_HASH_MAX_SIZE + 2], got[2 * CVM_HASH_MAX_SIZE + 1];
		unsigned idx;
		const struct cvm_pcr_bank_values *b;

		if (sscanf(line, "[%255[^]]]", file) == 1) {
			char sub[512];
			free(v);
			v = NULL;
			snprintf(sub, sizeof(sub), "measured-boot/tpm2-tools/%s", file);
			incomplete = yaml_incomplete(sub);
			if (incomplete) {
				/* tpm2-tools extends only the banks an event has digests
				 * for; cvmkit refuses such a log (see eventlog.h). */
				uint8_t *buf = read_vec(sub, &len);
				struct cvm_pcr_bank_values *t = calloc(CVM_EVLOG_MAX_BANKS, sizeof(*t));
				assert_non_null(t);
				assert_int_equal(cvm_evlog_replay(buf, len, t, CVM_EVLOG_MAX_BANKS, &nv), -ENODATA);
				free(t);
				free(buf);
				refused_files++;
			} else {
				v = replay_vec(sub, &nv);
			}
			files++;
			continue;
		}
		if (sscanf(line, "%15s %u %129s", bank, &idx, hex) != 3)
			continue;
		lines++;
		if (incomplete) {
			refused++;
			continue;
		}
		assert_non_null(v);
		b = find_bank(v, nv, bank);
		assert_non_null(b);
		assert_true(idx < CVM_PCR_COUNT);
		assert_true(b->touched[idx]);
		pcr_hex(b, idx, got);
		assert_string_equal(got, hex);
		matched++;
	}
	fclose(f);
	free(v);
	assert_int_equal(files, 12);
	assert_int_equal(lines, 130);
	/* event-uefiaction.bin and event-uefivar.bin: 2 digests, 4 banks declared. */
	assert_int_equal(refused_files, 2);
	assert_int_equal(refused, 4);
	assert_int_equal(matched, 126);
}

/* expected.json: format, banks, event counts and PCRs of every log case. */
static void expected_json_cases(void **state)
{
	size_t len;
	uint8_t *buf = read_vec("measured-boot/expected.json", &len);
	cJSON *root = cJSON_ParseWithLength((const char *)buf, len), *c;
	unsigned cases = 0, pcrs = 0, pcr7_events = 0, incomplete_cases = 0;

	assert_non_null(root);
	cJSON_ArrayForEach(c, cJSON_GetObjectItem(root, "cases")) {
		const char *op = cJSON_GetStringValue(cJSON_GetObjectItem(c, "operation"));
		cJSON *exp = cJSON_GetObjectItem(c, "expected"), *in = cJSON_GetObjectItem(c, "inputs"), *it;
		struct cvm_evlog log;
		struct cvm_evlog_event ev;
		struct cvm_pcr_bank_values v[CVM_EVLOG_MAX_BANKS];
		size_t nv, nev = 0, n7 = 0, llen;
		char sub[512];
		uint8_t *lbuf;
		int r;

		if (strcmp(op, "eventlog_replay") != 0 && strcmp(op, "eventlog_parse") != 0)
			continue;
		snprintf(sub, sizeof(sub), "measured-boot/%s",
			 cJSON_GetStringValue(cJSON_GetObjectItem(in, "log")));
		lbuf = read_vec(sub, &llen);
		assert_int_equal(cvm_evlog_open(&log, lbuf, llen), 0);
		assert_int_equal(log.crypto_agile, cJSON_IsTrue(cJSON_GetObjectItem(exp, "crypto_agile")));
		assert_int_equal(log.n_banks, cJSON_GetArraySize(cJSON_GetObjectItem(exp, "banks_in_log")));
		for (size_t i = 0; i < log.n_banks; i++) {
			const char *want = cJSON_GetStringValue(cJSON_GetArrayItem(cJSON_GetObjectItem(exp, "banks_in_log"), (int)i));
			assert_string_equal(cvm_hash_name((enum cvm_hash_alg)log.banks[i].alg), want);
		}
		it = cJSON_GetObjectItem(exp, "pcr7_events");
		while ((r = cvm_evlog_next(&log, &ev)) > 0) {
			nev++;
			if (ev.pcr != 7 || !it)
				continue;
			cJSON *want = cJSON_GetArrayItem(it, (int)n7++);
			char t[16], desc[256];
			const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(want, "name"));

			assert_non_null(want);
			snprintf(t, sizeof(t), "0x%x", ev.type);
			assert_string_equal(t, cJSON_GetStringValue(cJSON_GetObjectItem(want, "type")));
			if (name) {
				cvm_evlog_describe(&ev, desc, sizeof(desc));
				assert_int_equal(strncmp(desc, name, strlen(name)), 0);
				assert_string_equal(desc + strlen(name), strstr(desc, " {"));
			}
			pcr7_events++;
		}
		assert_int_equal(r, 0);
		if (it)
			assert_int_equal(n7, cJSON_GetArraySize(it));
		it = cJSON_GetObjectItem(exp, "event_count_including_header");
		if (!it)
			it = cJSON_GetObjectItem(exp, "event_count");
		assert_int_equal(nev, (size_t)cJSON_GetNumberValue(it));

		if (yaml_incomplete(sub)) {
			assert_int_equal(cvm_evlog_replay(lbuf, llen, v, CVM_EVLOG_MAX_BANKS, &nv), -ENODATA);
			free(lbuf);
			incomplete_cases++;
			cases++;
			continue;
		}
		assert_int_equal(cvm_evlog_replay(lbuf, llen, v, CVM_EVLOG_MAX_BANKS, &nv), 0);
		cJSON *bank;
		cJSON_ArrayForEach(bank, cJSON_GetObjectItem(exp, "pcrs")) {
			const struct cvm_pcr_bank_values *b = find_bank(v, nv, bank->string);
			cJSON *p;

			assert_non_null(b);
			cJSON_ArrayForEach(p, bank) {
				char got[2 * CVM_HASH_MAX_SIZE + 1];
				pcr_hex(b, (unsigned)atoi(p->string), got);
				assert_string_equal(got, cJSON_GetStringValue(p));
				pcrs++;
			}
		}
		free(lbuf);
		cases++;
	}
	cJSON_Delete(root);
	free(buf);
	/* 12 tpm2-tools logs + 4 go-attestation logs; 130 tpm2-tools values + 8 Windows,
	 * less the 4 of the two logs replay refuses (yaml_incomplete()). */
	assert_int_equal(cases, 16);
	assert_int_equal(incomplete_cases, 2);
	assert_int_equal(pcrs, 134);
	assert_int_equal(pcr7_events, 7 + 8 + 6);
}

/* The legacy SHA-1 Windows log reproduces all 24 PCRs of the quote it came with. */
static void windows_gcp_quoted_pcrs(void **state)
{
	size_t len, nv;
	uint8_t *buf = read_vec("measured-boot/go-attestation/windows_gcp_shielded_vm.json", &len);
	cJSON *root = cJSON_ParseWithLength((const char *)buf, len), *p;
	struct cvm_pcr_bank_values *v = replay_vec("measured-boot/go-attestation/windows_gcp_shielded_vm.eventlog.bin", &nv);
	unsigned compared = 0, from_events = 0;

	assert_non_null(root);
	assert_int_equal(nv, 1);
	assert_int_equal(v[0].alg, CVM_HASH_SHA1);
	cJSON_ArrayForEach(p, cJSON_GetObjectItem(cJSON_GetObjectItem(root, "Log"), "PCRs")) {
		const char *b64 = cJSON_GetStringValue(cJSON_GetObjectItem(p, "Digest"));
		unsigned idx = (unsigned)cJSON_GetNumberValue(cJSON_GetObjectItem(p, "Index"));
		uint8_t d[64];
		size_t dlen;

		assert_int_equal(cJSON_GetNumberValue(cJSON_GetObjectItem(p, "DigestAlg")), 3); /* crypto.SHA1 */
		assert_int_equal(mbedtls_base64_decode(d, sizeof(d), &dlen, (const uint8_t *)b64, strlen(b64)), 0);
		assert_int_equal(dlen, 20);
		assert_true(idx < CVM_PCR_COUNT);
		assert_memory_equal(v[0].pcr[idx], d, 20);
		compared++;
		from_events += v[0].touched[idx];
	}
	assert_int_equal(compared, 24);
	assert_int_equal(from_events, 8); /* PCRs 0, 4, 5, 7, 11, 12, 13, 14 */
	cJSON_Delete(root);
	free(buf);
	free(v);
}

/* Boots on the project's rig: replay equals the PCRs read from swtpm (except 10, IMA). */
static void ovmf_swtpm_captures(void **state)
{
	static const struct {
		const char *log, *pcrs;
	} caps[] = {
		{ "eventlog-stub252-kernel6.1.bin", "pcrs-sha256.txt" },
		{ "eventlog-stub257-kernel6.12.bin", "pcrs-sha256-stub257-kernel6.12.txt" },
	};
	unsigned matched = 0;

	for (size_t c = 0; c < CVM_ARRAY_SIZE(caps); c++) {
		char sub[256], line[256];
		size_t nv;
		struct cvm_pcr_bank_values *v;
		const struct cvm_pcr_bank_values *b;
		FILE *f;

		snprintf(sub, sizeof(sub), "measured-boot/ovmf-swtpm-capture/%s", caps[c].log);
		v = replay_vec(sub, &nv);
		assert_int_equal(nv, 4);
		b = find_bank(v, nv, "sha256");
		assert_non_null(b);
		snprintf(sub, sizeof(sub), "measured-boot/ovmf-swtpm-capture/%s", caps[c].pcrs);
		f = fopen(tu_vectors(sub), "r");
		assert_non_null(f);
		while (fgets(line, sizeof(line), f)) {
			unsigned idx;
			char hex[80], got[2 * CVM_HASH_MAX_SIZE + 1];

			assert_int_equal(sscanf(line, "%u %79s", &idx, hex), 2);
			assert_true(idx < CVM_PCR_COUNT);
			if (idx == CVM_PCR_IMA) {
				assert_false(b->touched[idx]);
				continue;
			}
			pcr_hex(b, idx, got);
			assert_string_equal(got, hex);
			matched++;
		}
		fclose(f);
		free(v);
	}
	assert_int_equal(matched, 2 * 23);
}

/* Upstream pins event #80 of event-moklisttrusted (counting the header as #0). */
static void moklisttrusted_event80(void **state)
{
	size_t len, i = 0;
	uint8_t *buf = read_vec("measured-boot/tpm2-tools/event-moklisttrusted.bin", &len);
	struct cvm_evlog log;
	struct cvm_evlog_event ev;
	char desc[512];

	assert_int_equal(cvm_evlog_open(&log, buf, len), 0);
	while (cvm_evlog_next(&log, &ev) > 0 && i < 80)
		i++;
	assert_int_equal(i, 80);
	assert_int_equal(ev.type, CVM_EV_IPL);
	assert_int_equal(ev.pcr, 8);
	/* Control characters come out escaped so a description stays on one line. */
	cvm_evlog_describe(&ev, desc, sizeof(desc));
	assert_string_equal(desc, "grub_cmd: menuentry UEFI Firmware Settings --id uefi-firmware {\\n\\t\\tfwsetup\\n\\t}");
	free(buf);
}

/* Descriptions of the single-event payloads, against expected.json's decoded fields. */
static void describe_event_blobs(void **state)
{
	static const struct {
		const char *file;
		uint32_t type;
		const char *want;
	} blobs[] = {
		{ "var-pk-empty-fedora37.eventdata.bin", CVM_EV_EFI_VARIABLE_DRIVER_CONFIG,
		  "PK {8be4df61-93ca-11d2-aa0d-00e098032b8c} 0 bytes" },
		{ "var-secureboot-absent-fedora37.eventdata.bin", CVM_EV_EFI_VARIABLE_DRIVER_CONFIG,
		  "SecureBoot {8be4df61-93ca-11d2-aa0d-00e098032b8c} 0 bytes" },
		{ "tag-linux-initrd-fedora37.eventdata.bin", CVM_EV_EVENT_TAG, "tag 0x8f3b22ec: Linux initrd" },
		{ "tag-loadoptions-ubuntu2404.eventdata.bin", CVM_EV_EVENT_TAG,
		  "tag 0x8f3b22ed: LOADED_IMAGE::LoadOptions" },
		{ "ipl-pcr12-cmdline-fedora37.eventdata.bin", CVM_EV_IPL, " console=ttyS0 console=tty0 efi=debug " },
		{ "gpt-ubuntu2104-gce.eventdata.bin", CVM_EV_EFI_GPT_EVENT,
		  "GPT disk cb2b7180-7317-44b2-b13d-ea395dabb1a7, 3 partitions" },
		{ "gpt-ubuntu2404-gce-snp.eventdata.bin", CVM_EV_EFI_GPT_EVENT,
		  "GPT disk 9b3aa448-be40-489b-b8c3-9c16fb4fb6a2, 4 partitions" },
		{ "imageload-shim-ubuntu2404.eventdata.bin", CVM_EV_EFI_BOOT_SERVICES_APPLICATION,
		  "image at 0xbcb78018, 966664 bytes file \\EFI\\ubuntu\\shimx64.efi path " },
	};

	for (size_t i = 0; i < CVM_ARRAY_SIZE(blobs); i++) {
		char sub[256], desc[512];
		size_t len;
		uint8_t *buf;
		struct cvm_evlog_event ev = { 0 };

		snprintf(sub, sizeof(sub), "measured-boot/event-blobs/%s", blobs[i].file);
		buf = read_vec(sub, &len);
		ev.type = blobs[i].type;
		ev.data = buf;
		ev.data_len = (uint32_t)len;
		cvm_evlog_describe(&ev, desc, sizeof(desc));
		assert_int_equal(strncmp(desc, blobs[i].want, strlen(blobs[i].want)), 0);
		if (ev.type != CVM_EV_EFI_BOOT_SERVICES_APPLICATION)
			assert_string_equal(desc, blobs[i].want);
		/* Truncation keeps a NUL inside the buffer. */
		memset(desc, 'x', sizeof(desc));
		cvm_evlog_describe(&ev, desc, 6);
		assert_int_equal(strlen(desc), 5);
		assert_int_equal(strncmp(desc, blobs[i].want, 5), 0);
		free(buf);
	}
}

/* --------------------------------------------------------- crafted logs */

static const uint8_t nz_digest[32] = { 1, 2, 3 };

/* The basic crafted log; the PCR 5 separator carries both digests, or (when
 * PARTIAL) only SHA-256's, and *ret_at is where that record starts. */
static void put_basic(struct blob *b, bool partial, size_t *ret_at)
{
	static const uint8_t zero12[12], junk[7] = "garbage";

	put_specid(b, two_banks, 2, 3);
	/* EV_NO_ACTION with a non-zero digest in PCR 4 must not be extended. */
	put32(b, 4);
	put32(b, CVM_EV_NO_ACTION);
	put32(b, 1);
	put16(b, CVM_HASH_SHA256);
	put(b, nz_digest, 32);
	put32(b, 0);
	put_event2(b, 4, CVM_EV_SEPARATOR, two_banks, 2, sep_data, 4);
	*ret_at = b->n;
	if (partial)
		put_event2(b, 5, CVM_EV_SEPARATOR, two_banks + 1, 1, sep_data, 4);
	else
		put_event2(b, 5, CVM_EV_SEPARATOR, two_banks, 2, sep_data, 4);
	put(b, zero12, sizeof(zero12));
	put(b, junk, sizeof(junk)); /* after padding: never parsed */
}

static void crafted_basic_and_padding(void **state)
{
	struct blob b = { 0 }, full = { 0 };
	struct cvm_pcr_bank_values v[CVM_EVLOG_MAX_BANKS];
	struct cvm_evlog_event bad;
	char hex[129];
	size_t n, nev, at, idx;

	put_basic(&b, true, &at);
	/* A record with only one of the two banks would leave SHA-1's PCR 5
	 * behind: replay refuses the log, and the event can be named. */
	assert_int_equal(replay_blob(&b, v, &n), -ENODATA);
	assert_int_equal(cvm_evlog_first_incomplete(b.p, b.n, &bad, &idx), 1);
	assert_int_equal(idx, 3);
	assert_int_equal(bad.pcr, 5);
	assert_int_equal(bad.type, CVM_EV_SEPARATOR);
	assert_int_equal(bad.offset, at);
	assert_int_equal(bad.n_digests, 1);

	put_basic(&full, false, &at);
	assert_int_equal(cvm_evlog_first_incomplete(full.p, full.n, &bad, &idx), 0);
	assert_int_equal(replay_blob(&full, v, &n), 0);
	free(full.p);
	assert_int_equal(n, 2);
	assert_int_equal(v[0].alg, CVM_HASH_SHA1);
	assert_int_equal(v[1].alg, CVM_HASH_SHA256);
	pcr_hex(&v[1], 4, hex);
	assert_string_equal(hex, SEP_PCR_SHA256);
	pcr_hex(&v[0], 4, hex);
	assert_string_equal(hex, SEP_PCR_SHA1);
	pcr_hex(&v[1], 5, hex);
	assert_string_equal(hex, SEP_PCR_SHA256);
	pcr_hex(&v[0], 5, hex);
	assert_string_equal(hex, SEP_PCR_SHA1);
	assert_true(v[0].touched[5]);
	assert_true(v[1].touched[5]);
	assert_false(v[1].touched[0]);
	/* Reset values: 17..22 all-FF, the rest zero. */
	pcr_hex(&v[1], 17, hex);
	assert_string_equal(hex, "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff");
	pcr_hex(&v[0], 23, hex);
	assert_string_equal(hex, "0000000000000000000000000000000000000000");

	assert_int_equal(count_events(b.p, b.n, &nev), 0);
	assert_int_equal(nev, 4); /* header, no-action, two separators; padding ends it */
	{
		struct cvm_evlog log;
		struct cvm_evlog_event ev;
		char desc[128];

		assert_int_equal(cvm_evlog_open(&log, b.p, b.n), 0);
		assert_true(log.crypto_agile);
		assert_int_equal(log.n_banks, 2);
		assert_int_equal(cvm_evlog_next(&log, &ev), 1);
		assert_int_equal(ev.offset, 0);
		cvm_evlog_describe(&ev, desc, sizeof(desc));
		assert_string_equal(desc, "Spec ID Event03, 2 algorithms sha1 sha256");
		assert_int_equal(cvm_evlog_next(&log, &ev), 1);
		assert_int_equal(ev.pcr, 4);
		assert_int_equal(ev.n_digests, 1);
		assert_memory_equal(ev.digests[0].digest, nz_digest, 32);
		while (cvm_evlog_next(&log, &ev) > 0)
			;
		assert_int_equal(cvm_evlog_next(&log, &ev), 0); /* stays at the end */
	}
	free(b.p);
}

/* H(reset || digest) with PCR 0's reset value ending in byte loc. */
static void expect_pcr0(uint8_t loc, const char *digest_hex, uint8_t out[32])
{
	uint8_t in[64] = { 0 };
	size_t n;
	uint8_t *d = tu_unhex(digest_hex, &n);

	assert_int_equal(n, 32);
	in[31] = loc;
	memcpy(in + 32, d, 32);
	free(d);
	assert_int_equal(cvm_hash(CVM_HASH_SHA256, in, 64, out), 0);
}

static void startup_locality(void **state)
{
	struct blob b = { 0 };
	struct cvm_pcr_bank_values v[CVM_EVLOG_MAX_BANKS];
	uint8_t want[32];
	size_t n;
	struct cvm_evlog log;
	struct cvm_evlog_event ev;
	char desc[64];

	put_specid(&b, two_banks, 2, 0);
	put_locality(&b, 0, 3);
	put_event2(&b, 0, CVM_EV_SEPARATOR, two_banks, 2, sep_data, 4);
	assert_int_equal(replay_blob(&b, v, &n), 0);
	expect_pcr0(3, SEP_SHA256, want);
	assert_memory_equal(v[1].pcr[0], want, 32);

	assert_int_equal(cvm_evlog_open(&log, b.p, b.n), 0);
	assert_int_equal(cvm_evlog_next(&log, &ev), 1);
	assert_false(log.have_locality);
	assert_int_equal(cvm_evlog_next(&log, &ev), 1);
	assert_true(log.have_locality);
	assert_int_equal(log.startup_locality, 3);
	cvm_evlog_describe(&ev, desc, sizeof(desc));
	assert_string_equal(desc, "StartupLocality 3");
	free(b.p);

	/* A locality with no later extend still shows in PCR 0. */
	b = (struct blob){ 0 };
	put_specid(&b, two_banks, 2, 0);
	put_locality(&b, 0, 4);
	assert_int_equal(replay_blob(&b, v, &n), 0);
	assert_true(v[0].touched[0]);
	cvm_hex_encode(v[0].pcr[0], 20, desc);
	assert_string_equal(desc, "0000000000000000000000000000000000000004");
	free(b.p);

	/* After PCR 0 was extended, or twice: not a faithful log. */
	b = (struct blob){ 0 };
	put_specid(&b, two_banks, 2, 0);
	put_event2(&b, 0, CVM_EV_SEPARATOR, two_banks, 2, sep_data, 4);
	put_locality(&b, 0, 3);
	n = 99;
	assert_int_equal(replay_blob(&b, v, &n), -EBADMSG);
	assert_int_equal(n, 99);
	free(b.p);
	b = (struct blob){ 0 };
	put_specid(&b, two_banks, 2, 0);
	put_locality(&b, 0, 3);
	put_locality(&b, 0, 3);
	assert_int_equal(replay_blob(&b, v, &n), -EBADMSG);
	free(b.p);
}

/* An H-CRTM event starts PCR 0 at locality 4, then is extended like any event. */
static void hcrtm_event(void **state)
{
	struct blob b = { 0 };
	struct cvm_pcr_bank_values v[CVM_EVLOG_MAX_BANKS];
	uint8_t want[32];
	size_t n;

	put_specid(&b, two_banks, 2, 0);
	put_event2(&b, 0, CVM_EV_EFI_HCRTM_EVENT, two_banks, 2, sep_data, 4);
	assert_int_equal(replay_blob(&b, v, &n), 0);
	expect_pcr0(4, SEP_SHA256, want);
	assert_memory_equal(v[1].pcr[0], want, 32);
	assert_int_equal(strcmp(cvm_evlog_type_name(CVM_EV_EFI_HCRTM_EVENT), "EV_EFI_HCRTM_EVENT"), 0);
	free(b.p);
}

/* A legacy (TPM 1.2 format) log: SHA-1 only, no header event. */
static void legacy_log(void **state)
{
	struct blob b = { 0 };
	struct cvm_pcr_bank_values v[CVM_EVLOG_MAX_BANKS];
	uint8_t d[20];
	static const uint8_t zero32[32];
	char hex[41];
	size_t n, nev;

	for (uint32_t pcr = 0; pcr < 2; pcr++) {
		put32(&b, pcr);
		put32(&b, CVM_EV_SEPARATOR);
		assert_int_equal(cvm_hash(CVM_HASH_SHA1, sep_data, 4, d), 0);
		put(&b, d, 20);
		put32(&b, 4);
		put(&b, sep_data, 4);
	}
	put(&b, zero32, 32); /* legacy padding record */
	assert_int_equal(replay_blob(&b, v, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].alg, CVM_HASH_SHA1);
	pcr_hex(&v[0], 1, hex);
	assert_string_equal(hex, SEP_PCR_SHA1);
	assert_int_equal(count_events(b.p, b.n, &nev), 0);
	assert_int_equal(nev, 2);
	{
		struct cvm_evlog log;
		assert_int_equal(cvm_evlog_open(&log, b.p, b.n), 0);
		assert_false(log.crypto_agile);
		assert_int_equal(log.n_banks, 1);
		assert_int_equal(log.banks[0].size, 20);
	}
	free(b.p);
}

/* Each named corruption fails with -EBADMSG from the parser and from replay. */
static void expect_bad(const struct blob *b, const char *what)
{
	struct cvm_pcr_bank_values v[CVM_EVLOG_MAX_BANKS];
	size_t n = 12345, nev;
	int r;

	r = replay_blob(b, v, &n);
	if (r != -EBADMSG)
		fail_msg("%s: replay returned %d, want -EBADMSG", what, r);
	assert_int_equal(n, 12345);
	r = count_events(b->p, b->n, &nev);
	if (r != -EBADMSG)
		fail_msg("%s: parse returned %d, want -EBADMSG", what, r);
}

static void malformed(void **state)
{
	struct blob good = { 0 }, b;
	size_t hdr, rec;
	static const uint16_t bad_algs[] = { CVM_HASH_SHA256, CVM_HASH_SHA256 };
	static const uint16_t six[] = { 4, 0xb, 0xc, 0xd, 0x12, 0x13 };

	put_specid(&good, two_banks, 2, 0);
	hdr = good.n;
	put_event2(&good, 4, CVM_EV_SEPARATOR, two_banks, 2, sep_data, 4);
	rec = good.n - hdr;
	assert_int_equal(rec, 12 + 22 + 34 + 4 + 4);

#define CLONE() (b.p = malloc(good.n + 1), memcpy(b.p, good.p, good.n), b.n = good.n)
	/* Truncated inside the record: header fields, a digest, the size, the data. */
	size_t cuts[] = { 1, 11, 13, 40, 70, 74, rec - 1 };
	for (size_t i = 0; i < CVM_ARRAY_SIZE(cuts); i++) {
		char what[64];
		CLONE();
		b.n = hdr + cuts[i];
		snprintf(what, sizeof(what), "truncated at +%zu", cuts[i]);
		expect_bad(&b, what);
		free(b.p);
	}
	CLONE(); cvm_put_le32(b.p + hdr + 8, 3); expect_bad(&b, "digest count > banks"); free(b.p);
	CLONE(); cvm_put_le32(b.p + hdr + 8, 0x7fffffff); expect_bad(&b, "huge digest count"); free(b.p);
	CLONE(); cvm_put_le16(b.p + hdr + 12, 0x0d); expect_bad(&b, "algorithm not in Spec ID"); free(b.p);
	CLONE(); cvm_put_le16(b.p + hdr + 34, CVM_HASH_SHA1); expect_bad(&b, "algorithm twice"); free(b.p);
	CLONE(); cvm_put_le32(b.p + hdr + rec - 8, 5); expect_bad(&b, "event size past end"); free(b.p);
	CLONE(); cvm_put_le32(b.p + hdr + rec - 8, 0xffffffff); expect_bad(&b, "huge event size"); free(b.p);
	CLONE(); cvm_put_le32(b.p + hdr, 24); expect_bad(&b, "PCR index 24"); free(b.p);
	CLONE(); cvm_put_le32(b.p + 28, 0xfffffff0); expect_bad(&b, "huge Spec ID size"); free(b.p);
	CLONE(); cvm_put_le32(b.p + 32 + 24, 0); expect_bad(&b, "Spec ID with 0 algorithms"); free(b.p);
	CLONE(); cvm_put_le32(b.p + 32 + 24, 0xffffffff); expect_bad(&b, "Spec ID with 2^32-1 algorithms"); free(b.p);
	CLONE(); cvm_put_le16(b.p + 32 + 28 + 6, 20); expect_bad(&b, "SHA-256 with 20-byte digests"); free(b.p);
	CLONE(); cvm_put_le16(b.p + 32 + 28 + 2, 0); expect_bad(&b, "digest size 0"); free(b.p);
	CLONE(); b.p[8] = 1; expect_bad(&b, "Spec ID with a digest"); free(b.p);
	CLONE(); b.p[32 + 28 + 8] = 200; expect_bad(&b, "vendorInfo past the buffer"); free(b.p);
	b.p = good.p; b.n = 0; expect_bad(&b, "empty");
	b.n = 31; expect_bad(&b, "shorter than a header");

	b = (struct blob){ 0 };
	put_specid(&b, six, 6, 0);
	expect_bad(&b, "six algorithms");
	free(b.p);
	b = (struct blob){ 0 };
	put_specid(&b, bad_algs, 2, 0);
	expect_bad(&b, "duplicate Spec ID algorithm");
	free(b.p);
	b = (struct blob){ 0 };
	put_specid(&b, two_banks, 2, 0);
	put32(&b, 0); put32(&b, 1); put32(&b, 0); put32(&b, 0);
	expect_bad(&b, "digest count 0 in a real record");
	free(b.p);
	b = (struct blob){ 0 };
	put_specid(&b, two_banks, 2, 0);
	put_locality(&b, 2, 3);
	{
		/* Well-formed as a record, so only replay, which gives it meaning, rejects it. */
		struct cvm_pcr_bank_values v[CVM_EVLOG_MAX_BANKS];
		size_t n, nev;
		assert_int_equal(count_events(b.p, b.n, &nev), 0);
		assert_int_equal(replay_blob(&b, v, &n), -EBADMSG);
	}
#undef CLONE
	free(b.p);
	free(good.p);
}

/* The parser itself reports where the corruption is; state stays usable. */
static void next_error_keeps_state(void **state)
{
	struct blob b = { 0 };
	struct cvm_evlog log, copy;
	struct cvm_evlog_event ev;

	put_specid(&b, two_banks, 2, 0);
	put_event2(&b, 4, CVM_EV_SEPARATOR, two_banks, 2, sep_data, 4);
	b.n -= 2;
	assert_int_equal(cvm_evlog_open(&log, b.p, b.n), 0);
	assert_int_equal(cvm_evlog_next(&log, &ev), 1);
	copy = log;
	assert_int_equal(cvm_evlog_next(&log, &ev), -EBADMSG);
	assert_memory_equal(&copy, &log, sizeof(log));
	free(b.p);
}

static void too_many_events(void **state)
{
	struct blob b = { 0 };
	uint8_t rec[32 + 4] = { 0 }, d[20];
	struct cvm_pcr_bank_values v[CVM_EVLOG_MAX_BANKS];
	size_t n;

	/* Legacy records (no zero-padding shape): PCR 1, EV_SEPARATOR. */
	cvm_put_le32(rec, 1);
	cvm_put_le32(rec + 4, CVM_EV_SEPARATOR);
	assert_int_equal(cvm_hash(CVM_HASH_SHA1, sep_data, 4, d), 0);
	memcpy(rec + 8, d, 20);
	cvm_put_le32(rec + 28, 4);
	b.p = malloc(sizeof(rec) * (CVM_EVLOG_MAX_EVENTS + 1));
	assert_non_null(b.p);
	for (size_t i = 0; i < CVM_EVLOG_MAX_EVENTS; i++)
		memcpy(b.p + i * sizeof(rec), rec, sizeof(rec));
	b.n = sizeof(rec) * CVM_EVLOG_MAX_EVENTS;
	assert_int_equal(replay_blob(&b, v, &n), 0);
	memcpy(b.p + b.n, rec, sizeof(rec));
	b.n += sizeof(rec);
	assert_int_equal(replay_blob(&b, v, &n), -E2BIG);
	free(b.p);
}

static void bank_limits(void **state)
{
	struct blob b = { 0 };
	struct cvm_pcr_bank_values v[CVM_EVLOG_MAX_BANKS];
	uint8_t sm3[32] = { 9 };
	size_t n = 77;
	char hex[65];

	put_specid(&b, two_banks, 2, 0);
	assert_int_equal(cvm_evlog_replay(b.p, b.n, v, 1, &n), -ENOBUFS);
	assert_int_equal(n, 77);
	free(b.p);

	/* An SM3 bank is parsed (sizes from the table) but not replayed. */
	b = (struct blob){ 0 };
	{
		static const uint8_t zero[20];
		const char sig[16] = "Spec ID Event03";
		uint8_t d[32];

		put32(&b, 0); put32(&b, CVM_EV_NO_ACTION); put(&b, zero, 20);
		put32(&b, 16 + 12 + 8 + 1);
		put(&b, sig, 16); put32(&b, 0); put(&b, "\x00\x02\x00\x02", 4); put32(&b, 2);
		put16(&b, CVM_HASH_SHA256); put16(&b, 32); put16(&b, 0x0012); put16(&b, 32);
		put(&b, "", 1);
		put32(&b, 7); put32(&b, CVM_EV_SEPARATOR); put32(&b, 2);
		assert_int_equal(cvm_hash(CVM_HASH_SHA256, sep_data, 4, d), 0);
		put16(&b, 0x0012); put(&b, sm3, 32);
		put16(&b, CVM_HASH_SHA256); put(&b, d, 32);
		put32(&b, 4); put(&b, sep_data, 4);
	}
	assert_int_equal(replay_blob(&b, v, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].alg, CVM_HASH_SHA256);
	pcr_hex(&v[0], 7, hex);
	assert_string_equal(hex, SEP_PCR_SHA256);
	free(b.p);
}

static void type_names(void **state)
{
	assert_string_equal(cvm_evlog_type_name(CVM_EV_SEPARATOR), "EV_SEPARATOR");
	assert_string_equal(cvm_evlog_type_name(CVM_EV_EFI_ACTION), "EV_EFI_ACTION");
	assert_string_equal(cvm_evlog_type_name(0x800000e0), "EV_EFI_VARIABLE_AUTHORITY");
	assert_string_equal(cvm_evlog_type_name(0xd), "EV_IPL");
	assert_null(cvm_evlog_type_name(0x13));
	assert_null(cvm_evlog_type_name(0x8000000f));
}

/* The CLI on a vector: --json gives the PCR value of the vector's expected file.
 * Needs build/bin/cvm-measure (make, or tests/run); skipped when it is not built. */
static void cli_replay_json(void **state)
{
	const char *top = getenv("CVMKIT_TOP");
	char bin[1024], cmd[4096], *out = NULL;
	size_t cap = 0, len = 0;
	FILE *p;
	cJSON *root;
	int status;

	snprintf(bin, sizeof(bin), "%s/build/bin/cvm-measure", top ? top : ".");
	/* make check builds the CLIs its tests call: a missing one is a failure. */
	if (access(bin, X_OK) != 0)
		fail_msg("%s is not built (make check builds it)", bin);
	snprintf(cmd, sizeof(cmd), "'%s' replay --json --bank sha256 --pcrs 7,12 '%s'", bin,
		 tu_vectors("measured-boot/tpm2-tools/event-sd-boot-fedora37.bin"));
	p = popen(cmd, "r");
	assert_non_null(p);
	for (;;) {
		if (len + 4096 > cap)
			out = realloc(out, cap += 65536);
		assert_non_null(out);
		size_t r = fread(out + len, 1, cap - len - 1, p);
		if (r == 0)
			break;
		len += r;
	}
	out[len] = 0;
	status = pclose(p);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	root = cJSON_Parse(out);
	assert_non_null(root);
	cJSON *bank = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "banks"), "sha256");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(bank, "7")),
			    "b5710bf57d25623e4019027da116821fa99f5c81e9e38b87671cc574f9281439");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(bank, "12")),
			    "73b2090e3e72430531e7bc7d63e88826891ef4e04d6c1e250dc5c52db24f2f48");
	assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(root, "banks"), "sha1"));
	assert_int_equal(cJSON_GetArraySize(bank), 2);
	assert_true(cJSON_GetArraySize(cJSON_GetObjectItem(root, "events")) > 0);
	cJSON_Delete(root);
	free(out);

	snprintf(cmd, sizeof(cmd), "'%s' replay /nonexistent 2>/dev/null", bin);
	status = system(cmd);
	assert_int_equal(WEXITSTATUS(status), 3);
	snprintf(cmd, sizeof(cmd), "'%s' replay --pcrs 99 x 2>/dev/null", bin);
	status = system(cmd);
	assert_int_equal(WEXITSTATUS(status), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tpm2_tools_expected_pcrs),
		cmocka_unit_test(expected_json_cases),
		cmocka_unit_test(windows_gcp_quoted_pcrs),
		cmocka_unit_test(ovmf_swtpm_captures),
		cmocka_unit_test(moklisttrusted_event80),
		cmocka_unit_test(describe_event_blobs),
		cmocka_unit_test(crafted_basic_and_padding),
		cmocka_unit_test(startup_locality),
		cmocka_unit_test(hcrtm_event),
		cmocka_unit_test(legacy_log),
		cmocka_unit_test(malformed),
		cmocka_unit_test(next_error_keeps_state),
		cmocka_unit_test(too_many_events),
		cmocka_unit_test(bank_limits),
		cmocka_unit_test(type_names),
		cmocka_unit_test(cli_replay_json),
	};
	return cmocka_run_group_tests_name("eventlog", tests, NULL, NULL);
}
