/*
 * sluice fuzzing: a passthrough-like device. sluice's own VFIO device code
 * (vfio/bar.c's vfio_pci_ops, vfio/irq.c, vfio/config.c) runs unchanged over
 * a struct vfio_dev whose "device fd" is a memfd: VFIO regions are read and
 * written with pread/pwrite at the region's offset, which a memfd serves
 * from plain memory (config space at 0, BAR n at (n + 1) MiB). The VFIO
 * ioctls (SET_IRQS, GET_IRQ_INFO) fail on it with ENOTTY and sluice takes
 * its error paths; no BAR is mmapped, so every BAR access traps.
 * Setup follows vfio/assign.c's dev_attach: config view, interrupts, bus.
 */
#ifndef SLUICE_TESTS_FZ_VFIO_H
#define SLUICE_TESTS_FZ_VFIO_H

#include <sys/mman.h>
#include <unistd.h>

#include "tests/fuzz/fz.h"
#include "vfio/vfio.h"

#define FZ_VFIO_BAR_OFFSET(i)	((uint64_t)((i) + 1) << 20)

struct fz_vfio {
	struct passthrough pt;
	struct vfio_dev d;
	bool irq_up;
};

/*
 * @cfg: @len bytes of physical config space; @bar and @rom_size as VFIO would
 * report them. 0, or the -errno of the step that refused the device.
 */
static inline int fz_vfio_open(struct fz_vfio *v, struct vm *vm, const uint8_t *cfg, uint32_t len,
			       const struct vfio_bar_info *bar, uint64_t rom_size)
{
	struct vfio_dev *d = &v->d;
	struct vfio_config_in in = { .bdf = "0000:01:10.0", .name = "fuzz-vfio", .ops = &vfio_pci_ops,
				     .cfg = cfg, .len = len, .rom_size = rom_size };
	unsigned i;
	int err;

	memset(v, 0, sizeof(*v));
	v->pt.vm = vm;
	v->pt.nr_devs = 1;
	v->pt.devs[0] = d;
	d->pt = &v->pt;
	d->group_fd = -1;
	d->req.fd = -1;
	d->irq.index = d->intx_efd = d->intx_resample = d->intx_gsi = -1;
	snprintf(d->bdf, sizeof(d->bdf), "0000:01:10.0");
	snprintf(d->name, sizeof(d->name), "0000:01:10.0 (fuzz)");
	d->fd = memfd_create("fuzz-vfio", MFD_CLOEXEC);
	fz_assert(d->fd >= 0, "memfd");
	fz_assert(pwrite(d->fd, cfg, len, 0) == (ssize_t)len, "config into the memfd");
	d->reg[VFIO_PCI_CONFIG_REGION_INDEX] = (struct vfio_region){
		.index = VFIO_PCI_CONFIG_REGION_INDEX, .size = len, .offset = 0,
		.flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE };
	for (i = 0; i < PCI_STD_NUM_BARS; i++) {
		in.bar[i] = bar[i];
		d->reg[i] = (struct vfio_region){ .index = i, .size = bar[i].size, .flags = bar[i].flags,
						  .offset = FZ_VFIO_BAR_OFFSET(i) };
	}
	d->reg[VFIO_PCI_ROM_REGION_INDEX] = (struct vfio_region){
		.index = VFIO_PCI_ROM_REGION_INDEX, .size = rom_size,
		.offset = FZ_VFIO_BAR_OFFSET(PCI_STD_NUM_BARS) };
	err = vfio_config_init(&d->cfgv, &d->pci, &in);
	if (err)
		return err;
	err = vfio_irq_init(d);
	v->irq_up = true;	/* vfio_irq_exit undoes a partial init too */
	if (err)
		return err;
	err = pci_host_add(&vm->pci, &d->pci);
	if (err)
		return err;
	d->on_host = true;
	return vfio_irq_start(d);
}

static inline void fz_vfio_close(struct fz_vfio *v)
{
	struct vfio_dev *d = &v->d;

	if (v->irq_up)
		vfio_irq_exit(d);
	if (d->on_host)
		pci_host_remove(&v->pt.vm->pci, &d->pci);
	d->on_host = false;
	close(d->fd);
}

/* The device's side of config space, as the memfd holds it now. */
static inline void fz_vfio_phys(struct fz_vfio *v, uint8_t *buf, uint32_t len)
{
	fz_assert(pread(v->d.fd, buf, len, 0) == (ssize_t)len, "config from the memfd");
}

#endif
