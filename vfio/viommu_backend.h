/*
 * sluice: assigned devices behind the guest's virtio-iommu (--viommu). The
 * guest's MAP/UNMAP requests (vmm/virtio/viommu.c, already checked against
 * guest RAM) become VFIO type1 MAP_DMA/UNMAP_DMA on the passthrough
 * container; guest RAM is not mapped up front (passthrough_attach with
 * pt->viommu).
 *
 * One container holds every assigned group and has one IOVA space, while a
 * guest gives each endpoint a domain of its own: so one device at most sits
 * behind the virtio-iommu (the command line refuses more). A container per
 * group would lift that.
 */
#ifndef SLUICE_VIOMMU_BACKEND_H
#define SLUICE_VIOMMU_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "iommu/iommu.h"
#include "vmm/virtio/viommu.h"

#define VIOMMU_BACKEND_MAX_DEVS	1

/* The backend: @opaque is the struct passthrough; the endpoint index is not needed (one device). */
extern const struct viommu_backend_ops viommu_vfio_ops;

/*
 * Pure: the virtio-iommu's parameters for devices at guest BDFs @bdf[0..n)
 * over a container that reported @info: the page granule, the input range
 * spanning the usable IOVA ranges, and PROBE's reserved regions: the x86
 * MSI window as MSI, every other hole between usable ranges as reserved.
 * 0, or -E2BIG (too many devices or holes) / -EINVAL with @err saying why.
 */
int viommu_vfio_params(const struct iommu_info *info, const uint16_t *bdf, unsigned n,
		       struct viommu_params *p, char *err, size_t errlen);

#endif
