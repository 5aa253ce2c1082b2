/* cmocka: the per-call-site rate limit of vmm/log.h. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <pthread.h>
#include <string.h>

#include "vmm/log.h"
#include "stderr_capture.h"

#define SEC 1000000000ull

static void test_burst_then_suppressed(void **state)
{
	struct log_rl rl = { 0 };
	unsigned missed, i, passed = 0;
	uint64_t t0 = 7 * SEC;

	(void)state;
	for (i = 0; i < 100; i++) {
		if (log_rl_allow(&rl, t0 + i, &missed)) {
			passed++;
			assert_int_equal(missed, 0);
		}
	}
	assert_int_equal(passed, LOG_RL_BURST);
	/* Still inside the window: nothing. */
	assert_false(log_rl_allow(&rl, t0 + LOG_RL_INTERVAL_NS - 1, &missed));
	/* The next window: the first one passes and reports what was dropped. */
	assert_true(log_rl_allow(&rl, t0 + LOG_RL_INTERVAL_NS, &missed));
	assert_int_equal(missed, 100 - LOG_RL_BURST + 1);
	assert_true(log_rl_allow(&rl, t0 + LOG_RL_INTERVAL_NS + 1, &missed));
	assert_int_equal(missed, 0);
}

/* A clock that reads 0 still starts a window (0 means "none yet"). */
static void test_time_zero(void **state)
{
	struct log_rl rl = { 0 };
	unsigned missed, i, passed = 0;

	(void)state;
	for (i = 0; i < 50; i++)
		passed += log_rl_allow(&rl, 0, &missed);
	assert_int_equal(passed, LOG_RL_BURST);
}

struct flood {
	struct log_rl *rl;
	unsigned passed, missed;
};

static void *flood_thread(void *arg)
{
	struct flood *f = arg;
	unsigned missed, i;

	for (i = 0; i < 100000; i++)
		if (log_rl_allow(f->rl, 5 * SEC, &missed)) {
			f->passed++;
			f->missed += missed;
		}
	return NULL;
}

/* vCPU threads at one site: exactly one burst in one window, nothing lost from the count. */
static void test_threads(void **state)
{
	struct log_rl rl = { 0 };
	struct flood f[4];
	pthread_t t[4];
	unsigned i, passed = 0, missed;

	(void)state;
	for (i = 0; i < 4; i++) {
		f[i] = (struct flood){ .rl = &rl };
		assert_int_equal(pthread_create(&t[i], NULL, flood_thread, &f[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		passed += f[i].passed;
	}
	assert_int_equal(passed, LOG_RL_BURST);
	assert_true(log_rl_allow(&rl, 5 * SEC + LOG_RL_INTERVAL_NS, &missed));
	assert_int_equal(missed, 4 * 100000 - LOG_RL_BURST);
}

static void say(unsigned i)
{
	pr_warn_rl("vm0: message %u", i);
}

/* The macro: one site's flood is bounded, another site is not affected, errno kept. */
static void test_macro(void **state)
{
	struct capture cap;
	unsigned lines, i;
	char *out;

	(void)state;
	capture_begin(&cap);
	for (i = 0; i < 1000; i++) {
		errno = 42;
		say(i);
		assert_int_equal(errno, 42);
	}
	pr_err_rl("vm0: another site");
	out = capture_end(&cap, &lines);
	assert_int_equal(lines, LOG_RL_BURST + 1);
	assert_non_null(strstr(out, "sluice: warning: vm0: message 0\n"));
	assert_null(strstr(out, "vm0: message 10\n"));
	assert_non_null(strstr(out, "sluice: vm0: another site\n"));
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_burst_then_suppressed),
		cmocka_unit_test(test_time_zero),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_macro),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
