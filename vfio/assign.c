/*
 * sluice: assigning devices to a VM and giving them back. Assignment runs
 * bind -> group + container -> guest RAM in the IOMMU -> device -> reset ->
 * config view -> MSI/MSI-X -> PCI host -> INTx/request; release runs the
 * same steps backwards, and the bindings go back last, once no VFIO fd is
 * open.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "iommu/group.h"
#include "irqremap/irqremap.h"
#include "vfio/vfio.h"
#include "vmm/log.h"
#include "vmm/vm.h"

void passthrough_init(struct passthrough *pt, struct vm *vm)
{
	memset(pt, 0, sizeof(*pt));
	pt->vm = vm;
	pt->sysfs = "/sys";
	pt->rundir = BIND_RUNDIR;
	pt->iommu.fd = -1;
}

static int resolve_ifname(const char *sysfs, const char *spec, char bdf[16])
{
	char path[PATH_MAX], link[PATH_MAX], err[IOMMU_ERR_LEN];
	const char *base;
	ssize_t n;

	if (strlen(spec) >= IFNAMSIZ || strchr(spec, '/') || !*spec) {
		pr_err("'%s' is neither a PCI address (like 0000:01:10.0) nor a network interface name", spec);
		return -EINVAL;
	}
	snprintf(path, sizeof(path), "%s/class/net/%s", sysfs, spec);
	if (access(path, F_OK) < 0) {
		pr_err("no network interface '%s' and it is not a PCI address (like 0000:01:10.0): see 'ip link' or 'sluice devices'",
		       spec);
		return -ENODEV;
	}
	snprintf(path, sizeof(path), "%s/class/net/%s/device", sysfs, spec);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0) {
		pr_err("%s is a virtual interface, not a PCI device: assign its physical port or a VF", spec);
		return -ENODEV;
	}
	link[n] = '\0';
	base = strrchr(link, '/') ? strrchr(link, '/') + 1 : link;
	if (iommu_bdf_parse(base, bdf, err, sizeof(err))) {
		pr_err("%s sits on %s, which is not a PCI device", spec, base);
		return -ENODEV;
	}
	return 0;
}

int vfio_resolve(const char *sysfs, const char *spec, char bdf[16])
{
	char err[IOMMU_ERR_LEN], path[PATH_MAX];

	if (!strchr(spec, ':'))
		return resolve_ifname(sysfs, spec, bdf);
	if (iommu_bdf_parse(spec, bdf, err, sizeof(err))) {
		pr_err("%s", err);
		return -EINVAL;
	}
	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s", sysfs, bdf);
	if (access(path, F_OK) < 0) {
		pr_err("no PCI device %s: see 'sluice devices'", bdf);
		return -ENOENT;
	}
	return 0;
}

/* Header type 0 (an endpoint) from sysfs config: bridges cannot be assigned. */
static int check_endpoint(const char *sysfs, const char *bdf)
{
	char path[PATH_MAX];
	uint8_t hdr = 0xff;
	int fd;

	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/config", sysfs, bdf);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || pread(fd, &hdr, 1, PCI_HEADER_TYPE) != 1) {
		if (fd >= 0)
			close(fd);
		pr_err("%s: cannot read its config space: %s", bdf, strerror(errno));
		return -EIO;
	}
	close(fd);
	if ((hdr & 0x7f) != PCI_HEADER_TYPE_NORMAL) {
		pr_err("%s is a bridge (header type %u): assign the devices behind it instead", bdf,
		       hdr & 0x7f);
		return -EINVAL;
	}
	return 0;
}

static int check_one(const char *sysfs, const char *rundir, char (*bdfs)[16], unsigned n,
		     unsigned i)
{
	const char *list[VFIO_MAX_DEVS];
	char err[IOMMU_ERR_LEN];
	struct bind_record r;
	unsigned j;
	int group, rc;

	for (j = 0; j < i; j++)
		if (!strcmp(bdfs[j], bdfs[i])) {
			pr_err("%s is assigned twice: give each device once", bdfs[i]);
			return -EINVAL;
		}
	if ((rc = check_endpoint(sysfs, bdfs[i])))
		return rc;
	rc = iommu_group_of(sysfs, bdfs[i], &group, err, sizeof(err));
	for (j = 0; !rc && j < n; j++)
		list[j] = bdfs[j];
	if (!rc)
		rc = iommu_group_check(sysfs, group, list, n, err, sizeof(err));
	if (rc) {
		pr_err("%s", err);
		return rc;
	}
	rc = bind_record_read(rundir, bdfs[i], &r);
	if (rc == -ENOENT)
		return 0;
	if (!rc && bind_pid_alive(r.pid)) {
		pr_err("%s: already assigned to VM '%s' (sluice pid %d): stop that VM first, or pick another device",
		       bdfs[i], r.vm, (int)r.pid);
		return -EBUSY;
	}
	if (!rc)
		pr_err("%s: a sluice that died (pid %d, VM '%s') left it bound to vfio-pci: run 'sluice release %s' first",
		       bdfs[i], (int)r.pid, r.vm, bdfs[i]);
	return rc ? rc : -ESTALE;
}

int vfio_check(const char *sysfs, const char *rundir, char (*bdfs)[16], unsigned n,
	       const struct vm *vm, bool allow_unsafe)
{
	unsigned i;
	int err;

	if (n > VFIO_MAX_DEVS) {
		pr_err("%u devices: at most %d can be assigned to one VM", n, VFIO_MAX_DEVS);
		return -E2BIG;
	}
	for (i = 0; i < n; i++)
		if ((err = check_one(sysfs, rundir, bdfs, n, i)))
			return err;
	if (n && (err = irq_host_require("/", allow_unsafe)))
		return err;
	return n ? iommu_memlock_check(&vm->mem, false) : 0;
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

static int group_get(struct passthrough *pt, int group)
{
	struct vfio_group_ref *g;
	unsigned i;
	int fd, err;

	for (i = 0; i < pt->nr_groups; i++)
		if (pt->groups[i].id == group) {
			pt->groups[i].users++;
			return pt->groups[i].fd;
		}
	if (pt->iommu.fd < 0 && (err = iommu_open(&pt->iommu, &iommu_type1_ops)))
		return err;
	fd = open_group_node(group);
	err = fd < 0 ? fd : iommu_attach_group(&pt->iommu, group, fd);
	if (err) {
		if (fd >= 0)
			close(fd);
		if (!pt->nr_groups)
			iommu_close(&pt->iommu);	/* opened for this group alone */
		return err;
	}
	g = &pt->groups[pt->nr_groups++];
	*g = (struct vfio_group_ref){ .id = group, .fd = fd, .users = 1 };
	return fd;
}

static void group_put(struct passthrough *pt, int group)
{
	unsigned i;

	for (i = 0; i < pt->nr_groups; i++)
		if (pt->groups[i].id == group && --pt->groups[i].users == 0) {
			if (pt->nr_groups == 1)
				iommu_unmap_ram(&pt->iommu, &pt->vm->mem);
			iommu_detach_group(&pt->iommu, group, pt->groups[i].fd);
			close(pt->groups[i].fd);
			pt->groups[i] = pt->groups[--pt->nr_groups];
			break;
		}
	if (!pt->nr_groups)
		iommu_close(&pt->iommu);
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

/* Undo what attach did, in reverse; each step checks whether it happened. */
static void dev_teardown(struct passthrough *pt, struct vfio_dev *d)
{
	vfio_irq_exit(d);
	if (d->on_host)
		pci_host_remove(&pt->vm->pci, &d->pci);
	d->on_host = false;
	if (d->fd >= 0)
		vfio_dev_reset(d);	/* the next user gets a clean device */
	vfio_dev_close(d);
	if (d->group_fd >= 0)
		group_put(pt, d->group);
	d->group_fd = -1;
}

static int dev_attach(struct passthrough *pt, struct vfio_dev *d)
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
	if (!pt->iommu.nr_mapped && (rc = iommu_map_ram(&pt->iommu, &pt->vm->mem)))
		return rc;
	if ((rc = vfio_dev_open(d)))
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

int passthrough_assign(struct passthrough *pt, const char *bdf)
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
	err = bind_take(pt->sysfs, pt->rundir, bdf, pt->vm->name, &d->bind);
	if (err)
		goto err_free;
	err = dev_attach(pt, d);
	if (err)
		goto err_teardown;
	pt->devs[pt->nr_devs++] = d;
	pr_info("%s: assigned to VM '%s' as %s", bdf, pt->vm->name, d->pci.bdf);
	return 0;

err_teardown:
	dev_teardown(pt, d);
	bind_restore(pt->sysfs, pt->rundir, &d->bind);
err_free:
	free(d);
	return err;
}

void passthrough_release(struct passthrough *pt)
{
	unsigned i;

	for (i = pt->nr_devs; i-- > 0;)
		dev_teardown(pt, pt->devs[i]);
	for (i = pt->nr_devs; i-- > 0;) {
		bind_restore(pt->sysfs, pt->rundir, &pt->devs[i]->bind);
		free(pt->devs[i]);
	}
	pt->nr_devs = 0;
}
