/*
 * sluice: a passthrough device on the VM's PCI host: config space through
 * the guest's view (vfio/config.c), BARs as KVM memslots over the device's
 * mmapped regions. Only what must trap traps: the MSI-X table and PBA
 * pages, parts VFIO will not let us mmap, and I/O BARs. Those are
 * registered on the bus as one range per BAR; KVM never exits for the
 * memslot parts, which overlay it.
 */
#include <errno.h>
#include <string.h>

#include "vfio/vfio.h"
#include "vmm/vm.h"
#include "vmm/log.h"

#define PAGE 4096ull

static struct vfio_dev *to_vdev(struct pci_dev *pci)
{
	return (struct vfio_dev *)((char *)pci - offsetof(struct vfio_dev, pci));
}

static void cfg_read(struct pci_dev *pci, uint32_t off, uint32_t len)
{
	struct vfio_dev *d = to_vdev(pci);
	uint8_t phys[4];

	if (len > sizeof(phys) || !vfio_config_live_mask(&d->cfgv, off, len))
		goto out;
	if (vfio_region_rw(d, VFIO_PCI_CONFIG_REGION_INDEX, off, phys, len, false) == (ssize_t)len)
		vfio_config_refresh(&d->cfgv, pci->cfg, phys, off, len);
out:
	if (d->has_msi)
		msi_cfg_read(&d->msi, off, len);
}

/* Forward the bytes the policy says belong to the device, run by run. */
static void cfg_write(struct pci_dev *pci, uint32_t off, const uint8_t *data, uint32_t len)
{
	struct vfio_dev *d = to_vdev(pci);
	unsigned fwd = len <= 4 ? vfio_config_forward_mask(&d->cfgv, off, len) : 0;
	uint32_t i = 0, j;

	while (i < len) {
		if (!(fwd & (1u << i))) {
			i++;
			continue;
		}
		for (j = i; j < len && (fwd & (1u << j)); j++)
			;
		vfio_region_rw(d, VFIO_PCI_CONFIG_REGION_INDEX, off + i, (void *)(uintptr_t)(data + i),
			       j - i, true);
		i = j;
	}
	vfio_irq_cfg_written(d, off, len);
}

/* Trapped access: the MSI-X table/PBA, or the device's region through VFIO. */
static void bar_trap(void *opaque, uint64_t off, uint8_t *data, uint32_t len, bool is_write)
{
	struct pci_bar *b = opaque;
	struct vfio_dev *d = to_vdev(b->dev);

	if (d->has_msix && msix_bar_access(&d->msix, b->index, off, data, len, is_write))
		return;
	if (b->index == PCI_BAR_ROM && is_write)
		return;		/* the expansion ROM is read-only */
	if (vfio_region_rw(d, (unsigned)b->index, off, data, len, is_write) != (ssize_t)len && !is_write)
		memset(data, 0xff, len);
}

/* The MSI-X table (@which 0) or PBA (1) pages in @bar as [start, end), or an empty range. */
static void msix_hole(const struct vfio_dev *d, int bar, uint64_t *start, uint64_t *end, int which)
{
	struct msix_pages p = which ? msix_pba_pages(&d->msix) : msix_table_pages(&d->msix);

	*start = *end = 0;
	if (d->has_msix && p.bar == bar) {
		*start = p.start;
		*end = p.end;
	}
}

/* Add memslots for [off, off + size) of the region, skipping the MSI-X holes. */
static void map_area(struct vfio_dev *d, int bar, uint64_t gpa, uint64_t off, uint64_t size)
{
	struct vfio_bar_map *m = &d->bar[bar];
	uint64_t hs, he, end = off + size;
	int which, slot;

	for (which = 0; which < 2; which++) {
		msix_hole(d, bar, &hs, &he, which);
		if (he > off && hs < end) {
			if (hs > off)
				map_area(d, bar, gpa, off, hs - off);
			if (he < end)
				map_area(d, bar, gpa, he, end - he);
			return;
		}
	}
	if (!size || (off | size | gpa) & (PAGE - 1) || m->nr_slots == VFIO_BAR_MAX_SLOTS)
		return;	/* not page-granular: it keeps trapping */
	slot = vm_memslot_add(d->pt->vm, gpa + off, size, d->reg[bar].map + off);
	if (slot < 0) {
		pr_warn_rl("%s: BAR%d: memslot at %#llx: %s; that part traps", d->bdf, bar,
			(unsigned long long)(gpa + off), strerror(-slot));
		return;
	}
	m->slot[m->nr_slots++] = slot;
}

static int bar_map(struct pci_dev *pci, int bar, uint64_t addr)
{
	struct vfio_dev *d = to_vdev(pci);
	struct pci_bar *b = bar == PCI_BAR_ROM ? &pci->rom : &pci->bar[bar];
	struct vfio_bar_map *m = &d->bar[bar];
	unsigned i;
	int err;

	_Static_assert(PCI_BAR_ROM == VFIO_PCI_ROM_REGION_INDEX, "ROM BAR index is the VFIO region");
	err = bus_register(pci_dev_bar_bus(pci, bar), addr, b->size, bar_trap, b, b->name);
	if (err)
		return err;
	m->on_bus = true;
	if (bar != PCI_BAR_ROM && b->type != PCI_BAR_IO && d->reg[bar].map)
		for (i = 0; i < d->reg[bar].nr_areas; i++)
			map_area(d, bar, addr, d->reg[bar].area[i].off, d->reg[bar].area[i].size);
	return 0;
}

static void bar_unmap(struct pci_dev *pci, int bar, uint64_t addr)
{
	struct vfio_dev *d = to_vdev(pci);
	struct vfio_bar_map *m = &d->bar[bar];

	while (m->nr_slots)
		vm_memslot_del(d->pt->vm, m->slot[--m->nr_slots]);
	if (m->on_bus)
		bus_unregister(pci_dev_bar_bus(pci, bar), addr);
	m->on_bus = false;
}

const struct pci_dev_ops vfio_pci_ops = {
	.cfg_read = cfg_read,
	.cfg_write = cfg_write,
	.bar_map = bar_map,
	.bar_unmap = bar_unmap,
};
