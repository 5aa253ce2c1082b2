/*
 * sluice: assigning devices to a VM and giving them back. Assignment runs
 * bind -> group + container (behind the virtio-iommu: one per group) ->
 * guest RAM in the IOMMU (or, behind it, nothing yet) -> device -> reset ->
 * config view -> MSI/MSI-X -> PCI host -> INTx/request; release runs the
 * same steps backwards, and the bindings go back last, once no VFIO fd is
 * open.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "iommu/group.h"
#include "irqremap/irqremap.h"
#include "vfio/hostpci.h"
#include "vfio/vfio.h"
#include "vmm/log.h"
#include "vmm/vm.h"

void passthrough_init(struct passthrough *pt, const char *vm_name)
{
	memset(pt, 0, sizeof(*pt));
	pt->vm_name = vm_name;
	pt->sysfs = "/sys";
	pt->rundir = BIND_RUNDIR;
	pt->iommu.fd = -1;
}

static int resolve_ifname(const char *sysfs, const char *spec, char bdf[16])
{
	char why[HOSTPCI_WHY_LEN];
	int err = hostpci_from_netdev(sysfs, spec, bdf, why, sizeof(why));

	if (err)
		pr_err("%s", why);
	return err;
}

int vfio_resolve(const char *sysfs, const char *spec, char bdf[16])
{
	char why[HOSTPCI_WHY_LEN];

	if (!strchr(spec, ':'))
		return resolve_ifname(sysfs, spec, bdf);
	if (hostpci_bdf_parse(spec, bdf, why, sizeof(why))) {
		pr_err("%s", why);
		return -EINVAL;
	}
	if (!hostpci_exists(sysfs, bdf)) {
		pr_err("no PCI device %s: see 'sluice devices'", bdf);
		return -ENOENT;
	}
	return 0;
}

/* Endpoint, group viable for this set, no holder: the check `sluice devices` shows too. */
static int check_one(const char *sysfs, const char *rundir, char (*bdfs)[16], unsigned n,
		     unsigned i, int *group)
{
	const char *list[VFIO_MAX_DEVS];
	char why[HOSTPCI_WHY_LEN];
	unsigned j;
	int rc;

	for (j = 0; j < i; j++)
		if (!strcmp(bdfs[j], bdfs[i])) {
			pr_err("%s is assigned twice: give each device once", bdfs[i]);
			return -EINVAL;
		}
	for (j = 0; j < n; j++)
		list[j] = bdfs[j];
	rc = hostpci_check_assignable(sysfs, rundir, bdfs[i], list, n, group, why, sizeof(why));
	if (rc)
		pr_err("%s", why);
	return rc;
}

int vfio_viommu_check_groups(char (*bdfs)[16], const int *groups, unsigned n, char *why,
			     size_t whylen)
{
	unsigned i, j;

	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			if (groups[i] >= 0 && groups[i] == groups[j]) {
				snprintf(why, whylen, "--viommu: %s and %s are both in IOMMU group %d, "
					 "and the guest may give them different domains, which one "
					 "host group cannot hold: put only one of them behind the "
					 "virtio-iommu, or assign them without --viommu", bdfs[i],
					 bdfs[j], groups[i]);
				return -EINVAL;
			}
	return 0;
}

int vfio_check(const char *sysfs, const char *rundir, char (*bdfs)[16], unsigned n,
	       uint64_t mem_size, bool allow_unsafe, bool viommu)
{
	char why[HOSTPCI_WHY_LEN];
	int groups[VFIO_MAX_DEVS] = { 0 };
	unsigned i;
	int err;

	if (n > VFIO_MAX_DEVS) {
		pr_err("%u devices: at most %d can be assigned to one VM", n, VFIO_MAX_DEVS);
		return -E2BIG;
	}
	for (i = 0; i < n; i++)
		if ((err = check_one(sysfs, rundir, bdfs, n, i, &groups[i])))
			return err;
	if (viommu && (err = vfio_viommu_check_groups(bdfs, groups, n, why, sizeof(why)))) {
		pr_err("%s", why);
		return err;
	}
	/* Behind the virtio-iommu each device has a container, and each may pin all RAM. */
	return n ? vfio_check_host(viommu ? n * mem_size : mem_size, allow_unsafe) : 0;
}

int vfio_check_host(uint64_t mem_size, bool allow_unsafe)
{
	int err = irq_host_require("/", allow_unsafe);

	return err ? err : iommu_memlock_check(mem_size, false);
}

/* /dev/vfio/N appears once vfio-pci has bound the device (devtmpfs or udev). */
static int open_group_node(int group)
{
	char path[64];
	int i, err, fd = -1;

	iommu_group_vfio_path(group, path, sizeof(path));
	for (i = 0; i < 50; i++) {
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd >= 0 || errno != ENOENT)
			break;
		usleep(20000);
	}
	if (fd >= 0)
		return fd;
	err = -errno;	/* before pr_err, which may change errno */
	if (err == -EBUSY)
		pr_err("%s is open in another process: is the device assigned elsewhere?", path);
	else
		pr_err("%s: %s", path, strerror(-err));
	return err;
}

/* The container a group is in: its own behind the virtio-iommu, else the VM's one. */
static struct iommu *group_iommu(struct passthrough *pt, struct vfio_group_ref *g)
{
	return pt->viommu ? &g->iommu : &pt->iommu;
}

static int group_get(struct passthrough *pt, int group)
{
	struct vfio_group_ref *g;
	struct iommu *io;
	unsigned i;
	int fd, err;

	for (i = 0; i < pt->nr_groups; i++)
		if (pt->groups[i].id == group) {
			pt->groups[i].users++;
			return pt->groups[i].fd;
		}
	g = &pt->groups[pt->nr_groups];
	*g = (struct vfio_group_ref){ .id = group, .fd = -1, .users = 1, .iommu.fd = -1 };
	io = group_iommu(pt, g);
	if (io->fd < 0 && (err = iommu_open(io, &iommu_type1_ops)))
		return err;
	fd = open_group_node(group);
	err = fd < 0 ? fd : iommu_attach_group(io, group, fd);
	if (err) {
		if (fd >= 0)
			close(fd);
		if (!io->nr_groups)
			iommu_close(io);	/* opened for this group alone */
		return err;
	}
	g->fd = fd;
	pt->nr_groups++;
	return fd;
}

static void group_put(struct passthrough *pt, int group)
{
	struct vfio_group_ref *g;
	struct iommu *io;
	unsigned i;

	for (i = 0; i < pt->nr_groups; i++) {
		g = &pt->groups[i];
		if (g->id != group || --g->users)
			continue;
		io = group_iommu(pt, g);
		iommu_detach_group(io, group, g->fd);
		close(g->fd);
		if (!io->nr_groups)
			iommu_close(io);
		*g = pt->groups[--pt->nr_groups];
		break;
	}
}

struct iommu *passthrough_dev_iommu(struct passthrough *pt, unsigned i)
{
	unsigned k;

	if (i >= pt->nr_devs)
		return NULL;
	for (k = 0; k < pt->nr_groups; k++)
		if (pt->groups[k].id == pt->devs[i]->group)
			return group_iommu(pt, &pt->groups[k]);
	return NULL;
}

static int read_config_view(struct vfio_dev *d)
{
	uint8_t cfg[PCI_CFG_SPACE_EXP_SIZE];
	struct vfio_config_in in = { .bdf = d->bdf, .name = d->name, .ops = &vfio_pci_ops, .cfg = cfg };
	uint64_t len = d->reg[VFIO_PCI_CONFIG_REGION_INDEX].size;
	unsigned i;

	in.len = (uint32_t)(len < sizeof(cfg) ? len : sizeof(cfg));
	if (vfio_region_rw(d, VFIO_PCI_CONFIG_REGION_INDEX, 0, cfg, in.len, false) != (ssize_t)in.len) {
		pr_err("%s: reading config space: %s", d->bdf, strerror(errno));
		return -EIO;
	}
	for (i = 0; i < PCI_STD_NUM_BARS; i++)
		in.bar[i] = (struct vfio_bar_info){ .size = d->reg[i].size, .flags = d->reg[i].flags };
	in.rom_size = d->reg[VFIO_PCI_ROM_REGION_INDEX].size;
	snprintf(d->name, sizeof(d->name), "%s (%02x%02x:%02x%02x)", d->bdf, cfg[1], cfg[0], cfg[3], cfg[2]);
	return vfio_config_init(&d->cfgv, &d->pci, &in);
}

/* ---- The monitor's half: host resources and fds ---- */

static void dev_close_fds(struct passthrough *pt, struct vfio_dev *d)
{
	vfio_dev_close(d);
	if (d->group_fd >= 0)
		group_put(pt, d->group);
	d->group_fd = -1;
}

static int dev_open(struct passthrough *pt, struct vfio_dev *d)
{
	char err[IOMMU_ERR_LEN];
	int rc;

	if ((rc = iommu_group_of(pt->sysfs, d->bdf, &d->group, err, sizeof(err)))) {
		pr_err("%s", err);
		return rc;
	}
	d->group_fd = group_get(pt, d->group);
	if (d->group_fd < 0)
		return d->group_fd;
	return vfio_dev_open(d);
}

int passthrough_open(struct passthrough *pt, const char *bdf)
{
	struct vfio_dev *d;
	int err;

	if (pt->nr_devs == VFIO_MAX_DEVS)
		return -E2BIG;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->pt = pt;
	snprintf(d->bdf, sizeof(d->bdf), "%s", bdf);
	d->fd = d->group_fd = d->req.fd = -1;
	d->irq.index = d->intx_efd = d->intx_resample = d->intx_gsi = -1;
	err = bind_take(pt->sysfs, pt->rundir, bdf, pt->vm_name, &d->bind);
	if (err)
		goto err_free;
	err = dev_open(pt, d);
	if (err)
		goto err_restore;
	pt->devs[pt->nr_devs++] = d;
	return 0;

err_restore:
	dev_close_fds(pt, d);
	bind_restore(pt->sysfs, pt->rundir, &d->bind);
err_free:
	free(d);
	return err;
}

unsigned passthrough_fds(const struct passthrough *pt, int *fds)
{
	unsigned i, n = 0;

	if (pt->iommu.fd >= 0)
		fds[n++] = pt->iommu.fd;
	for (i = 0; i < pt->nr_groups; i++) {
		if (pt->groups[i].iommu.fd >= 0)
			fds[n++] = pt->groups[i].iommu.fd;
		fds[n++] = pt->groups[i].fd;
	}
	for (i = 0; i < pt->nr_devs; i++)
		fds[n++] = pt->devs[i]->fd;
	return n;
}

/*
 * No ioctl here: the VMM owns the container and devices now. Once its
 * copies close too (it exits, however it exits), VFIO resets each device
 * and it can be given back.
 */
void passthrough_drop_fds(struct passthrough *pt)
{
	unsigned i;

	for (i = 0; i < pt->nr_devs; i++) {
		close(pt->devs[i]->fd);
		pt->devs[i]->fd = -1;
		pt->devs[i]->group_fd = -1;
	}
	for (i = 0; i < pt->nr_groups; i++) {
		close(pt->groups[i].fd);
		if (pt->groups[i].iommu.fd >= 0)
			close(pt->groups[i].iommu.fd);
		pt->groups[i].iommu.fd = -1;
	}
	pt->nr_groups = 0;
	if (pt->iommu.fd >= 0)
		close(pt->iommu.fd);
	pt->iommu.fd = -1;
}

int passthrough_reopen(struct passthrough *pt)
{
	unsigned i;
	int err;

	for (i = 0; i < pt->nr_devs; i++) {
		if (pt->devs[i]->fd >= 0)
			continue;
		err = dev_open(pt, pt->devs[i]);
		if (err) {
			passthrough_drop_fds(pt);
			return err;
		}
	}
	return 0;
}

void passthrough_give_back(struct passthrough *pt)
{
	unsigned i;

	for (i = pt->nr_devs; i-- > 0;)
		dev_close_fds(pt, pt->devs[i]);
	for (i = pt->nr_devs; i-- > 0;) {
		bind_restore(pt->sysfs, pt->rundir, &pt->devs[i]->bind);
		free(pt->devs[i]);
	}
	pt->nr_devs = 0;
}

/* ---- The VMM's half: the devices in the VM ---- */

/* Undo what attach did, in reverse; each step checks whether it happened. */
static void dev_detach(struct passthrough *pt, struct vfio_dev *d)
{
	vfio_irq_exit(d);
	if (d->on_host)
		pci_host_remove(&pt->vm->pci, &d->pci);
	d->on_host = false;
	if (d->regions_ready)
		vfio_dev_reset(d);	/* the next user gets a clean device */
	vfio_dev_unmap(d);
}

static int dev_attach(struct passthrough *pt, struct vfio_dev *d)
{
	int rc;

	if ((rc = vfio_dev_setup(d)))
		return rc;
	vfio_dev_reset(d);
	if ((rc = read_config_view(d)) || (rc = vfio_irq_init(d)))
		return rc;
	rc = pci_host_add(&pt->vm->pci, &d->pci);
	if (rc) {
		pr_err("%s: no room on the guest's PCI bus: %s", d->bdf, strerror(-rc));
		return rc;
	}
	d->on_host = true;
	return vfio_irq_start(d);
}

/*
 * --viommu: each container's info, and RLIMIT_MEMLOCK for the worst the guest
 * may ask: type1 pins and accounts per container, so a page mapped in two
 * containers counts twice; each container may map all of RAM.
 */
static int prepare_dma(struct passthrough *pt, const struct guest_mem *m)
{
	uint64_t need = iommu_memlock_need_dma(m, pt->nr_groups);
	unsigned i;
	int err;

	for (i = 0; i < pt->nr_groups; i++)
		if ((err = iommu_prepare_dma(&pt->groups[i].iommu, need)))
			return err;
	return 0;
}

int passthrough_attach(struct passthrough *pt, struct vm *vm)
{
	int err;

	pt->vm = vm;
	if (!pt->nr_devs)
		return 0;
	err = pt->viommu ? prepare_dma(pt, &vm->mem) : iommu_map_ram(&pt->iommu, &vm->mem);
	if (err)
		return err;
	for (; pt->nr_attached < pt->nr_devs; pt->nr_attached++) {
		struct vfio_dev *d = pt->devs[pt->nr_attached];

		err = dev_attach(pt, d);
		if (err) {
			dev_detach(pt, d);
			passthrough_detach(pt);
			return err;
		}
		pr_info("%s: assigned to VM '%s' as %s", d->bdf, vm->name, d->pci.bdf);
	}
	return 0;
}

void passthrough_detach(struct passthrough *pt)
{
	while (pt->nr_attached)
		dev_detach(pt, pt->devs[--pt->nr_attached]);
	if (pt->vm)
		iommu_unmap_ram(&pt->iommu, &pt->vm->mem);
}
