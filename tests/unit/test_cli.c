/* cmocka: command-line parsing. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <unistd.h>

#include "vmm/cli/cli.h"
#include "vmm/log.h"

static void size_plain_and_suffixes(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(cli_parse_size("4096", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(cli_parse_size("256M", &v), 0);
	assert_int_equal(v, 256ull << 20);
	assert_int_equal(cli_parse_size("2g", &v), 0);
	assert_int_equal(v, 2ull << 30);
	assert_int_equal(cli_parse_size("1KiB", &v), 0);
	assert_int_equal(v, 1024);
	assert_int_equal(cli_parse_size("3MB", &v), 0);
	assert_int_equal(v, 3ull << 20);
	assert_int_equal(cli_parse_size("1T", &v), 0);
	assert_int_equal(v, 1ull << 40);
	assert_int_equal(cli_parse_size("0", &v), 0);
	assert_int_equal(v, 0);
}

static void size_rejects_garbage(void **state)
{
	uint64_t v = 7;

	(void)state;
	assert_int_equal(cli_parse_size("", &v), -EINVAL);
	assert_int_equal(cli_parse_size("M", &v), -EINVAL);
	assert_int_equal(cli_parse_size("-1M", &v), -EINVAL);
	assert_int_equal(cli_parse_size("12Q", &v), -EINVAL);
	assert_int_equal(cli_parse_size("12MM", &v), -EINVAL);
	assert_int_equal(cli_parse_size("1.5G", &v), -EINVAL);
	assert_int_equal(cli_parse_size(" 1G", &v), -EINVAL);
	assert_int_equal(cli_parse_size(NULL, &v), -EINVAL);
	assert_int_equal(v, 7);
}

static void size_overflow(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(cli_parse_size("99999999999999999999999", &v), -ERANGE);
	assert_int_equal(cli_parse_size("17179869184G", &v), -ERANGE);
	assert_int_equal(cli_parse_size("16777215T", &v), 0);
}

static void uint_bounds(void **state)
{
	unsigned long v;

	(void)state;
	assert_int_equal(cli_parse_uint("4", 1, 8, &v), 0);
	assert_int_equal(v, 4);
	assert_int_equal(cli_parse_uint("0", 1, 8, &v), -ERANGE);
	assert_int_equal(cli_parse_uint("9", 1, 8, &v), -ERANGE);
	assert_int_equal(cli_parse_uint("4x", 1, 8, &v), -EINVAL);
	assert_int_equal(cli_parse_uint("", 1, 8, &v), -EINVAL);
}

/* Logging keeps errno: with stderr closed fprintf fails (EBADF), errno must not change. */
static void log_keeps_errno(void **state)
{
	int saved = dup(STDERR_FILENO);

	(void)state;
	assert_true(saved >= 0);
	close(STDERR_FILENO);
	errno = EBUSY;
	pr_err("device %s busy", "0000:01:10.0");
	assert_int_equal(errno, EBUSY);
	errno = ENOENT;
	pr_warn("x");
	assert_int_equal(errno, ENOENT);
	dup2(saved, STDERR_FILENO);
	close(saved);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(size_plain_and_suffixes),
		cmocka_unit_test(size_rejects_garbage),
		cmocka_unit_test(size_overflow),
		cmocka_unit_test(uint_bounds),
		cmocka_unit_test(log_keeps_errno),
	};
	return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
