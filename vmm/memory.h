/*
 * sluice: guest RAM. One mapping backs all of it: private anonymous memory on
 * transparent huge pages by default, a hugetlbfs memfd with --hugepages. It is
 * split around the 32-bit hole (vmm/layout.h) into at most two regions.
 */
#ifndef SLUICE_MEMORY_H
#define SLUICE_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mem_region {
	uint64_t gpa;
	uint64_t size;
	uint64_t fd_offset;
	uint8_t *hva;
};

struct guest_mem {
	struct mem_region region[2];
	unsigned nr_regions;
	uint64_t size;		/* total RAM */
	int fd;			/* the hugetlbfs memfd; -1 for anonymous RAM */
	bool hugepages;		/* hugetlbfs (--hugepages) */
	bool thp;		/* anonymous RAM advised to THP, and THP not off host-wide */
};

/*
 * Describe RAM of @size bytes backed by the host mapping @base (contiguous,
 * @size bytes): regions below and above the hole. No allocation.
 */
void guest_mem_layout(struct guest_mem *m, uint8_t *base, uint64_t size);

/*
 * Host pointer for [gpa, gpa + len) when it lies wholly inside one RAM
 * region, else NULL. Overflow-safe: guest-supplied addresses go through here.
 */
void *guest_mem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len);

/*
 * Allocate guest RAM: anonymous on THP, or from hugetlbfs with @hugepages.
 * The mapping's start is 2 MiB-aligned and is the only one in sluice with the
 * VmFlags "hg" (MADV_HUGEPAGE) or "ht" (hugetlb) in /proc/PID/smaps: that is
 * how a measurement tells guest RAM apart. 0 or -errno.
 */
int guest_mem_alloc(struct guest_mem *m, uint64_t size, bool hugepages);
void guest_mem_free(struct guest_mem *m);

#endif
