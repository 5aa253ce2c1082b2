/*
 * sluice: the VFIO type1v2 IOMMU backend (a container, /dev/vfio/vfio), and
 * the backend-independent front: guest RAM mapping, IOVA range and
 * RLIMIT_MEMLOCK checks. Documentation/driver-api/vfio.rst and
 * include/uapi/linux/vfio.h are the references.
 *
 * The front is written against struct iommu_ops only; it moves to its own
 * file when a second backend (iommufd) lands.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <linux/vfio.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "iommu/group.h"
#include "iommu/iommu.h"
#include "vmm/layout.h"
#include "vmm/log.h"
#include "vmm/memory.h"

#define TYPE1		"VFIO type1 container"
#define INFO_MAX	(1u << 20)	/* a GET_INFO reply larger than this is nonsense */

__attribute__((format(printf, 3, 4)))
static void errf(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!err || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

/* ---- the front: generic over struct iommu_ops ---- */

int iommu_open(struct iommu *io, const struct iommu_ops *ops)
{
	*io = (struct iommu){ .ops = ops, .fd = -1 };
	return ops->open(io);
}

void iommu_close(struct iommu *io)
{
	if (io->ops && io->fd >= 0)
		io->ops->close(io);
	io->fd = -1;
}

int iommu_attach_group(struct iommu *io, int group, int group_fd)
{
	return io->ops->attach_group(io, group, group_fd);
}

void iommu_detach_group(struct iommu *io, int group, int group_fd)
{
	io->ops->detach_group(io, group, group_fd);
}

static const char *map_hint(int err)
{
	switch (err) {
	case -ENOMEM:	return ": over the locked-memory limit (ulimit -l)";
	case -ENOSPC:	return ": too many DMA mappings (vfio_iommu_type1 dma_entry_limit)";
	case -EEXIST:	return ": already mapped";
	default:	return "";
	}
}

/* The backend's info, once every group is attached (each may shrink the IOVA ranges). */
static int read_info(struct iommu *io)
{
	if (!io->nr_groups) {
		pr_err("%s: no group attached: attach the device's IOMMU group before mapping guest RAM",
		       io->ops->name);
		return -EINVAL;
	}
	return io->ops->get_info(io, &io->info);
}

int iommu_map_ram(struct iommu *io, const struct guest_mem *m)
{
	char err[IOMMU_ERR_LEN];
	unsigned i;
	int ret;

	ret = read_info(io);
	if (ret)
		return ret;
	ret = iommu_check_ram_ranges(m, &io->info, err, sizeof(err));
	if (ret) {
		pr_err("%s", err);
		return ret;
	}
	if (io->info.have_dma_avail && io->info.dma_avail < m->nr_regions) {
		pr_err("%s: room for %u more DMA mappings, guest RAM needs %u: raise vfio_iommu_type1's "
		       "dma_entry_limit module parameter", io->ops->name, io->info.dma_avail, m->nr_regions);
		return -ENOSPC;
	}
	/* Last of the checks: raise RLIMIT_MEMLOCK only for a mapping that will be tried. */
	ret = iommu_memlock_check(iommu_memlock_need(m), true);
	if (ret)
		return ret;
	for (i = 0; i < m->nr_regions; i++) {
		const struct mem_region *r = &m->region[i];

		ret = io->ops->map(io, r->gpa, r->size, r->hva, IOMMU_PROT_READ | IOMMU_PROT_WRITE);
		if (ret) {
			pr_err("%s: cannot map IOVA 0x%" PRIx64 "-0x%" PRIx64 " (%" PRIu64 " MiB): %s%s",
			       io->ops->name, r->gpa, r->gpa + r->size - 1, (uint64_t)(r->size / MiB),
			       strerror(-ret), map_hint(ret));
			iommu_unmap_ram(io, m);
			return ret;
		}
		io->nr_mapped = i + 1;
	}
	return 0;
}

int iommu_prepare_dma(struct iommu *io, uint64_t memlock_need)
{
	int ret = read_info(io);

	return ret ? ret : iommu_memlock_reserve(memlock_need);
}

int iommu_map_dma(struct iommu *io, uint64_t iova, uint64_t size, void *hva, unsigned prot)
{
	int ret = io->ops->map(io, iova, size, hva, prot);

	/* Out of locked memory or mappings: the caller (the guest's request) says it once. */
	if (ret && ret != -ENOMEM && ret != -ENOSPC)
		pr_err_rl("%s: cannot map IOVA 0x%" PRIx64 "-0x%" PRIx64 ": %s%s", io->ops->name, iova,
			  iova + size - 1, strerror(-ret), map_hint(ret));
	return ret == -ENOSPC ? -ENOMEM : ret;
}

int iommu_unmap_dma(struct iommu *io, uint64_t iova, uint64_t size)
{
	return io->ops->unmap(io, iova, size);
}

void iommu_unmap_ram(struct iommu *io, const struct guest_mem *m)
{
	while (io->nr_mapped) {
		const struct mem_region *r = &m->region[io->nr_mapped - 1];

		io->ops->unmap(io, r->gpa, r->size);
		io->nr_mapped--;
	}
}

/* The usable range holding @iova, or NULL. */
static const struct iommu_iova_range *range_at(const struct iommu_info *info, uint64_t iova)
{
	unsigned i;

	for (i = 0; i < info->nr_ranges; i++)
		if (info->range[i].start <= iova && iova <= info->range[i].end)
			return &info->range[i];
	return NULL;
}

/*
 * First IOVA in [lo, hi] outside every usable range, into *@gap; false when
 * the ranges cover it all. Ranges may be unsorted or adjacent; each step
 * moves strictly past a range, so this ends after at most nr_ranges steps.
 */
static bool first_gap(const struct iommu_info *info, uint64_t lo, uint64_t hi, uint64_t *gap)
{
	const struct iommu_iova_range *r;

	for (;;) {
		r = range_at(info, lo);
		if (!r) {
			*gap = lo;
			return true;
		}
		if (r->end >= hi)
			return false;
		lo = r->end + 1;
	}
}

/* The last IOVA of the reserved hole starting at @gap: just below the next usable range. */
static uint64_t gap_end(const struct iommu_info *info, uint64_t gap)
{
	uint64_t end = UINT64_MAX;
	unsigned i;

	for (i = 0; i < info->nr_ranges; i++)
		if (info->range[i].start > gap && info->range[i].start - 1 < end)
			end = info->range[i].start - 1;
	return end;
}

/* Explain why RAM region @r cannot be mapped at IOVA @gap; @below is how much RAM fits before it. */
static void range_err(const struct mem_region *r, const struct iommu_info *info, uint64_t gap, uint64_t below,
		      char *err, size_t errlen)
{
	uint64_t end = gap_end(info, gap);
	char what[160];

	if (end == UINT64_MAX && gap)
		snprintf(what, sizeof(what), "ends beyond the host IOMMU's reach (usable IOVA stops at 0x%"
			 PRIx64 ")", gap - 1);
	else
		snprintf(what, sizeof(what), "overlaps IOVA 0x%" PRIx64 "-0x%" PRIx64 ", which the host IOMMU "
			 "reserves (see /sys/kernel/iommu_groups/*/reserved_regions)", gap, end);
	if (below >= MiB)
		errf(err, errlen, "guest RAM 0x%" PRIx64 "-0x%" PRIx64 " %s: use --memory of at most %"
		     PRIu64 " MiB", r->gpa, r->gpa + r->size - 1, what, (uint64_t)(below / MiB));
	else
		errf(err, errlen, "guest RAM 0x%" PRIx64 "-0x%" PRIx64 " %s: no guest RAM size avoids it, "
		     "so devices cannot be assigned on this host", r->gpa, r->gpa + r->size - 1, what);
}

int iommu_check_ram_ranges(const struct guest_mem *m, const struct iommu_info *info, char *err, size_t errlen)
{
	uint64_t below = 0, gap;	/* RAM bytes that fit before the gap */
	unsigned i;

	if (!info->have_ranges)	/* the kernel predates the capability: it will refuse at map time */
		return 0;
	for (i = 0; i < m->nr_regions; i++) {
		const struct mem_region *r = &m->region[i];

		if (r->size && first_gap(info, r->gpa, r->gpa + r->size - 1, &gap)) {
			range_err(r, info, gap, below + (gap - r->gpa), err, errlen);
			return -ERANGE;
		}
		below += r->size;
	}
	return 0;
}

/* ---- RLIMIT_MEMLOCK: type1 pins every mapped page (vfio_iommu_type1.c, vfio_lock_acct) ---- */

uint64_t iommu_memlock_need(const struct guest_mem *m)
{
	uint64_t need = 0;
	unsigned i;

	/* Hugetlbfs pages are pinned and counted too. */
	for (i = 0; i < m->nr_regions; i++)
		need += m->region[i].size;
	return need;
}

uint64_t iommu_memlock_need_dma(const struct guest_mem *m, unsigned nr_spaces)
{
	uint64_t one = iommu_memlock_need(m);

	if (nr_spaces && one > UINT64_MAX / nr_spaces)
		return UINT64_MAX;
	return one * nr_spaces;
}

/* "512 MiB", or "64 KiB" when not a whole number of MiB. */
static const char *size_str(uint64_t v, char buf[32])
{
	if (v % MiB == 0)
		snprintf(buf, 32, "%" PRIu64 " MiB", (uint64_t)(v / MiB));
	else
		snprintf(buf, 32, "%" PRIu64 " KiB", (uint64_t)((v + KiB - 1) / KiB));
	return buf;
}

int iommu_memlock_plan(uint64_t need, const struct rlimit *lim, bool cap_ipc_lock,
		       enum iommu_memlock_verdict *verdict, char *err, size_t errlen)
{
	char a[32], b[32];

	/*
	 * The kernel skips the limit for a task with CAP_IPC_LOCK (root, unless
	 * the sandbox dropped it): nothing to check then.
	 */
	if (cap_ipc_lock) {
		*verdict = IOMMU_MEMLOCK_EXEMPT;
		return 0;
	}
	if (lim->rlim_cur == RLIM_INFINITY || need <= lim->rlim_cur) {
		*verdict = IOMMU_MEMLOCK_OK;
		return 0;
	}
	if (lim->rlim_max == RLIM_INFINITY || need <= lim->rlim_max) {
		*verdict = IOMMU_MEMLOCK_RAISE;
		return 0;
	}
	errf(err, errlen, "guest RAM pinned for device DMA needs %s of locked memory, limit is %s: "
	     "run `ulimit -l %" PRIu64 "` or raise memlock in /etc/security/limits.conf",
	     size_str(need, a), size_str(lim->rlim_max, b), (uint64_t)((need + KiB - 1) / KiB));
	return -ENOMEM;
}

/* Is CAP_IPC_LOCK in our effective set? (capget(2), without libcap) */
static bool have_cap_ipc_lock(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = { { 0 } };

	if (syscall(SYS_capget, &hdr, data) < 0)
		return false;
	return data[CAP_IPC_LOCK / 32].effective & (1u << (CAP_IPC_LOCK % 32));
}

int iommu_memlock_check(uint64_t need, bool raise)
{
	enum iommu_memlock_verdict verdict;
	char err[IOMMU_ERR_LEN];
	struct rlimit lim;
	int ret;

	if (getrlimit(RLIMIT_MEMLOCK, &lim) < 0) {
		ret = -errno;
		pr_err("RLIMIT_MEMLOCK: getrlimit: %s", strerror(-ret));
		return ret;
	}
	ret = iommu_memlock_plan(need, &lim, have_cap_ipc_lock(), &verdict, err, sizeof(err));
	if (ret) {
		pr_err("%s", err);
		return ret;
	}
	if (verdict != IOMMU_MEMLOCK_RAISE || !raise)
		return 0;
	lim.rlim_cur = lim.rlim_max;
	if (setrlimit(RLIMIT_MEMLOCK, &lim) < 0) {
		ret = -errno;
		pr_err("RLIMIT_MEMLOCK: cannot raise the soft limit to the hard one: %s", strerror(-ret));
		return ret;
	}
	return 0;
}

int iommu_memlock_plan_dropped(uint64_t need, const struct rlimit *lim, struct rlimit *want)
{
	*want = *lim;
	if (lim->rlim_cur == RLIM_INFINITY || need <= lim->rlim_cur)
		return 0;
	if (lim->rlim_max != RLIM_INFINITY && lim->rlim_max < need)
		want->rlim_max = need;	/* needs CAP_SYS_RESOURCE */
	want->rlim_cur = want->rlim_max;
	return 1;
}

int iommu_memlock_reserve(uint64_t need)
{
	struct rlimit lim, want;
	char a[32], b[32];
	int ret;

	if (getrlimit(RLIMIT_MEMLOCK, &lim) < 0) {
		ret = -errno;
		pr_err("RLIMIT_MEMLOCK: getrlimit: %s", strerror(-ret));
		return ret;
	}
	if (!iommu_memlock_plan_dropped(need, &lim, &want))
		return 0;
	if (setrlimit(RLIMIT_MEMLOCK, &want) < 0) {
		ret = -errno;
		pr_err("RLIMIT_MEMLOCK: guest RAM the guest may map for device DMA needs %s of locked "
		       "memory, limit is %s, and raising it failed (%s): run `ulimit -l %" PRIu64 "`",
		       size_str(need, a), size_str(lim.rlim_max, b), strerror(-ret),
		       (uint64_t)((need + KiB - 1) / KiB));
		return ret;
	}
	return 0;
}

/* ---- VFIO_IOMMU_GET_INFO capability chain (uapi vfio.h, struct vfio_info_cap_header) ---- */

static int parse_iova_ranges(const uint8_t *cap, size_t avail, uint32_t off, struct iommu_info *info,
			     char *err, size_t errlen)
{
	struct vfio_iommu_type1_info_cap_iova_range hdr;
	struct vfio_iova_range r;
	uint32_t i;

	if (avail < sizeof(hdr)) {
		errf(err, errlen, "VFIO_IOMMU_GET_INFO: IOVA range capability at %u is cut off at the "
		     "buffer's end", off);
		return -EINVAL;
	}
	memcpy(&hdr, cap, sizeof(hdr));
	if (hdr.nr_iovas > (avail - sizeof(hdr)) / sizeof(r)) {
		errf(err, errlen, "VFIO_IOMMU_GET_INFO: IOVA range capability at %u claims %u ranges, "
		     "the buffer holds %zu", off, hdr.nr_iovas, (avail - sizeof(hdr)) / sizeof(r));
		return -EINVAL;
	}
	if (hdr.nr_iovas > IOMMU_IOVA_RANGES_MAX) {
		errf(err, errlen, "VFIO_IOMMU_GET_INFO: %u IOVA ranges, sluice handles %u",
		     hdr.nr_iovas, IOMMU_IOVA_RANGES_MAX);
		return -E2BIG;
	}
	for (i = 0; i < hdr.nr_iovas; i++) {
		memcpy(&r, cap + sizeof(hdr) + i * sizeof(r), sizeof(r));
		if (r.start > r.end) {
			errf(err, errlen, "VFIO_IOMMU_GET_INFO: IOVA range %u ends (0x%" PRIx64 ") before "
			     "it starts (0x%" PRIx64 ")", i, (uint64_t)r.end, (uint64_t)r.start);
			return -EINVAL;
		}
		info->range[i] = (struct iommu_iova_range){ .start = r.start, .end = r.end };
	}
	info->nr_ranges = hdr.nr_iovas;
	info->have_ranges = true;
	return 0;
}

static int parse_cap(const uint8_t *cap, size_t avail, uint32_t off, uint16_t id, struct iommu_info *info,
		     char *err, size_t errlen)
{
	struct vfio_iommu_type1_info_dma_avail da;

	switch (id) {
	case VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE:
		return parse_iova_ranges(cap, avail, off, info, err, errlen);
	case VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL:
		if (avail < sizeof(da)) {
			errf(err, errlen, "VFIO_IOMMU_GET_INFO: DMA_AVAIL capability at %u is cut off at "
			     "the buffer's end", off);
			return -EINVAL;
		}
		memcpy(&da, cap, sizeof(da));
		info->dma_avail = da.avail;
		info->have_dma_avail = true;
		return 0;
	default:		/* e.g. CAP_MIGRATION: not ours */
		return 0;
	}
}

/*
 * Each capability must start after the fixed struct and after the previous
 * header (so the walk only moves forward and ends), and its header must fit.
 */
static int walk_caps(const uint8_t *buf, size_t len, uint32_t off, struct iommu_info *info,
		     char *err, size_t errlen)
{
	size_t min = sizeof(struct vfio_iommu_type1_info);
	struct vfio_info_cap_header h;
	int ret;

	while (off) {
		if (off < min || off > len || len - off < sizeof(h)) {
			errf(err, errlen, "VFIO_IOMMU_GET_INFO: capability offset %u %s (buffer %zu bytes, "
			     "next may start at %zu)", off, off < min ? "points backwards" : "is past the end",
			     len, min);
			return -EINVAL;
		}
		memcpy(&h, buf + off, sizeof(h));
		ret = parse_cap(buf + off, len - off, off, h.id, info, err, errlen);
		if (ret)
			return ret;
		min = (size_t)off + sizeof(h);
		off = h.next;
	}
	return 0;
}

int iommu_type1_parse_info(const void *buf, size_t len, struct iommu_info *info, char *err, size_t errlen)
{
	struct vfio_iommu_type1_info hdr;

	memset(info, 0, sizeof(*info));
	if (len < sizeof(hdr)) {
		errf(err, errlen, "VFIO_IOMMU_GET_INFO: %zu bytes, shorter than struct "
		     "vfio_iommu_type1_info (%zu)", len, sizeof(hdr));
		return -EINVAL;
	}
	memcpy(&hdr, buf, sizeof(hdr));
	if (hdr.flags & VFIO_IOMMU_INFO_PGSIZES)
		info->pgsizes = hdr.iova_pgsizes;
	/* A buffer too small for the chain comes back with cap_offset 0 (uapi vfio.h). */
	if (!(hdr.flags & VFIO_IOMMU_INFO_CAPS) || !hdr.cap_offset)
		return 0;
	return walk_caps(buf, len, hdr.cap_offset, info, err, errlen);
}

/* ---- the type1 backend: kernel-facing ---- */

static int type1_open(struct iommu *io)
{
	int fd, ret;

	fd = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		if (ret == -ENOENT)
			pr_err("/dev/vfio/vfio does not exist: load VFIO (modprobe vfio-pci)");
		else if (ret == -EACCES || ret == -EPERM)
			pr_err("/dev/vfio/vfio: permission denied: run sluice as root");
		else
			pr_err("/dev/vfio/vfio: %s", strerror(-ret));
		return ret;
	}
	ret = ioctl(fd, VFIO_GET_API_VERSION);
	if (ret != VFIO_API_VERSION) {
		pr_err("/dev/vfio/vfio: VFIO API version %d, sluice needs %d: use a Linux with VFIO", ret,
		       VFIO_API_VERSION);
		ret = -EINVAL;
		goto err_close;
	}
	if (ioctl(fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) <= 0) {
		pr_err("/dev/vfio/vfio: no type1v2 IOMMU: load it (modprobe vfio_iommu_type1) and check "
		       "that the IOMMU is on");
		ret = -ENODEV;
		goto err_close;
	}
	io->fd = fd;
	return 0;

err_close:
	close(fd);
	return ret;
}

static void type1_close(struct iommu *io)
{
	close(io->fd);
	io->fd = -1;
}

static int type1_attach_group(struct iommu *io, int group, int group_fd)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };
	int ret;

	if (ioctl(group_fd, VFIO_GROUP_GET_STATUS, &st) < 0) {
		ret = -errno;
		pr_err("group %d: VFIO_GROUP_GET_STATUS: %s", group, strerror(-ret));
		return ret;
	}
	if (!(st.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		pr_err("group %d is not viable: bind every device in /sys/kernel/iommu_groups/%d/devices "
		       "to vfio-pci or unbind it (see `sluice devices`)", group, group);
		return -EBUSY;
	}
	if (ioctl(group_fd, VFIO_GROUP_SET_CONTAINER, &io->fd) < 0) {
		ret = -errno;
		pr_err("group %d: VFIO_GROUP_SET_CONTAINER: %s", group, strerror(-ret));
		return ret;
	}
	/* The IOMMU model is set once, after the first group joins (vfio.rst, "VFIO Usage Example"). */
	if (!io->nr_groups && ioctl(io->fd, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) < 0) {
		ret = -errno;
		pr_err("group %d: VFIO_SET_IOMMU(type1v2): %s", group, strerror(-ret));
		goto err_unset_container;
	}
	io->nr_groups++;
	return 0;

err_unset_container:
	ioctl(group_fd, VFIO_GROUP_UNSET_CONTAINER);
	return ret;
}

static void type1_detach_group(struct iommu *io, int group, int group_fd)
{
	if (ioctl(group_fd, VFIO_GROUP_UNSET_CONTAINER) < 0)
		pr_warn("group %d: VFIO_GROUP_UNSET_CONTAINER: %s", group, strerror(errno));
	/* The last group out releases the IOMMU model and every mapping with it. */
	if (io->nr_groups && --io->nr_groups == 0)
		io->nr_mapped = 0;
}

static int type1_get_info(struct iommu *io, struct iommu_info *info)
{
	struct vfio_iommu_type1_info probe = { .argsz = sizeof(probe) }, *full;
	char err[IOMMU_ERR_LEN];
	size_t len;
	int ret;

	/* First call learns the size of the capability chain, the second reads it. */
	if (ioctl(io->fd, VFIO_IOMMU_GET_INFO, &probe) < 0) {
		ret = -errno;
		pr_err(TYPE1 ": VFIO_IOMMU_GET_INFO: %s", strerror(-ret));
		return ret;
	}
	if (probe.argsz > INFO_MAX)
		pr_warn(TYPE1 ": VFIO_IOMMU_GET_INFO wants %u bytes, more than sense allows: "
			"reading only the fixed part, so IOVA ranges go unchecked", probe.argsz);
	len = probe.argsz > sizeof(probe) && probe.argsz <= INFO_MAX ? probe.argsz : sizeof(probe);
	full = calloc(1, len);
	if (!full)
		return -ENOMEM;
	full->argsz = (uint32_t)len;
	ret = ioctl(io->fd, VFIO_IOMMU_GET_INFO, full) < 0 ? -errno : 0;
	if (ret)
		pr_err(TYPE1 ": VFIO_IOMMU_GET_INFO (%zu bytes): %s", len, strerror(-ret));
	else if ((ret = iommu_type1_parse_info(full, len, info, err, sizeof(err))))
		pr_err(TYPE1 ": %s", err);
	free(full);
	return ret;
}

/* No message here: iommu_map_ram (setup) and iommu_map_dma (guest-driven) say it their way. */
static int type1_map(struct iommu *io, uint64_t iova, uint64_t size, void *hva, unsigned prot)
{
	struct vfio_iommu_type1_dma_map dm = {
		.argsz = sizeof(dm),
		.flags = (prot & IOMMU_PROT_READ ? VFIO_DMA_MAP_FLAG_READ : 0) |
			 (prot & IOMMU_PROT_WRITE ? VFIO_DMA_MAP_FLAG_WRITE : 0),
		.vaddr = (uintptr_t)hva,
		.iova = iova,
		.size = size,
	};

	return ioctl(io->fd, VFIO_IOMMU_MAP_DMA, &dm) < 0 ? -errno : 0;
}

static int type1_unmap(struct iommu *io, uint64_t iova, uint64_t size)
{
	struct vfio_iommu_type1_dma_unmap du = { .argsz = sizeof(du), .iova = iova, .size = size };
	int ret;

	if (ioctl(io->fd, VFIO_IOMMU_UNMAP_DMA, &du) < 0) {
		ret = -errno;
		pr_err_rl(TYPE1 ": cannot unmap IOVA 0x%" PRIx64 "-0x%" PRIx64 ": %s", iova, iova + size - 1,
			  strerror(-ret));
		return ret;
	}
	/* The kernel writes back how much it unmapped. */
	if (du.size != size) {
		pr_warn_rl(TYPE1 ": unmapped 0x%llx of 0x%" PRIx64 " bytes at IOVA 0x%" PRIx64,
			(unsigned long long)du.size, size, iova);
		return -EIO;
	}
	return 0;
}

const struct iommu_ops iommu_type1_ops = {
	.name = TYPE1,
	.open = type1_open,
	.close = type1_close,
	.attach_group = type1_attach_group,
	.detach_group = type1_detach_group,
	.get_info = type1_get_info,
	.map = type1_map,
	.unmap = type1_unmap,
};
