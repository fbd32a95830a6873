/* HTTP response parser: the first byte picks the caps and whether the
 * response answers a HEAD; the rest is fed in one piece and then again in
 * irregular slices, which must give the same verdict. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cvmkit/http.h"

static int run(const uint8_t *buf, size_t len, size_t max_head, size_t max_body, bool head, size_t step,
	       size_t *ret_body_len)
{
	struct cvm_http_parser p;
	struct cvm_http_response rs;
	int r = 0;

	cvm_http_parser_init(&p, max_head, max_body, head);
	for (size_t i = 0; i < len && r == 0; i += step)
		r = cvm_http_parser_feed(&p, buf + i, len - i < step ? len - i : step);
	if (r == 0)
		r = cvm_http_parser_finish(&p);
	if (r == 1 && cvm_http_parser_take(&p, &rs) == 0) {
		*ret_body_len = rs.body_len;
		for (size_t i = 0; i < rs.n_headers; i++)
			(void)strlen(rs.headers[i].name), (void)strlen(rs.headers[i].value);
		(void)cvm_http_response_header(&rs, "set-cookie");
		cvm_http_response_free(&rs);
	}
	cvm_http_parser_free(&p);
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t max_head, max_body, a = 0, b = 0;
	bool head;
	int r1, r2;

	if (size < 1)
		return 0;
	max_head = 64 + (size_t)(data[0] & 0x0f) * 256;
	max_body = (data[0] & 0x40) ? 32 : 0;
	head = data[0] & 0x80;
	r1 = run(data + 1, size - 1, max_head, max_body, head, size, &a);
	r2 = run(data + 1, size - 1, max_head, max_body, head, 1 + (data[0] & 0x30) / 8, &b);
	if (r1 != r2 || a != b)
		abort();
	{
		struct cvm_http_cookies jar = { 0 };
		char *s = malloc(size);

		if (s) {
			memcpy(s, data + 1, size - 1);
			s[size - 1] = 0;
			(void)cvm_http_cookies_set(&jar, s);
			free(s);
		}
	}
	return 0;
}
