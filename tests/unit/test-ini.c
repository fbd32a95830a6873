/* common/ini.c: the configuration format shared by cvm-image and the init. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cvmkit/ini.h"
#include "testutil.h"

struct seen {
	char text[1024];
	int fail_at;
	unsigned calls;
};

static int collect(const char *section, const char *key, const char *value, unsigned line, void *userdata)
{
	struct seen *s = userdata;
	size_t n = strlen(s->text);

	if (++s->calls == (unsigned)s->fail_at)
		return -ENOTSUP;
	snprintf(s->text + n, sizeof(s->text) - n, "%u:%s.%s=%s|", line, section, key, value);
	return 0;
}

static int parse(const char *text, struct seen *s, unsigned *line)
{
	return cvm_ini_parse((const uint8_t *)text, strlen(text), collect, s, line);
}

static void sections_keys_comments(void **state)
{
	struct seen s = { .fail_at = -1 };
	const char *text = "top = 1\n# comment\n; other\n\n[workload]\n  path = /usr/bin/hello  \r\narg=--exit\narg = 3 4\n"
			   "[ init ]\non_exit=reboot";

	assert_int_equal(parse(text, &s, NULL), 0);
	assert_string_equal(s.text, "1:.top=1|6:workload.path=/usr/bin/hello|7:workload.arg=--exit|"
				    "8:workload.arg=3 4|10:init.on_exit=reboot|");
}

static void empty_value_and_equals_in_value(void **state)
{
	struct seen s = { .fail_at = -1 };

	assert_int_equal(parse("[w]\nenv = A=b=c\nx =\n", &s, NULL), 0);
	assert_string_equal(s.text, "2:w.env=A=b=c|3:w.x=|");
}

static void malformed(void **state)
{
	static const struct {
		const char *text;
		unsigned line;
	} cases[] = {
		{ "[workload\npath=/x\n", 1 },
		{ "[]\n", 1 },
		{ "[a] junk\n", 1 },
		{ "[ok]\nno equals sign\n", 2 },
		{ "[ok]\n = value\n", 2 },
		{ "[ok]\nbad key = v\n", 2 },
		{ "[ok]\nk/ey = v\n", 2 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct seen s = { .fail_at = -1 };
		unsigned line = 0;
		assert_int_equal(parse(cases[i].text, &s, &line), -EBADMSG);
		assert_int_equal(line, cases[i].line);
	}
	{
		struct seen s = { .fail_at = -1 };
		const uint8_t nul[] = "[a]\nk=v\0x\n";
		assert_int_equal(cvm_ini_parse(nul, sizeof(nul) - 1, collect, &s, NULL), -EBADMSG);
	}
	{
		struct seen s = { .fail_at = -1 };
		char *big = malloc(CVM_INI_MAX_LINE + 10);
		memset(big, 'a', CVM_INI_MAX_LINE + 5);
		memcpy(big, "k=", 2);
		big[CVM_INI_MAX_LINE + 5] = 0;
		assert_int_equal(parse(big, &s, NULL), -EBADMSG);
		free(big);
	}
}

static void callback_error_stops(void **state)
{
	struct seen s = { .fail_at = 2 };
	unsigned line = 0;

	assert_int_equal(parse("a=1\nb=2\nc=3\n", &s, &line), -ENOTSUP);
	assert_int_equal(line, 2);
	assert_int_equal(s.calls, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sections_keys_comments),
		cmocka_unit_test(empty_value_and_equals_in_value),
		cmocka_unit_test(malformed),
		cmocka_unit_test(callback_error_stops),
	};
	return cmocka_run_group_tests_name("ini", tests, NULL, NULL);
}
