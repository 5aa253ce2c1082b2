/*
 * sluice: MSI/MSI-X vectors as KVM GSIs, for any device model that uses
 * vmm/msix.h or vmm/msi.h. This is the vector half of vfio/irq.c, factored
 * out for virtio-pci; vfio/irq.c can move onto it unchanged in behaviour.
 *
 * Each vector has an eventfd. While the vector is effective (its msi_ops
 * update said enabled, and the guest's message passed msi_check: it lands on
 * this guest's own local APICs), it has a GSI with that MSI route and a KVM
 * irqfd on the eventfd, so a write to the eventfd injects with no exit to
 * sluice. While it is not, the main thread's event loop reads the eventfd
 * and calls back (@pending: set the vector's Pending bit, msix_signal).
 *
 * A device plugs these into its struct msi_ops: update -> msix_route_update,
 * fire -> msix_route_fire. Other eventfds may inject the same vector
 * (virtio-pci's per-queue ones): msix_route_gsi() says where, and @changed
 * tells the device whenever that changes.
 *
 * Locking: msix_route_update and msix_route_fire run as msi_ops callbacks
 * (under the msix/msi lock); the state they change is theirs alone. The
 * callbacks run there too (@changed) or in the main thread (@pending), with
 * no msix_route lock held.
 */
#ifndef SLUICE_MSIX_ROUTE_H
#define SLUICE_MSIX_ROUTE_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/evloop.h"

struct vm;
struct msix_route;

struct msix_route_vec {
	struct msix_route *r;
	unsigned n;
	int efd;
	int gsi;		/* -1 until first enabled */
	bool routed;		/* the GSI carries the guest's (checked) message */
	bool irqfd;		/* KVM injects straight from efd */
	struct ev_watch watch;	/* while not routed: sluice reads efd */
};

struct msix_route_ops {
	/* efd was signalled while vector @n had no irqfd (main thread). */
	void (*pending)(void *opaque, unsigned n);
	/* Optional: vector @n is now routed to @gsi, or to nothing (-1). */
	void (*changed)(void *opaque, unsigned n, int gsi);
};

struct msix_route {
	struct vm *vm;
	const char *label;	/* for messages, e.g. a BDF; may be filled in later */
	const struct msix_route_ops *ops;
	void *opaque;
	unsigned nr;
	struct msix_route_vec *vec;
};

/* @nr eventfds, watched by vm->ev. 0 or -errno; nothing to undo on error. */
int msix_route_init(struct msix_route *r, struct vm *vm, const char *label, unsigned nr,
		    const struct msix_route_ops *ops, void *opaque);
/* Irqfds off, GSIs freed, eventfds closed. */
void msix_route_exit(struct msix_route *r);

/* msi_ops.update: route vector @n to @addr/@data (checked), or take it off. */
void msix_route_update(struct msix_route *r, unsigned n, uint64_t addr, uint32_t data,
		       bool enabled);
/* msi_ops.fire: inject vector @n now (it is effective, so routed if its message was good). */
void msix_route_fire(struct msix_route *r, unsigned n);

/* Vector @n's GSI while it is routed, else -1. */
int msix_route_gsi(const struct msix_route *r, unsigned n);

#endif
