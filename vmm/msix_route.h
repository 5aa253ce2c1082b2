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
 * Followers: other eventfds that raise a vector (virtio-pci's per-queue call
 * eventfds, written by sluice's worker or by vhost). A follower gets an
 * irqfd on its vector's GSI while the vector is routed; otherwise, or while
 * it follows no vector, the main thread reads it and calls its own
 * @pending with the vector it follows then. Whatever was read is always
 * handed on (never dropped because an irqfd appeared meanwhile): at worst
 * one interrupt is spurious, none is lost.
 *
 * A device plugs these into its struct msi_ops: update -> msix_route_update,
 * fire -> msix_route_fire.
 *
 * Locking: msix_route_update and msix_route_fire run as msi_ops callbacks
 * (under the msix/msi lock); msix_route_follow runs anywhere but there (it
 * takes r->lock, which update takes inside the msix lock). The @pending
 * callbacks run in the main thread with no msix_route lock held, so they
 * may call msix_signal.
 */
#ifndef SLUICE_MSIX_ROUTE_H
#define SLUICE_MSIX_ROUTE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "irqremap/irqremap.h"
#include "vmm/evloop.h"

struct vm;
struct msix_route;
struct msix_route_follower;

#define MSIX_ROUTE_NONE	(~0u)	/* a follower that follows no vector */

struct msix_route_vec {
	struct msix_route *r;
	unsigned n;
	int efd;
	int gsi;		/* -1 until first enabled */
	bool routed;		/* the GSI carries the guest's (checked) message */
	bool irqfd;		/* KVM injects straight from efd */
	bool committed;		/* KVM's table has @msg on gsi: no commit to route it again */
	struct msi_msg msg;
	bool refused_logged;	/* @refused was reported; the same one is not again */
	struct msi_msg refused;
	struct ev_watch watch;	/* while not routed: sluice reads efd */
	struct msix_route_follower *followers;
};

struct msix_route_follower {
	/* The device's */
	int efd;
	/* Main thread: efd fired and was read while KVM did not inject it. */
	void (*pending)(struct msix_route_follower *f, unsigned n);
	void *opaque;

	/* msix_route's, under r->lock */
	struct msix_route *r;
	unsigned n;		/* the vector followed, or MSIX_ROUTE_NONE */
	int gsi;		/* irqfd on this GSI, or -1 */
	struct ev_watch watch;
	struct msix_route_follower *next;
};

struct msix_route_ops {
	/* efd was signalled while vector @n had no irqfd (main thread). */
	void (*pending)(void *opaque, unsigned n);
};

struct msix_route {
	struct vm *vm;
	const char *label;	/* for messages, e.g. a BDF; may be filled in later */
	const struct msix_route_ops *ops;
	void *opaque;
	unsigned nr;
	struct msix_route_vec *vec;
	pthread_mutex_t lock;	/* routed/gsi/irqfd against the followers */
};

/* @nr eventfds, watched by vm->ev. 0 or -errno; nothing to undo on error. */
int msix_route_init(struct msix_route *r, struct vm *vm, const char *label, unsigned nr,
		    const struct msix_route_ops *ops, void *opaque);
/* Irqfds off, GSIs freed, eventfds closed. Followers must be gone (unfollowed). */
void msix_route_exit(struct msix_route *r);

/* msi_ops.update: route vector @n to @addr/@data (checked), or take it off. */
void msix_route_update(struct msix_route *r, unsigned n, uint64_t addr, uint32_t data,
		       bool enabled);
/* msi_ops.fire: inject vector @n now (it is effective, so routed if its message was good). */
void msix_route_fire(struct msix_route *r, unsigned n);

/*
 * Watch @efd (which stays the caller's) as a follower of no vector. @f lives
 * until msix_route_unfollow. 0 or -errno.
 */
int msix_route_follower_init(struct msix_route *r, struct msix_route_follower *f, int efd,
			     void (*pending)(struct msix_route_follower *f, unsigned n),
			     void *opaque);
/* Make @f follow vector @n (@n >= r->nr, e.g. MSIX_ROUTE_NONE: none). */
void msix_route_follow(struct msix_route *r, struct msix_route_follower *f, unsigned n);
/* Stop following and watching; efd is left open. */
void msix_route_unfollow(struct msix_route *r, struct msix_route_follower *f);

#endif
