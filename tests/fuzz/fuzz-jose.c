/* JOSE parsers on untrusted bytes: JWE JSON serialization (decrypted with a
 * fixed EC and a fixed RSA key), compact JWS, P-256 JWK, and sealed secrets. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "cvmkit/jose.h"
#include "cvmkit/sealed.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cvm_tee_key ec, rsa;
	static int ready;
	struct cvm_jws jws;
	struct cvm_sealed sealed;
	uint8_t *pt, xy[64] = { 0 };
	size_t len;

	if (!ready) {
		/* Key generation is not under test; RSA keygen is slow, so once. */
		if (cvm_tee_key_generate(CVM_TEE_KEY_EC_P256, &ec) < 0 || cvm_tee_key_generate(CVM_TEE_KEY_RSA, &rsa) < 0)
			return 0;
		ready = 1;
	}
	if (cvm_jwe_decrypt(&ec, data, size, &pt, &len) == 0)
		cvm_jose_free_secret(pt, len + 1);
	if (cvm_jwe_decrypt(&rsa, data, size, &pt, &len) == 0)
		cvm_jose_free_secret(pt, len + 1);
	if (cvm_jws_parse(data, size, &jws) == 0) {
		(void)cvm_jws_verify_es256(&jws, xy);
		cvm_jws_free(&jws);
	}
	(void)cvm_jwk_p256_parse(data, size, xy);
	if (cvm_sealed_parse(data, size, &sealed) == 0)
		cvm_sealed_free(&sealed);
	return 0;
}
