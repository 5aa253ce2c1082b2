/*
 * sluice: a virtio-iommu (virtio 1.2 §5.13, device ID 23) on the virtio-pci
 * transport: the request queue served by the transport's worker through
 * vmm/virtio/viommu.c, and the event queue. The guest finds the endpoints it
 * translates in the ACPI VIOT (vmm/acpi.c), by the BDF this device gets on
 * the PCI bus.
 *
 * The event queue: the driver fills it with buffers for fault reports
 * (§5.13.6.9). sluice has no fault source to report: the VFIO type1 backend
 * does not tell userspace about DMA faults (the host IOMMU logs them, as a
 * DMAR fault in the host's kernel log). The buffers stay with the device.
 */
#ifndef SLUICE_VIOMMU_DEV_H
#define SLUICE_VIOMMU_DEV_H

#include "vmm/virtio/viommu.h"
#include "vmm/virtio/virtio_pci.h"

struct vm;

struct viommu_dev {
	struct viommu v;
	struct virtio_pci *vp;		/* on the PCI bus while non-NULL */
};

/*
 * Put a virtio-iommu translating @p's endpoints through @ops on @vm's PCI
 * bus. 0 or -errno with a message; nothing to undo on error.
 */
int viommu_dev_attach(struct viommu_dev *d, struct vm *vm, const struct viommu_params *p,
		      const struct viommu_backend_ops *ops, void *opaque);
/* vCPUs stopped: the function off the bus, its worker stopped, every mapping removed through the backend. */
void viommu_dev_detach(struct viommu_dev *d);

/* The function's BDF on bus 0 (bus << 8 | devfn), for the VIOT. */
uint16_t viommu_dev_bdf(const struct viommu_dev *d);

#endif
