/*
 * sluice: the DMA-mapping backend that lets an assigned device reach guest
 * RAM. Guest RAM is mapped at IOVA = GPA, so the device's view of memory is
 * the guest's.
 *
 * Backends sit behind struct iommu_ops, chosen once at iommu_open(): the VFIO
 * type1v2 container today (iommu/type1.c, Documentation/driver-api/vfio.rst),
 * iommufd later. Order of use, and its mirror for teardown:
 *
 *   iommu_open        ... iommu_close
 *   iommu_attach_group (every group) ... iommu_detach_group
 *   iommu_map_ram     ... iommu_unmap_ram		(all RAM, IOVA = GPA)
 *   or, behind a guest IOMMU (--viommu, vmm/virtio/viommu.c):
 *   iommu_prepare_dma, then iommu_map_dma ... iommu_unmap_dma as the guest asks
 *
 * Kernel-facing calls print their own message (naming the group or IOVA
 * range and what to do) and return 0 or -errno. The pure helpers below take
 * an @err buffer instead so they can be unit-tested.
 */
#ifndef SLUICE_IOMMU_H
#define SLUICE_IOMMU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>

struct guest_mem;
struct iommu;

/* A usable IOVA range, inclusive, as in VFIO uapi struct vfio_iova_range. */
struct iommu_iova_range {
	uint64_t start, end;
};

#define IOMMU_IOVA_RANGES_MAX	32

/* What a device may do to a mapping (iommu_ops.map, iommu_map_dma). */
#define IOMMU_PROT_READ		(1u << 0)
#define IOMMU_PROT_WRITE	(1u << 1)

/* What the backend reports once a group is attached. */
struct iommu_info {
	uint64_t pgsizes;		/* supported IOMMU page sizes, bitmap; 0 if unreported */
	bool have_ranges;		/* false before Linux 5.4: nothing to check against */
	unsigned nr_ranges;
	struct iommu_iova_range range[IOMMU_IOVA_RANGES_MAX];
	bool have_dma_avail;		/* Linux 5.10+ */
	uint32_t dma_avail;		/* further DMA mappings the backend accepts */
};

struct iommu_ops {
	const char *name;
	int (*open)(struct iommu *io);
	void (*close)(struct iommu *io);
	/* @group is the IOMMU group number, for messages; @group_fd is /dev/vfio/<group>. */
	int (*attach_group)(struct iommu *io, int group, int group_fd);
	void (*detach_group)(struct iommu *io, int group, int group_fd);
	int (*get_info)(struct iommu *io, struct iommu_info *info);
	int (*map)(struct iommu *io, uint64_t iova, uint64_t size, void *hva, unsigned prot);
	int (*unmap)(struct iommu *io, uint64_t iova, uint64_t size);
};

extern const struct iommu_ops iommu_type1_ops;

struct iommu {
	const struct iommu_ops *ops;
	int fd;				/* type1: the container, /dev/vfio/vfio; -1 when closed */
	unsigned nr_groups;		/* attached groups */
	unsigned nr_mapped;		/* guest RAM regions mapped, region[0..nr_mapped) */
	struct iommu_info info;		/* as of the last iommu_map_ram() */
};

int iommu_open(struct iommu *io, const struct iommu_ops *ops);
void iommu_close(struct iommu *io);
int iommu_attach_group(struct iommu *io, int group, int group_fd);
void iommu_detach_group(struct iommu *io, int group, int group_fd);

/*
 * Map all guest RAM, IOVA = GPA, readable and writable by devices. Call after
 * every group is attached: each group may shrink the usable IOVA ranges.
 * Checks the ranges and RLIMIT_MEMLOCK first; on failure nothing stays mapped.
 */
int iommu_map_ram(struct iommu *io, const struct guest_mem *m);
/*
 * Guest-programmed DMA (--viommu): nothing mapped up front. prepare reads the
 * backend's info (IOVA ranges, page sizes) and raises RLIMIT_MEMLOCK to
 * @memlock_need (iommu_memlock_need_dma) while the caller may still do so
 * (iommu_memlock_reserve); then map/unmap one range at a time. map: 0,
 * -ENOMEM (out of locked memory or of DMA mappings; no message, the caller
 * reports it once) or -errno (rate-limited message).
 */
int iommu_prepare_dma(struct iommu *io, uint64_t memlock_need);
int iommu_map_dma(struct iommu *io, uint64_t iova, uint64_t size, void *hva, unsigned prot);
int iommu_unmap_dma(struct iommu *io, uint64_t iova, uint64_t size);

/* Undo iommu_map_ram(), in reverse order; a no-op when nothing is mapped. */
void iommu_unmap_ram(struct iommu *io, const struct guest_mem *m);

/*
 * Pure: parse a VFIO_IOMMU_GET_INFO reply (struct vfio_iommu_type1_info and
 * its capability chain) of @len bytes. Knows IOVA_RANGE and DMA_AVAIL, skips
 * others. -EINVAL for a chain that points backwards, overlaps or leaves the
 * buffer; -E2BIG for more than IOMMU_IOVA_RANGES_MAX ranges.
 */
int iommu_type1_parse_info(const void *buf, size_t len, struct iommu_info *info, char *err, size_t errlen);

/*
 * Pure: does every RAM region of @m lie inside the usable IOVA ranges? 0, or
 * -ERANGE naming the first reserved IOVA range that RAM overlaps.
 */
int iommu_check_ram_ranges(const struct guest_mem *m, const struct iommu_info *info, char *err, size_t errlen);

/* Pure: bytes of locked memory the backend pins for @m (all guest RAM). */
uint64_t iommu_memlock_need(const struct guest_mem *m);
/*
 * Pure: the most a guest can make @nr_spaces containers pin (--viommu, a
 * container per device): type1 pins and accounts each container's mappings
 * on their own (vfio_iommu_type1.c, vfio_lock_acct per vfio_dma), so a page
 * mapped in two of them counts twice, and each may map all of @m. Saturates
 * at UINT64_MAX.
 */
uint64_t iommu_memlock_need_dma(const struct guest_mem *m, unsigned nr_spaces);

enum iommu_memlock_verdict {
	IOMMU_MEMLOCK_OK,		/* the soft limit covers it */
	IOMMU_MEMLOCK_EXEMPT,		/* CAP_IPC_LOCK: the kernel does not count */
	IOMMU_MEMLOCK_RAISE,		/* raise the soft limit to the hard one */
};

/* Pure: decide from @need and RLIMIT_MEMLOCK @lim. 0, or -ENOMEM saying how much and how. */
int iommu_memlock_plan(uint64_t need, const struct rlimit *lim, bool cap_ipc_lock,
		       enum iommu_memlock_verdict *verdict, char *err, size_t errlen);

/*
 * getrlimit() + iommu_memlock_plan(). With @raise, also raise the soft limit
 * to the hard one when the plan says so (this process only; it keeps the
 * raised limit until it exits). Without, only say whether it would fit.
 */
int iommu_memlock_check(uint64_t need, bool raise);

/*
 * For mappings made after the caller has dropped its capabilities (--viommu:
 * the jailed VMM maps what the guest asks, and CAP_IPC_LOCK no longer exempts
 * it), the soft limit itself must cover @need. Pure plan: 0 when @lim does;
 * else 1 and *@want = the soft limit raised to the hard one, the hard one to
 * @need if lower (which needs CAP_SYS_RESOURCE).
 */
int iommu_memlock_plan_dropped(uint64_t need, const struct rlimit *lim, struct rlimit *want);
/* getrlimit + the plan + setrlimit, while the caller is still privileged. 0 or -errno with a message. */
int iommu_memlock_reserve(uint64_t need);

#endif
