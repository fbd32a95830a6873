/* PCR prediction from the final bytes of a cvmkit image (include/cvmkit/predict.h).
 *
 * Every event modelled here was compared with a real OVMF + swtpm boot of a
 * systemd-stub 257 UKI (vectors/measured-boot/ovmf-swtpm-capture and
 * tests/boot/test-boot-measure.sh): the order of events inside each PCR is
 * the order the firmware, systemd-stub and the Linux EFI stub log them.
 *
 * The large digests (Authenticode of the UKI and of .linux, section contents,
 * the initrd blob; a few dozen MB per bank) are independent of each other:
 * they are queued while the events are laid out, computed together on a small
 * thread pool (hashjobs.h), and only then is every PCR replayed in event
 * order.  Small events are hashed on the spot. */
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "cvmkit/bytes.h"
#include "cvmkit/cpio.h"
#include "cvmkit/eventlog.h"
#include "cvmkit/fat.h"
#include "cvmkit/gpt.h"
#include "cvmkit/hash.h"
#include "cvmkit/pe.h"
#include "cvmkit/predict.h"
#include "cvmkit/uki.h"
#include "cvmkit/vhd.h"

#include "efiguid.h"
#include "hashjobs.h"

static const char ACTION_BOOT_OPTION[] = "Calling EFI Application from Boot Option";
static const char ACTION_RETURNING[] = "Returning from EFI Application from Boot Option";
static const char ACTION_EBS_INVOCATION[] = "Exit Boot Services Invocation";
static const char ACTION_EBS_SUCCESS[] = "Exit Boot Services Returned with Success";
static const uint8_t SEPARATOR[4] = { 0, 0, 0, 0 };


#define SDMAGIC_PREFIX "#### LoaderInfo: systemd-stub "

/* One UKI being predicted: the queued digests and the section memory they
 * point into, all alive until the batch has run. */
struct predictor {
	struct cvm_prediction *p;
	const uint8_t *uki;
	size_t len;
	struct cvm_pe pe;
	struct hashjobs jobs;
	const uint8_t *mem[CVM_PE_MAX_SECTIONS];  /* NULL until first needed */
	size_t mem_len[CVM_PE_MAX_SECTIONS];
};

static struct cvm_predict_event *new_event(struct cvm_prediction *p, unsigned pcr, uint32_t type, const char *desc)
{
	struct cvm_predict_pcr *x = &p->pcr[pcr];
	struct cvm_predict_event *e;

	if (x->n_events >= CVM_PREDICT_MAX_EVENTS)
		return NULL; /* cannot happen: the largest list is 26 events */
	e = &x->events[x->n_events++];
	e->type = type;
	snprintf(e->desc, sizeof(e->desc), "%s", desc);
	return e;
}

/* An event whose digest is the hash of its data in every bank. */
static int add_data_event(struct cvm_prediction *p, unsigned pcr, uint32_t type, const char *desc,
			  const void *data, size_t len)
{
	struct cvm_predict_event *e = new_event(p, pcr, type, desc);
	int r;

	if (!e)
		return -E2BIG;
	for (size_t b = 0; b < p->n_banks; b++) {
		r = cvm_hash(p->banks[b], data, len, e->digest[b]);
		if (r < 0)
			return r;
	}
	return 0;
}

/* An event whose digests are queued: H(pieces), padded as hashjobs.h says. */
static int add_queued_event(struct predictor *c, unsigned pcr, uint32_t type, const char *desc,
			    const struct hashjob_piece *pieces, size_t n, bool pad4)
{
	struct cvm_predict_event *e = new_event(c->p, pcr, type, desc);
	int r = 0;

	if (!e)
		return -E2BIG;
	for (size_t b = 0; b < c->p->n_banks && r >= 0; b++)
		r = hashjobs_add_digest(&c->jobs, c->p->banks[b], pieces, n, pad4, e->digest[b]);
	return r;
}

static int add_authenticode_event(struct predictor *c, const char *desc, const uint8_t *pe, size_t len)
{
	struct cvm_predict_event *e = new_event(c->p, CVM_PCR_BOOT_LOADER_CODE, CVM_EV_EFI_BOOT_SERVICES_APPLICATION, desc);
	int r = 0;

	if (!e)
		return -E2BIG;
	for (size_t b = 0; b < c->p->n_banks && r >= 0; b++)
		r = hashjobs_add_authenticode(&c->jobs, c->p->banks[b], pe, len, e->digest[b]);
	return r;
}

/* cvm_pe_section_memory() of section s, materialised once per prediction
 * (.linux and .initrd are used by several PCRs) and not copied at all when
 * the raw data covers VirtualSize: then the memory image is a slice of the
 * UKI.  Same errors as cvm_pe_section_memory(). */
static int section_memory(struct predictor *c, const struct cvm_pe_section *s, const uint8_t **ret_buf,
			  size_t *ret_len)
{
	size_t i = (size_t)(s - c->pe.sections);
	int r;

	if (!c->mem[i]) {
		if (s->virtual_size == 0 || s->virtual_size > s->size_of_raw_data) {
			uint8_t *m = NULL;

			r = cvm_pe_section_memory(c->uki, c->len, s, &m, &c->mem_len[i]);
			if (r >= 0)
				r = hashjobs_keep(&c->jobs, m);
			if (r < 0)
				return r;
			c->mem[i] = m;
		} else {
			if (s->virtual_size > CVM_PE_SECTION_MEMORY_MAX)
				return -EFBIG;
			if ((uint64_t)s->pointer_to_raw_data + s->virtual_size > c->len)
				return -EBADMSG;
			c->mem[i] = c->uki + s->pointer_to_raw_data;
			c->mem_len[i] = s->virtual_size;
		}
	}
	*ret_buf = c->mem[i];
	*ret_len = c->mem_len[i];
	return 0;
}

int cvm_predict_stub_version(const uint8_t *buf, size_t len, const struct cvm_pe *pe, unsigned *ret_major,
			     char ret_ident[64])
{
	const struct cvm_pe_section *s = cvm_pe_find_section(pe, ".sdmagic");
	const size_t plen = sizeof(SDMAGIC_PREFIX) - 1;
	char text[128], ident[64];
	size_t n, i = 0;
	unsigned major = 0;

	if (!s)
		return -ENOENT;
	/* The text is NUL-padded inside the raw data; VirtualSize is its length. */
	n = s->virtual_size < s->size_of_raw_data ? s->virtual_size : s->size_of_raw_data;
	if (n >= sizeof(text))
		n = sizeof(text) - 1;
	if (s->pointer_to_raw_data > len || n > len - s->pointer_to_raw_data)
		return -EBADMSG;
	memcpy(text, buf + s->pointer_to_raw_data, n);
	text[n] = '\0';
	if (strncmp(text, SDMAGIC_PREFIX, plen) != 0)
		return strncmp(text, "#### LoaderInfo: ", 17) == 0 ? -ENOENT : -EBADMSG;
	while (text[plen + i] && text[plen + i] != ' ' && i < sizeof(ident) - 1) {
		char c = text[plen + i];

		if (c < 0x21 || c > 0x7e)
			return -EBADMSG;
		ident[i++] = c;
	}
	ident[i] = '\0';
	if (strcmp(text + plen + i, " ####") != 0)
		return -EBADMSG;
	for (i = 0; ident[i] >= '0' && ident[i] <= '9' && i < 6; i++)
		major = major * 10 + (unsigned)(ident[i] - '0');
	if (i == 0 || (ident[i] != '\0' && ident[i] != '.' && ident[i] != '~' && ident[i] != '-'))
		return -EBADMSG;
	*ret_major = major;
	memcpy(ret_ident, ident, sizeof(ident));
	return 0;
}

int cvm_predict_section_extend(enum cvm_hash_alg alg, const char *name, const uint8_t *data, size_t len,
			       uint8_t *pcr)
{
	uint8_t d[CVM_HASH_MAX_SIZE];
	int r;

	r = cvm_hash(alg, name, strlen(name) + 1, d);
	if (r >= 0)
		r = cvm_pcr_extend(alg, pcr, d);
	if (r >= 0)
		r = cvm_hash(alg, data, len, d);
	if (r >= 0)
		r = cvm_pcr_extend(alg, pcr, d);
	return r < 0 ? r : 0;
}

int cvm_predict_load_options(unsigned stub, const uint8_t *cmdline, size_t len, uint8_t **ret_buf,
			     size_t *ret_len)
{
	size_t start = 0, end, n;
	uint8_t *out;

	for (size_t i = 0; i < len; i++)
		if (cmdline[i] >= 0x80)
			return -EOPNOTSUPP;
	for (n = 0; n < len && cmdline[n]; n++)
		;
	end = n;
	if (stub >= 256) {
		/* src/boot/efi/stub.c mangle_stub_cmdline(): whitespace and
		 * control characters become spaces, both ends are trimmed. */
		while (start < end && (cmdline[start] <= 0x20 || cmdline[start] == 0x7f))
			start++;
		while (end > start && (cmdline[end - 1] <= 0x20 || cmdline[end - 1] == 0x7f))
			end--;
	}
	n = end - start;
	out = malloc(2 * (n + 1));
	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = cmdline[start + i];

		if (stub >= 256 && (c < 0x20 || c == 0x7f))
			c = ' ';
		out[2 * i] = c;
		out[2 * i + 1] = 0;
	}
	out[2 * n] = out[2 * n + 1] = 0;
	*ret_buf = out;
	*ret_len = 2 * (n + 1);
	return 0;
}

int cvm_predict_uefi_variable(const uint8_t guid[16], const char *name, const uint8_t *data, size_t len,
			      uint8_t **ret_buf, size_t *ret_len)
{
	size_t nlen = strlen(name), total = 32 + 2 * nlen + len;
	uint8_t *out = malloc(total ? total : 1);

	if (!out)
		return -ENOMEM;
	memcpy(out, guid, 16);
	cvm_put_le64(out + 16, nlen);
	cvm_put_le64(out + 24, len);
	for (size_t i = 0; i < nlen; i++)
		cvm_put_le16(out + 32 + 2 * i, (uint8_t)name[i]);
	if (len)
		memcpy(out + 32 + 2 * nlen, data, len);
	*ret_buf = out;
	*ret_len = total;
	return 0;
}

/* The section systemd-stub STUB picks for NAME: up to 256 the last section
 * whose name starts with NAME, from 257 the first exact match. */
static const struct cvm_pe_section *stub_section(const struct cvm_pe *pe, unsigned stub, const char *name)
{
	const struct cvm_pe_section *found = NULL;

	if (stub >= 257)
		return cvm_pe_find_section(pe, name);
	for (size_t i = 0; i < pe->n_sections; i++)
		if (strncmp(pe->sections[i].name, name, strlen(name)) == 0)
			found = &pe->sections[i];
	return found;
}

/* PCR 7 as Debian 12's OVMF_CODE_4M.fd with a fresh OVMF_VARS_4M.fd measures
 * it (Secure Boot off, no keys): SecureBoot holds one zero byte, PK, KEK, db
 * and dbx are absent and measured with no data, then the separator.  With
 * the platform's variables (sb): their contents (dbt only when present, as
 * edk2 Tcg2Dxe does), the separator, and with Secure Boot on the db entry
 * that authorised the UKI, which DxeImageVerificationLib measures when it
 * loads it. */
static int predict_pcr7(struct predictor *c, const struct cvm_sbvars *sb)
{
	static const uint8_t *const guids[CVM_SBVAR_COUNT] = { cvm_efi_guid_global, cvm_efi_guid_global, cvm_efi_guid_secdb, cvm_efi_guid_secdb,
								cvm_efi_guid_secdb };
	struct cvm_prediction *p = c->p;
	uint8_t flag = sb ? (uint8_t)sb->secure_boot : 0, *d = NULL;
	size_t dl = 0;
	char desc[CVM_PREDICT_DESC_MAX];
	int r;

	if (sb && sb->secure_boot != 0 && sb->secure_boot != 1)
		return -EINVAL;
	r = cvm_predict_uefi_variable(cvm_efi_guid_global, "SecureBoot", &flag, 1, &d, &dl);
	if (r < 0)
		return r;
	snprintf(desc, sizeof(desc), "SecureBoot (%02x, Secure Boot %s)", flag, flag ? "on" : "off");
	r = add_data_event(p, CVM_PCR_SECURE_BOOT_POLICY, CVM_EV_EFI_VARIABLE_DRIVER_CONFIG, desc, d, dl);
	free(d);
	for (int i = 0; i < CVM_SBVAR_COUNT && r >= 0; i++) {
		const uint8_t *data = sb ? sb->data[i] : NULL;
		size_t len = sb ? sb->len[i] : 0;

		if (i == CVM_SBVAR_DBT && !(sb && sb->present[i]))
			continue;
		r = cvm_predict_uefi_variable(guids[i], cvm_sbvar_name(i), data, len, &d, &dl);
		if (r < 0)
			break;
		if (len)
			snprintf(desc, sizeof(desc), "%s (%zu bytes of signature lists)", cvm_sbvar_name(i), len);
		else
			snprintf(desc, sizeof(desc), "%s (empty)", cvm_sbvar_name(i));
		r = add_data_event(p, CVM_PCR_SECURE_BOOT_POLICY, CVM_EV_EFI_VARIABLE_DRIVER_CONFIG, desc, d, dl);
		free(d);
	}
	if (r >= 0)
		r = add_data_event(p, CVM_PCR_SECURE_BOOT_POLICY, CVM_EV_SEPARATOR, "separator 00000000", SEPARATOR, 4);
	if (r < 0 || !flag)
		return r;
	{
		uint8_t auth[32], *sig = NULL;
		size_t slen = 0;

		r = cvm_pe_authenticode(c->uki, c->len, CVM_HASH_SHA256, auth);
		if (r >= 0)
			r = cvm_sbvars_authority(sb, c->uki, c->len, auth, &sig, &slen);
		if (r == -ENOENT)
			return -EKEYREJECTED;
		if (r >= 0)
			r = cvm_predict_uefi_variable(cvm_efi_guid_secdb, "db", sig, slen, &d, &dl);
		free(sig);
		if (r < 0)
			return r;
		r = add_data_event(p, CVM_PCR_SECURE_BOOT_POLICY, CVM_EV_EFI_VARIABLE_AUTHORITY,
				   "db entry that authorised the UKI", d, dl);
		free(d);
	}
	return r;
}

/* PCR 9: the Linux EFI stub measures LoadOptions, then the initrd that
 * systemd-stub serves through LoadFile2. */
static int predict_pcr9(struct predictor *c)
{
	struct cvm_prediction *p = c->p;
	const unsigned stub = p->stub_version;
	const struct cvm_pe_section *s;
	struct hashjob_piece pieces[5];
	const uint8_t *mem;
	size_t n = 0, mlen;
	uint8_t *lo = NULL;
	size_t lolen = 0;
	int r;

	s = stub_section(&c->pe, stub, ".cmdline");
	if (!s || s->virtual_size == 0) {
		/* Without .cmdline the boot entry's own LoadOptions reach the
		 * kernel: a property of the firmware's boot entry, not the image. */
		p->pcr[CVM_PCR_KERNEL_INITRD].status = CVM_PREDICT_PLATFORM;
		p->pcr[CVM_PCR_KERNEL_INITRD].why = "the UKI has no .cmdline: the firmware boot entry's LoadOptions reach the kernel";
		return 0;
	}
	r = section_memory(c, s, &mem, &mlen);
	if (r < 0)
		return r;
	r = cvm_predict_load_options(stub, mem, mlen, &lo, &lolen);
	if (r < 0)
		return r;
	r = add_data_event(p, CVM_PCR_KERNEL_INITRD, CVM_EV_EVENT_TAG,
			   "LOADED_IMAGE::LoadOptions (.cmdline as UTF-16LE + NUL)", lo, lolen);
	free(lo);
	if (r < 0)
		return r;

	/* The pieces of the initrd blob in systemd-stub's order (stub.c,
	 * generate_embedded_initrds / initrds[]); .ucode only from 256, the
	 * .osrel cpio only from 257. */
	{
		static const struct {
			const char *section, *cpio_name;
			unsigned since;
		} order[] = {
			{ ".ucode", NULL, 256 },
			{ ".initrd", NULL, 0 },
			{ ".pcrsig", "tpm2-pcr-signature.json", 0 },
			{ ".pcrpkey", "tpm2-pcr-public-key.pem", 0 },
			{ ".osrel", "os-release", 257 },
		};

		for (size_t i = 0; i < CVM_ARRAY_SIZE(order); i++) {
			if (stub < order[i].since)
				continue;
			s = stub_section(&c->pe, stub, order[i].section);
			if (!s || s->virtual_size == 0)
				continue;
			r = section_memory(c, s, &mem, &mlen);
			if (r < 0)
				return r;
			pieces[n].buf = mem;
			pieces[n].len = mlen;
			if (order[i].cpio_name) {
				uint8_t *cpio = NULL;

				r = cvm_cpio_stub_extra(".extra", order[i].cpio_name, 0444, mem, mlen, &cpio,
							&pieces[n].len);
				if (r >= 0)
					r = hashjobs_keep(&c->jobs, cpio);
				if (r < 0)
					return r;
				pieces[n].buf = cpio;
			}
			n++;
		}
	}
	if (n == 0)
		return 0;
	/* One piece is passed verbatim; several are each padded to 4. */
	return add_queued_event(c, CVM_PCR_KERNEL_INITRD, CVM_EV_EVENT_TAG,
				n == 1 ? "Linux initrd (.initrd)" : "Linux initrd (pieces padded to 4, incl. the .extra cpios)",
				pieces, n, n > 1);
}

static int predict_pcr11(struct predictor *c)
{
	struct cvm_prediction *p = c->p;
	const enum cvm_uki_section *list;
	int n = cvm_uki_measured_sections(p->stub_version, &list), r = 0;

	if (n < 0)
		return n;
	for (int i = 0; i < n && r >= 0; i++) {
		const char *name = cvm_uki_section_name(list[i]);
		const struct cvm_pe_section *s = stub_section(&c->pe, p->stub_version, name);
		struct hashjob_piece content;
		char desc[CVM_PREDICT_DESC_MAX];

		if (!s || s->virtual_size == 0)
			continue;
		snprintf(desc, sizeof(desc), "section name %s", name);
		r = add_data_event(p, CVM_PCR_KERNEL_BOOT, CVM_EV_IPL, desc, name, strlen(name) + 1);
		if (r >= 0)
			r = section_memory(c, s, &content.buf, &content.len);
		if (r < 0)
			break;
		snprintf(desc, sizeof(desc), "section %s content (%zu bytes)", name, content.len);
		r = add_queued_event(c, CVM_PCR_KERNEL_BOOT, CVM_EV_IPL, desc, &content, 1, false);
	}
	return r < 0 ? r : 0;
}

static int predict_pcr4(struct predictor *c, unsigned failed_boots, bool secure_boot)
{
	struct cvm_prediction *p = c->p;
	const struct cvm_pe_section *s;
	const uint8_t *mem;
	size_t mlen;
	int r;

	r = add_data_event(p, CVM_PCR_BOOT_LOADER_CODE, CVM_EV_EFI_ACTION, ACTION_BOOT_OPTION, ACTION_BOOT_OPTION,
			   strlen(ACTION_BOOT_OPTION));
	if (r >= 0)
		r = add_data_event(p, CVM_PCR_BOOT_LOADER_CODE, CVM_EV_SEPARATOR, "separator 00000000", SEPARATOR, 4);
	/* edk2 Tcg2Dxe OnReadyToBoot: every later ReadyToBoot (one per boot
	 * option tried) logs the return from the previous one and a new call. */
	for (unsigned i = 0; i < failed_boots && r >= 0; i++) {
		r = add_data_event(p, CVM_PCR_BOOT_LOADER_CODE, CVM_EV_EFI_ACTION, ACTION_RETURNING, ACTION_RETURNING,
				   strlen(ACTION_RETURNING));
		if (r >= 0)
			r = add_data_event(p, CVM_PCR_BOOT_LOADER_CODE, CVM_EV_EFI_ACTION, ACTION_BOOT_OPTION,
					   ACTION_BOOT_OPTION, strlen(ACTION_BOOT_OPTION));
	}
	if (r >= 0)
		r = add_authenticode_event(c, "Authenticode of EFI/BOOT/BOOTX64.EFI (the UKI)", c->uki, c->len);
	if (r < 0)
		return r;
	/* Secure Boot off and stub <= 257: the stub starts .linux through the
	 * firmware's LoadImage, which measures it like any other image.  With
	 * Secure Boot on, the stub's security override (src/boot/efi/linux.c
	 * load_image, installed only then) answers for its own payload without
	 * calling the firmware's handlers, measurement included. */
	s = stub_section(&c->pe, p->stub_version, ".linux");
	if (secure_boot || !s || s->virtual_size == 0)
		return 0;
	r = section_memory(c, s, &mem, &mlen);
	if (r >= 0)
		r = add_authenticode_event(c, "Authenticode of .linux (the stub starts it through LoadImage)", mem, mlen);
	return r < 0 ? r : 0;
}

static int predict_pcr5(struct cvm_prediction *p, const uint8_t *disk, size_t len)
{
	uint8_t *gpt = NULL;
	size_t glen = 0;
	int r;

	r = cvm_gpt_event_data(disk, len, &gpt, &glen);
	if (r < 0)
		return r;
	r = add_data_event(p, CVM_PCR_BOOT_LOADER_CONFIG, CVM_EV_SEPARATOR, "separator 00000000", SEPARATOR, 4);
	if (r >= 0)
		r = add_data_event(p, CVM_PCR_BOOT_LOADER_CONFIG, CVM_EV_EFI_GPT_EVENT,
				   "EFI_GPT_DATA (GPT header and entries as on disk)", gpt, glen);
	if (r >= 0)
		r = add_data_event(p, CVM_PCR_BOOT_LOADER_CONFIG, CVM_EV_EFI_ACTION, ACTION_EBS_INVOCATION,
				   ACTION_EBS_INVOCATION, strlen(ACTION_EBS_INVOCATION));
	if (r >= 0)
		r = add_data_event(p, CVM_PCR_BOOT_LOADER_CONFIG, CVM_EV_EFI_ACTION, ACTION_EBS_SUCCESS,
				   ACTION_EBS_SUCCESS, strlen(ACTION_EBS_SUCCESS));
	free(gpt);
	return r < 0 ? r : 0;
}

/* Replays each predicted PCR's events from its reset value. */
static int finish(struct cvm_prediction *p)
{
	for (unsigned i = 0; i < CVM_PCR_COUNT; i++) {
		struct cvm_predict_pcr *x = &p->pcr[i];

		if (x->status != CVM_PREDICT_PREDICTED)
			continue;
		for (size_t b = 0; b < p->n_banks; b++) {
			memset(x->value[b], cvm_pcr_reset_byte(i), cvm_hash_size(p->banks[b]));
			for (size_t k = 0; k < x->n_events; k++) {
				int r = cvm_pcr_extend(p->banks[b], x->value[b], x->events[k].digest[b]);
				if (r < 0)
					return r;
			}
		}
	}
	return 0;
}

static int predict_uki(struct cvm_prediction *p, const uint8_t *uki, size_t len, const uint8_t *disk, size_t dlen,
		       const struct cvm_predict_opts *o)
{
	struct predictor *c = calloc(1, sizeof(*c));
	const struct cvm_pe *pe;
	const enum cvm_uki_section *list;
	const struct cvm_sbvars *sb = o ? o->sb : NULL;
	bool sb_on = sb && sb->secure_boot == 1;
	int r, rj;

	if (!c)
		return -ENOMEM;
	c->p = p;
	c->uki = uki;
	c->len = len;
	pe = &c->pe;
	hashjobs_init(&c->jobs);
	r = cvm_pe_parse(uki, len, &c->pe);
	if (r < 0)
		goto out;
	if (o && o->stub_version) {
		p->stub_version = o->stub_version;
		p->stub_ident[0] = '\0';
	} else {
		r = cvm_predict_stub_version(uki, len, pe, &p->stub_version, p->stub_ident);
		if (r < 0) {
			r = -EBADMSG;
			goto out;
		}
	}
	r = cvm_uki_measured_sections(p->stub_version, &list);
	if (r < 0)
		goto out;
	/* Multi-profile UKIs measure the selected profile's sections: not modelled. */
	if (stub_section(pe, p->stub_version, ".profile")) {
		r = -EOPNOTSUPP;
		goto out;
	}
	for (unsigned i = 0; i < CVM_PCR_COUNT; i++) {
		p->pcr[i].status = CVM_PREDICT_PLATFORM;
		p->pcr[i].why = cvm_pcr_info(i)->why;
	}
	p->pcr[CVM_PCR_BOOT_LOADER_CODE].status = CVM_PREDICT_PREDICTED;
	p->pcr[CVM_PCR_BOOT_LOADER_CODE].why = sb_on ? "action, separator, UKI Authenticode (Secure Boot on: .linux unmeasured)"
						    : "action, separator, UKI and .linux Authenticode (Secure Boot off)";
	p->pcr[CVM_PCR_BOOT_LOADER_CONFIG].status = disk ? CVM_PREDICT_PREDICTED : CVM_PREDICT_NEEDS_DISK;
	p->pcr[CVM_PCR_BOOT_LOADER_CONFIG].why = disk ? "separator, GPT, ExitBootServices"
						      : "needs the disk image (GPT header and entries)";
	p->pcr[CVM_PCR_SECURE_BOOT_POLICY].status = CVM_PREDICT_PREDICTED;
	if (sb) {
		p->pcr[CVM_PCR_SECURE_BOOT_POLICY].why = sb->inferred
			? "Secure Boot variables from a model of the platform firmware (inferred; see secureboot_vars)"
			: "Secure Boot variables as the firmware stores them (see secureboot_vars)";
		p->secure_boot = sb_on;
		p->sb_inferred = sb->inferred;
		snprintf(p->sb_source, sizeof(p->sb_source), "%s", sb->source);
	} else {
		p->pcr[CVM_PCR_SECURE_BOOT_POLICY].profile = "qemu-ovmf";
		p->pcr[CVM_PCR_SECURE_BOOT_POLICY].why =
			"Debian OVMF, fresh variables, Secure Boot off; on Azure it depends on the security profile";
	}
	p->pcr[CVM_PCR_INIT_DATA].status = CVM_PREDICT_PREDICTED;
	p->pcr[CVM_PCR_INIT_DATA].why = "nothing measured (an init-data extend would change it)";
	p->pcr[CVM_PCR_KERNEL_INITRD].status = CVM_PREDICT_PREDICTED;
	p->pcr[CVM_PCR_KERNEL_INITRD].why = "LoadOptions (.cmdline) and the initrd the stub hands over";
	p->pcr[CVM_PCR_KERNEL_BOOT].status = CVM_PREDICT_PREDICTED;
	p->pcr[CVM_PCR_KERNEL_BOOT].why = "systemd-stub UKI section measurements";
	p->pcr[CVM_PCR_KERNEL_CONFIG].status = CVM_PREDICT_PREDICTED;
	p->pcr[CVM_PCR_KERNEL_CONFIG].why = "nothing measured (no command-line override, credentials or addons)";
	p->pcr[CVM_PCR_SYSEXTS].status = CVM_PREDICT_PREDICTED;
	p->pcr[CVM_PCR_SYSEXTS].why = "nothing measured (no system extensions)";

	r = predict_pcr4(c, o ? o->failed_boot_options : 0, sb_on);
	if (r >= 0 && disk)
		r = predict_pcr5(p, disk, dlen);
	if (r >= 0)
		r = predict_pcr7(c, sb);
	if (r >= 0)
		r = predict_pcr9(c);
	if (r >= 0)
		r = predict_pcr11(c);
	/* Every job was queued before the step that failed, if one did: a
	 * sequential run would have stopped at a failing job first. */
	rj = hashjobs_run(&c->jobs);
	if (rj < 0)
		r = rj;
	if (r >= 0)
		r = finish(p);
out:
	hashjobs_free(&c->jobs);
	free(c);
	return r < 0 ? r : 0;
}

static int set_banks(struct cvm_prediction *p, const struct cvm_predict_opts *o)
{
	if (o && o->failed_boot_options > CVM_PREDICT_MAX_FAILED_BOOTS)
		return -EINVAL;
	if (!o || o->n_banks == 0) {
		p->n_banks = 2;
		p->banks[0] = CVM_HASH_SHA256;
		p->banks[1] = CVM_HASH_SHA384;
		return 0;
	}
	if (o->n_banks > CVM_PREDICT_MAX_BANKS)
		return -EINVAL;
	for (size_t i = 0; i < o->n_banks; i++) {
		if (cvm_hash_size(o->banks[i]) == 0)
			return -EINVAL;
		for (size_t j = 0; j < i; j++)
			if (o->banks[j] == o->banks[i])
				return -EINVAL;
		p->banks[i] = o->banks[i];
	}
	p->n_banks = o->n_banks;
	return 0;
}

int cvm_predict_image(const uint8_t *buf, size_t len, const struct cvm_predict_opts *opts,
		      struct cvm_prediction *ret)
{
	struct cvm_prediction *p = calloc(1, sizeof(*p));
	struct cvm_gpt *g = NULL;
	struct cvm_vhd_info vhd;
	uint8_t *uki = NULL;
	const uint8_t *view = NULL;
	size_t ulen = 0, dlen = len;
	int r, idx;

	if (!p)
		return -ENOMEM;
	r = set_banks(p, opts);
	if (r < 0)
		goto out;
	if (len >= 2 && buf[0] == 'M' && buf[1] == 'Z') {
		p->input = CVM_PREDICT_INPUT_UKI;
		r = predict_uki(p, buf, len, NULL, 0, opts);
		goto done;
	}
	p->input = CVM_PREDICT_INPUT_DISK;
	if (len >= CVM_VHD_FOOTER_SIZE && memcmp(buf + len - CVM_VHD_FOOTER_SIZE, "conectix", 8) == 0) {
		r = cvm_vhd_parse(buf, len, &vhd);
		if (r < 0)
			goto out;
		p->input = CVM_PREDICT_INPUT_VHD;
		dlen = len - CVM_VHD_FOOTER_SIZE;
	}
	r = -ENOMEM;
	g = malloc(sizeof(*g));
	if (!g)
		goto out;
	r = cvm_gpt_parse(buf, dlen, g);
	if (r < 0) {
		r = -EBADMSG;
		goto out;
	}
	idx = cvm_gpt_find(g, CVM_GPT_TYPE_ESP);
	if (idx < 0) {
		r = -EBADMSG;
		goto out;
	}
	{
		const struct cvm_gpt_partition *esp = &g->parts[idx];
		uint64_t off = esp->first_lba * CVM_GPT_SECTOR, sz = (esp->last_lba - esp->first_lba + 1) * CVM_GPT_SECTOR;

		/* cvm_gpt_parse() bounded the LBAs by the disk, so no overflow. */
		if (off > dlen || sz > dlen - off) {
			r = -EBADMSG;
			goto out;
		}
		/* cvm-image writes the UKI in one run of clusters: hash it in
		 * place, and copy it out only from a fragmented ESP. */
		r = cvm_fat_view_file(buf + off, (size_t)sz, "EFI/BOOT/BOOTX64.EFI", CVM_PREDICT_MAX_UKI, &view, &ulen);
		if (r == -ENODATA) {
			r = cvm_fat_read_file(buf + off, (size_t)sz, "EFI/BOOT/BOOTX64.EFI", CVM_PREDICT_MAX_UKI, &uki,
					      &ulen);
			view = uki;
		}
		if (r < 0) {
			r = r == -ENOMEM || r == -EFBIG ? r : -EBADMSG;
			goto out;
		}
	}
	r = predict_uki(p, view, ulen, buf, dlen, opts);
done:
	if (r < 0)
		goto out;
	memcpy(ret, p, sizeof(*p));
out:
	free(uki);
	free(g);
	free(p);
	return r;
}
