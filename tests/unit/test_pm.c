/* cmocka: power, reset and panic ports (vmm/pm.c), and what a flood of them logs. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "vmm/log.h"
#include "vmm/pm.h"
#include "stderr_capture.h"

#define SLP_EN		(1u << 13)
#define SLP_TYP(t)	((t) << 10)
#define FLOOD		1000

struct ctx {
	struct pm pm;
	unsigned stops[3];
};

static void stop(void *opaque, enum pm_event ev)
{
	struct ctx *c = opaque;

	c->stops[ev]++;
}

static void write16(void (*fn)(void *, uint64_t, uint8_t *, uint32_t, bool), struct ctx *c,
		    uint16_t v)
{
	uint8_t d[2] = { (uint8_t)v, (uint8_t)(v >> 8) };

	fn(&c->pm, 0, d, 2, true);
}

static void test_s5_powers_off(void **state)
{
	struct ctx c = { 0 };

	(void)state;
	assert_int_equal(pm_init(&c.pm, "vm0", stop, &c), 0);
	write16(pm_cnt_io, &c, SLP_EN | SLP_TYP(5));
	assert_int_equal(c.stops[PM_POWEROFF], 1);
	pm_exit(&c.pm);
}

/* Issue 13 item 1: S3 requests in a loop are a guest's log flood. */
static void test_sleep_flood_is_rate_limited(void **state)
{
	struct ctx c = { 0 };
	struct capture cap;
	unsigned lines, i;
	char *out;

	(void)state;
	assert_int_equal(pm_init(&c.pm, "vm0", stop, &c), 0);
	capture_begin(&cap);
	for (i = 0; i < FLOOD; i++)
		write16(pm_cnt_io, &c, SLP_EN | SLP_TYP(3));
	out = capture_end(&cap, &lines);
	assert_true(lines >= 1);
	assert_true(lines <= LOG_RL_BURST);
	assert_non_null(strstr(out, "vm0: guest asked for sleep state type 3"));
	assert_int_equal(c.stops[PM_POWEROFF], 0);
	free(out);
	pm_exit(&c.pm);
}

/* pvpanic with only CRASH_LOADED, again and again. */
static void test_crash_loaded_flood_is_rate_limited(void **state)
{
	struct ctx c = { 0 };
	struct capture cap;
	unsigned lines, i;
	uint8_t d;
	char *out;

	(void)state;
	assert_int_equal(pm_init(&c.pm, "vm0", stop, &c), 0);
	capture_begin(&cap);
	for (i = 0; i < FLOOD; i++) {
		d = PVPANIC_CRASH_LOADED;
		pm_pvpanic_io(&c.pm, 0, &d, 1, true);
	}
	out = capture_end(&cap, &lines);
	assert_true(lines >= 1);
	assert_true(lines <= LOG_RL_BURST);
	assert_int_equal(c.stops[PM_PANIC], 0);
	free(out);
	pm_exit(&c.pm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_s5_powers_off),
		cmocka_unit_test(test_sleep_flood_is_rate_limited),
		cmocka_unit_test(test_crash_loaded_flood_is_rate_limited),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
