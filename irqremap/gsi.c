/* sluice: the VM's pool of MSI GSIs and the route each one carries. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "irqremap/irqremap.h"

/*
 * KVM bounds both the GSI number and the entry count by KVM_MAX_IRQ_ROUTES
 * (virt/kvm/irqchip.c kvm_set_irq_routing: gsi >= KVM_MAX_IRQ_ROUTES fails;
 * virt/kvm/kvm_main.c KVM_SET_GSI_ROUTING: nr > KVM_MAX_IRQ_ROUTES fails).
 * The default IOAPIC/PIC entries take their share of the count, so the pool
 * holds max - ROUTE_NR_DEFAULT GSIs, which also keeps every GSI below max.
 */
int route_table_init(struct route_table *t, unsigned max_routes)
{
	int err;

	memset(t, 0, sizeof(*t));
	if (!max_routes)
		max_routes = ROUTE_MAX_DEFAULT;
	if (max_routes <= ROUTE_NR_DEFAULT)
		return -EINVAL;
	t->max_routes = max_routes;
	t->nr_pool = max_routes - ROUTE_NR_DEFAULT;
	t->pool = calloc(t->nr_pool, sizeof(*t->pool));
	if (!t->pool)
		return -ENOMEM;
	err = pthread_mutex_init(&t->lock, NULL);
	if (err) {
		free(t->pool);
		t->pool = NULL;
		return -err;
	}
	return 0;
}

void route_table_destroy(struct route_table *t)
{
	if (!t->pool)
		return;
	pthread_mutex_destroy(&t->lock);
	free(t->pool);
	t->pool = NULL;
	t->nr_pool = 0;
}

/* The pool slot of an allocated GSI, or NULL. Caller holds t->lock. */
static struct route_msi *slot_of(struct route_table *t, unsigned gsi)
{
	if (gsi < ROUTE_GSI_FIRST_MSI || gsi - ROUTE_GSI_FIRST_MSI >= t->nr_pool)
		return NULL;
	if (!t->pool[gsi - ROUTE_GSI_FIRST_MSI].used)
		return NULL;
	return &t->pool[gsi - ROUTE_GSI_FIRST_MSI];
}

/* Lowest first, so a freed GSI is reused at once and numbers stay small. */
int gsi_alloc(struct route_table *t)
{
	int gsi = -ENOSPC;
	unsigned i;

	pthread_mutex_lock(&t->lock);
	for (i = 0; i < t->nr_pool; i++) {
		if (!t->pool[i].used) {
			t->pool[i] = (struct route_msi){ .used = true };
			gsi = (int)(ROUTE_GSI_FIRST_MSI + i);
			break;
		}
	}
	pthread_mutex_unlock(&t->lock);
	return gsi;
}

int gsi_free(struct route_table *t, unsigned gsi)
{
	struct route_msi *s;
	int err = -EINVAL;

	pthread_mutex_lock(&t->lock);
	s = slot_of(t, gsi);
	if (s) {
		*s = (struct route_msi){ .used = false };
		err = 0;
	}
	pthread_mutex_unlock(&t->lock);
	return err;
}

int route_set_msi(struct route_table *t, unsigned gsi, uint32_t addr_lo,
		  uint32_t addr_hi, uint32_t data)
{
	struct route_msi *s;
	int err = -EINVAL;

	pthread_mutex_lock(&t->lock);
	s = slot_of(t, gsi);
	if (s) {
		s->routed = true;
		s->msg = (struct msi_msg){ .addr_lo = addr_lo, .addr_hi = addr_hi, .data = data };
		err = 0;
	}
	pthread_mutex_unlock(&t->lock);
	return err;
}

/* A GSI with no route is legal for KVM: an irqfd on it injects nothing. */
int route_clear(struct route_table *t, unsigned gsi)
{
	struct route_msi *s;
	int err = -EINVAL;

	pthread_mutex_lock(&t->lock);
	s = slot_of(t, gsi);
	if (s) {
		s->routed = false;
		s->msg = (struct msi_msg){ 0 };
		err = 0;
	}
	pthread_mutex_unlock(&t->lock);
	return err;
}
