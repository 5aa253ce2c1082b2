/*
 * sluice: MSI/MSI-X vectors as KVM GSIs, for any device model that uses
 * vmm/msix.h or vmm/msi.h (vfio/irq.c, vmm/virtio/virtio_pci.c), through
 * msix_route_msi_ops.
 *
 * Each vector has an eventfd, efd. Once the vector is effective (its msi_ops
 * update said enabled) and the guest's message passed msi_check (it lands
 * on this guest's own local APICs), it has a GSI with that MSI route and a
 * KVM irqfd on efd, so a write to efd injects with no exit to sluice. The
 * irqfd stays when the guest masks the vector: a mask toggle costs no KVM
 * call (detaching an irqfd waits for an SRCU grace period in KVM; a guest
 * could buy one per MMIO exit). What changes is where the interrupt source
 * writes:
 *   - a source outside sluice (VFIO) is given @retarget: efd while the
 *     vector is routed, else mask_efd, which the main thread's event loop
 *     reads and hands to @pending (set the vector's Pending bit,
 *     msix_signal). This is QEMU's answer to guests that mask and unmask on
 *     every interrupt (hw/vfio/pci.c, vfio_msix_vector_release).
 *   - sluice itself writes efd only through msix_route_fire, which msix/msi
 *     call only for an effective vector.
 *
 * Routing-table commits are coalesced: update() only stages a message in
 * the VM's table (irqremap/gsi.c); msi_ops.flush, at the end of the guest's
 * access, commits once (KVM_SET_GSI_ROUTING replaces the whole table) and
 * then attaches the new irqfds. A message KVM already has is not committed
 * again. So one access costs at most one commit, whatever it changed.
 *
 * Followers: other eventfds that raise a vector (virtio-pci's per-queue call
 * eventfds, written by sluice's worker or by vhost). A follower gets an
 * irqfd on its vector's GSI while the vector is routed; otherwise, or while
 * it follows no vector, the main thread reads it and calls its own
 * @pending with the vector it follows then. Whatever was read is always
 * handed on (never dropped because an irqfd appeared meanwhile): at worst
 * one interrupt is spurious, none is lost. (A follower's irqfd does come and
 * go with its vector's mask: its writers are not told where to write.)
 *
 * Locking: update, fire and flush run as msi_ops callbacks (under the
 * msix/msi lock); msix_route_follow runs anywhere but there (it takes
 * r->lock, which update takes inside the msix lock). @pending runs in the
 * main thread with no msix_route lock held, so it may call msix_signal;
 * @retarget runs under the msix/msi lock but not r->lock, so it may call
 * msix_route_source_fd.
 */
#ifndef SLUICE_MSIX_ROUTE_H
#define SLUICE_MSIX_ROUTE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "irqremap/irqremap.h"
#include "vmm/evloop.h"
#include "vmm/msi.h"

struct vm;
struct msix_route;
struct msix_route_follower;

#define MSIX_ROUTE_NONE	(~0u)	/* a follower that follows no vector */

struct msix_route_vec {
	struct msix_route *r;
	unsigned n;
	int efd;		/* KVM's side: the irqfd sits on it once routed */
	int mask_efd;		/* the source's while not routed (with @retarget), else -1 */
	int gsi;		/* -1 until first enabled */
	bool effective;		/* update() said enabled */
	bool accepted;		/* ... with a message msi_check passed */
	bool committed;		/* KVM's table has @msg on gsi */
	bool irqfd;		/* irqfd on efd */
	bool routed;		/* effective, accepted, committed, irqfd: KVM injects */
	bool fire;		/* fired within an access, before flush routed it */
	struct msi_msg msg;	/* staged or committed on gsi */
	bool refused_logged;	/* @refused was reported; the same one is not again */
	struct msi_msg refused;
	int told_fd;		/* what @retarget last said (mask_efd at first) */
	bool told_on;
	struct ev_watch watch;	/* on mask_efd */
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
	/* An interrupt for vector @n came while it was not routed (main thread). */
	void (*pending)(void *opaque, unsigned n);
	/*
	 * Optional, for a source outside sluice (VFIO): make vector @n's source
	 * write @fd from now on; @effective says whether the guest has the
	 * vector enabled and unmasked. NULL: sluice writes efd itself.
	 */
	void (*retarget)(void *opaque, unsigned n, int fd, bool effective);
};

/*
 * The seam for the KVM calls (the unit tests count them on plain memory):
 * commit the VM's routing table (KVM_SET_GSI_ROUTING), attach or detach an
 * irqfd (KVM_IRQFD). msix_route_init picks msix_route_kvm_vm, which calls
 * irqremap/ on vm->vm_fd; @ctx is the struct vm.
 */
struct msix_route_kvm {
	int (*commit)(void *ctx);
	int (*irqfd_assign)(void *ctx, unsigned gsi, int efd);
	int (*irqfd_deassign)(void *ctx, unsigned gsi, int efd);
};

extern const struct msix_route_kvm msix_route_kvm_vm;

struct msix_route {
	struct vm *vm;
	const struct msix_route_kvm *kvm;
	void *kvm_ctx;
	const char *label;	/* for messages, e.g. a BDF; may be filled in later */
	const struct msix_route_ops *ops;
	void *opaque;
	unsigned nr;
	struct msix_route_vec *vec;
	pthread_mutex_t lock;	/* vector state against the followers */
	bool dirty;		/* a staged message awaits the commit in flush */
};

/*
 * @nr vectors; @ops may be NULL when sluice alone writes the vectors (no
 * @retarget, so no @pending either). 0 or -errno; nothing to undo on error.
 */
int msix_route_init(struct msix_route *r, struct vm *vm, const char *label, unsigned nr,
		    const struct msix_route_ops *ops, void *opaque);
/* Irqfds off, GSIs freed, eventfds closed. Followers must be gone (unfollowed). */
void msix_route_exit(struct msix_route *r);

/*
 * The msi_ops a device gives msix_init/msi_init, with its struct msix_route
 * as the opaque: every device model forwards the same way, so it is here.
 */
extern const struct msi_ops msix_route_msi_ops;

/* msi_ops.update: route vector @n to @addr/@data (checked), or take it off. */
void msix_route_update(struct msix_route *r, unsigned n, uint64_t addr, uint32_t data,
		       bool enabled);
/* msi_ops.fire: inject vector @n now (it is effective, so routed if its message was good). */
void msix_route_fire(struct msix_route *r, unsigned n);
/* msi_ops.flush: commit what this access staged, once; attach irqfds; retarget. */
void msix_route_flush(struct msix_route *r);

/* Where vector @n's source should write now: efd if routed, else mask_efd (or -1). */
int msix_route_source_fd(struct msix_route *r, unsigned n);
/* Whether the guest has vector @n enabled and unmasked (its message aside). */
bool msix_route_effective(struct msix_route *r, unsigned n);

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
