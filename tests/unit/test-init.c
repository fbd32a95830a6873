/* init/: the init's configuration and module-list handling (host build of the guest code). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../init/init.h"
#include "cvmkit/fileio.h"
#include "testutil.h"

static int parse(const char *text, struct init_config *c, unsigned *line)
{
	return init_config_parse((const uint8_t *)text, strlen(text), c, line);
}

static void full_config(void **state)
{
	struct init_config c;
	const char *text = "[workload]\npath = /usr/bin/hello\narg = --exit\narg = 3\nenv = RESPONSE=hi there\n"
			   "uid = 1000\ngid = 1001\nworkdir = /tmp\n[init]\non_exit = reboot\nreport_pcrs = no\n"
			   "dump_eventlog = yes\n";

	assert_int_equal(parse(text, &c, NULL), 0);
	assert_string_equal(c.path, "/usr/bin/hello");
	assert_string_equal(c.argv[0], "/usr/bin/hello");
	assert_string_equal(c.argv[1], "--exit");
	assert_string_equal(c.argv[2], "3");
	assert_null(c.argv[3]);
	assert_string_equal(c.envp[0], "RESPONSE=hi there");
	assert_null(c.envp[1]);
	assert_int_equal(c.uid, 1000);
	assert_int_equal(c.gid, 1001);
	assert_string_equal(c.workdir, "/tmp");
	assert_int_equal(c.on_exit, INIT_REBOOT);
	assert_false(c.report_pcrs);
	assert_true(c.dump_eventlog);
	init_config_free(&c);
}

static void defaults(void **state)
{
	struct init_config c;

	assert_int_equal(parse("[workload]\npath=/w\n", &c, NULL), 0);
	assert_int_equal(c.argc, 0);
	assert_null(c.argv[1]);
	assert_int_equal(c.on_exit, INIT_POWEROFF);
	assert_true(c.report_pcrs);
	assert_false(c.dump_eventlog);
	assert_string_equal(c.workdir, "/");
	assert_int_equal(c.uid, 0);
	init_config_free(&c);
}

static void rejects(void **state)
{
	static const struct {
		const char *text;
		int err;
		unsigned line;
	} cases[] = {
		{ "[init]\non_exit=poweroff\n", -ENOENT, 0 },
		{ "[workload]\npath=relative\n", -EINVAL, 2 },
		{ "[workload]\npath=/w\ntypo=1\n", -EINVAL, 3 },
		{ "[workload]\npath=/w\nenv=NOEQUALS\n", -EINVAL, 3 },
		{ "[workload]\npath=/w\nuid=-1\n", -EINVAL, 3 },
		{ "[workload]\npath=/w\n[init]\non_exit=halt\n", -EINVAL, 4 },
		{ "[workload]\npath=/w\n[init]\nreport_pcrs=maybe\n", -EINVAL, 4 },
		{ "[kbs]\nurl=https://x\n", -EINVAL, 2 },
		{ "[workload\n", -EBADMSG, 1 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct init_config c;
		unsigned line = 0;
		assert_int_equal(parse(cases[i].text, &c, &line), cases[i].err);
		if (cases[i].line)
			assert_int_equal(line, cases[i].line);
	}
}

static void too_many_args(void **state)
{
	char text[8192] = "[workload]\npath=/w\n";
	struct init_config c;

	for (int i = 0; i < INIT_MAX_ARGS + 1; i++)
		strcat(text, "arg=x\n");
	assert_int_equal(parse(text, &c, NULL), -E2BIG);
}

/* Modules whose dependency does not apply are skipped, never loaded; a list
 * that names a missing file fails naming that module. */
static void module_list_missing_file(void **state)
{
	char *dir = tu_mkdtemp(), path[512];
	struct init_modules_result res = { 0 };
	const char *list = "# comment\nkernel/none/missing.ko.xz\n";

	snprintf(path, sizeof(path), "%s/load.list", dir);
	assert_int_equal(cvm_write_file_atomic(path, list, strlen(list), 0644), 0);
	assert_int_equal(init_load_modules(path, &res), -ENOENT);
	assert_string_equal(res.failed, "kernel/none/missing.ko.xz");
	snprintf(path, sizeof(path), "%s/absent.list", dir);
	assert_int_equal(init_load_modules(path, &res), 0);
	assert_int_equal(res.loaded, 0);
	tu_rmtree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(full_config),
		cmocka_unit_test(defaults),
		cmocka_unit_test(rejects),
		cmocka_unit_test(too_many_args),
		cmocka_unit_test(module_list_missing_file),
	};
	return cmocka_run_group_tests_name("init", tests, NULL, NULL);
}
