/* sluice: guest RAM. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vmm/layout.h"
#include "vmm/memory.h"

void guest_mem_layout(struct guest_mem *m, uint8_t *base, uint64_t size)
{
	uint64_t low = size < LAYOUT_LOWMEM_MAX ? size : LAYOUT_LOWMEM_MAX;

	m->size = size;
	m->nr_regions = 1;
	m->region[0] = (struct mem_region){ .gpa = 0, .size = low, .fd_offset = 0, .hva = base };
	if (size > low) {
		m->region[1] = (struct mem_region){
			.gpa = LAYOUT_HIGHMEM, .size = size - low, .fd_offset = low, .hva = base + low,
		};
		m->nr_regions = 2;
	}
}

void *guest_mem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	unsigned i;

	for (i = 0; i < m->nr_regions; i++) {
		const struct mem_region *r = &m->region[i];

		if (gpa < r->gpa || gpa - r->gpa > r->size)
			continue;
		if (len > r->size - (gpa - r->gpa))
			return NULL;
		return r->hva + (gpa - r->gpa);
	}
	return NULL;
}

int guest_mem_alloc(struct guest_mem *m, uint64_t size, bool hugepages)
{
	unsigned flags = MFD_CLOEXEC | (hugepages ? MFD_HUGETLB : 0);
	void *base;
	int fd, err;

	fd = memfd_create("sluice-ram", flags);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) < 0) {
		err = -errno;
		goto err_close;
	}
	/*
	 * Hugetlb pages are reserved at mmap (no MAP_NORESERVE), so a shortage is
	 * ENOMEM now rather than SIGBUS when the guest first touches its RAM.
	 */
	base = mmap(NULL, size, PROT_READ | PROT_WRITE,
		    MAP_SHARED | (hugepages ? 0 : MAP_NORESERVE), fd, 0);
	if (base == MAP_FAILED) {
		err = -errno;
		goto err_close;
	}
	/* Guest RAM never belongs in a core dump of sluice, nor in a child. */
	madvise(base, size, MADV_DONTDUMP);
	madvise(base, size, MADV_DONTFORK);
	guest_mem_layout(m, base, size);
	m->fd = fd;
	m->hugepages = hugepages;
	return 0;

err_close:
	close(fd);
	return err;
}

void guest_mem_free(struct guest_mem *m)
{
	if (m->nr_regions)
		munmap(m->region[0].hva, m->size);
	if (m->fd >= 0)
		close(m->fd);
	memset(m, 0, sizeof(*m));
	m->fd = -1;
}
