/*
 * sluice: the VM's GSI routing table as KVM takes it. KVM keeps one table per
 * VM and KVM_SET_GSI_ROUTING replaces it whole (Documentation/virt/kvm/
 * api.rst, KVM_SET_GSI_ROUTING), so every commit must carry the defaults
 * KVM_CREATE_IRQCHIP installed as well as our MSI routes, or the IOAPIC and
 * PIC lose their pins.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/ioctl.h>

#include "irqremap/irqremap.h"

unsigned route_max_routes(int fd)
{
	int n = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQ_ROUTING);

	return n > 0 ? (unsigned)n : ROUTE_MAX_DEFAULT;
}

static void set_irqchip(struct kvm_irq_routing_entry *e, unsigned gsi,
			unsigned chip, unsigned pin)
{
	e->gsi = gsi;
	e->type = KVM_IRQ_ROUTING_IRQCHIP;
	e->u.irqchip.irqchip = chip;
	e->u.irqchip.pin = pin;
}

/*
 * Linux arch/x86/kvm/irq_comm.c default_routing[] (kvm_setup_default_irq_routing;
 * arch/x86/kvm/irq.c in 6.x): for each GSI, the IOAPIC pin of the same number
 * first, then for GSIs 0-15 the PIC pin i % 8 on the master (i < 8) or the
 * slave. Same entries, same order. Returns the number written.
 */
static unsigned put_defaults(struct kvm_irq_routing_entry *e)
{
	unsigned gsi, n = 0;

	for (gsi = 0; gsi < LAYOUT_IOAPIC_PINS; gsi++) {
		set_irqchip(&e[n++], gsi, KVM_IRQCHIP_IOAPIC, gsi);
		if (gsi < 16)
			set_irqchip(&e[n++], gsi,
				    gsi < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE, gsi % 8);
	}
	return n;
}

/* Caller holds t->lock. */
static struct kvm_irq_routing *build_locked(struct route_table *t)
{
	struct kvm_irq_routing *r;
	unsigned i, nr = ROUTE_NR_DEFAULT;

	for (i = 0; i < t->nr_pool; i++)
		nr += t->pool[i].routed;
	r = calloc(1, sizeof(*r) + nr * sizeof(r->entries[0]));
	if (!r)
		return NULL;
	r->nr = put_defaults(r->entries);
	for (i = 0; i < t->nr_pool; i++) {
		struct kvm_irq_routing_entry *e = &r->entries[r->nr];

		if (!t->pool[i].routed)
			continue;
		/* flags stay 0: KVM_MSI_VALID_DEVID is for ARM's ITS, not x86. */
		e->gsi = ROUTE_GSI_FIRST_MSI + i;
		e->type = KVM_IRQ_ROUTING_MSI;
		e->u.msi.address_lo = t->pool[i].msg.addr_lo;
		e->u.msi.address_hi = t->pool[i].msg.addr_hi;
		e->u.msi.data = t->pool[i].msg.data;
		r->nr++;
	}
	return r;
}

struct kvm_irq_routing *route_build(struct route_table *t)
{
	struct kvm_irq_routing *r;

	pthread_mutex_lock(&t->lock);
	r = build_locked(t);
	pthread_mutex_unlock(&t->lock);
	return r;
}

/*
 * The ioctl runs under the lock: two vCPUs reprogramming vectors at once
 * must not let the older table reach KVM last.
 */
int route_commit(struct route_table *t, int vm_fd)
{
	struct kvm_irq_routing *r;
	int err = 0;

	pthread_mutex_lock(&t->lock);
	r = build_locked(t);
	if (!r)
		err = -ENOMEM;
	else if (ioctl(vm_fd, KVM_SET_GSI_ROUTING, r) < 0)
		err = -errno;
	pthread_mutex_unlock(&t->lock);
	free(r);
	return err;
}
