/* TPM 2.0 response-code names (Part 2 §6.6) for host tools only: the init
 * prints the numeric code ("TPM_RC 0x0000098e") and `cvm-attest tpm-rc`
 * names it, so the ~5 KB of names and explanations stay out of the guest
 * (HOST_ONLY_SRCS in the Makefile keeps this file out of the init's link). */
#include <stdio.h>

#include "cvmkit/tpm2.h"

#define RC_FMT1 0x080u
#define RC_VER1 0x100u

struct rc_name {
	uint16_t code;
	const char *name, *text;
};

static const struct rc_name rc_fmt1[] = {
	{ 0x001, "TPM_RC_ASYMMETRIC", "asymmetric algorithm not supported or not correct" },
	{ 0x002, "TPM_RC_ATTRIBUTES", "inconsistent attributes" },
	{ 0x003, "TPM_RC_HASH", "hash algorithm not supported or not appropriate" },
	{ 0x004, "TPM_RC_VALUE", "value is out of range or is not correct for the context" },
	{ 0x005, "TPM_RC_HIERARCHY", "hierarchy is not enabled or is not correct for the use" },
	{ 0x007, "TPM_RC_KEY_SIZE", "key size is not supported" },
	{ 0x008, "TPM_RC_MGF", "mask generation function not supported" },
	{ 0x009, "TPM_RC_MODE", "mode of operation not supported" },
	{ 0x00A, "TPM_RC_TYPE", "the type of the value is not appropriate for the use" },
	{ 0x00B, "TPM_RC_HANDLE", "the handle is not correct for the use" },
	{ 0x00C, "TPM_RC_KDF", "unsupported key derivation function or function not appropriate for use" },
	{ 0x00D, "TPM_RC_RANGE", "value was out of allowed range" },
	{ 0x00E, "TPM_RC_AUTH_FAIL", "the authorization HMAC check failed and DA counter incremented" },
	{ 0x00F, "TPM_RC_NONCE", "invalid nonce size or nonce value mismatch" },
	{ 0x010, "TPM_RC_PP", "authorization requires assertion of PP" },
	{ 0x012, "TPM_RC_SCHEME", "unsupported or incompatible scheme" },
	{ 0x015, "TPM_RC_SIZE", "structure is the wrong size" },
	{ 0x016, "TPM_RC_SYMMETRIC", "unsupported symmetric algorithm or key size, or not appropriate for instance" },
	{ 0x017, "TPM_RC_TAG", "incorrect structure tag" },
	{ 0x018, "TPM_RC_SELECTOR", "union selector is incorrect" },
	{ 0x01A, "TPM_RC_INSUFFICIENT", "the TPM was unable to unmarshal a value because there were not enough octets" },
	{ 0x01B, "TPM_RC_SIGNATURE", "the signature is not valid" },
	{ 0x01C, "TPM_RC_KEY", "key fields are not compatible with the selected use" },
	{ 0x01D, "TPM_RC_POLICY_FAIL", "a policy check failed" },
	{ 0x01F, "TPM_RC_INTEGRITY", "integrity check failed" },
	{ 0x020, "TPM_RC_TICKET", "invalid ticket" },
	{ 0x021, "TPM_RC_RESERVED_BITS", "reserved bits not set to zero as required" },
	{ 0x022, "TPM_RC_BAD_AUTH", "authorization failure without DA implications" },
	{ 0x023, "TPM_RC_EXPIRED", "the policy has expired" },
	{ 0x024, "TPM_RC_POLICY_CC", "the commandCode in the policy is not the commandCode of the command" },
	{ 0x025, "TPM_RC_BINDING", "public and sensitive portions of an object are not cryptographically bound" },
	{ 0x026, "TPM_RC_CURVE", "curve not supported" },
	{ 0x027, "TPM_RC_ECC_POINT", "point is not on the required curve" },
};

static const struct rc_name rc_ver1[] = {
	{ 0x000, "TPM_RC_INITIALIZE", "TPM not initialized by TPM2_Startup or already initialized" },
	{ 0x001, "TPM_RC_FAILURE", "commands not being accepted because of a TPM failure" },
	{ 0x003, "TPM_RC_SEQUENCE", "improper use of a sequence handle" },
	{ 0x00B, "TPM_RC_PRIVATE", "not currently used" },
	{ 0x019, "TPM_RC_HMAC", "not currently used" },
	{ 0x020, "TPM_RC_DISABLED", "the command is disabled" },
	{ 0x021, "TPM_RC_EXCLUSIVE", "command failed because audit sequence required exclusivity" },
	{ 0x024, "TPM_RC_AUTH_TYPE", "authorization handle is not correct for command" },
	{ 0x025, "TPM_RC_AUTH_MISSING", "command requires an authorization session for handle and it is not present" },
	{ 0x026, "TPM_RC_POLICY", "policy failure in math operation or an invalid authPolicy value" },
	{ 0x027, "TPM_RC_PCR", "PCR check fail" },
	{ 0x028, "TPM_RC_PCR_CHANGED", "PCR have changed since checked" },
	{ 0x02D, "TPM_RC_UPGRADE", "the TPM is in field upgrade mode" },
	{ 0x02E, "TPM_RC_TOO_MANY_CONTEXTS", "context ID counter is at maximum" },
	{ 0x02F, "TPM_RC_AUTH_UNAVAILABLE", "authValue or authPolicy is not available for selected entity" },
	{ 0x030, "TPM_RC_REBOOT", "a _TPM_Init and Startup(CLEAR) is required before the TPM can resume operation" },
	{ 0x031, "TPM_RC_UNBALANCED", "the protection algorithms (hash and symmetric) are not reasonably balanced" },
	{ 0x042, "TPM_RC_COMMAND_SIZE", "command commandSize value is inconsistent with contents of the command buffer" },
	{ 0x043, "TPM_RC_COMMAND_CODE", "command code not supported" },
	{ 0x044, "TPM_RC_AUTHSIZE", "the value of authorizationSize is out of range" },
	{ 0x045, "TPM_RC_AUTH_CONTEXT", "use of an authorization session with a context command" },
	{ 0x046, "TPM_RC_NV_RANGE", "NV offset+size is out of range" },
	{ 0x047, "TPM_RC_NV_SIZE", "requested allocation size is larger than allowed" },
	{ 0x048, "TPM_RC_NV_LOCKED", "NV access locked" },
	{ 0x049, "TPM_RC_NV_AUTHORIZATION", "NV access authorization fails in command actions" },
	{ 0x04A, "TPM_RC_NV_UNINITIALIZED", "an NV Index is used before being initialized" },
	{ 0x04B, "TPM_RC_NV_SPACE", "insufficient space for NV allocation" },
	{ 0x04C, "TPM_RC_NV_DEFINED", "NV Index or persistent object already defined" },
	{ 0x050, "TPM_RC_BAD_CONTEXT", "context in TPM2_ContextLoad() is not valid" },
	{ 0x051, "TPM_RC_CPHASH", "cpHash value already set or not correct for use" },
	{ 0x052, "TPM_RC_PARENT", "handle for parent is not a valid parent" },
	{ 0x053, "TPM_RC_NEEDS_TEST", "some function needs testing" },
	{ 0x054, "TPM_RC_NO_RESULT", "internal function cannot process a request due to an unspecified problem" },
	{ 0x055, "TPM_RC_SENSITIVE", "the sensitive area did not unmarshal correctly after decryption" },
};

static const struct rc_name rc_warn[] = {
	{ 0x001, "TPM_RC_CONTEXT_GAP", "gap for context ID is too large" },
	{ 0x002, "TPM_RC_OBJECT_MEMORY", "out of memory for object contexts" },
	{ 0x003, "TPM_RC_SESSION_MEMORY", "out of memory for session contexts" },
	{ 0x004, "TPM_RC_MEMORY", "out of shared object/session memory or need space for internal operations" },
	{ 0x005, "TPM_RC_SESSION_HANDLES", "out of session handles" },
	{ 0x006, "TPM_RC_OBJECT_HANDLES", "out of object handles" },
	{ 0x007, "TPM_RC_LOCALITY", "bad locality" },
	{ 0x008, "TPM_RC_YIELDED", "the TPM has suspended operation on the command" },
	{ 0x009, "TPM_RC_CANCELED", "the command was canceled" },
	{ 0x00A, "TPM_RC_TESTING", "TPM is performing self-tests" },
	{ 0x020, "TPM_RC_NV_RATE", "the TPM is rate-limiting accesses to prevent wearout of NV" },
	{ 0x021, "TPM_RC_LOCKOUT", "authorizations for objects subject to DA protection are not allowed at this time" },
	{ 0x022, "TPM_RC_RETRY", "the TPM was not able to start the command" },
	{ 0x023, "TPM_RC_NV_UNAVAILABLE", "the command may require writing of NV and NV is not current accessible" },
};

static const struct rc_name *rc_find(const struct rc_name *tbl, size_t n, unsigned code)
{
	for (size_t i = 0; i < n; i++)
		if (tbl[i].code == code)
			return &tbl[i];
	return NULL;
}

void cvm_tpm2_rc_describe(uint32_t rc, char *out, size_t cap)
{
	const struct rc_name *e = NULL;
	char where[32] = "";

	if (!cap)
		return;
	if (rc == 0) {
		snprintf(out, cap, "TPM_RC_SUCCESS");
		return;
	}
	/* Bits above 11 are not set by a TPM (a TSS puts its layer there). */
	if (rc & 0xFFFFF000u) {
		snprintf(out, cap, "response code 0x%08x (not a TPM 2.0 code)", rc);
		return;
	}
	if (rc & RC_FMT1) {
		unsigned n = (rc >> 8) & 0xF;

		e = rc_find(rc_fmt1, sizeof(rc_fmt1) / sizeof(rc_fmt1[0]), rc & 0x3F);
		if (rc & 0x40)
			snprintf(where, sizeof(where), " (parameter %u)", n);
		else if (n & 8)
			snprintf(where, sizeof(where), " (session %u)", n & 7);
		else if (n)
			snprintf(where, sizeof(where), " (handle %u)", n);
	} else if ((rc & RC_VER1) == 0) {
		snprintf(out, cap, "response code 0x%03x (TPM 1.2 format)", rc);
		return;
	} else if (rc & 0x400) {
		snprintf(out, cap, "response code 0x%03x (vendor defined)", rc);
		return;
	} else if (rc & 0x800) {
		e = rc_find(rc_warn, sizeof(rc_warn) / sizeof(rc_warn[0]), rc & 0x7F);
		if (!e && (rc & 0x7F) >= 0x10 && (rc & 0x7F) <= 0x1E && (rc & 0x7F) != 0x17) {
			unsigned x = rc & 0x7F;
			snprintf(out, cap, "TPM_RC_REFERENCE_%c%u: the %s referenced is not loaded",
				 x < 0x18 ? 'H' : 'S', x & 7, x < 0x18 ? "handle" : "session");
			return;
		}
	} else {
		e = rc_find(rc_ver1, sizeof(rc_ver1) / sizeof(rc_ver1[0]), rc & 0x7F);
	}
	if (e)
		snprintf(out, cap, "%s%s: %s", e->name, where, e->text);
	else
		snprintf(out, cap, "response code 0x%03x (unknown)%s", rc, where);
}
