/*
 * sluice: a passthrough device's interrupts. Each MSI/MSI-X vector has one
 * eventfd that VFIO signals (vmm/msix_route.c). While the vector is
 * effective (enabled and unmasked) KVM injects straight from it through an
 * irqfd on the vector's GSI, so no interrupt passes through sluice. While it
 * is masked, sluice reads the eventfd and sets the vector's Pending bit (PCI
 * 3.0 §6.8.2.9), which msix/msi deliver on unmask. A message that does not
 * target the guest's own local APICs (irqremap/msi_check.c) is never routed.
 * INTx goes through an irqfd with a resample fd; the request interrupt
 * stops the VM.
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
};

static void vec_update(void *opaque, unsigned n, uint64_t addr, uint32_t data, bool enabled)
{
	struct vfio_dev *d = opaque;

	msix_route_update(&d->route, n, addr, data, enabled);
}

static void vec_fire(void *opaque, unsigned n)
{
	struct vfio_dev *d = opaque;

	msix_route_fire(&d->route, n);
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
	for (i = 0; i < count && i < d->route.nr; i++)
		fds[i] = d->route.vec[i].efd;
	err = set_irqs(d, (unsigned)index, VFIO_IRQ_SET_ACTION_TRIGGER, i, fds);
	if (err)
		pr_err_rl("%s: enabling %s with %u vectors: %s", d->bdf,
		       index == VFIO_PCI_MSIX_IRQ_INDEX ? "MSI-X" : "MSI", i, strerror(-err));
	else
		d->irq_index = index;
}

static void intx_enable(struct vfio_dev *d)
{
	int err;

	if (d->intx_efd < 0 || d->irq_index >= 0)
		return;
	err = set_irqs(d, VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, 1, &d->intx_efd);
	if (!err)
		err = set_irqs(d, VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_UNMASK, 1, &d->intx_resample);
	if (err)
		pr_warn_rl("%s: enabling INTx: %s", d->bdf, strerror(-err));
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
		err = msi_init_existing(&d->msi, &d->pci, d->cfgv.msi_cap, d->cfgv.msi_end, &vec_ops, d);
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
	msix_route_exit(&d->route);
	if (d->has_msi)
		msi_exit(&d->msi);
	if (d->has_msix)
		msix_exit(&d->msix);
	d->has_msi = d->has_msix = false;
}
