/* init/stop.c and [init] stop_timeout: which name is which command, which
 * signal each sends, what PID 1 makes of each signal (host build of the
 * guest code).  Expected values are the mapping README.md documents and the
 * names the kernel runs (kernel/reboot.c: poweroff_cmd "/sbin/poweroff",
 * reboot_cmd "/sbin/reboot"). */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../init/init.h"

static void argv0_dispatch(void **state)
{
	static const struct {
		const char *argv0;
		enum init_applet want;
	} cases[] = {
		{ "/sbin/poweroff", INIT_APPLET_POWEROFF },
		{ "poweroff", INIT_APPLET_POWEROFF },
		{ "/sbin/reboot", INIT_APPLET_REBOOT },
		{ "./reboot", INIT_APPLET_REBOOT },
		{ "/sbin/halt", INIT_APPLET_HALT },
		{ "/init", INIT_APPLET_INIT },
		{ "init", INIT_APPLET_INIT },
		{ "", INIT_APPLET_INIT },
		{ "/", INIT_APPLET_INIT },
		{ "/sbin/", INIT_APPLET_INIT },
		{ "/sbin/poweroff2", INIT_APPLET_INIT },
		{ "/sbin/Poweroff", INIT_APPLET_INIT },
		{ "poweroff/", INIT_APPLET_INIT },
		{ "/sbin/poweroff.real", INIT_APPLET_INIT },
		{ "xreboot", INIT_APPLET_INIT },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("argv[0] '%s'\n", cases[i].argv0);
		assert_int_equal(init_applet_from_argv0(cases[i].argv0), cases[i].want);
	}
	assert_int_equal(init_applet_from_argv0(NULL), INIT_APPLET_INIT);
}

static void applet_signals(void **state)
{
	assert_int_equal(init_applet_signal(INIT_APPLET_POWEROFF), SIGTERM);
	assert_int_equal(init_applet_signal(INIT_APPLET_HALT), SIGTERM);
	assert_int_equal(init_applet_signal(INIT_APPLET_REBOOT), SIGINT);
	assert_int_equal(init_applet_signal(INIT_APPLET_INIT), 0);
}

static void stop_actions(void **state)
{
	enum init_on_exit a = (enum init_on_exit)99;

	assert_int_equal(init_stop_action(SIGTERM, &a), 0);
	assert_int_equal(a, INIT_POWEROFF);
	a = (enum init_on_exit)99;
	assert_int_equal(init_stop_action(SIGPWR, &a), 0);
	assert_int_equal(a, INIT_POWEROFF);
	assert_int_equal(init_stop_action(SIGINT, &a), 0);
	assert_int_equal(a, INIT_REBOOT);
	/* Everything else is forwarded to the workload, never a stop; the
	 * out-parameter is left alone. */
	a = (enum init_on_exit)99;
	for (int sig = 1; sig < 65; sig++) {
		if (sig == SIGTERM || sig == SIGPWR || sig == SIGINT)
			continue;
		assert_int_equal(init_stop_action(sig, &a), -EINVAL);
	}
	assert_int_equal(a, 99);
	assert_int_equal(init_stop_action(0, &a), -EINVAL);
	/* Each applet's signal asks for what its name says. */
	assert_int_equal(init_stop_action(init_applet_signal(INIT_APPLET_POWEROFF), &a), 0);
	assert_int_equal(a, INIT_POWEROFF);
	assert_int_equal(init_stop_action(init_applet_signal(INIT_APPLET_HALT), &a), 0);
	assert_int_equal(a, INIT_POWEROFF);
	assert_int_equal(init_stop_action(init_applet_signal(INIT_APPLET_REBOOT), &a), 0);
	assert_int_equal(a, INIT_REBOOT);
}

static void describe(void **state)
{
	assert_non_null(strstr(init_stop_describe(SIGTERM), "SIGTERM"));
	assert_non_null(strstr(init_stop_describe(SIGINT), "Ctrl-Alt-Del"));
	assert_non_null(strstr(init_stop_describe(SIGPWR), "SIGPWR"));
}

static int parse(const char *text, struct init_config *c, unsigned *line)
{
	return init_config_parse((const uint8_t *)text, strlen(text), c, line);
}

static void stop_timeout_config(void **state)
{
	static const struct {
		const char *value;
		int ok;
		unsigned want;
	} cases[] = {
		{ "0", 1, 0 },       { "2", 1, 2 },   { "10", 1, 10 },  { "3600", 1, 3600 }, { "3601", 0, 0 },
		{ "-1", 0, 0 },      { "", 0, 0 },    { "1.5", 0, 0 },  { "10s", 0, 0 },     { "0x10", 0, 0 },
		{ "4294967306", 0, 0 }, { "99999999999999999999", 0, 0 },
	};
	struct init_config c;
	unsigned line = 0;
	char text[200];

	assert_int_equal(parse("[workload]\npath = /w\n", &c, NULL), 0);
	assert_int_equal(c.stop_timeout, 10);
	init_config_free(&c);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), "[workload]\npath = /w\n[init]\nstop_timeout = %s\n", cases[i].value);
		print_message("stop_timeout = '%s'\n", cases[i].value);
		if (cases[i].ok) {
			assert_int_equal(parse(text, &c, &line), 0);
			assert_int_equal(c.stop_timeout, cases[i].want);
			init_config_free(&c);
		} else {
			assert_int_equal(parse(text, &c, &line), -EINVAL);
			assert_int_equal(line, 4);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(argv0_dispatch), cmocka_unit_test(applet_signals),
		cmocka_unit_test(stop_actions),   cmocka_unit_test(describe),
		cmocka_unit_test(stop_timeout_config),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
