/* sluice: KVM_IRQFD, an eventfd that injects a GSI (api.rst, KVM_IRQFD). */
#include <errno.h>
#include <sys/ioctl.h>

#include "irqremap/irqremap.h"

/*
 * A resampler is for level-triggered interrupts: KVM signals it on the EOI
 * of an IOAPIC pin so the VMM can unmask INTx. An MSI GSI never resamples,
 * so asking for one there is a caller bug.
 */
int irqfd_assign(int vm_fd, unsigned gsi, int eventfd, int resample_fd)
{
	struct kvm_irqfd req = { .fd = (uint32_t)eventfd, .gsi = gsi };

	if (eventfd < 0)
		return -EBADF;
	if (resample_fd >= 0) {
		if (gsi >= LAYOUT_IOAPIC_PINS)
			return -EINVAL;
		req.flags = KVM_IRQFD_FLAG_RESAMPLE;
		req.resamplefd = (uint32_t)resample_fd;
	}
	return ioctl(vm_fd, KVM_IRQFD, &req) < 0 ? -errno : 0;
}

/* KVM finds the irqfd by (fd, gsi); the resampler goes with it. */
int irqfd_deassign(int vm_fd, unsigned gsi, int eventfd)
{
	struct kvm_irqfd req = {
		.fd = (uint32_t)eventfd, .gsi = gsi, .flags = KVM_IRQFD_FLAG_DEASSIGN,
	};

	if (eventfd < 0)
		return -EBADF;
	return ioctl(vm_fd, KVM_IRQFD, &req) < 0 ? -errno : 0;
}
