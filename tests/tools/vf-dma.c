/*
 * vf-dma: inside a guest, drive an igb VF's DMA directly through its BAR0
 * (sysfs resource0): point TX queue 0's head write-back (82576 datasheet
 * §7.2.3.5.2, TDWBAL/TDWBAH) at an address, so every completed transmit
 * makes the device DMA-write the head index there.
 *
 *   vf-dma BDF ADDR_HEX   write-back to ADDR (a bus address: for the device,
 *                         the guest-physical address through the IOMMU)
 *   vf-dma BDF off        stop it
 *   vf-dma BDF self SECS  positive control: a page of this process's own
 *                         memory; wait up to SECS for the device to write it
 *   vf-dma BDF msix N ADDR_HEX
 *                         write ADDR into MSI-X table entry N's Message Address
 *                         (found through the MSI-X capability, PCI 3.0 §6.8.2)
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tests/tools/pagemap.h"

#define TDWBAL	0x3838	/* VF TX queue 0 */
#define TDWBAH	0x383c
#define HEAD_WB_ENABLE 1u

static volatile uint32_t *bar;

static void wb(uint64_t addr, int on)
{
	bar[TDWBAH / 4] = (uint32_t)(addr >> 32);
	bar[TDWBAL / 4] = on ? ((uint32_t)addr & ~3u) | HEAD_WB_ENABLE : 0;
}

static int self_test(int secs)
{
	volatile uint32_t *page = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0);
	uint64_t phys;
	int i;

	if (page == MAP_FAILED)
		return 2;
	page[0] = 0xa5a5a5a5;
	phys = phys_of(page);
	if (!phys)
		return 2;
	wb(phys, 1);
	for (i = 0; i < secs * 10 && page[0] == 0xa5a5a5a5; i++)
		usleep(100000);
	wb(0, 0);
	printf("vf-dma: self phys=%#llx %s value=%#x\n", (unsigned long long)phys,
	       page[0] != 0xa5a5a5a5 ? "written" : "untouched", page[0]);
	return page[0] != 0xa5a5a5a5 ? 0 : 1;
}

/* The MSI-X table's BAR and offset, from the capability in sysfs config. */
static int msix_table(const char *bdf, int *bir, uint32_t *off)
{
	uint8_t cfg[256];
	char path[128];
	unsigned pos, hops = 0;
	int fd;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", bdf);
	fd = open(path, O_RDONLY);
	if (fd < 0 || pread(fd, cfg, sizeof(cfg), 0) != sizeof(cfg))
		return -1;
	close(fd);
	for (pos = cfg[0x34] & ~3u; pos >= 0x40 && hops++ < 48; pos = cfg[pos + 1] & ~3u)
		if (cfg[pos] == 0x11) {
			uint32_t t = (uint32_t)cfg[pos + 4] | (uint32_t)cfg[pos + 5] << 8 |
				     (uint32_t)cfg[pos + 6] << 16 | (uint32_t)cfg[pos + 7] << 24;

			*bir = (int)(t & 7);
			*off = t & ~7u;
			return 0;
		}
	return -1;
}

/* Guest-programmed MSI address for entry @n: what sluice must check. */
static int msix_poke(const char *bdf, unsigned n, uint32_t addr)
{
	volatile uint32_t *t;
	char path[128];
	uint32_t off;
	int bir, fd;

	if (msix_table(bdf, &bir, &off)) {
		fprintf(stderr, "vf-dma: %s has no MSI-X capability\n", bdf);
		return 2;
	}
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource%d", bdf, bir);
	fd = open(path, O_RDWR | O_SYNC);
	if (fd < 0) {
		perror(path);
		return 2;
	}
	t = mmap(NULL, off + 16 * (n + 1) + PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (t == MAP_FAILED) {
		perror("mmap MSI-X BAR");
		return 2;
	}
	t[(off + 16 * n) / 4] = addr;	/* Message Address (lower) */
	printf("vf-dma: MSI-X entry %u address set to %#x\n", n, addr);
	return 0;
}

int main(int argc, char **argv)
{
	char path[128];
	int fd;

	if (argc < 3) {
		fprintf(stderr, "usage: vf-dma BDF ADDR_HEX|off|self SECS\n");
		return 2;
	}
	if (!strcmp(argv[2], "msix") && argc > 4)
		return msix_poke(argv[1], (unsigned)atoi(argv[3]), (uint32_t)strtoul(argv[4], NULL, 16));
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource0", argv[1]);
	fd = open(path, O_RDWR | O_SYNC);
	if (fd < 0) {
		perror(path);
		return 2;
	}
	bar = mmap(NULL, 0x4000, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (bar == MAP_FAILED) {
		perror("mmap resource0");
		return 2;
	}
	if (!strcmp(argv[2], "off")) {
		wb(0, 0);
		return 0;
	}
	if (!strcmp(argv[2], "self"))
		return self_test(argc > 3 ? atoi(argv[3]) : 5);
	wb(strtoull(argv[2], NULL, 16), 1);
	printf("vf-dma: head write-back aimed at %s\n", argv[2]);
	return 0;
}
