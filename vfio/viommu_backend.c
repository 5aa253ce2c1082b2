/* sluice: VFIO type1 behind the guest's virtio-iommu (vfio/viommu_backend.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vfio/viommu_backend.h"

_Static_assert(VIOMMU_BACKEND_MAX_DEVS <= VIOMMU_MAX_ENDPOINTS, "an endpoint per device");

#define PAGE_4K		0x1000ull
#define DEFAULT_END	((1ull << 48) - 1)	/* no ranges reported (Linux < 5.4): 4-level paging */

static int vfio_map(void *opaque, unsigned ep, uint64_t iova, uint64_t size, void *hva, uint32_t flags)
{
	struct iommu *io = passthrough_dev_iommu(opaque, ep);
	unsigned prot = (flags & VIRTIO_IOMMU_MAP_F_READ ? IOMMU_PROT_READ : 0) |
			(flags & VIRTIO_IOMMU_MAP_F_WRITE ? IOMMU_PROT_WRITE : 0);

	return io ? iommu_map_dma(io, iova, size, hva, prot) : -ENODEV;
}

static int vfio_unmap(void *opaque, unsigned ep, uint64_t iova, uint64_t size)
{
	struct iommu *io = passthrough_dev_iommu(opaque, ep);

	return io ? iommu_unmap_dma(io, iova, size) : -ENODEV;
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

/* @a and @b, sorted and disjoint (vfio_iommu_iova_build_caps), intersected into @out. */
static int intersect(const struct iommu_info *a, const struct iommu_info *b, struct iommu_info *out)
{
	unsigned i = 0, j = 0;

	out->nr_ranges = 0;
	while (i < a->nr_ranges && j < b->nr_ranges) {
		const struct iommu_iova_range *x = &a->range[i], *y = &b->range[j];
		uint64_t start = x->start > y->start ? x->start : y->start;
		uint64_t end = x->end < y->end ? x->end : y->end;

		if (start <= end) {
			if (out->nr_ranges == IOMMU_IOVA_RANGES_MAX)
				return -E2BIG;
			out->range[out->nr_ranges++] = (struct iommu_iova_range){ start, end };
		}
		if (x->end < y->end)
			i++;
		else
			j++;
	}
	return 0;
}

/*
 * What every container serves: the largest granule (type1 maps any multiple
 * of its smallest page, and page sizes are powers of two) as @out's only
 * page size, the common ranges. A container that reports no ranges (Linux
 * < 5.4) restricts nothing.
 */
static int merge_infos(const struct iommu_info *const *info, unsigned nr, struct iommu_info *out,
		       char *err, size_t errlen)
{
	struct iommu_info tmp;
	unsigned i;

	memset(out, 0, sizeof(*out));
	out->pgsizes = PAGE_4K;
	for (i = 0; i < nr; i++) {
		uint64_t granule = info[i]->pgsizes ? info[i]->pgsizes & -info[i]->pgsizes : PAGE_4K;

		if (granule > out->pgsizes)
			out->pgsizes = granule;
		if (!info[i]->have_ranges || !info[i]->nr_ranges)
			continue;
		if (!out->have_ranges) {
			out->have_ranges = true;
			out->nr_ranges = info[i]->nr_ranges;
			memcpy(out->range, info[i]->range, sizeof(out->range[0]) * out->nr_ranges);
			continue;
		}
		if (intersect(out, info[i], &tmp)) {
			snprintf(err, errlen, "virtio-iommu: the IOVA ranges the %u containers share "
				 "are more than %d pieces: put fewer devices behind --viommu", nr,
				 IOMMU_IOVA_RANGES_MAX);
			return -E2BIG;
		}
		if (!tmp.nr_ranges) {
			snprintf(err, errlen, "virtio-iommu: the host IOMMU's usable IOVA ranges for "
				 "the %u devices have no address in common, so no domain could serve "
				 "them all: put them behind --viommu in separate VMs", nr);
			return -EINVAL;
		}
		out->nr_ranges = tmp.nr_ranges;
		memcpy(out->range, tmp.range, sizeof(out->range[0]) * out->nr_ranges);
	}
	return 0;
}

int viommu_vfio_params(const struct iommu_info *const *info, unsigned nr_info, const uint16_t *bdf,
		       unsigned n, struct viommu_params *p, char *err, size_t errlen)
{
	struct iommu_info all;
	unsigned i;
	int rc;

	memset(p, 0, sizeof(*p));
	if (n == 0 || n > VIOMMU_BACKEND_MAX_DEVS || nr_info == 0) {
		snprintf(err, errlen, "virtio-iommu: %u devices in %u containers behind it: sluice puts "
			 "1 to %d there, each in a container", n, nr_info, VIOMMU_BACKEND_MAX_DEVS);
		return n > VIOMMU_BACKEND_MAX_DEVS ? -E2BIG : -EINVAL;
	}
	if ((rc = merge_infos(info, nr_info, &all, err, errlen)))
		return rc;
	for (i = 0; i < n; i++)
		p->endpoint[i] = bdf[i];
	p->nr_endpoints = n;
	p->page_size_mask = ~(all.pgsizes - 1);
	/* A 16-bit ID space: more than the endpoints can ever use (a domain needs one). */
	p->domain_start = 1;
	p->domain_end = 0xffff;
	p->input_start = 0;
	p->input_end = DEFAULT_END;
	rc = add_resv(p, VIOMMU_MSI_START, VIOMMU_MSI_END, VIRTIO_IOMMU_RESV_MEM_T_MSI, err, errlen);
	if (rc || !all.have_ranges)
		return rc;
	p->input_start = all.range[0].start;
	p->input_end = all.range[all.nr_ranges - 1].end;
	for (i = 1; i < all.nr_ranges; i++) {
		uint64_t start = all.range[i - 1].end + 1, end = all.range[i].start - 1;

		if (start >= VIOMMU_MSI_START && end <= VIOMMU_MSI_END)
			continue;	/* the MSI window, reported as such */
		if ((rc = add_resv(p, start, end, VIRTIO_IOMMU_RESV_MEM_T_RESERVED, err, errlen)))
			return rc;
	}
	return 0;
}
