/* TCG event-log parser and replayer.  Every offset is checked against the
 * remaining length before it is read, in the form `need <= len - off` with
 * off <= len already established, so no sum can overflow. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cvmkit/bytes.h"
#include "cvmkit/eventlog.h"
#include "cvmkit/hash.h"
#include "cvmkit/hex.h"

#define LEGACY_HDR 32u  /* PCRIndex, EventType, SHA-1 digest, EventSize */
#define SPECID_FIXED 28u

static const char specid_sig[16] = "Spec ID Event03";    /* with its NUL */
static const char locality_sig[16] = "StartupLocality";  /* with its NUL */

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static bool is_startup_locality(const uint8_t *data, uint32_t len)
{
	return len >= sizeof(locality_sig) + 1 && memcmp(data, locality_sig, sizeof(locality_sig)) == 0;
}

/* d[0..avail) is what the buffer holds from the event data on; size is EventSize. */
static int parse_specid(struct cvm_evlog *l, const uint8_t *d, uint32_t size, size_t avail)
{
	uint32_t n;
	size_t vend;

	if (size < SPECID_FIXED)
		return -EBADMSG;
	n = cvm_le32(d + 24);
	if (n == 0 || n > CVM_EVLOG_MAX_BANKS)
		return -EBADMSG;
	/* n <= 5, so this cannot overflow. */
	vend = SPECID_FIXED + 4 * (size_t)n;
	if (vend + 1 > size || d[vend] > avail - vend - 1)
		return -EBADMSG;
	for (uint32_t i = 0; i < n; i++) {
		uint16_t alg = cvm_le16(d + SPECID_FIXED + 4 * i);
		uint16_t sz = cvm_le16(d + SPECID_FIXED + 4 * i + 2);
		size_t known = cvm_hash_size((enum cvm_hash_alg)alg);

		if (sz == 0 || sz > CVM_HASH_MAX_SIZE || (known && known != sz))
			return -EBADMSG;
		for (uint32_t k = 0; k < i; k++)
			if (l->banks[k].alg == alg)
				return -EBADMSG;
		l->banks[i].alg = alg;
		l->banks[i].size = sz;
	}
	l->n_banks = n;
	l->crypto_agile = true;
	/* Some writers leave vendorInfo out of EventSize; tpm2-tools then resumes after
	 * vendorInfo, and so do we. */
	vend += 1 + (size_t)d[vend];
	l->hdr_len = LEGACY_HDR + (vend > size ? vend : size);
	return 0;
}

int cvm_evlog_open(struct cvm_evlog *log, const uint8_t *buf, size_t len)
{
	struct cvm_evlog l = { .buf = buf, .len = len };
	uint32_t type, size;
	const uint8_t *data;
	int r = 0;

	if (!buf || len < LEGACY_HDR) {
		r = -EBADMSG;
		goto out;
	}
	type = cvm_le32(buf + 4);
	size = cvm_le32(buf + 28);
	if (size > len - LEGACY_HDR || size > CVM_EVLOG_MAX_EVENT) {
		r = -EBADMSG;
		goto out;
	}
	data = buf + LEGACY_HDR;
	if (type == CVM_EV_NO_ACTION && size >= sizeof(specid_sig) &&
	    memcmp(data, specid_sig, sizeof(specid_sig)) == 0) {
		/* The spec pins the header to PCR 0 with a zero digest; anything else is not a
		 * log we understand. */
		if (cvm_le32(buf) != 0 || !all_zero(buf + 8, 20)) {
			r = -EBADMSG;
			goto out;
		}
		r = parse_specid(&l, data, size, len - LEGACY_HDR);
		if (r < 0)
			goto out;
	} else {
		l.n_banks = 1;
		l.banks[0].alg = CVM_HASH_SHA1;
		l.banks[0].size = 20;
	}
	*log = l;
out:
	return r;
}

static int bank_index(const struct cvm_evlog *l, uint16_t alg)
{
	for (size_t i = 0; i < l->n_banks; i++)
		if (l->banks[i].alg == alg)
			return (int)i;
	return -1;
}

int cvm_evlog_next(struct cvm_evlog *log, struct cvm_evlog_event *ret)
{
	struct cvm_evlog_event ev = { 0 };
	const uint8_t *p;
	size_t rem, q;
	uint32_t size;
	bool seen[CVM_EVLOG_MAX_BANKS] = { false };
	bool locality = false;
	int r = 0;

	if (log->done || log->off >= log->len) {
		log->done = true;
		goto out;
	}
	if (log->n_events >= CVM_EVLOG_MAX_EVENTS) {
		r = -E2BIG;
		goto out;
	}
	p = log->buf + log->off;
	rem = log->len - log->off;
	ev.offset = log->off;

	if (!log->crypto_agile || log->n_events == 0) {
		if (rem < LEGACY_HDR) {
			r = -EBADMSG;
			goto out;
		}
		ev.pcr = cvm_le32(p);
		ev.type = cvm_le32(p + 4);
		size = cvm_le32(p + 28);
		if (log->n_events > 0 && ev.pcr == 0 && ev.type == 0 && size == 0 && all_zero(p + 8, 20)) {
			log->done = true;
			goto out;
		}
		ev.n_digests = 1;
		ev.digests[0].alg = CVM_HASH_SHA1;
		ev.digests[0].digest = p + 8;
		q = LEGACY_HDR;
		if (log->crypto_agile) {
			/* The header, validated by cvm_evlog_open(); its extent may include
			 * vendorInfo beyond EventSize. */
			size = (uint32_t)(log->hdr_len - LEGACY_HDR);
		}
	} else {
		uint32_t count;

		if (rem < 12) {
			r = -EBADMSG;
			goto out;
		}
		ev.pcr = cvm_le32(p);
		ev.type = cvm_le32(p + 4);
		count = cvm_le32(p + 8);
		if (ev.pcr == 0 && ev.type == 0 && count == 0) {
			log->done = true;
			goto out;
		}
		if (count == 0 || count > log->n_banks) {
			r = -EBADMSG;
			goto out;
		}
		q = 12;
		for (uint32_t i = 0; i < count; i++) {
			int b;

			if (rem - q < 2) {
				r = -EBADMSG;
				goto out;
			}
			b = bank_index(log, cvm_le16(p + q));
			if (b < 0 || seen[b] || rem - q - 2 < log->banks[b].size) {
				r = -EBADMSG;
				goto out;
			}
			seen[b] = true;
			ev.digests[i].alg = log->banks[b].alg;
			ev.digests[i].digest = p + q + 2;
			q += 2 + (size_t)log->banks[b].size;
		}
		ev.n_digests = count;
		if (rem - q < 4) {
			r = -EBADMSG;
			goto out;
		}
		size = cvm_le32(p + q);
		q += 4;
	}
	if (ev.pcr >= CVM_PCR_COUNT || size > CVM_EVLOG_MAX_EVENT || size > rem - q) {
		r = -EBADMSG;
		goto out;
	}
	ev.data = p + q;
	ev.data_len = size;
	locality = ev.type == CVM_EV_NO_ACTION && is_startup_locality(ev.data, size);

	log->off += q + size;
	log->n_events++;
	if (locality && !log->have_locality) {
		log->have_locality = true;
		log->startup_locality = ev.data[sizeof(locality_sig)];
	}
	*ret = ev;
	r = 1;
out:
	return r;
}

static const struct {
	uint32_t type;
	const char *name;
} type_names[] = {
	{ CVM_EV_PREBOOT_CERT, "EV_PREBOOT_CERT" },
	{ CVM_EV_POST_CODE, "EV_POST_CODE" },
	{ 0x2, "EV_UNUSED" },
	{ CVM_EV_NO_ACTION, "EV_NO_ACTION" },
	{ CVM_EV_SEPARATOR, "EV_SEPARATOR" },
	{ CVM_EV_ACTION, "EV_ACTION" },
	{ CVM_EV_EVENT_TAG, "EV_EVENT_TAG" },
	{ CVM_EV_S_CRTM_CONTENTS, "EV_S_CRTM_CONTENTS" },
	{ CVM_EV_S_CRTM_VERSION, "EV_S_CRTM_VERSION" },
	{ CVM_EV_CPU_MICROCODE, "EV_CPU_MICROCODE" },
	{ CVM_EV_PLATFORM_CONFIG_FLAGS, "EV_PLATFORM_CONFIG_FLAGS" },
	{ CVM_EV_TABLE_OF_DEVICES, "EV_TABLE_OF_DEVICES" },
	{ CVM_EV_COMPACT_HASH, "EV_COMPACT_HASH" },
	{ CVM_EV_IPL, "EV_IPL" },
	{ CVM_EV_IPL_PARTITION_DATA, "EV_IPL_PARTITION_DATA" },
	{ CVM_EV_NONHOST_CODE, "EV_NONHOST_CODE" },
	{ CVM_EV_NONHOST_CONFIG, "EV_NONHOST_CONFIG" },
	{ CVM_EV_NONHOST_INFO, "EV_NONHOST_INFO" },
	{ CVM_EV_OMIT_BOOT_DEVICE_EVENTS, "EV_OMIT_BOOT_DEVICE_EVENTS" },
	{ CVM_EV_EFI_EVENT_BASE, "EV_EFI_EVENT_BASE" },
	{ CVM_EV_EFI_VARIABLE_DRIVER_CONFIG, "EV_EFI_VARIABLE_DRIVER_CONFIG" },
	{ CVM_EV_EFI_VARIABLE_BOOT, "EV_EFI_VARIABLE_BOOT" },
	{ CVM_EV_EFI_BOOT_SERVICES_APPLICATION, "EV_EFI_BOOT_SERVICES_APPLICATION" },
	{ CVM_EV_EFI_BOOT_SERVICES_DRIVER, "EV_EFI_BOOT_SERVICES_DRIVER" },
	{ CVM_EV_EFI_RUNTIME_SERVICES_DRIVER, "EV_EFI_RUNTIME_SERVICES_DRIVER" },
	{ CVM_EV_EFI_GPT_EVENT, "EV_EFI_GPT_EVENT" },
	{ CVM_EV_EFI_ACTION, "EV_EFI_ACTION" },
	{ CVM_EV_EFI_PLATFORM_FIRMWARE_BLOB, "EV_EFI_PLATFORM_FIRMWARE_BLOB" },
	{ CVM_EV_EFI_HANDOFF_TABLES, "EV_EFI_HANDOFF_TABLES" },
	{ CVM_EV_EFI_PLATFORM_FIRMWARE_BLOB2, "EV_EFI_PLATFORM_FIRMWARE_BLOB2" },
	{ CVM_EV_EFI_HANDOFF_TABLES2, "EV_EFI_HANDOFF_TABLES2" },
	{ CVM_EV_EFI_VARIABLE_BOOT2, "EV_EFI_VARIABLE_BOOT2" },
	{ CVM_EV_EFI_HCRTM_EVENT, "EV_EFI_HCRTM_EVENT" },
	{ CVM_EV_EFI_VARIABLE_AUTHORITY, "EV_EFI_VARIABLE_AUTHORITY" },
	{ CVM_EV_EFI_SPDM_FIRMWARE_BLOB, "EV_EFI_SPDM_FIRMWARE_BLOB" },
	{ CVM_EV_EFI_SPDM_FIRMWARE_CONFIG, "EV_EFI_SPDM_FIRMWARE_CONFIG" },
};

const char *cvm_evlog_type_name(uint32_t type)
{
	for (size_t i = 0; i < CVM_ARRAY_SIZE(type_names); i++)
		if (type_names[i].type == type)
			return type_names[i].name;
	return NULL;
}

/* ------------------------------------------------------------------ replay */

static void set_pcr0_locality(struct cvm_pcr_bank_values *v, size_t n, uint8_t loc)
{
	for (size_t k = 0; k < n; k++) {
		size_t sz = cvm_hash_size((enum cvm_hash_alg)v[k].alg);

		memset(v[k].pcr[0], 0, sz);
		v[k].pcr[0][sz - 1] = loc;
		v[k].touched[0] = true;
	}
}

int cvm_evlog_replay(const uint8_t *buf, size_t len, struct cvm_pcr_bank_values *ret_banks,
		     size_t max_banks, size_t *ret_n_banks)
{
	struct cvm_evlog log;
	struct cvm_evlog_event ev;
	struct cvm_pcr_bank_values *v = NULL;
	int map[CVM_EVLOG_MAX_BANKS];
	size_t n = 0;
	bool pcr0_extended = false, seen_locality = false;
	int r;

	r = cvm_evlog_open(&log, buf, len);
	if (r < 0)
		goto out;
	v = calloc(CVM_EVLOG_MAX_BANKS, sizeof(*v));
	if (!v) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t b = 0; b < log.n_banks; b++) {
		size_t sz = cvm_hash_size((enum cvm_hash_alg)log.banks[b].alg);

		map[b] = -1;
		if (sz == 0)
			continue;
		map[b] = (int)n;
		v[n].alg = log.banks[b].alg;
		for (unsigned i = 0; i < CVM_PCR_COUNT; i++)
			memset(v[n].pcr[i], cvm_pcr_reset_byte(i), sz);
		n++;
	}
	if (n > max_banks) {
		r = -ENOBUFS;
		goto out;
	}
	while ((r = cvm_evlog_next(&log, &ev)) > 0) {
		bool locality = ev.type == CVM_EV_NO_ACTION && is_startup_locality(ev.data, ev.data_len);
		bool hcrtm = ev.type == CVM_EV_EFI_HCRTM_EVENT;

		if (locality || hcrtm) {
			/* Both state the TPM's locality at startup: they cannot follow an extend of
			 * PCR 0 or each other, so such a log is not a faithful record. */
			if (ev.pcr != 0 || seen_locality || pcr0_extended) {
				r = -EBADMSG;
				goto out;
			}
			seen_locality = true;
			set_pcr0_locality(v, n, locality ? ev.data[sizeof(locality_sig)] : 4);
		}
		if (ev.type == CVM_EV_NO_ACTION)
			continue;
		/* Firmware extends every active bank with every event; a record
		 * without one bank's digest would leave that bank silently behind
		 * the others (TCG PC Client PFP: DigestCount = the log's banks). */
		if (ev.n_digests != log.n_banks) {
			r = -ENODATA;
			goto out;
		}
		for (size_t d = 0; d < ev.n_digests; d++) {
			int k = map[bank_index(&log, ev.digests[d].alg)];

			if (k < 0)
				continue;
			r = cvm_pcr_extend((enum cvm_hash_alg)v[k].alg, v[k].pcr[ev.pcr], ev.digests[d].digest);
			if (r < 0)
				goto out;
			v[k].touched[ev.pcr] = true;
		}
		if (ev.pcr == 0)
			pcr0_extended = true;
	}
	if (r < 0)
		goto out;
	memcpy(ret_banks, v, n * sizeof(*v));
	*ret_n_banks = n;
	r = 0;
out:
	free(v);
	return r;
}

int cvm_evlog_first_incomplete(const uint8_t *buf, size_t len, struct cvm_evlog_event *ret, size_t *ret_index)
{
	struct cvm_evlog log;
	struct cvm_evlog_event ev;
	int r = cvm_evlog_open(&log, buf, len);

	if (r < 0)
		return r;
	while ((r = cvm_evlog_next(&log, &ev)) > 0)
		if (ev.type != CVM_EV_NO_ACTION && ev.n_digests != log.n_banks) {
			*ret = ev;
			*ret_index = log.n_events - 1;
			return 1;
		}
	return r;
}

/* ---------------------------------------------------------------- describe */

/* Appends into a fixed buffer, silently truncating; out stays NUL-terminated. */
struct sbuf {
	char *out;
	size_t cap, n;
};

static void sb_putc(struct sbuf *s, char c)
{
	if (s->n + 1 < s->cap) {
		s->out[s->n++] = c;
		s->out[s->n] = 0;
	}
}

static void sb_puts(struct sbuf *s, const char *str)
{
	while (*str)
		sb_putc(s, *str++);
}

__attribute__((format(printf, 2, 3)))
static void sb_printf(struct sbuf *s, const char *fmt, ...)
{
	char tmp[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	sb_puts(s, tmp);
}

static void sb_hex(struct sbuf *s, const uint8_t *p, size_t n, size_t max)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n && i < max; i++) {
		sb_putc(s, digits[p[i] >> 4]);
		sb_putc(s, digits[p[i] & 15]);
	}
	if (n > max)
		sb_puts(s, "...");
}

/* One code point as UTF-8, control characters escaped so output stays one line. */
static void sb_codepoint(struct sbuf *s, uint32_t c)
{
	if (c == '\n')
		sb_puts(s, "\\n");
	else if (c == '\t')
		sb_puts(s, "\\t");
	else if (c == '\r')
		sb_puts(s, "\\r");
	else if (c < 0x20 || c == 0x7f)
		sb_printf(s, "\\x%02x", c);
	else if (c < 0x80)
		sb_putc(s, (char)c);
	else if (c < 0x800) {
		sb_putc(s, (char)(0xc0 | c >> 6));
		sb_putc(s, (char)(0x80 | (c & 0x3f)));
	} else if (c < 0x10000) {
		sb_putc(s, (char)(0xe0 | c >> 12));
		sb_putc(s, (char)(0x80 | (c >> 6 & 0x3f)));
		sb_putc(s, (char)(0x80 | (c & 0x3f)));
	} else {
		sb_putc(s, (char)(0xf0 | c >> 18));
		sb_putc(s, (char)(0x80 | (c >> 12 & 0x3f)));
		sb_putc(s, (char)(0x80 | (c >> 6 & 0x3f)));
		sb_putc(s, (char)(0x80 | (c & 0x3f)));
	}
}

/* UTF-16LE of n code units, stopping at a NUL; bad surrogates become U+FFFD. */
static void sb_utf16(struct sbuf *s, const uint8_t *p, size_t units)
{
	for (size_t i = 0; i < units; i++) {
		uint32_t c = cvm_le16(p + 2 * i);

		if (c == 0)
			break;
		if (c >= 0xd800 && c < 0xdc00 && i + 1 < units) {
			uint32_t lo = cvm_le16(p + 2 * (i + 1));
			if (lo >= 0xdc00 && lo < 0xe000) {
				c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
				i++;
			} else {
				c = 0xfffd;
			}
		} else if (c >= 0xd800 && c < 0xe000) {
			c = 0xfffd;
		}
		sb_codepoint(s, c);
	}
}

static bool is_text(const uint8_t *p, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((p[i] < 0x20 && p[i] != '\n' && p[i] != '\t' && p[i] != '\r') || p[i] >= 0x7f)
			return false;
	return true;
}

/* ASCII-range UTF-16LE: every high byte zero, no NUL before the last unit. */
static bool is_utf16_text(const uint8_t *p, size_t n)
{
	size_t units = n / 2;

	if (n < 4 || n % 2)
		return false;
	if (p[n - 1] == 0 && p[n - 2] == 0)
		units--;
	for (size_t i = 0; i < units; i++)
		if (p[2 * i + 1] != 0 || !is_text(p + 2 * i, 1))
			return false;
	return units > 0;
}

static void sb_text_or_hex(struct sbuf *s, const uint8_t *p, size_t n)
{
	size_t t = n;

	if (is_utf16_text(p, n)) {
		sb_utf16(s, p, n / 2);
		return;
	}
	while (t > 0 && p[t - 1] == 0)
		t--;
	if (is_text(p, t)) {
		for (size_t i = 0; i < t; i++)
			sb_codepoint(s, p[i]);
		return;
	}
	sb_hex(s, p, n, 32);
}

static void sb_guid(struct sbuf *s, const uint8_t *g)
{
	sb_printf(s, "%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x", cvm_le32(g), cvm_le16(g + 4),
		  cvm_le16(g + 6), g[8], g[9], g[10], g[11], g[12], g[13], g[14], g[15]);
}

/* UEFI_VARIABLE_DATA: GUID, name length (chars), data length, name, data. */
static void describe_variable(struct sbuf *s, const uint8_t *p, size_t n)
{
	uint64_t name_len, data_len;

	if (n < 32) {
		sb_text_or_hex(s, p, n);
		return;
	}
	name_len = cvm_le64(p + 16);
	data_len = cvm_le64(p + 24);
	if (name_len > (n - 32) / 2) {
		sb_puts(s, "malformed variable event");
		return;
	}
	sb_utf16(s, p + 32, (size_t)name_len);
	sb_puts(s, " {");
	sb_guid(s, p);
	sb_printf(s, "} %llu bytes", (unsigned long long)data_len);
}

/* Walks an EFI device path for media file-path nodes (type 4, subtype 4). */
static void describe_device_path(struct sbuf *s, const uint8_t *p, size_t n)
{
	size_t off = 0;
	bool any = false;

	while (n - off >= 4) {
		uint8_t type = p[off], sub = p[off + 1];
		uint16_t nlen = cvm_le16(p + off + 2);

		if (nlen < 4 || nlen > n - off || type == 0x7f)
			break;
		if (type == 4 && sub == 4) {
			sb_puts(s, any ? "" : " file ");
			sb_utf16(s, p + off + 4, (nlen - 4u) / 2);
			any = true;
		}
		off += nlen;
	}
	sb_puts(s, " path ");
	sb_hex(s, p, n, 64);
}

static void describe_image(struct sbuf *s, const uint8_t *p, size_t n)
{
	uint64_t dp_len;

	if (n < 32) {
		sb_hex(s, p, n, 32);
		return;
	}
	dp_len = cvm_le64(p + 24);
	sb_printf(s, "image at 0x%llx, %llu bytes", (unsigned long long)cvm_le64(p),
		  (unsigned long long)cvm_le64(p + 8));
	describe_device_path(s, p + 32, dp_len < n - 32 ? (size_t)dp_len : n - 32);
}

static void describe_tag(struct sbuf *s, const uint8_t *p, size_t n)
{
	uint32_t size;

	if (n < 8) {
		sb_hex(s, p, n, 32);
		return;
	}
	size = cvm_le32(p + 4);
	sb_printf(s, "tag 0x%08x: ", cvm_le32(p));
	sb_text_or_hex(s, p + 8, size <= n - 8 ? size : n - 8);
}

static void describe_no_action(struct sbuf *s, const uint8_t *p, size_t n)
{
	if (n >= sizeof(specid_sig) && memcmp(p, specid_sig, sizeof(specid_sig)) == 0) {
		sb_puts(s, "Spec ID Event03");
		if (n >= SPECID_FIXED) {
			uint32_t algs = cvm_le32(p + 24);
			sb_printf(s, ", %u algorithms", algs);
			for (uint32_t i = 0; i < algs && i < CVM_EVLOG_MAX_BANKS && SPECID_FIXED + 4 * (size_t)i + 4 <= n; i++) {
				uint16_t alg = cvm_le16(p + SPECID_FIXED + 4 * i);
				const char *name = cvm_hash_name((enum cvm_hash_alg)alg);
				if (name)
					sb_printf(s, " %s", name);
				else
					sb_printf(s, " 0x%04x", alg);
			}
		}
	} else if (is_startup_locality(p, (uint32_t)n)) {
		sb_printf(s, "StartupLocality %u", p[sizeof(locality_sig)]);
	} else {
		sb_text_or_hex(s, p, n);
	}
}

/* EFI_PLATFORM_FIRMWARE_BLOB2 / EFI_HANDOFF_TABLE_POINTERS2: u8 size, description. */
static void describe_blob2(struct sbuf *s, const uint8_t *p, size_t n)
{
	if (n < 1 || p[0] > n - 1) {
		sb_hex(s, p, n, 32);
		return;
	}
	sb_text_or_hex(s, p + 1, p[0]);
}

void cvm_evlog_describe(const struct cvm_evlog_event *ev, char *out, size_t outlen)
{
	struct sbuf s = { .out = out, .cap = outlen };
	const uint8_t *p = ev->data;
	size_t n = ev->data_len;

	if (outlen == 0)
		return;
	out[0] = 0;
	switch (ev->type) {
	case CVM_EV_NO_ACTION:
		describe_no_action(&s, p, n);
		break;
	case CVM_EV_SEPARATOR:
		sb_hex(&s, p, n, 32);
		break;
	case CVM_EV_EVENT_TAG:
		describe_tag(&s, p, n);
		break;
	case CVM_EV_EFI_VARIABLE_DRIVER_CONFIG:
	case CVM_EV_EFI_VARIABLE_BOOT:
	case CVM_EV_EFI_VARIABLE_BOOT2:
	case CVM_EV_EFI_VARIABLE_AUTHORITY:
		describe_variable(&s, p, n);
		break;
	case CVM_EV_EFI_BOOT_SERVICES_APPLICATION:
	case CVM_EV_EFI_BOOT_SERVICES_DRIVER:
	case CVM_EV_EFI_RUNTIME_SERVICES_DRIVER:
		describe_image(&s, p, n);
		break;
	case CVM_EV_EFI_GPT_EVENT:
		if (n >= 100) {
			sb_puts(&s, "GPT disk ");
			sb_guid(&s, p + 56);
			sb_printf(&s, ", %llu partitions", (unsigned long long)cvm_le64(p + 92));
		} else {
			sb_hex(&s, p, n, 32);
		}
		break;
	case CVM_EV_EFI_PLATFORM_FIRMWARE_BLOB:
		if (n >= 16)
			sb_printf(&s, "blob at 0x%llx, %llu bytes", (unsigned long long)cvm_le64(p),
				  (unsigned long long)cvm_le64(p + 8));
		else
			sb_hex(&s, p, n, 32);
		break;
	case CVM_EV_EFI_HANDOFF_TABLES:
		if (n >= 8)
			sb_printf(&s, "%llu tables", (unsigned long long)cvm_le64(p));
		else
			sb_hex(&s, p, n, 32);
		break;
	case CVM_EV_EFI_PLATFORM_FIRMWARE_BLOB2:
	case CVM_EV_EFI_HANDOFF_TABLES2:
		describe_blob2(&s, p, n);
		break;
	default:
		sb_text_or_hex(&s, p, n);
		break;
	}
}
