/* sluice: guest RAM. */
#include <errno.h>
#include <fcntl.h>
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

/* The size of a PMD-mapped page on x86-64: what THP and hugetlbfs give by default. */
#define HUGE_2M (2ull << 20)

/*
 * THP can be switched off host-wide (/sys/kernel/mm/transparent_hugepage/
 * enabled = [never]); MADV_HUGEPAGE then succeeds and does nothing.
 */
static bool thp_enabled(void)
{
	char buf[128] = "";
	ssize_t n;
	int fd;

	fd = open("/sys/kernel/mm/transparent_hugepage/enabled", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 && !strstr(buf, "[never]");
}

/*
 * Private anonymous memory at a 2 MiB-aligned address with MADV_HUGEPAGE:
 * the kernel backs each aligned 2 MiB with one huge page on first touch, and
 * KVM maps it with one 2 MiB nested page table entry, because the guest
 * physical addresses of both regions (0 and LAYOUT_HIGHMEM) are 2 MiB-aligned
 * too. Shared memory (memfd, MAP_SHARED) would need the host-wide shmem_enabled
 * knob for THP, so it is used only where an fd is needed (hugetlbfs today).
 */
static int alloc_anon(struct guest_mem *m, uint64_t size)
{
	uint8_t *raw, *base;
	uintptr_t head;

	raw = mmap(NULL, size + HUGE_2M, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (raw == MAP_FAILED)
		return -errno;
	head = (HUGE_2M - ((uintptr_t)raw & (HUGE_2M - 1))) & (HUGE_2M - 1);
	base = raw + head;
	if (head)
		munmap(raw, head);
	munmap(base + size, HUGE_2M - head);
	m->thp = !madvise(base, size, MADV_HUGEPAGE) && thp_enabled();
	guest_mem_layout(m, base, size);
	m->fd = -1;
	return 0;
}

static int alloc_hugetlb(struct guest_mem *m, uint64_t size)
{
	void *base;
	int fd, err;

	fd = memfd_create("sluice-ram", MFD_CLOEXEC | MFD_HUGETLB);
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
	base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED) {
		err = -errno;
		goto err_close;
	}
	guest_mem_layout(m, base, size);
	m->fd = fd;
	return 0;

err_close:
	close(fd);
	return err;
}

int guest_mem_alloc(struct guest_mem *m, uint64_t size, bool hugepages)
{
	int err = hugepages ? alloc_hugetlb(m, size) : alloc_anon(m, size);

	if (err)
		return err;
	/*
	 * Guest RAM never belongs in a core dump of sluice, nor in a child: a
	 * fork would otherwise share (or copy on write) pages that VFIO has
	 * pinned for DMA.
	 */
	madvise(m->region[0].hva, size, MADV_DONTDUMP);
	madvise(m->region[0].hva, size, MADV_DONTFORK);
	m->hugepages = hugepages;
	return 0;
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
