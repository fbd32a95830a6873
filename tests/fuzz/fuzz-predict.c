/* libFuzzer harness: cvm_predict_image() on untrusted UKIs, disks and VHDs
 * (the .sdmagic parser and every image/ reader on the prediction path). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "cvmkit/predict.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cvm_prediction p;
	struct cvm_predict_opts o = { .n_banks = 1, .banks = { CVM_HASH_SHA256 }, .failed_boot_options = 1 };

	(void)cvm_predict_image(data, size, &o, &p);
	o.stub_version = 252;
	(void)cvm_predict_image(data, size, &o, &p);
	return 0;
}
