/*
 * sluice: a passthrough device's interrupts. Each MSI/MSI-X vector has one
 * eventfd with a KVM irqfd (vmm/msix_route.c): while the vector is
 * effective (enabled and unmasked) VFIO signals that one, so no interrupt
 * passes through sluice. While it is masked, VFIO signals a second eventfd
 * that sluice reads, setting the vector's Pending bit (PCI 3.0 §6.8.2.9),
 * which msix/msi deliver on unmask. A message that does not target the
 * guest's own local APICs (irqremap/msi_check.c) is never routed.
 *
 * VFIO gets only as many MSI-X vectors as the guest has unmasked (each is a
 * host interrupt), growing on demand; a failed enable or grow is not tried
 * again until the guest changes Message Control. INTx goes through an irqfd
 * with a resample fd; the request interrupt stops the VM.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "irqremap/irqremap.h"
#include "vmm/msix_route.h"
#include "vfio/vfio.h"
#include "vmm/log.h"
#include "vmm/vm.h"

/* ---- Pure: what VFIO should have ---- */

bool vfio_irq_plan(struct vfio_irq_state *s, uint32_t ctl, bool msix_on, unsigned msix_span,
		   bool msi_on, unsigned msi_count, struct vfio_irq_plan *p)
{
	if (ctl == s->ctl)
		return false;	/* a table or other write: nothing for VFIO, no retry */
	s->ctl = ctl;
	s->failed = false;
	if (msix_on)
		/* VFIO needs one vector to put the function in MSI-X mode at all. */
		*p = (struct vfio_irq_plan){ VFIO_PCI_MSIX_IRQ_INDEX, msix_span ? msix_span : 1 };
	else if (msi_on)
		*p = (struct vfio_irq_plan){ VFIO_PCI_MSI_IRQ_INDEX, msi_count };
	else
		*p = (struct vfio_irq_plan){ -1, 0 };
	return p->index != s->index || (p->index >= 0 && p->count != s->count &&
					 p->index == VFIO_PCI_MSI_IRQ_INDEX);
}

bool vfio_irq_grow(const struct vfio_irq_state *s, unsigned n, bool effective, unsigned *count)
{
	if (s->index != VFIO_PCI_MSIX_IRQ_INDEX || s->failed || !effective || n < s->count)
		return false;
	*count = n + 1;
	return true;
}

/* ---- VFIO ---- */

static int set_irqs(struct vfio_dev *d, unsigned index, uint32_t action, unsigned start,
		    unsigned count, const int *fds)
{
	size_t sz = sizeof(struct vfio_irq_set) + count * sizeof(int);
	struct vfio_irq_set *s = calloc(1, sz);
	int err = 0;

	if (!s)
		return -ENOMEM;
	s->argsz = (uint32_t)sz;
	s->flags = action | (count ? VFIO_IRQ_SET_DATA_EVENTFD : VFIO_IRQ_SET_DATA_NONE);
	s->index = index;
	s->start = start;
	s->count = count;
	if (count)
		memcpy(s->data, fds, count * sizeof(int));
	if (ioctl(d->fd, VFIO_DEVICE_SET_IRQS, s) < 0)
		err = -errno;
	free(s);
	return err;
}

static const char *index_name(int index)
{
	return index == VFIO_PCI_MSIX_IRQ_INDEX ? "MSI-X" : "MSI";
}

/* Vectors [start, start + count) pointed where msix_route says their source writes. */
static int set_vectors(struct vfio_dev *d, int index, unsigned start, unsigned count)
{
	int fds[MSIX_MAX_VECTORS];
	unsigned i;

	for (i = 0; i < count; i++)
		fds[i] = msix_route_source_fd(&d->route, start + i);
	return set_irqs(d, (unsigned)index, VFIO_IRQ_SET_ACTION_TRIGGER, start, count, fds);
}

/* irq_lock held. MSI or MSI-X as @p says (or off). */
static void apply(struct vfio_dev *d, const struct vfio_irq_plan *p)
{
	struct vfio_irq_state *s = &d->irq;
	int err;

	if (s->index >= 0)
		set_irqs(d, (unsigned)s->index, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0, NULL);
	s->index = -1;
	s->count = 0;
	if (p->index < 0)
		return;
	err = set_vectors(d, p->index, 0, p->count);
	if (err) {
		s->failed = true;
		pr_err_rl("%s: enabling %s with %u vectors: %s; the guest's interrupts stay off "
			  "until it writes Message Control again", d->bdf, index_name(p->index),
			  p->count, strerror(-err));
		return;
	}
	s->index = p->index;
	s->count = p->count;
}

/* irq_lock held: MSI-X up to @count vectors (dynamic allocation, or disable + enable). */
static void grow(struct vfio_dev *d, unsigned count)
{
	struct vfio_irq_state *s = &d->irq;
	int err;

	if (s->noresize) {
		set_irqs(d, VFIO_PCI_MSIX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0, NULL);
		err = set_vectors(d, VFIO_PCI_MSIX_IRQ_INDEX, 0, count);
	} else {
		err = set_vectors(d, VFIO_PCI_MSIX_IRQ_INDEX, s->count, count - s->count);
	}
	if (!err) {
		s->count = count;
		return;
	}
	s->failed = true;
	if (s->noresize)
		s->index = -1, s->count = 0;	/* the disable went through */
	pr_err_rl("%s: growing MSI-X to %u vectors: %s; vectors past %u stay off until the "
		  "guest writes Message Control again", d->bdf, count, strerror(-err), s->count);
}

/* msix_route: vector @n's source should write @fd; grow VFIO's MSI-X for it if needed. */
static void vec_retarget(void *opaque, unsigned n, int fd, bool effective)
{
	struct vfio_dev *d = opaque;
	struct vfio_irq_state *s = &d->irq;
	unsigned count;
	int err;

	pthread_mutex_lock(&d->irq_lock);
	/*
	 * The guest turning MSI/MSI-X off takes every vector off first; the
	 * disable that follows (vfio_irq_cfg_written) covers them all at once,
	 * so one ioctl per exit, not one per vector. We run under the lock of
	 * the capability that changed; the other one's flag is read relaxed
	 * (only a guest that enables both at once can make them differ).
	 */
	if ((s->index == VFIO_PCI_MSIX_IRQ_INDEX &&
	     !__atomic_load_n(&d->msix.enabled, __ATOMIC_RELAXED)) ||
	    (s->index == VFIO_PCI_MSI_IRQ_INDEX &&
	     !__atomic_load_n(&d->msi.enabled, __ATOMIC_RELAXED))) {
		pthread_mutex_unlock(&d->irq_lock);
		return;
	}
	if (vfio_irq_grow(s, n, effective, &count)) {
		grow(d, count);
	} else if (s->index >= 0 && n < s->count) {
		err = set_irqs(d, (unsigned)s->index, VFIO_IRQ_SET_ACTION_TRIGGER, n, 1, &fd);
		if (err)
			pr_err_rl("%s: %s vector %u: pointing it at its eventfd: %s", d->bdf,
				  index_name(s->index), n, strerror(-err));
	}
	pthread_mutex_unlock(&d->irq_lock);
}

/* A host interrupt reached sluice while the vector was not routed: Pending. */
static void vec_pending(void *opaque, unsigned n)
{
	struct vfio_dev *d = opaque;

	/* One lock, no window: msix_signal says -EAGAIN when MSI-X is off. */
	if ((!d->has_msix || msix_signal(&d->msix, n) == -EAGAIN) && d->has_msi)
		msi_signal(&d->msi, n);
}

static const struct msix_route_ops route_ops = {
	.pending = vec_pending,
	.retarget = vec_retarget,
};

static void intx_enable(struct vfio_dev *d)
{
	int err;

	if (d->intx_efd < 0 || d->irq.index >= 0)
		return;
	err = set_irqs(d, VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, &d->intx_efd);
	if (!err)
		err = set_irqs(d, VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_UNMASK, 0, 1,
			       &d->intx_resample);
	if (err)
		pr_warn_rl("%s: enabling INTx: %s", d->bdf, strerror(-err));
	else
		d->irq.index = VFIO_PCI_INTX_IRQ_INDEX;
}

/* Both Message Controls as the guest has them (cfg[] is under the PCI lock, as we are). */
static uint32_t message_controls(struct vfio_dev *d)
{
	uint32_t ctl = 0;

	if (d->has_msix)
		ctl |= pci_cfg_get16(&d->pci, d->msix.cap + PCI_MSIX_FLAGS);
	if (d->has_msi)
		ctl |= (uint32_t)pci_cfg_get16(&d->pci, d->msi.cap + PCI_MSI_FLAGS) << 16;
	return ctl;
}

/* The highest MSI-X vector the guest enabled and unmasked, + 1; 0 for none. */
static unsigned msix_span(struct vfio_dev *d)
{
	unsigned n = d->has_msix ? d->msix.layout.nr_vectors : 0;

	while (n && !msix_route_effective(&d->route, n - 1))
		n--;
	return n;
}

void vfio_irq_cfg_written(struct vfio_dev *d, uint32_t off, uint32_t len)
{
	struct vfio_irq_plan p;
	bool was_msi, msix_on, msi_on;

	if (d->has_msix)
		msix_cfg_written(&d->msix, off, len);
	if (d->has_msi)
		msi_cfg_written(&d->msi, off, len);
	/* Before irq_lock: their locks come first (a table write's retarget takes irq_lock). */
	msix_on = d->has_msix && msix_enabled(&d->msix);
	msi_on = d->has_msi && msi_enabled(&d->msi);
	pthread_mutex_lock(&d->irq_lock);
	was_msi = d->irq.index == VFIO_PCI_MSIX_IRQ_INDEX || d->irq.index == VFIO_PCI_MSI_IRQ_INDEX;
	/* The span under irq_lock: a vector unmasked after this is grown by its retarget. */
	if (vfio_irq_plan(&d->irq, message_controls(d), msix_on, msix_span(d), msi_on,
			  d->has_msi ? d->msi.nr_vectors : 0, &p) &&
	    (p.index >= 0 || was_msi)) {
		apply(d, &p);
		if (p.index < 0)
			intx_enable(d);
	}
	pthread_mutex_unlock(&d->irq_lock);
}

/* The kernel asks for the device back (driver unbind, hot-unplug): stop the VM. */
static void req_watch(struct ev_watch *w, uint32_t events)
{
	struct vfio_dev *d = w->opaque;
	uint64_t cnt;

	(void)events;
	if (read(w->fd, &cnt, sizeof(cnt)) != sizeof(cnt))
		return;
	pr_err("%s: the host asks for the device back: stopping VM '%s' to release it", d->bdf,
	       d->pt->vm->name);
	vm_request_stop(d->pt->vm, VM_STOP_ERROR);
}

static unsigned irq_count(struct vfio_dev *d, unsigned index, bool *noresize)
{
	struct vfio_irq_info ii = { .argsz = sizeof(ii), .index = index };

	if (index >= d->info.num_irqs || ioctl(d->fd, VFIO_DEVICE_GET_IRQ_INFO, &ii) < 0)
		return 0;
	if (noresize)
		*noresize = ii.flags & VFIO_IRQ_INFO_NORESIZE;
	return ii.count;
}

static int intx_init(struct vfio_dev *d)
{
	unsigned pin = d->pci.cfg[PCI_INTERRUPT_PIN];
	int err;

	if (!pin || pin > 4 || !irq_count(d, VFIO_PCI_INTX_IRQ_INDEX, NULL))
		return 0;
	d->intx_efd = eventfd(0, EFD_CLOEXEC);
	d->intx_resample = eventfd(0, EFD_CLOEXEC);
	if (d->intx_efd < 0 || d->intx_resample < 0)
		return -errno;
	d->intx_gsi = (int)pci_intx_gsi((unsigned)d->pci.slot, pin - 1);
	err = irqfd_assign(d->pt->vm->vm_fd, (unsigned)d->intx_gsi, d->intx_efd, d->intx_resample);
	if (err) {
		pr_err("%s: INTx irqfd on GSI %d: %s", d->bdf, d->intx_gsi, strerror(-err));
		return err;
	}
	intx_enable(d);
	return 0;
}

static int req_init(struct vfio_dev *d)
{
	int efd;

	d->req.fd = -1;
	if (!irq_count(d, VFIO_PCI_REQ_IRQ_INDEX, NULL))
		return 0;
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (efd < 0)
		return -errno;
	d->req = (struct ev_watch){ .fd = efd, .fn = req_watch, .opaque = d };
	if (set_irqs(d, VFIO_PCI_REQ_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, &efd) ||
	    ev_add(&d->pt->vm->ev, &d->req, EPOLLIN)) {
		pr_warn("%s: no release request notification: %s", d->bdf, strerror(errno));
		close(efd);
		d->req.fd = -1;
	}
	return 0;
}

/*
 * After vfio_config_init, before pci_host_add: take over MSI/MSI-X. INTx
 * needs the slot, so vfio_irq_start runs after pci_host_add.
 */
int vfio_irq_init(struct vfio_dev *d)
{
	unsigned n = 0;
	int err;

	d->irq = (struct vfio_irq_state){ .index = -1 };
	d->intx_efd = d->intx_resample = d->intx_gsi = -1;
	err = -pthread_mutex_init(&d->irq_lock, NULL);
	if (err)
		return err;
	d->irq_lock_up = true;
	if (d->cfgv.msix_cap) {
		err = msix_init_existing(&d->msix, &d->pci, d->cfgv.msix_cap, &msix_route_msi_ops,
					 &d->route);
		if (err)
			return err;
		d->has_msix = true;
		n = d->msix.layout.nr_vectors;
		/* Without dynamic allocation (Linux < 6.5, or the IRQ domain), grow = re-enable. */
		irq_count(d, VFIO_PCI_MSIX_IRQ_INDEX, &d->irq.noresize);
	}
	if (d->cfgv.msi_cap) {
		err = msi_init_existing(&d->msi, &d->pci, d->cfgv.msi_cap, d->cfgv.msi_end,
					&msix_route_msi_ops, &d->route);
		if (err)
			return err;
		d->has_msi = true;
		if (d->msi.max_vectors > n)
			n = d->msi.max_vectors;
	}
	return n ? msix_route_init(&d->route, d->pt->vm, d->bdf, n, &route_ops, d) : 0;
}

int vfio_irq_start(struct vfio_dev *d)
{
	int err = intx_init(d);

	return err ? err : req_init(d);
}

/* Mirrors vfio_irq_init and vfio_irq_start. */
void vfio_irq_exit(struct vfio_dev *d)
{
	struct vm *vm = d->pt->vm;

	if (d->req.fd >= 0) {
		ev_del(&vm->ev, &d->req);
		set_irqs(d, VFIO_PCI_REQ_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0, NULL);
		close(d->req.fd);
		d->req.fd = -1;
	}
	if (d->irq.index >= 0)
		set_irqs(d, (unsigned)d->irq.index, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0, NULL);
	d->irq.index = -1;
	if (d->intx_gsi >= 0)
		irqfd_deassign(vm->vm_fd, (unsigned)d->intx_gsi, d->intx_efd);
	if (d->intx_efd >= 0)
		close(d->intx_efd);
	if (d->intx_resample >= 0)
		close(d->intx_resample);
	d->intx_efd = d->intx_resample = d->intx_gsi = -1;
	msix_route_exit(&d->route);
	if (d->has_msi)
		msi_exit(&d->msi);
	if (d->has_msix)
		msix_exit(&d->msix);
	d->has_msi = d->has_msix = false;
	if (d->irq_lock_up)
		pthread_mutex_destroy(&d->irq_lock);
	d->irq_lock_up = false;
}
