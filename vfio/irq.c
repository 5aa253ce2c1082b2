/*
 * sluice: a passthrough device's interrupts. Each MSI/MSI-X vector has one
 * eventfd that VFIO signals. While the vector is effective (enabled and
 * unmasked) KVM injects straight from it through an irqfd on the vector's
 * GSI, so no interrupt passes through sluice. While it is masked, sluice
 * reads the eventfd and sets the vector's Pending bit (PCI 3.0 §6.8.2.9),
 * which msix/msi deliver on unmask. A message that does not target the
 * guest's own local APICs (irqremap/msi_check.c) is never routed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "irqremap/irqremap.h"
#include "vfio/vfio.h"
#include "vmm/log.h"
#include "vmm/vm.h"

static int set_irqs(struct vfio_dev *d, unsigned index, uint32_t action, unsigned count,
		    const int *fds)
{
	size_t sz = sizeof(struct vfio_irq_set) + count * sizeof(int);
	struct vfio_irq_set *s = calloc(1, sz);
	int err = 0;

	if (!s)
		return -ENOMEM;
	s->argsz = (uint32_t)sz;
	s->flags = action | (count ? VFIO_IRQ_SET_DATA_EVENTFD : VFIO_IRQ_SET_DATA_NONE);
	s->index = index;
	s->count = count;
	if (count)
		memcpy(s->data, fds, count * sizeof(int));
	if (ioctl(d->fd, VFIO_DEVICE_SET_IRQS, s) < 0)
		err = -errno;
	free(s);
	return err;
}

static void vec_watch(struct ev_watch *w, uint32_t events)
{
	struct vfio_vector *v = w->opaque;
	struct vfio_dev *d = v->dev;
	uint64_t cnt;

	(void)events;
	if (read(v->efd, &cnt, sizeof(cnt)) != sizeof(cnt))
		return;
	/*
	 * Even if a vCPU attached the irqfd since the read: signal, so the
	 * message we consumed is delivered (fire) or kept (Pending), never lost.
	 */
	if (d->has_msix && msix_enabled(&d->msix))
		msix_signal(&d->msix, v->n);
	else if (d->has_msi)
		msi_signal(&d->msi, v->n);
}

static void route_off(struct vfio_dev *d, struct vfio_vector *v)
{
	struct vm *vm = d->pt->vm;

	if (v->irqfd)
		irqfd_deassign(vm->vm_fd, (unsigned)v->gsi, v->efd);
	v->irqfd = false;
	ev_mod(&vm->ev, &v->watch, EPOLLIN);
}

static int route_on(struct vfio_dev *d, struct vfio_vector *v, const struct msi_msg *msg)
{
	struct vm *vm = d->pt->vm;
	int err;

	if (v->gsi < 0) {
		v->gsi = gsi_alloc(&vm->routes);
		if (v->gsi < 0)
			return v->gsi;
	}
	if ((err = route_set_msi(&vm->routes, (unsigned)v->gsi, msg->addr_lo, msg->addr_hi, msg->data)) ||
	    (err = route_commit(&vm->routes, vm->vm_fd)))
		return err;
	ev_mod(&vm->ev, &v->watch, 0);
	if (!v->irqfd) {
		err = irqfd_assign(vm->vm_fd, (unsigned)v->gsi, v->efd, -1);
		v->irqfd = !err;
	}
	return err;
}

static void vec_update(void *opaque, unsigned n, uint64_t addr, uint32_t data, bool enabled)
{
	struct vfio_dev *d = opaque;
	struct vfio_vector *v = &d->vec[n];
	struct msi_msg msg = { .addr_lo = (uint32_t)addr, .addr_hi = (uint32_t)(addr >> 32), .data = data };
	char why[200];
	int err;

	if (n >= d->nr_vec)
		return;
	if (enabled && msi_check_explain(why, sizeof(why), d->bdf, &msg, d->pt->vm->topo_cpus) != MSI_OK) {
		pr_warn("%s", why);
		enabled = false;
	}
	if (!enabled) {
		route_off(d, v);
		return;
	}
	err = route_on(d, v, &msg);
	if (err) {
		pr_err("%s: vector %u: routing GSI %d: %s; the vector stays off", d->bdf, n, v->gsi,
		       strerror(-err));
		route_off(d, v);
	}
}

static void vec_fire(void *opaque, unsigned n)
{
	struct vfio_dev *d = opaque;
	uint64_t one = 1;

	if (n < d->nr_vec && d->vec[n].irqfd && write(d->vec[n].efd, &one, sizeof(one)) < 0)
		pr_warn("%s: vector %u: %s", d->bdf, n, strerror(errno));
}

static const struct msi_ops vec_ops = {
	.update = vec_update,
	.fire = vec_fire,
};

/* Point VFIO's MSI or MSI-X at the vectors' eventfds, or turn it off. */
static void vfio_msi_enable(struct vfio_dev *d, int index, unsigned count)
{
	int fds[MSIX_MAX_VECTORS];
	unsigned i;
	int err;

	if (d->irq_index == index)
		return;
	if (d->irq_index >= 0)
		set_irqs(d, (unsigned)d->irq_index, VFIO_IRQ_SET_ACTION_TRIGGER, 0, NULL);
	d->irq_index = -1;
	if (index < 0)
		return;
	for (i = 0; i < count && i < d->nr_vec; i++)
		fds[i] = d->vec[i].efd;
	err = set_irqs(d, (unsigned)index, VFIO_IRQ_SET_ACTION_TRIGGER, i, fds);
	if (err)
		pr_err("%s: enabling %s with %u vectors: %s", d->bdf,
		       index == VFIO_PCI_MSIX_IRQ_INDEX ? "MSI-X" : "MSI", i, strerror(-err));
	else
		d->irq_index = index;
}

static void intx_enable(struct vfio_dev *d)
{
	if (d->intx_efd < 0 || d->irq_index >= 0)
		return;
	if (set_irqs(d, VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, 1, &d->intx_efd) ||
	    set_irqs(d, VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_UNMASK, 1, &d->intx_resample))
		pr_warn("%s: enabling INTx: %s", d->bdf, strerror(errno));
	else
		d->irq_index = VFIO_PCI_INTX_IRQ_INDEX;
}

void vfio_irq_cfg_written(struct vfio_dev *d, uint32_t off, uint32_t len)
{
	int want = -1;
	unsigned count = 0;

	if (d->has_msix) {
		msix_cfg_written(&d->msix, off, len);
		if (msix_enabled(&d->msix)) {
			want = VFIO_PCI_MSIX_IRQ_INDEX;
			count = d->msix.layout.nr_vectors;
		}
	}
	if (d->has_msi) {
		msi_cfg_written(&d->msi, off, len);
		if (want < 0 && msi_enabled(&d->msi)) {
			want = VFIO_PCI_MSI_IRQ_INDEX;
			count = d->msi.nr_vectors;
		}
	}
	if (want >= 0 || d->irq_index == VFIO_PCI_MSIX_IRQ_INDEX || d->irq_index == VFIO_PCI_MSI_IRQ_INDEX) {
		vfio_msi_enable(d, want, count);
		if (want < 0)
			intx_enable(d);
	}
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

static unsigned irq_count(struct vfio_dev *d, unsigned index)
{
	struct vfio_irq_info ii = { .argsz = sizeof(ii), .index = index };

	if (index >= d->info.num_irqs || ioctl(d->fd, VFIO_DEVICE_GET_IRQ_INFO, &ii) < 0)
		return 0;
	return ii.count;
}

static int vectors_init(struct vfio_dev *d, unsigned n)
{
	struct vm *vm = d->pt->vm;
	unsigned i;
	int err;

	d->vec = calloc(n, sizeof(*d->vec));
	if (!d->vec)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		struct vfio_vector *v = &d->vec[i];

		v->dev = d;
		v->n = i;
		v->gsi = -1;
		v->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (v->efd < 0)
			return -errno;
		d->nr_vec++;
		v->watch = (struct ev_watch){ .fd = v->efd, .fn = vec_watch, .opaque = v };
		err = ev_add(&vm->ev, &v->watch, EPOLLIN);
		if (err)
			return err;
	}
	return 0;
}

static int intx_init(struct vfio_dev *d)
{
	unsigned pin = d->pci.cfg[PCI_INTERRUPT_PIN];
	int err;

	if (!pin || pin > 4 || !irq_count(d, VFIO_PCI_INTX_IRQ_INDEX))
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
	if (!irq_count(d, VFIO_PCI_REQ_IRQ_INDEX))
		return 0;
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (efd < 0)
		return -errno;
	d->req = (struct ev_watch){ .fd = efd, .fn = req_watch, .opaque = d };
	if (set_irqs(d, VFIO_PCI_REQ_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, 1, &efd) ||
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

	d->irq_index = -1;
	d->intx_efd = d->intx_resample = d->intx_gsi = -1;
	if (d->cfgv.msix_cap) {
		err = msix_init_existing(&d->msix, &d->pci, d->cfgv.msix_cap, &vec_ops, d);
		if (err)
			return err;
		d->has_msix = true;
		n = d->msix.layout.nr_vectors;
	}
	if (d->cfgv.msi_cap) {
		err = msi_init_existing(&d->msi, &d->pci, d->cfgv.msi_cap, &vec_ops, d);
		if (err)
			return err;
		d->has_msi = true;
		if (d->msi.max_vectors > n)
			n = d->msi.max_vectors;
	}
	return n ? vectors_init(d, n) : 0;
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
	unsigned i;

	if (d->req.fd >= 0) {
		ev_del(&vm->ev, &d->req);
		set_irqs(d, VFIO_PCI_REQ_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, 0, NULL);
		close(d->req.fd);
		d->req.fd = -1;
	}
	if (d->irq_index >= 0)
		set_irqs(d, (unsigned)d->irq_index, VFIO_IRQ_SET_ACTION_TRIGGER, 0, NULL);
	d->irq_index = -1;
	if (d->intx_gsi >= 0)
		irqfd_deassign(vm->vm_fd, (unsigned)d->intx_gsi, d->intx_efd);
	if (d->intx_efd >= 0)
		close(d->intx_efd);
	if (d->intx_resample >= 0)
		close(d->intx_resample);
	d->intx_efd = d->intx_resample = d->intx_gsi = -1;
	for (i = d->nr_vec; i-- > 0;) {
		struct vfio_vector *v = &d->vec[i];

		if (v->irqfd)
			irqfd_deassign(vm->vm_fd, (unsigned)v->gsi, v->efd);
		if (v->gsi >= 0)
			gsi_free(&vm->routes, (unsigned)v->gsi);
		ev_del(&vm->ev, &v->watch);
		close(v->efd);
	}
	free(d->vec);
	d->vec = NULL;
	d->nr_vec = 0;
	if (d->has_msi)
		msi_exit(&d->msi);
	if (d->has_msix)
		msix_exit(&d->msix);
	d->has_msi = d->has_msix = false;
}
