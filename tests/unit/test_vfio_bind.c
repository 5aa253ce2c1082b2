/* cmocka: the binding record's text form, and what restoring keeps on a sysfs-like tree. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vfio/bind.h"

static void round_trip(void **state)
{
	struct bind_record r = {
		.bdf = "0000:01:10.0", .pid = 4242, .vm = "web", .driver = "igbvf", .rebound = true,
	}, back;
	char buf[512];

	(void)state;
	assert_int_equal(bind_record_format(&r, buf, sizeof(buf)), 0);
	assert_int_equal(bind_record_parse(buf, &back), 0);
	assert_string_equal(back.bdf, "0000:01:10.0");
	assert_int_equal(back.pid, 4242);
	assert_string_equal(back.vm, "web");
	assert_string_equal(back.driver, "igbvf");
	assert_string_equal(back.override, "");
	assert_true(back.rebound);
}

static void unbound_device_round_trip(void **state)
{
	struct bind_record r = { .bdf = "0000:01:10.2", .pid = 7, .vm = "vm" }, back;
	char buf[512];

	(void)state;
	assert_int_equal(bind_record_format(&r, buf, sizeof(buf)), 0);
	assert_int_equal(bind_record_parse(buf, &back), 0);
	assert_string_equal(back.driver, "");
	assert_false(back.rebound);
}

static void damaged_records_refused(void **state)
{
	struct bind_record r;

	(void)state;
	assert_int_equal(bind_record_parse("", &r), -EINVAL);
	assert_int_equal(bind_record_parse("bdf=0000:01:10.0\n", &r), -EINVAL);	/* no pid */
	assert_int_equal(bind_record_parse("pid=12\n", &r), -EINVAL);		/* no bdf */
	assert_int_equal(bind_record_parse("bdf=0000:01:10.0\npid=x\n", &r), -EINVAL);
	assert_int_equal(bind_record_parse("bdf=0000:01:10.0\npid=-3\n", &r), -EINVAL);
	assert_int_equal(bind_record_parse("bdf=0000:01:10.0\npid=3\ngarbage\n", &r), -EINVAL);
	assert_int_equal(bind_record_parse("bdf=0000:01:10.0\npid=3\ndriver=../../x\n", &r), -EINVAL);
}

static void unknown_keys_ignored(void **state)
{
	struct bind_record r;

	(void)state;
	assert_int_equal(bind_record_parse("bdf=0000:01:10.0\npid=3\nfuture=1\n", &r), 0);
	assert_int_equal(r.pid, 3);
}

static void small_buffer_refused(void **state)
{
	struct bind_record r = { .bdf = "0000:01:10.0", .pid = 1, .vm = "vm" };
	char buf[16];

	(void)state;
	assert_int_equal(bind_record_format(&r, buf, sizeof(buf)), -EINVAL);
}

static void pid_liveness(void **state)
{
	(void)state;
	assert_false(bind_pid_alive(getpid()));	/* alive, but not a sluice */
	assert_false(bind_pid_alive(0));
	assert_false(bind_pid_alive(-1));
}

static void put_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/*
 * Issue 13 item 7: the driver the record names cannot take the device back
 * (here it is not there at all): the record must stay, or `sluice release`
 * has nothing to release the device from later.
 */
static void failed_rebind_keeps_record(void **state)
{
	char root[] = "/tmp/sluice-bind-XXXXXX", p[512], text[512];
	struct bind_record r = {
		.bdf = "0000:01:10.0", .pid = 1, .vm = "vm0", .driver = "igbvf", .rebound = true,
	};
	struct bind_record back;

	(void)state;
	assert_non_null(mkdtemp(root));
	snprintf(p, sizeof(p), "%s/sys", root);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/sys/bus", root);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/sys/bus/pci", root);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/sys/bus/pci/devices", root);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/sys/bus/pci/devices/%s", root, r.bdf);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/sys/bus/pci/devices/%s/driver_override", root, r.bdf);
	put_file(p, "vfio-pci\n");
	snprintf(p, sizeof(p), "%s/run", root);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/run/devices", root);
	assert_int_equal(mkdir(p, 0755), 0);
	assert_int_equal(bind_record_format(&r, text, sizeof(text)), 0);
	snprintf(p, sizeof(p), "%s/run/devices/%s", root, r.bdf);
	put_file(p, text);

	snprintf(p, sizeof(p), "%s/sys", root);
	snprintf(text, sizeof(text), "%s/run", root);
	assert_true(bind_restore(p, text, &r) < 0);
	assert_int_equal(bind_record_read(text, r.bdf, &back), 0);
	assert_string_equal(back.driver, "igbvf");

	snprintf(p, sizeof(p), "rm -rf '%s'", root);
	assert_int_equal(system(p), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),
		cmocka_unit_test(unbound_device_round_trip),
		cmocka_unit_test(damaged_records_refused),
		cmocka_unit_test(unknown_keys_ignored),
		cmocka_unit_test(small_buffer_refused),
		cmocka_unit_test(pid_liveness),
		cmocka_unit_test(failed_rebind_keeps_record),
	};
	return cmocka_run_group_tests_name("vfio_bind", tests, NULL, NULL);
}
