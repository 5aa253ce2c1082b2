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
 *   vf-dma BDF selfon     as self, but leave the write-back on and sleep (DMA
 *                         keeps going until the process is killed)
 *   vf-dma BDF storm SECS set every interrupt cause in VTEICS (82576 §8.28.x,
 *                         Linux igbvf E1000_EICS 0x1520) as fast as possible for
 *                         SECS: the VF raises its MSI-X vectors back to back
 *   vf-dma BDF flood N ENTRY
 *                         write two refused Message Addresses (0xfed00000,
 *                         0xfec00000) alternately N times into MSI-X entry ENTRY,
 *                         then put its own address back
 *   vf-dma BDF cfgr OFF   read the dword at OFF of config space (the guest's view)
 *   vf-dma BDF cfgw OFF LEN VAL
 *                         write LEN (1, 2, 4) bytes of VAL at OFF of config space
 *   vf-dma BDF cfgfill START END VAL
 *                         write the dword VAL at every dword from START to END
 *   vf-dma BDF bar0r OFF  read the BAR0 register at OFF
 *   vf-dma BDF cap ID     the offset of standard capability ID (0: none)
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "tests/tools/pagemap.h"

#define TDWBAL	0x3838	/* VF TX queue 0 */
#define TDWBAH	0x383c
#define HEAD_WB_ENABLE 1u
#define VTEICS	0x1520	/* Extended Interrupt Cause Set: a 1 raises that cause */

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

/* The positive control's DMA, left running: every transmit writes the head into our page. */
static int self_on(void)
{
	volatile uint32_t *page = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0);
	uint64_t phys;

	if (page == MAP_FAILED)
		return 2;
	page[0] = 0xa5a5a5a5;
	phys = phys_of(page);
	if (!phys)
		return 2;
	wb(phys, 1);
	printf("vf-dma: head write-back on at phys=%#llx, until killed\n", (unsigned long long)phys);
	fflush(stdout);
	for (;;)
		pause();
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static int storm(int secs)
{
	double end = now() + secs;
	unsigned long long n = 0;

	/* Each write traps to the emulated NIC under the bed's nested TCG: look at the clock often. */
	while (now() < end) {
		for (int i = 0; i < 16; i++)
			bar[VTEICS / 4] = 0xffffffffu;
		n += 16;
	}
	printf("vf-dma: storm %d s, %llu cause writes\n", secs, n);
	return 0;
}

static int cfg_open(const char *bdf, int flags)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", bdf);
	return open(path, flags);
}

static int cfg_rw(const char *bdf, unsigned off, unsigned len, uint32_t *val, bool is_write)
{
	int fd = cfg_open(bdf, is_write ? O_WRONLY : O_RDONLY);
	ssize_t n;

	if (fd < 0) {
		perror("config");
		return 2;
	}
	n = is_write ? pwrite(fd, val, len, off) : pread(fd, val, len, off);
	close(fd);
	return n == (ssize_t)len ? 0 : 2;
}

/* Standard capability @id in the guest's view of config space, or 0. */
static unsigned find_cap(const char *bdf, unsigned id)
{
	uint8_t cfg[256];
	unsigned pos, hops = 0;
	int fd = cfg_open(bdf, O_RDONLY);

	if (fd < 0 || pread(fd, cfg, sizeof(cfg), 0) != sizeof(cfg))
		return 0;
	close(fd);
	for (pos = cfg[0x34] & ~3u; pos >= 0x40 && hops++ < 48; pos = cfg[pos + 1] & ~3u)
		if (cfg[pos] == id)
			return pos;
	return 0;
}

/* Two messages sluice refuses, alternately: each is a change, so each is checked again. */
static int flood(const char *bdf, unsigned count, unsigned n)
{
	volatile uint32_t *t;
	uint32_t off, orig;
	char path[128];
	int bir, fd;
	unsigned i;

	if (msix_table(bdf, &bir, &off))
		return 2;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource%d", bdf, bir);
	fd = open(path, O_RDWR | O_SYNC);
	if (fd < 0)
		return 2;
	t = mmap(NULL, off + 16 * (n + 1) + PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (t == MAP_FAILED)
		return 2;
	orig = t[(off + 16 * n) / 4];
	for (i = 0; i < count; i++)
		t[(off + 16 * n) / 4] = i & 1 ? 0xfec00000u : 0xfed00000u;
	t[(off + 16 * n) / 4] = orig;
	printf("vf-dma: %u refused messages written to entry %u, address %#x back\n", count, n, orig);
	return 0;
}

int main(int argc, char **argv)
{
	char path[128];
	int fd;

	if (argc < 3) {
		fprintf(stderr, "usage: vf-dma BDF ADDR_HEX|off|self SECS|selfon|storm SECS|msix N ADDR|flood N ENTRY|cfgr OFF|cfgw OFF LEN VAL|bar0r OFF|cap ID\n");
		return 2;
	}
	uint32_t v = 0;

	if (!strcmp(argv[2], "msix") && argc > 4)
		return msix_poke(argv[1], (unsigned)atoi(argv[3]), (uint32_t)strtoul(argv[4], NULL, 16));
	if (!strcmp(argv[2], "flood") && argc > 4)
		return flood(argv[1], (unsigned)atoi(argv[3]), (unsigned)atoi(argv[4]));
	if (!strcmp(argv[2], "cap") && argc > 3) {
		printf("%#x\n", find_cap(argv[1], (unsigned)strtoul(argv[3], NULL, 0)));
		return 0;
	}
	if (!strcmp(argv[2], "cfgr") && argc > 3) {
		if (cfg_rw(argv[1], (unsigned)strtoul(argv[3], NULL, 0), 4, &v, false))
			return 2;
		printf("0x%08x\n", v);
		return 0;
	}
	if (!strcmp(argv[2], "cfgfill") && argc > 5) {
		unsigned off = (unsigned)strtoul(argv[3], NULL, 0), end = (unsigned)strtoul(argv[4], NULL, 0);

		for (v = (uint32_t)strtoul(argv[5], NULL, 0); off < end; off += 4)
			if (cfg_rw(argv[1], off, 4, &v, true))
				return 2;
		return 0;
	}
	if (!strcmp(argv[2], "cfgw") && argc > 5) {
		v = (uint32_t)strtoul(argv[5], NULL, 0);
		return cfg_rw(argv[1], (unsigned)strtoul(argv[3], NULL, 0),
			      (unsigned)atoi(argv[4]), &v, true);
	}
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
	if (!strcmp(argv[2], "selfon"))
		return self_on();
	if (!strcmp(argv[2], "storm"))
		return storm(argc > 3 ? atoi(argv[3]) : 10);
	if (!strcmp(argv[2], "bar0r") && argc > 3) {
		printf("0x%08x\n", bar[strtoul(argv[3], NULL, 0) % 0x4000 / 4]);
		return 0;
	}
	wb(strtoull(argv[2], NULL, 16), 1);
	printf("vf-dma: head write-back aimed at %s\n", argv[2]);
	return 0;
}
