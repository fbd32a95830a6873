/* init/azure.c and the [azure] keys of init/config.c (host build of the
 * guest code): configuration, Azure detection from DMI files, and the phase
 * as configured (no WireServer is contacted here: the client has its own
 * tests in test-wireserver.c). */
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

static int parse(const char *text, struct init_config *c)
{
	unsigned line = 0;

	return init_config_parse((const uint8_t *)text, strlen(text), c, &line);
}

static void config_keys(void **state)
{
	struct init_config c;

	assert_int_equal(parse("[workload]\npath=/w\n", &c), 0);
	assert_int_equal(c.azure_ready, INIT_AZURE_READY_AUTO);
	assert_int_equal(c.azure_ready_timeout, 30);
	init_config_free(&c);
	assert_int_equal(parse("[workload]\npath=/w\n[azure]\nreport_ready = yes\nready_timeout = 600\n", &c), 0);
	assert_int_equal(c.azure_ready, INIT_AZURE_READY_YES);
	assert_int_equal(c.azure_ready_timeout, 600);
	init_config_free(&c);
	assert_int_equal(parse("[workload]\npath=/w\n[azure]\nreport_ready = no\n", &c), 0);
	assert_int_equal(c.azure_ready, INIT_AZURE_READY_NO);
	init_config_free(&c);
	assert_int_equal(parse("[workload]\npath=/w\n[azure]\nreport_ready = maybe\n", &c), -EINVAL);
	assert_int_equal(parse("[workload]\npath=/w\n[azure]\nready_timeout = 0\n", &c), -EINVAL);
	assert_int_equal(parse("[workload]\npath=/w\n[azure]\nready_timeout = 601\n", &c), -EINVAL);
	assert_int_equal(parse("[workload]\npath=/w\n[azure]\nwireserver = 1.2.3.4\n", &c), -EINVAL);
}

static void put(const char *dir, const char *name, const char *text)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(cvm_write_file_atomic(path, text, strlen(text), 0644), 0);
}

/* The strings as the kernel shows them on Azure (newline-terminated). */
static void detect(void **state)
{
	char *dir = tu_mkdtemp();

	assert_int_equal(init_azure_detect(dir), 0); /* no DMI at all */
	put(dir, "sys_vendor", "Microsoft Corporation\n");
	assert_int_equal(init_azure_detect(dir), 0); /* Hyper-V, but no asset tag */
	put(dir, "chassis_asset_tag", "7783-7084-3265-9085-8269-3286-77\n");
	assert_int_equal(init_azure_detect(dir), 1);
	put(dir, "chassis_asset_tag", "7783-7084-3265-9085-8269-3286-78\n");
	assert_int_equal(init_azure_detect(dir), 0); /* on-premises Hyper-V */
	put(dir, "chassis_asset_tag", "7783-7084-3265-9085-8269-3286-77\n");
	put(dir, "sys_vendor", "QEMU\n");
	assert_int_equal(init_azure_detect(dir), 0);
	tu_rmtree(dir);
}

static void phase_as_configured(void **state)
{
	struct init_config c;
	char *dir = tu_mkdtemp(), line[768];

	put(dir, "sys_vendor", "QEMU\n");
	put(dir, "chassis_asset_tag", "\n");
	assert_int_equal(parse("[workload]\npath=/w\n[azure]\nreport_ready = no\n", &c), 0);
	strcpy(line, "x");
	assert_int_equal(init_azure_ready(&c, dir, line, sizeof(line)), 1);
	assert_string_equal(line, "");
	init_config_free(&c);
	assert_int_equal(parse("[workload]\npath=/w\n[azure]\nreport_ready = auto\n", &c), 0);
	assert_int_equal(init_azure_ready(&c, dir, line, sizeof(line)), 1);
	assert_non_null(strstr(line, "azure: not Azure"));
	init_config_free(&c);
	tu_rmtree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(config_keys),
		cmocka_unit_test(detect),
		cmocka_unit_test(phase_as_configured),
	};
	return cmocka_run_group_tests_name("init-azure", tests, NULL, NULL);
}
