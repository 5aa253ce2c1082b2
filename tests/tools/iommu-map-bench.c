/*
 * iommu-map-bench: time sluice's own iommu_map_ram/iommu_unmap_ram (the
 * type1 container) for SIZE bytes of guest RAM, 4 KiB pages or hugepages,
 * through the group of a device already bound to vfio-pci.
 *
 *   iommu-map-bench BDF SIZE_MIB [huge]
 *   -> "iommu-map-bench: size_mib=.. huge=.. map_ms=.. unmap_ms=.."
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "iommu/group.h"
#include "iommu/iommu.h"
#include "vmm/memory.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	struct iommu io = { .fd = -1 };
	struct guest_mem m;
	char err[IOMMU_ERR_LEN], path[64];
	double t0, t_map, t_unmap;
	int group, gfd, rc;
	bool huge;
	uint64_t size;

	if (argc < 3) {
		fprintf(stderr, "usage: iommu-map-bench BDF SIZE_MIB [huge]\n");
		return 2;
	}
	size = strtoull(argv[2], NULL, 0) << 20;
	huge = argc > 3 && !strcmp(argv[3], "huge");
	if (iommu_group_of("/sys", argv[1], &group, err, sizeof(err))) {
		fprintf(stderr, "iommu-map-bench: %s\n", err);
		return 1;
	}
	iommu_group_vfio_path(group, path, sizeof(path));
	gfd = open(path, O_RDWR | O_CLOEXEC);
	if (gfd < 0 || iommu_open(&io, &iommu_type1_ops) || iommu_attach_group(&io, group, gfd)) {
		fprintf(stderr, "iommu-map-bench: %s: cannot attach: %s\n", path, strerror(errno));
		return 1;
	}
	rc = guest_mem_alloc(&m, size, huge);
	if (rc) {
		fprintf(stderr, "iommu-map-bench: %llu MiB%s: %s\n", (unsigned long long)(size >> 20),
			huge ? " of hugepages" : "", strerror(-rc));
		return 1;
	}
	t0 = now_ms();
	rc = iommu_map_ram(&io, &m);
	t_map = now_ms() - t0;
	if (rc) {
		fprintf(stderr, "iommu-map-bench: map: %s\n", strerror(-rc));
		return 1;
	}
	t0 = now_ms();
	iommu_unmap_ram(&io, &m);
	t_unmap = now_ms() - t0;
	printf("iommu-map-bench: size_mib=%llu huge=%d map_ms=%.1f unmap_ms=%.1f\n",
	       (unsigned long long)(size >> 20), huge, t_map, t_unmap);
	guest_mem_free(&m);
	iommu_detach_group(&io, group, gfd);
	close(gfd);
	iommu_close(&io);
	return 0;
}
