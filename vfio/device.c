/* sluice: a VFIO device: its fd, regions, and reset. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vfio/vfio.h"
#include "vmm/log.h"

/*
 * Find capability @id in a region info's chain (uapi vfio.h, struct
 * vfio_info_cap_header): its offset, or 0. The chain comes from the kernel,
 * but nothing here trusts it: headers are copied out (no alignment assumed),
 * each must lie wholly in the @len bytes, and offsets only go forward.
 */
static uint32_t region_cap(const uint8_t *buf, size_t len, uint32_t off, uint16_t id)
{
	struct vfio_info_cap_header h;

	while (off >= sizeof(struct vfio_region_info) && off <= len && len - off >= sizeof(h)) {
		memcpy(&h, buf + off, sizeof(h));
		if (h.id == id)
			return off;
		if (h.next <= off)	/* chains only go forward: no loops */
			break;
		off = h.next;
	}
	return 0;
}

/* The sparse-mmap areas at @off: those wholly inside the region, at most VFIO_MAX_AREAS. */
static void sparse_areas(struct vfio_region *r, const uint8_t *buf, size_t len, uint32_t off)
{
	struct vfio_region_info_cap_sparse_mmap sp;
	struct vfio_region_sparse_mmap_area a;
	size_t at = (size_t)off + sizeof(sp);
	uint32_t i;

	if (len - off < sizeof(sp))
		return;		/* the header fits, its area count does not: no areas */
	memcpy(&sp, buf + off, sizeof(sp));
	for (i = 0; i < sp.nr_areas && r->nr_areas < VFIO_MAX_AREAS && len - at >= sizeof(a);
	     i++, at += sizeof(a)) {
		memcpy(&a, buf + at, sizeof(a));
		/* region_mmap maps each at map + offset with MAP_FIXED: no wrap-around. */
		if (!a.size || a.offset > r->size || a.size > r->size - a.offset)
			continue;
		r->area[r->nr_areas].off = a.offset;
		r->area[r->nr_areas].size = a.size;
		r->nr_areas++;
	}
}

int vfio_region_parse_info(struct vfio_region *r, const void *info, size_t len)
{
	const uint8_t *buf = info;
	struct vfio_region_info ri;
	uint32_t cap;

	if (len < sizeof(ri))
		return -EINVAL;
	memcpy(&ri, buf, sizeof(ri));
	if (ri.argsz < len)
		len = ri.argsz;		/* what the kernel filled */
	r->index = ri.index;
	r->flags = ri.flags;
	r->size = ri.size;
	r->offset = ri.offset;
	r->nr_areas = 0;
	if (!(r->flags & VFIO_REGION_INFO_FLAG_MMAP))
		return 0;
	cap = ri.flags & VFIO_REGION_INFO_FLAG_CAPS ?
	      region_cap(buf, len, ri.cap_offset, VFIO_REGION_INFO_CAP_SPARSE_MMAP) : 0;
	if (cap) {
		sparse_areas(r, buf, len, cap);
	} else {
		r->area[0].off = 0;
		r->area[0].size = r->size;
		r->nr_areas = 1;
	}
	return 0;
}

static int region_info(struct vfio_dev *d, unsigned index)
{
	struct vfio_region *r = &d->reg[index];
	struct vfio_region_info *ri;
	uint32_t argsz = sizeof(*ri);
	int err = 0;

	for (;;) {
		ri = calloc(1, argsz);
		if (!ri)
			return -ENOMEM;
		ri->argsz = argsz;
		ri->index = index;
		if (ioctl(d->fd, VFIO_DEVICE_GET_REGION_INFO, ri) < 0) {
			err = -errno;
			break;
		}
		if (ri->argsz <= argsz)
			break;
		argsz = ri->argsz;	/* capabilities did not fit: ask again */
		free(ri);
	}
	if (!err)
		err = vfio_region_parse_info(r, ri, argsz);
	if (!err)
		r->index = index;
	free(ri);
	return err;
}

/* Reserve the region's size, then map each mmappable area at its offset. */
static int region_mmap(struct vfio_dev *d, struct vfio_region *r)
{
	unsigned i;
	void *p;

	if (!r->nr_areas || !r->size)
		return 0;
	r->map = mmap(NULL, r->size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (r->map == MAP_FAILED) {
		r->map = NULL;
		return -errno;
	}
	for (i = 0; i < r->nr_areas; i++) {
		p = mmap(r->map + r->area[i].off, r->area[i].size, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_FIXED, d->fd, (off_t)(r->offset + r->area[i].off));
		if (p == MAP_FAILED) {
			pr_warn("%s: region %u: mmap of [%#llx, +%#llx) failed (%s): that part traps",
				d->bdf, r->index, (unsigned long long)r->area[i].off,
				(unsigned long long)r->area[i].size, strerror(errno));
			r->area[i].size = 0;
		}
	}
	return 0;
}

static int read_regions(struct vfio_dev *d)
{
	unsigned i;
	int err;

	for (i = 0; i < VFIO_PCI_NUM_REGIONS && i < d->info.num_regions; i++) {
		err = region_info(d, i);
		if (err == -EINVAL)	/* e.g. VGA region on a non-VGA device */
			continue;
		if (err) {
			pr_err("%s: VFIO_DEVICE_GET_REGION_INFO %u: %s", d->bdf, i, strerror(-err));
			return err;
		}
		if (i <= VFIO_PCI_BAR5_REGION_INDEX && (err = region_mmap(d, &d->reg[i]))) {
			pr_err("%s: BAR%u: mmap: %s", d->bdf, i, strerror(-err));
			return err;
		}
	}
	return 0;
}

ssize_t vfio_region_rw(struct vfio_dev *d, unsigned index, uint64_t off, void *buf, size_t len,
		       bool is_write)
{
	const struct vfio_region *r = &d->reg[index];
	ssize_t n;

	if (off > r->size || len > r->size - off)
		return -EINVAL;
	n = is_write ? pwrite(d->fd, buf, len, (off_t)(r->offset + off))
		     : pread(d->fd, buf, len, (off_t)(r->offset + off));
	return n < 0 ? -errno : n;
}

/*
 * Bus-level reset when the function has none of its own (FLR, PM reset):
 * every group the reset touches must be ours; VFIO checks it (uapi
 * VFIO_DEVICE_PCI_HOT_RESET).
 */
static int hot_reset(struct vfio_dev *d)
{
	struct vfio_pci_hot_reset_info *hi;
	struct vfio_pci_hot_reset *hr;
	size_t sz = sizeof(*hi) + 16 * sizeof(hi->devices[0]);
	int err = 0, fd = d->group_fd;

	hi = calloc(1, sz);
	if (!hi)
		return -ENOMEM;
	hi->argsz = (uint32_t)sz;
	if (ioctl(d->fd, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, hi) < 0) {
		err = -errno;
		goto out_free;
	}
	hr = calloc(1, sizeof(*hr) + sizeof(int));
	if (!hr) {
		err = -ENOMEM;
		goto out_free;
	}
	hr->argsz = sizeof(*hr) + sizeof(int);
	hr->count = 1;
	memcpy(hr->group_fds, &fd, sizeof(fd));
	if (ioctl(d->fd, VFIO_DEVICE_PCI_HOT_RESET, hr) < 0)
		err = -errno;
	free(hr);
out_free:
	free(hi);
	return err;
}

int vfio_dev_reset(struct vfio_dev *d)
{
	int err;

	if (d->info.flags & VFIO_DEVICE_FLAGS_RESET) {
		if (ioctl(d->fd, VFIO_DEVICE_RESET) == 0)
			return 0;
		pr_warn("%s: VFIO_DEVICE_RESET: %s; trying a hot reset", d->bdf, strerror(errno));
	}
	err = hot_reset(d);
	if (err)
		pr_warn("%s: no reset worked (%s): the device keeps its state", d->bdf, strerror(-err));
	return err;
}

int vfio_dev_open(struct vfio_dev *d)
{
	int err;

	d->fd = ioctl(d->group_fd, VFIO_GROUP_GET_DEVICE_FD, d->bdf);
	if (d->fd < 0) {
		err = -errno;
		pr_err("%s: VFIO_GROUP_GET_DEVICE_FD: %s", d->bdf, strerror(errno));
		return err;
	}
	d->info.argsz = sizeof(d->info);
	if (ioctl(d->fd, VFIO_DEVICE_GET_INFO, &d->info) < 0) {
		err = -errno;
		pr_err("%s: VFIO_DEVICE_GET_INFO: %s", d->bdf, strerror(errno));
		goto err_close;
	}
	if (!(d->info.flags & VFIO_DEVICE_FLAGS_PCI) ||
	    d->info.num_regions <= VFIO_PCI_CONFIG_REGION_INDEX) {
		pr_err("%s: VFIO does not present it as a PCI device", d->bdf);
		err = -ENODEV;
		goto err_close;
	}
	return 0;

err_close:
	vfio_dev_close(d);
	return err;
}

int vfio_dev_setup(struct vfio_dev *d)
{
	int err = read_regions(d);

	if (err) {
		vfio_dev_unmap(d);
		return err;
	}
	d->regions_ready = true;
	return 0;
}

void vfio_dev_unmap(struct vfio_dev *d)
{
	unsigned i;

	for (i = 0; i < VFIO_PCI_NUM_REGIONS; i++) {
		if (d->reg[i].map)
			munmap(d->reg[i].map, d->reg[i].size);
		d->reg[i].map = NULL;
	}
	d->regions_ready = false;
}

void vfio_dev_close(struct vfio_dev *d)
{
	vfio_dev_unmap(d);
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
}
