/*
 * sluice: PCI passthrough through VFIO (Documentation/driver-api/vfio.rst).
 *
 * A struct passthrough belongs to one VM and holds the IOMMU context (one
 * container, all guest RAM mapped IOVA = GPA; behind the guest's
 * virtio-iommu, a container per IOMMU group, each an IOVA space the guest
 * maps) and the assigned devices. Per
 * device: bind to vfio-pci (vfio/bind.c, recorded first), open its group
 * and attach it, open the device, read its regions, reset it, build the
 * guest's view of its config space (vfio/config.c), take over MSI/MSI-X
 * (vmm/msix.c, vmm/msi.c), and plug it into the VM's PCI host. BARs are
 * KVM memslots over mmaps of the device's regions, except the MSI-X table
 * and PBA pages, which trap (vfio/bar.c). Enabled vectors reach the guest
 * through KVM irqfds, never through sluice (vfio/irq.c). Teardown mirrors
 * attach and ends with the device back on its original driver.
 */
#ifndef SLUICE_VFIO_H
#define SLUICE_VFIO_H

#include <linux/vfio.h>
#include <stdbool.h>
#include <stdint.h>

#include "iommu/iommu.h"
#include "vfio/bind.h"
#include "vfio/config.h"
#include "vmm/evloop.h"
#include "vmm/msi.h"
#include "vmm/msix.h"
#include "vmm/msix_route.h"
#include "vmm/pci.h"

struct vm;
struct vfio_dev;

#define VFIO_MAX_DEVS		8
#define VFIO_MAX_AREAS		8
#define VFIO_BAR_MAX_SLOTS	4	/* memslots one BAR may need around MSI-X pages */

struct vfio_region {
	uint32_t index, flags;
	uint64_t size, offset;		/* offset: where the region starts in the device fd */
	unsigned nr_areas;		/* mmappable areas (sparse mmap), [off, off + size) */
	struct { uint64_t off, size; } area[VFIO_MAX_AREAS];
	uint8_t *map;			/* the region's mmap, areas mapped, the rest PROT_NONE */
};

/* What VFIO has of a device's MSI/MSI-X, and what the guest last asked (vfio/irq.c). */
struct vfio_irq_state {
	int index;		/* VFIO_PCI_MSIX/MSI_IRQ_INDEX enabled in VFIO, or -1 */
	unsigned count;		/* vectors VFIO has for it */
	uint32_t ctl;		/* the Message Controls last acted on: MSI-X | MSI << 16 */
	bool failed;		/* an enable or a grow failed: not again until ctl changes */
	bool noresize;		/* VFIO_IRQ_INFO_NORESIZE: growing is disable + enable */
};

/* A change of VFIO's MSI/MSI-X: enable @index (or -1: off) with @count vectors. */
struct vfio_irq_plan {
	int index;
	unsigned count;
};

/*
 * Pure: what a config write asks of VFIO. The guest's Message Controls @ctl
 * (MSI-X | MSI << 16), whether MSI-X or MSI is on, the vectors MSI-X needs
 * now (@msix_span: the highest enabled and unmasked one + 1) and MSI's count.
 * False: nothing to do (Message Control did not change, or is as VFIO has
 * it). Records @ctl in @s.
 */
bool vfio_irq_plan(struct vfio_irq_state *s, uint32_t ctl, bool msix_on, unsigned msix_span,
		   bool msi_on, unsigned msi_count, struct vfio_irq_plan *p);
/*
 * Pure: vector @n became @effective; must VFIO's MSI-X grow, and to how many
 * (*@count)? Never after a failure until Message Control changes.
 */
bool vfio_irq_grow(const struct vfio_irq_state *s, unsigned n, bool effective, unsigned *count);

struct vfio_bar_map {
	unsigned nr_slots;
	int slot[VFIO_BAR_MAX_SLOTS];
	bool on_bus;
};

struct vfio_dev {
	struct passthrough *pt;
	char bdf[16];
	char name[48];			/* "0000:01:10.0 (8086:10ca)" for the pci core */
	struct bind_record bind;
	int group, group_fd, fd;
	struct vfio_device_info info;
	struct vfio_region reg[VFIO_PCI_NUM_REGIONS];
	struct vfio_config cfgv;
	struct pci_dev pci;
	bool regions_ready;		/* vfio_dev_setup done (in the VMM) */
	bool on_host;			/* pci_host_add done */
	struct msix msix;
	struct msi msi;
	bool has_msix, has_msi;
	pthread_mutex_t irq_lock;	/* irq (below): config writes against table writes */
	bool irq_lock_up;
	struct vfio_irq_state irq;	/* what VFIO has enabled */
	struct msix_route route;	/* one eventfd + GSI + irqfd per vector */
	struct vfio_bar_map bar[PCI_STD_NUM_BARS + 1];	/* + the ROM */
	int intx_efd, intx_resample;	/* INTx: trigger and unmask eventfds, -1 if unused */
	int intx_gsi;
	struct ev_watch req;		/* VFIO_PCI_REQ_IRQ_INDEX: the host wants it back */
};

struct vfio_group_ref {
	int id, fd;
	unsigned users;
	struct iommu iommu;		/* pt->viommu: the group's own container, else fd -1 */
};

struct passthrough {
	const char *vm_name;
	struct vm *vm;			/* the VMM's, from passthrough_attach on */
	const char *sysfs;		/* "/sys" (tests could point elsewhere) */
	const char *rundir;		/* BIND_RUNDIR */
	struct iommu iommu;		/* open while fd >= 0; RAM mapped while nr_mapped */
	/*
	 * Behind the guest's virtio-iommu: no RAM mapped up front, and each group
	 * in a container of its own (groups[].iommu; pt->iommu stays closed), as
	 * the guest gives each endpoint a domain, i.e. an IOVA space, of its own.
	 */
	bool viommu;
	unsigned nr_groups;
	struct vfio_group_ref groups[VFIO_MAX_DEVS];
	unsigned nr_devs;		/* opened by the monitor */
	unsigned nr_attached;		/* on the VMM's PCI bus */
	struct vfio_dev *devs[VFIO_MAX_DEVS];
};

/* Containers (one, or with viommu one per group), groups, devices. */
#define PASSTHROUGH_MAX_FDS	(3 * VFIO_MAX_DEVS)

/*
 * Resolve what the user typed (--assign): a BDF ("0000:01:10.0", "01:10.0")
 * or a network interface name ("eth0"), into a canonical BDF. 0, or -errno
 * with a message that says what was expected.
 */
int vfio_resolve(const char *sysfs, const char *spec, char bdf[16]);

/*
 * Everything that can refuse an assignment before the host is touched: the
 * devices exist and are endpoints, their groups are viable for this set,
 * the host remaps interrupts (or @allow_unsafe), RLIMIT_MEMLOCK covers
 * @mem_size of guest RAM (@viommu: in each of the n containers), and no other
 * sluice holds them; with @viommu, no two of them share an IOMMU group
 * (vfio_viommu_check_groups). 0 or -errno with messages.
 */
int vfio_check(const char *sysfs, const char *rundir, char (*bdfs)[16], unsigned n,
	       uint64_t mem_size, bool allow_unsafe, bool viommu);
/* Its host half alone, for devices not known yet (a VF picked in phase 3): IR and memlock. */
int vfio_check_host(uint64_t mem_size, bool allow_unsafe);
/*
 * Pure: behind the virtio-iommu every device needs a container of its own,
 * which a host IOMMU group cannot split: 0, or -EINVAL when @bdfs[i] and
 * @bdfs[j] share group @groups[i] == @groups[j], with @why naming both and
 * the group and saying what to do.
 */
int vfio_viommu_check_groups(char (*bdfs)[16], const int *groups, unsigned n, char *why,
			     size_t whylen);

/*
 * Passthrough is split by privilege. The monitor (root) takes the host side:
 * passthrough_open() binds a device to vfio-pci (recorded first), puts its
 * group in the container and opens the device; after the VMM is forked,
 * passthrough_drop_fds() closes the monitor's copies, and once the VMM has
 * ended, passthrough_give_back() rebinds every device as its record says.
 * The VMM maps guest RAM and plugs the devices into its VM with
 * passthrough_attach(), and undoes that with passthrough_detach().
 */
void passthrough_init(struct passthrough *pt, const char *vm_name);
/* Monitor: 0, or -errno with a message and this device given back (the others stay). */
int passthrough_open(struct passthrough *pt, const char *bdf);
/* The fds the VMM inherits, into @fds (room for PASSTHROUGH_MAX_FDS); returns how many. */
unsigned passthrough_fds(const struct passthrough *pt, int *fds);
void passthrough_drop_fds(struct passthrough *pt);
/* Monitor, after the VMM ended: open the fds again for a new VMM (the bindings stayed). 0 or -errno. */
int passthrough_reopen(struct passthrough *pt);
void passthrough_give_back(struct passthrough *pt);
/*
 * VMM: RAM into the IOMMU (IOVA = GPA), or with pt->viommu only each
 * container's info and the memlock limit for all of them
 * (iommu_prepare_dma: the guest maps), then each device on @vm's PCI bus;
 * all or nothing.
 */
int passthrough_attach(struct passthrough *pt, struct vm *vm);
/* The container pt->devs[@i]'s DMA goes through (its group's with pt->viommu), or NULL. */
struct iommu *passthrough_dev_iommu(struct passthrough *pt, unsigned i);
/* VMM, vCPUs stopped: each device off the bus and reset, RAM out of the IOMMU. */
void passthrough_detach(struct passthrough *pt);

/* vfio/device.c: open() (the monitor: fd, info), setup() (the VMM: regions and their mmaps) */
/*
 * Pure: fill @r (index, flags, size, offset, mmappable areas) from the
 * VFIO_DEVICE_GET_REGION_INFO answer in @info, @len bytes (argsz, if
 * smaller, bounds the capability chain). Areas: the sparse-mmap ones that
 * lie wholly in the region, or the whole region when it is mmappable with
 * no sparse capability. 0, or -EINVAL when @len cannot hold the struct.
 */
int vfio_region_parse_info(struct vfio_region *r, const void *info, size_t len);
int vfio_dev_open(struct vfio_dev *d);
int vfio_dev_setup(struct vfio_dev *d);
void vfio_dev_unmap(struct vfio_dev *d);
void vfio_dev_close(struct vfio_dev *d);
int vfio_dev_reset(struct vfio_dev *d);
ssize_t vfio_region_rw(struct vfio_dev *d, unsigned index, uint64_t off, void *buf, size_t len,
		       bool is_write);

/* vfio/bar.c */
extern const struct pci_dev_ops vfio_pci_ops;

/* vfio/irq.c */
int vfio_irq_init(struct vfio_dev *d);
int vfio_irq_start(struct vfio_dev *d);
void vfio_irq_exit(struct vfio_dev *d);
void vfio_irq_cfg_written(struct vfio_dev *d, uint32_t off, uint32_t len);

#endif
