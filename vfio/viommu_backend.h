/*
 * sluice: assigned devices behind the guest's virtio-iommu (--viommu). The
 * guest's MAP/UNMAP requests (vmm/virtio/viommu.c, already checked against
 * guest RAM) become VFIO type1 MAP_DMA/UNMAP_DMA on the container of the
 * endpoint's device; guest RAM is not mapped up front (passthrough_attach
 * with pt->viommu).
 *
 * A guest gives each endpoint a domain, i.e. an IOVA space, of its own, and
 * a type1 container has one IOVA space: so with --viommu every IOMMU group
 * has a container of its own (vfio/assign.c), and two assigned devices in
 * one host group are refused (vfio_viommu_check_groups).
 */
#ifndef SLUICE_VIOMMU_BACKEND_H
#define SLUICE_VIOMMU_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "iommu/iommu.h"
#include "vfio/vfio.h"
#include "vmm/virtio/viommu.h"

#define VIOMMU_BACKEND_MAX_DEVS	VFIO_MAX_DEVS

/* The backend: @opaque is the struct passthrough; endpoint i is pt->devs[i]. */
extern const struct viommu_backend_ops viommu_vfio_ops;

/*
 * Pure: the virtio-iommu's parameters for devices at guest BDFs @bdf[0..n)
 * over @nr_info containers that reported @info[0..nr_info): what all of them
 * can serve, since the guest may put any endpoint in any domain. The page
 * granule is the largest of their smallest pages; the input range spans the
 * IOVA ranges usable in every container (the intersection of their lists);
 * PROBE's reserved regions are the x86 MSI window as MSI and every other hole
 * between those common ranges as reserved. 0, or -E2BIG (too many devices,
 * ranges or holes) / -EINVAL (no device or container, no IOVA range common
 * to all) with @err saying why.
 */
int viommu_vfio_params(const struct iommu_info *const *info, unsigned nr_info, const uint16_t *bdf,
		       unsigned n, struct viommu_params *p, char *err, size_t errlen);

#endif
