/* cmocka: the binding record's text form. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),
		cmocka_unit_test(unbound_device_round_trip),
		cmocka_unit_test(damaged_records_refused),
		cmocka_unit_test(unknown_keys_ignored),
		cmocka_unit_test(small_buffer_refused),
		cmocka_unit_test(pid_liveness),
	};
	return cmocka_run_group_tests_name("vfio_bind", tests, NULL, NULL);
}
