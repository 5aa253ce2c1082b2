/* cmocka: the GSI pool and the KVM routing table built from it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "irqremap/irqremap.h"

/* 8 MSI GSIs: 48 routes minus the 40 defaults. */
#define SMALL_MAX	48

static int setup_small(void **state)
{
	struct route_table *t = malloc(sizeof(*t));

	if (!t || route_table_init(t, SMALL_MAX))
		return -1;
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	route_table_destroy(*state);
	free(*state);
	return 0;
}

static void init_limits(void **state)
{
	struct route_table t;

	(void)state;
	assert_int_equal(route_table_init(&t, ROUTE_NR_DEFAULT), -EINVAL);
	assert_int_equal(route_table_init(&t, 10), -EINVAL);
	assert_int_equal(route_table_init(&t, ROUTE_NR_DEFAULT + 1), 0);
	assert_int_equal(t.nr_pool, 1);
	route_table_destroy(&t);
	assert_int_equal(route_table_init(&t, 0), 0);
	assert_int_equal(t.max_routes, ROUTE_MAX_DEFAULT);
	assert_int_equal(t.nr_pool, ROUTE_MAX_DEFAULT - ROUTE_NR_DEFAULT);
	route_table_destroy(&t);
	route_table_destroy(&t);	/* twice is harmless */
}

static void alloc_order(void **state)
{
	struct route_table *t = *state;

	assert_int_equal(gsi_alloc(t), 24);
	assert_int_equal(gsi_alloc(t), 25);
	assert_int_equal(gsi_alloc(t), 26);
}

static void exhaustion(void **state)
{
	struct route_table *t = *state;
	int i;

	for (i = 0; i < SMALL_MAX - ROUTE_NR_DEFAULT; i++)
		assert_int_equal(gsi_alloc(t), 24 + i);
	assert_int_equal(gsi_alloc(t), -ENOSPC);
	assert_int_equal(gsi_alloc(t), -ENOSPC);
	assert_int_equal(gsi_free(t, 31), 0);
	assert_int_equal(gsi_alloc(t), 31);
	assert_int_equal(gsi_alloc(t), -ENOSPC);
}

static void free_and_reuse_lowest(void **state)
{
	struct route_table *t = *state;
	int i;

	for (i = 0; i < 5; i++)
		gsi_alloc(t);
	assert_int_equal(gsi_free(t, 27), 0);
	assert_int_equal(gsi_free(t, 25), 0);
	assert_int_equal(gsi_alloc(t), 25);
	assert_int_equal(gsi_alloc(t), 27);
	assert_int_equal(gsi_alloc(t), 29);
}

static void double_free_and_foreign_refused(void **state)
{
	struct route_table *t = *state;

	assert_int_equal(gsi_alloc(t), 24);
	assert_int_equal(gsi_free(t, 24), 0);
	assert_int_equal(gsi_free(t, 24), -EINVAL);
	assert_int_equal(gsi_free(t, 25), -EINVAL);	/* never allocated */
	assert_int_equal(gsi_free(t, 5), -EINVAL);	/* an IOAPIC pin */
	assert_int_equal(gsi_free(t, 23), -EINVAL);
	assert_int_equal(gsi_free(t, 32), -EINVAL);	/* past the pool */
	assert_int_equal(gsi_free(t, 0xffffffffu), -EINVAL);
	assert_int_equal(gsi_alloc(t), 24);
}

static void routes_need_an_allocated_gsi(void **state)
{
	struct route_table *t = *state;

	assert_int_equal(route_set_msi(t, 24, 0xfee00000, 0, 0x30), -EINVAL);
	assert_int_equal(route_set_msi(t, 4, 0xfee00000, 0, 0x30), -EINVAL);
	assert_int_equal(route_clear(t, 24), -EINVAL);
	assert_int_equal(gsi_alloc(t), 24);
	assert_int_equal(route_set_msi(t, 24, 0xfee00000, 0, 0x30), 0);
	assert_int_equal(route_clear(t, 24), 0);
	assert_int_equal(route_clear(t, 24), 0);	/* idempotent */
}

/* Expected: arch/x86/kvm/irq_comm.c default_routing[], written out by hand. */
static void check_defaults(const struct kvm_irq_routing *r)
{
	unsigned i = 0, gsi;

	for (gsi = 0; gsi < 24; gsi++) {
		const struct kvm_irq_routing_entry *e = &r->entries[i++];

		assert_int_equal(e->gsi, gsi);
		assert_int_equal(e->type, KVM_IRQ_ROUTING_IRQCHIP);
		assert_int_equal(e->flags, 0);
		assert_int_equal(e->u.irqchip.irqchip, KVM_IRQCHIP_IOAPIC);
		assert_int_equal(e->u.irqchip.pin, gsi);
		if (gsi >= 16)
			continue;
		e = &r->entries[i++];
		assert_int_equal(e->gsi, gsi);
		assert_int_equal(e->type, KVM_IRQ_ROUTING_IRQCHIP);
		assert_int_equal(e->u.irqchip.irqchip,
				 gsi < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE);
		assert_int_equal(e->u.irqchip.pin, gsi % 8);
	}
	assert_int_equal(i, ROUTE_NR_DEFAULT);
	/* Spot checks against the kernel table's layout. */
	assert_int_equal(r->entries[17].gsi, 8);
	assert_int_equal(r->entries[17].u.irqchip.irqchip, KVM_IRQCHIP_PIC_SLAVE);
	assert_int_equal(r->entries[17].u.irqchip.pin, 0);
	assert_int_equal(r->entries[32].gsi, 16);
	assert_int_equal(r->entries[39].gsi, 23);
}

static void build_defaults_only(void **state)
{
	struct kvm_irq_routing *r = route_build(*state);

	assert_non_null(r);
	assert_int_equal(r->nr, ROUTE_NR_DEFAULT);
	assert_int_equal(r->flags, 0);
	check_defaults(r);
	free(r);
}

static void check_msi(const struct kvm_irq_routing_entry *e, unsigned gsi,
		      uint32_t lo, uint32_t hi, uint32_t data)
{
	assert_int_equal(e->gsi, gsi);
	assert_int_equal(e->type, KVM_IRQ_ROUTING_MSI);
	assert_int_equal(e->flags, 0);
	assert_int_equal(e->u.msi.address_lo, lo);
	assert_int_equal(e->u.msi.address_hi, hi);
	assert_int_equal(e->u.msi.data, data);
}

static void build_with_msi(void **state)
{
	struct route_table *t = *state;
	struct kvm_irq_routing *r;
	int a = gsi_alloc(t), b = gsi_alloc(t), c = gsi_alloc(t), d = gsi_alloc(t);

	/* Set out of order: the table comes out in GSI order. */
	assert_int_equal(route_set_msi(t, (unsigned)c, 0xfee01000, 0, 0x4041), 0);
	assert_int_equal(route_set_msi(t, (unsigned)a, 0xfee00000, 0, 0x0030), 0);
	assert_int_equal(route_set_msi(t, (unsigned)b, 0xfee02000, 0, 0x0031), 0);
	assert_int_equal(route_set_msi(t, (unsigned)d, 0xfee00004, 0, 0x0033), 0);
	assert_int_equal(route_clear(t, (unsigned)b), 0);	/* masked: no route */
	assert_int_equal(gsi_free(t, (unsigned)d), 0);		/* freed: no route */
	assert_int_equal(route_set_msi(t, (unsigned)a, 0xfee03000, 0, 0x0032), 0);	/* rewritten */

	r = route_build(t);
	assert_non_null(r);
	assert_int_equal(r->nr, ROUTE_NR_DEFAULT + 2);
	check_defaults(r);
	check_msi(&r->entries[ROUTE_NR_DEFAULT], 24, 0xfee03000, 0, 0x0032);
	check_msi(&r->entries[ROUTE_NR_DEFAULT + 1], 26, 0xfee01000, 0, 0x4041);
	free(r);

	/* A GSI freed with a route comes back without it. */
	assert_int_equal(gsi_alloc(t), d);
	r = route_build(t);
	assert_non_null(r);
	assert_int_equal(r->nr, ROUTE_NR_DEFAULT + 2);
	free(r);
}

/* A full pool still fits KVM's limits on count and GSI number. */
static void full_table_fits_kvm_limits(void **state)
{
	struct route_table *t = *state;
	struct kvm_irq_routing *r;
	int gsi;
	unsigned i;

	while ((gsi = gsi_alloc(t)) >= 0)
		assert_int_equal(route_set_msi(t, (unsigned)gsi, 0xfee00000, 0, 0x20 + (uint32_t)gsi), 0);
	r = route_build(t);
	assert_non_null(r);
	assert_int_equal(r->nr, SMALL_MAX);
	for (i = 0; i < r->nr; i++)
		assert_true(r->entries[i].gsi < SMALL_MAX);
	free(r);
}

#define RACE_THREADS	4
#define RACE_ROUNDS	2000

static void *race(void *arg)
{
	struct route_table *t = arg;
	int i, gsi;

	for (i = 0; i < RACE_ROUNDS; i++) {
		gsi = gsi_alloc(t);
		if (gsi < 0)
			return (void *)1;
		if (route_set_msi(t, (unsigned)gsi, 0xfee00000, 0, 0x40) ||
		    gsi_free(t, (unsigned)gsi))
			return (void *)1;	/* someone else freed ours */
	}
	return NULL;
}

static void concurrent_alloc_free(void **state)
{
	struct route_table *t = *state;
	pthread_t th[RACE_THREADS];
	void *ret;
	int i;

	for (i = 0; i < RACE_THREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, race, t), 0);
	for (i = 0; i < RACE_THREADS; i++) {
		assert_int_equal(pthread_join(th[i], &ret), 0);
		assert_null(ret);
	}
	assert_int_equal(gsi_alloc(t), 24);	/* all returned */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(init_limits),
		cmocka_unit_test_setup_teardown(alloc_order, setup_small, teardown),
		cmocka_unit_test_setup_teardown(exhaustion, setup_small, teardown),
		cmocka_unit_test_setup_teardown(free_and_reuse_lowest, setup_small, teardown),
		cmocka_unit_test_setup_teardown(double_free_and_foreign_refused, setup_small, teardown),
		cmocka_unit_test_setup_teardown(routes_need_an_allocated_gsi, setup_small, teardown),
		cmocka_unit_test_setup_teardown(build_defaults_only, setup_small, teardown),
		cmocka_unit_test_setup_teardown(build_with_msi, setup_small, teardown),
		cmocka_unit_test_setup_teardown(full_table_fits_kvm_limits, setup_small, teardown),
		cmocka_unit_test_setup_teardown(concurrent_alloc_free, setup_small, teardown),
	};
	return cmocka_run_group_tests_name("gsi", tests, NULL, NULL);
}
