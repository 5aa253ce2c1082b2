/*
 * percentile.h: nearest-rank percentiles of round-trip samples, shared by the
 * guest echo client (tests/tools/echoclock.c) and its unit test.
 *
 * Nearest rank (the definition sockperf and HdrHistogram report): the p-th
 * percentile of n sorted samples is the ceil(p/100 * n)-th smallest, so it is
 * always an observed value and p = 100 is the maximum.
 */
#ifndef SLUICE_TOOLS_PERCENTILE_H
#define SLUICE_TOOLS_PERCENTILE_H

#include <math.h>
#include <stddef.h>
#include <stdlib.h>

static int pctl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Sort n samples in place (once, before any pctl_at). */
static inline void pctl_sort(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), pctl_cmp);
}

/* The p-th percentile (0 < p <= 100) of n sorted samples; NAN when n is 0. */
static inline double pctl_at(const double *sorted, size_t n, double p)
{
	double rank;
	size_t k;

	if (n == 0 || !(p > 0) || p > 100)
		return NAN;
	/* ceil() by hand (the static tools link no libm); the epsilon keeps
	 * 99.9% of 1000 at rank 999 when p / 100 * n rounds to 999.0000001. */
	rank = p / 100.0 * (double)n;
	k = (size_t)rank;
	if ((double)k < rank - 1e-9)
		k++;
	if (k < 1)
		k = 1;
	return sorted[(k < n ? k : n) - 1];
}

#endif
