/*
 * Fuzz target: the parsers of what the VFIO kernel interface hands back in
 * a buffer with a capability chain (uapi vfio.h, struct
 * vfio_info_cap_header): VFIO_DEVICE_GET_REGION_INFO's sparse-mmap areas
 * (vfio/device.c, compiled in for its static region_areas) and
 * VFIO_IOMMU_GET_INFO's IOVA ranges and DMA limit (iommu_type1_parse_info).
 * The buffer is a heap block of exactly the input's size, as the ioctl
 * callers allocate argsz bytes, so ASan sees a read past it.
 *
 * Input: one byte choosing the parser, then the buffer.
 */
#include "tests/fuzz/fz.h"
#include "iommu/iommu.h"
#include "vfio/vfio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void region(const uint8_t *buf, size_t len)
{
	struct vfio_region r = { 0 };
	unsigned i;

	if (vfio_region_parse_info(&r, buf, len))
		return;
	fz_assert(r.nr_areas <= VFIO_MAX_AREAS, "%u areas", r.nr_areas);
	/* region_mmap maps an area at map + off, MAP_FIXED: it must lie in the region. */
	for (i = 0; r.size && i < r.nr_areas; i++)
		fz_assert(r.area[i].size && r.area[i].off + r.area[i].size <= r.size &&
			  r.area[i].off + r.area[i].size > r.area[i].off,
			  "area %u [%#llx, +%#llx) outside a region of %#llx", i,
			  (unsigned long long)r.area[i].off, (unsigned long long)r.area[i].size,
			  (unsigned long long)r.size);
}

static void iommu(const uint8_t *buf, size_t len)
{
	struct iommu_info info;
	char err[256];
	unsigned i;

	if (iommu_type1_parse_info(buf, len, &info, err, sizeof(err)))
		return;
	fz_assert(info.nr_ranges <= IOMMU_IOVA_RANGES_MAX, "%u ranges", info.nr_ranges);
	for (i = 0; i < info.nr_ranges; i++)
		fz_assert(info.range[i].start <= info.range[i].end, "range %u backwards", i);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf;

	if (!size)
		return 0;
	/* Aligned like the callers' calloc; the kernel's capabilities are 8-byte aligned in it. */
	buf = malloc(size - 1 ? size - 1 : 1);
	fz_assert(buf, "malloc");
	memcpy(buf, data + 1, size - 1);
	if (data[0] & 1)
		region(buf, size - 1);
	else
		iommu(buf, size - 1);
	free(buf);
	return 0;
}
