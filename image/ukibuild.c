/* UKI assembler; see include/cvmkit/ukibuild.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cvmkit/bytes.h"
#include "cvmkit/pe.h"
#include "cvmkit/ukibuild.h"

#define SECTION_HEADER_SIZE 40u

static const enum cvm_uki_section build_order[] = {
	CVM_UKI_PROFILE, CVM_UKI_OSREL,  CVM_UKI_CMDLINE, CVM_UKI_DTB,  CVM_UKI_DTBAUTO,
	CVM_UKI_HWIDS,   CVM_UKI_UNAME,  CVM_UKI_SBAT,    CVM_UKI_SPLASH, CVM_UKI_PCRPKEY,
	CVM_UKI_INITRD,  CVM_UKI_EFIFW,  CVM_UKI_UCODE,   CVM_UKI_LINUX, CVM_UKI_PCRSIG,
};
_Static_assert(CVM_ARRAY_SIZE(build_order) == CVM_UKI_SECTION_MAX, "every UKI section needs a place in build_order");

int cvm_uki_build(const uint8_t *stub, size_t stub_len, const struct cvm_uki_part parts[CVM_UKI_SECTION_MAX],
		  uint8_t **ret_buf, size_t *ret_len)
{
	struct cvm_pe *pe = NULL;
	uint8_t *out = NULL;
	uint64_t stub_end, shift = 0, new_soh, need, min_va = UINT64_MAX, va_end = 0, file_off, va, total, init_data;
	size_t sec_table, n_new = 0;
	uint8_t *o;
	int r;

	pe = malloc(sizeof(*pe));
	if (!pe)
		return -ENOMEM;
	if (cvm_pe_parse(stub, stub_len, pe) < 0 || !pe->pe32plus || pe->machine != CVM_PE_MACHINE_X86_64 ||
	    pe->subsystem != CVM_PE_SUBSYSTEM_EFI_APPLICATION || pe->cert_table_size) {
		r = -EINVAL;
		goto out;
	}
	for (int s = 0; s < CVM_UKI_SECTION_MAX; s++) {
		if (!parts[s].len)
			continue;
		if (!parts[s].data) {
			r = -EINVAL;
			goto out;
		}
		if (cvm_pe_find_section(pe, cvm_uki_section_name(s))) {
			r = -EEXIST;
			goto out;
		}
		n_new++;
	}
	if (pe->n_sections + n_new > CVM_PE_MAX_SECTIONS) {
		r = -E2BIG;
		goto out;
	}

	/* Where the stub's content ends in the file and in memory. */
	stub_end = pe->size_of_headers;
	for (unsigned i = 0; i < pe->n_sections; i++) {
		const struct cvm_pe_section *s = &pe->sections[i];
		uint32_t msize = s->virtual_size ? s->virtual_size : s->size_of_raw_data;
		if (s->size_of_raw_data && (uint64_t)s->pointer_to_raw_data + s->size_of_raw_data > stub_end)
			stub_end = (uint64_t)s->pointer_to_raw_data + s->size_of_raw_data;
		if (msize) {
			if (s->virtual_address < min_va)
				min_va = s->virtual_address;
			if ((uint64_t)s->virtual_address + msize > va_end)
				va_end = (uint64_t)s->virtual_address + msize;
		}
	}
	if (pe->size_of_image > va_end)
		va_end = pe->size_of_image;

	sec_table = (size_t)pe->opt_offset + pe->opt_size;
	need = sec_table + (uint64_t)SECTION_HEADER_SIZE * (pe->n_sections + n_new);
	new_soh = pe->size_of_headers;
	if (need > new_soh) {
		shift = CVM_ALIGN_UP(need - new_soh, (uint64_t)pe->file_alignment);
		new_soh += shift;
		if (new_soh > min_va) {
			r = -ENOSPC;
			goto out;
		}
	}
	/* New sections go after everything already mapped, headers included. */
	if (new_soh > va_end)
		va_end = new_soh;
	/* The slots for the new headers must be unused (zero) header space. */
	for (size_t i = sec_table + (size_t)SECTION_HEADER_SIZE * pe->n_sections;
	     i < pe->size_of_headers && i < need; i++)
		if (stub[i]) {
			r = -ENOSPC;
			goto out;
		}

	/* First pass: sizes only, so the output is allocated once. */
	file_off = CVM_ALIGN_UP(stub_end + shift, (uint64_t)pe->file_alignment);
	va = CVM_ALIGN_UP(va_end, (uint64_t)pe->section_alignment);
	init_data = 0;
	for (size_t k = 0; k < CVM_ARRAY_SIZE(build_order); k++) {
		const struct cvm_uki_part *p = &parts[build_order[k]];
		if (!p->len)
			continue;
		if (p->len > UINT32_MAX) {
			r = -EFBIG;
			goto out;
		}
		file_off += CVM_ALIGN_UP((uint64_t)p->len, (uint64_t)pe->file_alignment);
		init_data += CVM_ALIGN_UP((uint64_t)p->len, (uint64_t)pe->file_alignment);
		va = CVM_ALIGN_UP(va + p->len, (uint64_t)pe->section_alignment);
		if (file_off > UINT32_MAX || va > UINT32_MAX) {
			r = -EFBIG;
			goto out;
		}
	}
	total = file_off;

	out = calloc(1, (size_t)total);
	if (!out) {
		r = -ENOMEM;
		goto out;
	}
	memcpy(out, stub, pe->size_of_headers);
	memcpy(out + pe->size_of_headers + shift, stub + pe->size_of_headers, (size_t)(stub_end - pe->size_of_headers));

	o = out + pe->opt_offset;
	for (unsigned i = 0; i < pe->n_sections; i++) {
		uint8_t *h = out + sec_table + (size_t)SECTION_HEADER_SIZE * i;
		if (shift && pe->sections[i].size_of_raw_data)
			cvm_put_le32(h + 20, (uint32_t)(pe->sections[i].pointer_to_raw_data + shift));
	}
	/* The symbol table, if any, was trailing data and is gone. */
	cvm_put_le32(out + pe->pe_offset + 12, 0);
	cvm_put_le32(out + pe->pe_offset + 16, 0);

	file_off = CVM_ALIGN_UP(stub_end + shift, (uint64_t)pe->file_alignment);
	va = CVM_ALIGN_UP(va_end, (uint64_t)pe->section_alignment);
	{
		unsigned idx = pe->n_sections;
		for (size_t k = 0; k < CVM_ARRAY_SIZE(build_order); k++) {
			enum cvm_uki_section s = build_order[k];
			const struct cvm_uki_part *p = &parts[s];
			const char *name = cvm_uki_section_name(s);
			uint8_t *h = out + sec_table + (size_t)SECTION_HEADER_SIZE * idx++;
			uint32_t raw;

			if (!p->len) {
				idx--;
				continue;
			}
			raw = (uint32_t)CVM_ALIGN_UP((uint64_t)p->len, (uint64_t)pe->file_alignment);
			memset(h, 0, SECTION_HEADER_SIZE);
			memcpy(h, name, strlen(name));
			cvm_put_le32(h + 8, (uint32_t)p->len);
			cvm_put_le32(h + 12, (uint32_t)va);
			cvm_put_le32(h + 16, raw);
			cvm_put_le32(h + 20, (uint32_t)file_off);
			cvm_put_le32(h + 36, CVM_PE_SCN_MEM_READ |
						     (s == CVM_UKI_LINUX ? CVM_PE_SCN_CNT_CODE : CVM_PE_SCN_CNT_INITIALIZED_DATA));
			memcpy(out + file_off, p->data, p->len);
			file_off += raw;
			va = CVM_ALIGN_UP(va + p->len, (uint64_t)pe->section_alignment);
		}
	}
	init_data += cvm_le32(o + 8);
	if (init_data > UINT32_MAX) {
		r = -EFBIG;
		goto out;
	}
	cvm_put_le16(out + pe->pe_offset + 6, (uint16_t)(pe->n_sections + n_new));
	cvm_put_le32(o + 8, (uint32_t)init_data);
	cvm_put_le32(o + 56, (uint32_t)va);
	cvm_put_le32(o + 60, (uint32_t)new_soh);
	cvm_put_le32(o + 64, 0);
	cvm_put_le32(o + 64, cvm_pe_checksum(out, (size_t)total, (size_t)pe->opt_offset + 64));

	*ret_buf = out;
	*ret_len = (size_t)total;
	out = NULL;
	r = 0;
out:
	free(out);
	free(pe);
	return r;
}
