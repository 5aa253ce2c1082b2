/*
 * Unit-test helper: a recording msi_ops for MSI and MSI-X tests. Pass
 * &ev_ops with a struct ev_log as the opaque; then expect_* walk what the
 * callbacks saw, in order.
 */
#ifndef SLUICE_TESTS_MSI_EVENTS_H
#define SLUICE_TESTS_MSI_EVENTS_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/msi.h"

#define MAX_EV 64	/* the most one test records */

struct ev {
	bool fire;
	unsigned n;
	uint64_t addr;
	uint32_t data;
	bool on;
};

struct ev_log {
	struct ev ev[MAX_EV];
	unsigned nev, seen, updates, fires;
};

static inline void ev_rec(struct ev_log *l, struct ev e)
{
	if (l->nev < MAX_EV)
		l->ev[l->nev] = e;
	l->nev++;
}

static inline void ev_update(void *opaque, unsigned n, uint64_t addr, uint32_t data, bool on)
{
	struct ev_log *l = opaque;

	l->updates++;
	ev_rec(l, (struct ev){ .n = n, .addr = addr, .data = data, .on = on });
}

static inline void ev_fire(void *opaque, unsigned n)
{
	struct ev_log *l = opaque;

	l->fires++;
	ev_rec(l, (struct ev){ .fire = true, .n = n });
}

static const struct msi_ops ev_ops = { .update = ev_update, .fire = ev_fire };

static inline const struct ev *next_ev(struct ev_log *l)
{
	assert_true(l->seen < l->nev && l->seen < MAX_EV);
	return &l->ev[l->seen++];
}

static inline void expect_update(struct ev_log *l, unsigned n, uint64_t addr, uint32_t data,
				 bool on)
{
	const struct ev *e = next_ev(l);

	assert_false(e->fire);
	assert_int_equal(e->n, n);
	assert_int_equal(e->addr, addr);
	assert_int_equal(e->data, data);
	assert_int_equal(e->on, on);
}

static inline void expect_fire(struct ev_log *l, unsigned n)
{
	const struct ev *e = next_ev(l);

	assert_true(e->fire);
	assert_int_equal(e->n, n);
}

static inline void expect_none(struct ev_log *l)
{
	assert_int_equal(l->nev, l->seen);
}

#endif
