/* SEV-SNP report parsing, generation and TCB decoding: what the guest needs
 * to read its own report.  The VCEK chain and the report signature are host
 * verification, in verify/snp-chain.c. */
#include <errno.h>
#include <string.h>

#include "cvmkit/bytes.h"
#include "cvmkit/snp.h"

int cvm_snp_report_parse(const uint8_t *buf, size_t len, struct cvm_snp_report *ret)
{
	struct cvm_snp_report r;

	if (!buf || len < CVM_SNP_REPORT_SIZE)
		return -EBADMSG;
	memset(&r, 0, sizeof(r));
	r.version = cvm_le32(buf + 0x000);
	if (r.version < 2 || r.version > 5)
		return -EPROTONOSUPPORT;
	r.guest_svn = cvm_le32(buf + 0x004);
	r.policy = cvm_le64(buf + 0x008);
	memcpy(r.family_id, buf + 0x010, 16);
	memcpy(r.image_id, buf + 0x020, 16);
	r.vmpl = cvm_le32(buf + 0x030);
	r.sig_algo = cvm_le32(buf + 0x034);
	r.current_tcb = cvm_le64(buf + 0x038);
	r.platform_info = cvm_le64(buf + 0x040);
	r.key_info = cvm_le32(buf + 0x048);
	memcpy(r.report_data, buf + 0x050, 64);
	memcpy(r.measurement, buf + 0x090, 48);
	memcpy(r.host_data, buf + 0x0C0, 32);
	memcpy(r.id_key_digest, buf + 0x0E0, 48);
	memcpy(r.author_key_digest, buf + 0x110, 48);
	memcpy(r.report_id, buf + 0x140, 32);
	memcpy(r.report_id_ma, buf + 0x160, 32);
	r.reported_tcb = cvm_le64(buf + 0x180);
	/* Before version 3 these bytes are reserved (zero). */
	if (r.version >= 3) {
		r.has_cpuid = true;
		r.cpuid_fam_id = buf[0x188];
		r.cpuid_mod_id = buf[0x189];
		r.cpuid_step = buf[0x18A];
	}
	memcpy(r.chip_id, buf + 0x1A0, 64);
	r.committed_tcb = cvm_le64(buf + 0x1E0);
	r.current_build = buf[0x1E8];
	r.current_minor = buf[0x1E9];
	r.current_major = buf[0x1EA];
	r.committed_build = buf[0x1EC];
	r.committed_minor = buf[0x1ED];
	r.committed_major = buf[0x1EE];
	r.launch_tcb = cvm_le64(buf + 0x1F0);
	memcpy(r.sig_r, buf + 0x2A0, 72);
	memcpy(r.sig_s, buf + 0x2E8, 72);
	memcpy(r.raw, buf, CVM_SNP_REPORT_SIZE);
	*ret = r;
	return 0;
}

const char *cvm_amd_gen_name(enum cvm_amd_gen gen)
{
	switch (gen) {
	case CVM_AMD_GEN_MILAN: return "Milan";
	case CVM_AMD_GEN_GENOA: return "Genoa";
	case CVM_AMD_GEN_TURIN: return "Turin";
	default: return "unknown";
	}
}

int cvm_snp_report_generation(const struct cvm_snp_report *r, enum cvm_amd_gen *ret_gen)
{
	unsigned fam = r->cpuid_fam_id, mod = r->cpuid_mod_id;

	if (!r->has_cpuid)
		return -ENODATA;
	/* Trustee's Genoa range is exclusive at 0xAF; keep its exact bounds so
	 * both verifiers accept and refuse the same reports. */
	if (fam == 0x19 && mod <= 0x0F)
		*ret_gen = CVM_AMD_GEN_MILAN;
	else if (fam == 0x19 && ((mod >= 0x10 && mod <= 0x1F) || (mod >= 0xA0 && mod <= 0xAE)))
		*ret_gen = CVM_AMD_GEN_GENOA;
	else if (fam == 0x1A && mod <= 0x11)
		*ret_gen = CVM_AMD_GEN_TURIN;
	else
		return -EOPNOTSUPP;
	return 0;
}

void cvm_snp_tcb_decode(uint64_t tcb, enum cvm_amd_gen gen, struct cvm_snp_tcb *ret)
{
	uint8_t b[8];

	cvm_put_le64(b, tcb);
	if (gen == CVM_AMD_GEN_TURIN) {
		ret->fmc = b[0];
		ret->bootloader = b[1];
		ret->tee = b[2];
		ret->snp = b[3];
	} else {
		ret->fmc = 0;
		ret->bootloader = b[0];
		ret->tee = b[1];
		ret->snp = b[6];
	}
	ret->microcode = b[7];
}
