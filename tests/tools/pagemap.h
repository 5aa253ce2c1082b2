/* The physical address of a locked page of this process, from /proc/self/pagemap. */
#ifndef SLUICE_TOOLS_PAGEMAP_H
#define SLUICE_TOOLS_PAGEMAP_H

#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>

#define PAGE 4096

/* Documentation/admin-guide/mm/pagemap.rst: bit 63 present, bits 54:0 the frame. 0: unknown. */
static inline uint64_t phys_of(const volatile void *p)
{
	uint64_t e = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY);

	if (fd < 0 || pread(fd, &e, sizeof(e), (off_t)((uintptr_t)p / PAGE * 8)) != sizeof(e))
		e = 0;
	if (fd >= 0)
		close(fd);
	return (e >> 63) ? (e & ((1ull << 55) - 1)) * PAGE : 0;
}

#endif
