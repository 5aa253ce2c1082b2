/* sluice: VFIO type1 behind the guest's virtio-iommu (vfio/viommu_backend.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vfio/vfio.h"
#include "vfio/viommu_backend.h"

#define PAGE_4K		0x1000ull
#define DEFAULT_END	((1ull << 48) - 1)	/* no ranges reported (Linux < 5.4): 4-level paging */

static int vfio_map(void *opaque, unsigned ep, uint64_t iova, uint64_t size, void *hva, uint32_t flags)
{
	struct passthrough *pt = opaque;
	unsigned prot = (flags & VIRTIO_IOMMU_MAP_F_READ ? IOMMU_PROT_READ : 0) |
			(flags & VIRTIO_IOMMU_MAP_F_WRITE ? IOMMU_PROT_WRITE : 0);

	(void)ep;
	return iommu_map_dma(&pt->iommu, iova, size, hva, prot);
}

static int vfio_unmap(void *opaque, unsigned ep, uint64_t iova, uint64_t size)
{
	struct passthrough *pt = opaque;

	(void)ep;
	return iommu_unmap_dma(&pt->iommu, iova, size);
}

const struct viommu_backend_ops viommu_vfio_ops = { .map = vfio_map, .unmap = vfio_unmap };

static int add_resv(struct viommu_params *p, uint64_t start, uint64_t end, uint8_t subtype,
		    char *err, size_t errlen)
{
	if (p->nr_resv == VIOMMU_MAX_RESV) {
		snprintf(err, errlen, "virtio-iommu: the host IOMMU reports more than %d reserved IOVA "
			 "ranges; sluice can pass on %d", VIOMMU_MAX_RESV - 1, VIOMMU_MAX_RESV - 1);
		return -E2BIG;
	}
	p->resv[p->nr_resv++] = (struct viommu_resv){ start, end, subtype };
	return 0;
}

int viommu_vfio_params(const struct iommu_info *info, const uint16_t *bdf, unsigned n,
		       struct viommu_params *p, char *err, size_t errlen)
{
	uint64_t granule = info->pgsizes ? info->pgsizes & -info->pgsizes : PAGE_4K;
	unsigned i;
	int rc;

	memset(p, 0, sizeof(*p));
	if (n == 0 || n > VIOMMU_BACKEND_MAX_DEVS) {
		snprintf(err, errlen, "virtio-iommu: %u devices behind it: sluice puts exactly %d there "
			 "(one VFIO container, one IOVA space)", n, VIOMMU_BACKEND_MAX_DEVS);
		return n ? -E2BIG : -EINVAL;
	}
	for (i = 0; i < n; i++)
		p->endpoint[i] = bdf[i];
	p->nr_endpoints = n;
	/* VFIO type1 maps any multiple of its smallest page: every larger size is fine too. */
	p->page_size_mask = ~(granule - 1);
	/* A 16-bit ID space: more than the endpoints can ever use (a domain needs one). */
	p->domain_start = 1;
	p->domain_end = 0xffff;
	p->input_start = 0;
	p->input_end = DEFAULT_END;
	rc = add_resv(p, VIOMMU_MSI_START, VIOMMU_MSI_END, VIRTIO_IOMMU_RESV_MEM_T_MSI, err, errlen);
	if (rc || !info->have_ranges || !info->nr_ranges)
		return rc;
	/* The kernel reports the ranges sorted and disjoint (vfio_iommu_iova_build_caps). */
	p->input_start = info->range[0].start;
	p->input_end = info->range[info->nr_ranges - 1].end;
	for (i = 1; i < info->nr_ranges; i++) {
		uint64_t start = info->range[i - 1].end + 1, end = info->range[i].start - 1;

		if (start >= VIOMMU_MSI_START && end <= VIOMMU_MSI_END)
			continue;	/* the MSI window, reported as such */
		if ((rc = add_resv(p, start, end, VIRTIO_IOMMU_RESV_MEM_T_RESERVED, err, errlen)))
			return rc;
	}
	return 0;
}
