/* cmocka: nearest-rank percentiles of the guest echo client (tests/tools/percentile.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>

#include "tests/tools/percentile.h"

/* 1..1000 shuffled: the p-th percentile is p * 10 exactly (nearest rank). */
static void thousand_samples(void **state)
{
	double v[1000];

	(void)state;
	for (int i = 0; i < 1000; i++)
		v[i] = (double)((i * 337) % 1000 + 1);	/* 337 is prime to 1000: a permutation */
	pctl_sort(v, 1000);
	assert_true(v[0] == 1 && v[999] == 1000);
	assert_true(pctl_at(v, 1000, 50) == 500);
	assert_true(pctl_at(v, 1000, 90) == 900);
	assert_true(pctl_at(v, 1000, 99) == 990);
	assert_true(pctl_at(v, 1000, 99.9) == 999);
	assert_true(pctl_at(v, 1000, 99.99) == 1000);
	assert_true(pctl_at(v, 1000, 100) == 1000);
}

/* A hand-worked vector: ranks ceil(p/100 * 5) of {3, 7, 9, 20, 41}. */
static void small_vector(void **state)
{
	double v[] = { 20, 3, 41, 9, 7 };

	(void)state;
	pctl_sort(v, 5);
	assert_true(pctl_at(v, 5, 20) == 3);	/* rank 1 */
	assert_true(pctl_at(v, 5, 21) == 7);	/* rank 2: ceil(1.05) */
	assert_true(pctl_at(v, 5, 50) == 9);	/* rank 3: ceil(2.5) */
	assert_true(pctl_at(v, 5, 90) == 41);	/* rank 5: ceil(4.5) */
	assert_true(pctl_at(v, 5, 0.001) == 3);
}

static void empty_and_bad(void **state)
{
	double v[] = { 1 };

	(void)state;
	assert_true(isnan(pctl_at(v, 0, 50)));
	assert_true(isnan(pctl_at(v, 1, 0)));
	assert_true(isnan(pctl_at(v, 1, 100.5)));
	assert_true(pctl_at(v, 1, 99.9) == 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(thousand_samples),
		cmocka_unit_test(small_vector),
		cmocka_unit_test(empty_and_bad),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
