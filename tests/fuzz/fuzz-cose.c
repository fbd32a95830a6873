/* COSE_Sign1 parser (measure/cose.c): bundles arrive from wherever a user
 * downloaded them.  A parsed message is also run through verification with a
 * fixed P-256 key, which exercises Sig_structure and the r||s conversion. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/pk.h>

#include "cvmkit/cose.h"

static const char pub_pem[] = "-----BEGIN PUBLIC KEY-----\n"
			      "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE+MewpZ/6JaAzDVDZDS/lBUYh7vhF\n"
			      "T1Q9DHZ7ly/kxDOf5RysuQPJyZ70JPKoyhcsmAEYlQtAgt7jNJ9KpYRiNQ==\n"
			      "-----END PUBLIC KEY-----\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static mbedtls_pk_context pk;
	static int loaded;
	struct cvm_cose_sign1 m;

	if (!loaded) {
		mbedtls_pk_init(&pk);
		if (mbedtls_pk_parse_public_key(&pk, (const unsigned char *)pub_pem, sizeof(pub_pem)) != 0)
			abort();
		loaded = 1;
	}
	if (cvm_cose_sign1_parse(data, size, &m) == 0) {
		if (m.sig_len != 64 && m.sig_len != 96)
			abort();
		(void)cvm_cose_sign1_verify(&m, &pk, m.payload ? NULL : data, m.payload ? 0 : size);
	}
	return 0;
}
