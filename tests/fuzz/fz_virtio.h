/*
 * sluice fuzzing: a virtio-pci function (vmm/virtio/virtio_pci.c, compiled
 * into the harness so its static parts are reachable) on a fz_vm_init
 * machine. fz_vpci_create is virtio_pci_create without its last step,
 * intx_init: that one needs KVM to accept an irqfd and fails without it
 * (vm_fd is -1), so INTx is absent (intx_efd -1, which the transport
 * already handles). No worker thread: the device has no queue_notify, so
 * a kick only signals the doorbell eventfd. Everything else (the register
 * model, queue enable over guest RAM, MSI-X, the PCI_CFG window, BAR moves,
 * teardown by virtio_pci_destroy) is the transport's own code.
 */
#ifndef SLUICE_TESTS_FZ_VIRTIO_H
#define SLUICE_TESTS_FZ_VIRTIO_H

#include "tests/fuzz/fz.h"
#include "vmm/virtio/virtio_pci.c"

static void fz_vpci_config_read(void *dev, uint32_t off, uint8_t *data, uint32_t len)
{
	uint32_t i;

	(void)dev;
	for (i = 0; i < len; i++)
		data[i] = (uint8_t)(off + i);
}

static const struct virtio_pci_ops fz_vpci_ops = { .config_read = fz_vpci_config_read };
static const char *const fz_vpci_queues[] = { "q0", "q1", "q2", "q3" };

/* A virtio device of type @type with @nr_queues (1-4) queues of at most @qmax. */
static inline int fz_vpci_create(struct virtio_pci **vpp, struct vm *vm, uint64_t features,
				 unsigned nr_queues, uint16_t qmax)
{
	const struct virtio_pci_config cfg = {
		.name = "fuzz-virtio", .device_type = 2, .class_code = 0x018000,
		.features = features | VIRTIO_PCI_FEATURES, .nr_queues = nr_queues,
		.queue_size = qmax, .queue_names = fz_vpci_queues, .config_size = 60,
		.ops = &fz_vpci_ops,
	};
	struct virtio_pci *vp;
	int err;

	*vpp = NULL;
	vp = calloc(1, sizeof(*vp));
	if (!vp)
		return -ENOMEM;
	vp->vm = vm;
	vp->cfg = cfg;
	vp->intx_efd = vp->intx_resample = vp->intx_gsi = -1;
	vp->w.epfd = vp->w.ctl_fd = -1;
	vp->config_irq.efd = -1;
	pthread_mutex_init(&vp->lock, NULL);
	pthread_mutex_init(&vp->w.lock, NULL);
	pthread_cond_init(&vp->w.cond, NULL);
	if ((err = check_config(vp)) || (err = pci_init(vp)))
		goto err_destroy;
	err = msix_route_init(&vp->vecs, vm, vp->pci.bdf, nr_vectors(vp), NULL, vp);
	if (err)
		goto err_destroy;
	vp->vecs_ready = true;
	if ((err = fds_init(vp)))
		goto err_destroy;
	err = pci_host_add(&vm->pci, &vp->pci);
	if (err)
		goto err_destroy;
	vp->on_host = true;
	*vpp = vp;
	return 0;

err_destroy:
	virtio_pci_destroy(vp);
	return err;
}

#endif
