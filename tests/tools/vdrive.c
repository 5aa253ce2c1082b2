/*
 * vdrive: a minimal, deliberately hostile virtio-blk driver in userspace,
 * for the test bed's L2 guest. It drives a virtio-pci modern device whose
 * kernel driver was unbound, through the BAR (sysfs resource file) and
 * rings in pinned pages (physical addresses from /proc/self/pagemap; the
 * guest has no IOMMU), polling instead of taking interrupts. It shows what
 * the device does with requests a kernel driver never sends:
 *
 *   write  a write request: prints its status byte (1 = IOERR on a read-only disk)
 *   loop   a descriptor chain that loops: the device must set DEVICE_NEEDS_RESET
 *   range  a buffer outside guest RAM: the same
 *   read   after a reset, a good read still works
 *   cfgwin num_queues read through the PCI configuration access window (§4.1.4.9)
 *   move   with the queue live, move BAR4 64 KiB up (as a guest OS may): a kick at
 *          the old address must do nothing, one at the new address must work,
 *          then 1000 more requests (their kicks: ioeventfds, not exits to sluice)
 *
 *   vdrive BDF MODE...   -> one "vdrive: MODE ..." line per mode; exit 0 if all ran
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>
#include <linux/virtio_ring.h>

#define PAGE	4096
#define QSZ	8
#define AVAIL	0x100
#define USED	0x200
#define HDR	0x000	/* in the data page */
#define STATUS	0x040
#define DATA	0x200

struct dev {
	char sys[128];
	uint8_t *old_bar;	/* after "move": where BAR4 was */
	uint8_t *bar;
	uint32_t common, notify, mult;
	uint8_t *ring, *buf;
	uint64_t ring_pa, buf_pa;
	uint16_t avail_idx;
};

static uint64_t phys(void *p)
{
	uint64_t e = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY);

	if (fd < 0 || pread(fd, &e, 8, (off_t)((uintptr_t)p / PAGE * 8)) != 8)
		e = 0;
	if (fd >= 0)
		close(fd);
	return (e >> 63) ? (e & ((1ull << 55) - 1)) * PAGE : 0;
}

/* The common configuration structure's fields, accessed at their own width (§4.1.3.1). */
static volatile uint8_t *c8(struct dev *d, uint32_t off)
{
	return d->bar + d->common + off;
}

static volatile uint16_t *c16(struct dev *d, uint32_t off)
{
	return (volatile uint16_t *)(void *)(d->bar + d->common + off);
}

static volatile uint32_t *c32(struct dev *d, uint32_t off)
{
	return (volatile uint32_t *)(void *)(d->bar + d->common + off);
}

static void set64(struct dev *d, uint32_t off, uint64_t v)
{
	*c32(d, off) = (uint32_t)v;
	*c32(d, off + 4) = (uint32_t)(v >> 32);
}

/* Find the virtio capabilities in config space (§4.1.4). */
static int find_caps(struct dev *d)
{
	uint8_t cfg[256];
	char path[160];
	unsigned off, hops = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/config", d->sys);
	fd = open(path, O_RDWR);
	if (fd < 0 || pread(fd, cfg, sizeof(cfg), 0) != sizeof(cfg))
		return -1;
	cfg[4] |= 0x06;		/* memory decode, bus master */
	if (pwrite(fd, &cfg[4], 1, 4) != 1)
		return -1;
	close(fd);
	for (off = cfg[0x34]; off && hops++ < 48; off = cfg[off + 1]) {
		uint32_t o;

		if (cfg[off] != 0x09)
			continue;
		memcpy(&o, &cfg[off + 8], 4);
		if (cfg[off + 3] == VIRTIO_PCI_CAP_COMMON_CFG)
			d->common = o;
		if (cfg[off + 3] == VIRTIO_PCI_CAP_NOTIFY_CFG) {
			d->notify = o;
			memcpy(&d->mult, &cfg[off + 16], 4);
		}
	}
	return d->notify ? 0 : -1;
}

/* Poll *p8 (or *p16) for (v & mask) == want, up to 5 s. */
static int wait_for(volatile uint8_t *p8, volatile uint16_t *p16, unsigned want, unsigned mask)
{
	struct timespec ts = { 0, 1000000 };
	int i;

	for (i = 0; i < 5000; i++) {
		unsigned v = p8 ? *p8 : __atomic_load_n(p16, __ATOMIC_ACQUIRE);

		if ((v & mask) == want)
			return 0;
		nanosleep(&ts, NULL);
	}
	return -1;
}

/* §3.1.1: reset, negotiate VERSION_1 only, one queue of QSZ, DRIVER_OK. */
static int init(struct dev *d)
{
	*c8(d, VIRTIO_PCI_COMMON_STATUS) = 0;
	if (wait_for(c8(d, VIRTIO_PCI_COMMON_STATUS), NULL, 0, 0xff))
		return -1;
	memset(d->ring, 0, PAGE);
	d->avail_idx = 0;
	*c8(d, VIRTIO_PCI_COMMON_STATUS) = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER;
	*c32(d, VIRTIO_PCI_COMMON_GFSELECT) = 1;
	*c32(d, VIRTIO_PCI_COMMON_GF) = 1;	/* VERSION_1 (bit 32) */
	*c8(d, VIRTIO_PCI_COMMON_STATUS) = 0x0b;
	if (!(*c8(d, VIRTIO_PCI_COMMON_STATUS) & VIRTIO_CONFIG_S_FEATURES_OK))
		return -1;
	*c16(d, VIRTIO_PCI_COMMON_Q_SELECT) = 0;
	*c16(d, VIRTIO_PCI_COMMON_Q_SIZE) = QSZ;
	set64(d, VIRTIO_PCI_COMMON_Q_DESCLO, d->ring_pa);
	set64(d, VIRTIO_PCI_COMMON_Q_AVAILLO, d->ring_pa + AVAIL);
	set64(d, VIRTIO_PCI_COMMON_Q_USEDLO, d->ring_pa + USED);
	*c16(d, VIRTIO_PCI_COMMON_Q_ENABLE) = 1;
	*c8(d, VIRTIO_PCI_COMMON_STATUS) = 0x0f;
	return 0;
}

static void desc(struct dev *d, unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	struct vring_desc *t = (struct vring_desc *)(void *)d->ring;

	t[i] = (struct vring_desc){ .addr = addr, .len = len, .flags = flags, .next = next };
}

/* Ring the doorbell at @bell; wait for the used ring to catch up, or for NEEDS_RESET. */
static const char *kick_wait(struct dev *d, uint8_t *bell, int ms)
{
	volatile uint16_t *used_idx = (volatile uint16_t *)(void *)(d->ring + USED + 2);
	struct timespec ts = { 0, 1000000 };
	int i;

	*(volatile uint16_t *)(void *)(bell + d->notify) = 0;	/* queue 0's doorbell */
	for (i = 0; i < ms; i++) {
		if (__atomic_load_n(used_idx, __ATOMIC_ACQUIRE) == d->avail_idx)
			return "used";
		/* Each status read is an exit to sluice: not every millisecond. */
		if (i % 50 == 49 && (*c8(d, VIRTIO_PCI_COMMON_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET))
			return "needs-reset";
		nanosleep(&ts, NULL);
	}
	return "timeout";
}

/* Offer chain @head and kick at @bell. */
static const char *submit_at(struct dev *d, unsigned head, uint8_t *bell, int ms)
{
	volatile uint16_t *avail = (volatile uint16_t *)(void *)(d->ring + AVAIL);

	avail[2 + d->avail_idx % QSZ] = (uint16_t)head;
	d->avail_idx++;
	__atomic_store_n(&avail[1], d->avail_idx, __ATOMIC_RELEASE);
	return kick_wait(d, bell, ms);
}

static const char *submit(struct dev *d, unsigned head)
{
	return submit_at(d, head, d->bar, 10000);
}

static void request(struct dev *d, uint32_t type)
{
	struct virtio_blk_outhdr h = { .type = type, .sector = 0 };

	memcpy(d->buf + HDR, &h, sizeof(h));
	d->buf[STATUS] = 0xee;
	desc(d, 0, d->buf_pa + HDR, sizeof(h), VRING_DESC_F_NEXT, 1);
	desc(d, 1, d->buf_pa + DATA, 512, VRING_DESC_F_NEXT | (type == VIRTIO_BLK_T_IN ? VRING_DESC_F_WRITE : 0), 2);
	desc(d, 2, d->buf_pa + STATUS, 1, VRING_DESC_F_WRITE, 0);
}

/* §4.1.4.9: point the PCI_CFG capability at BAR4 num_queues and read it through config space. */
static void cfg_window(struct dev *d)
{
	uint8_t cfg[256], w[12] = { 0 };
	uint32_t off = VIRTIO_PCI_COMMON_NUMQ + d->common, len = 2;
	unsigned cap, hops = 0;
	uint16_t v = 0;
	char path[160];
	int fd;

	snprintf(path, sizeof(path), "%s/config", d->sys);
	fd = open(path, O_RDWR);
	if (fd < 0 || pread(fd, cfg, sizeof(cfg), 0) != sizeof(cfg))
		goto fail;
	for (cap = cfg[0x34]; cap && hops++ < 48; cap = cfg[cap + 1])
		if (cfg[cap] == 0x09 && cfg[cap + 3] == VIRTIO_PCI_CAP_PCI_CFG)
			break;
	if (!cap)
		goto fail;
	memcpy(w, &off, 4);
	memcpy(w + 4, &len, 4);
	cfg[cap + 4] = 4;
	if (pwrite(fd, &cfg[cap + 4], 1, cap + 4) != 1 || pwrite(fd, w, 8, cap + 8) != 8 ||
	    pread(fd, &v, 2, cap + 16) != 2)
		goto fail;
	close(fd);
	printf("vdrive: cfgwin num_queues=%u\n", v);
	return;
fail:
	printf("vdrive: cfgwin failed: %s\n", strerror(errno));
}

static int cfg_rw(struct dev *d, void *buf, size_t len, off_t off, int write)
{
	char path[160];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/config", d->sys);
	fd = open(path, O_RDWR);
	if (fd < 0)
		return -1;
	n = write ? pwrite(fd, buf, len, off) : pread(fd, buf, len, off);
	close(fd);
	return n == (ssize_t)len ? 0 : -1;
}

/* PCI 3.0 §6.2.5.1: decode off, new 64-bit BAR4 address, decode on. */
static int move_bar(struct dev *d, uint64_t *to)
{
	uint32_t bar[2];
	uint16_t cmd;
	uint64_t from;
	uint8_t *map;
	int fd;

	if (cfg_rw(d, bar, 8, 0x20, 0) || cfg_rw(d, &cmd, 2, 4, 0))
		return -1;
	from = ((uint64_t)bar[1] << 32 | bar[0]) & ~0xfull;
	*to = from + 0x10000;
	cmd &= (uint16_t)~0x2;
	if (cfg_rw(d, &cmd, 2, 4, 1))
		return -1;
	bar[0] = (uint32_t)*to | (bar[0] & 0xf);
	bar[1] = (uint32_t)(*to >> 32);
	cmd |= 0x2;
	if (cfg_rw(d, bar, 8, 0x20, 1) || cfg_rw(d, &cmd, 2, 4, 1))
		return -1;
	fd = open("/dev/mem", O_RDWR | O_SYNC);
	if (fd < 0)
		return -1;
	map = mmap(NULL, 0x4000, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)*to);
	close(fd);
	if (map == MAP_FAILED)
		return -1;
	d->old_bar = d->bar;
	d->bar = map;
	return 0;
}

static void move(struct dev *d)
{
	const char *stale, *r;
	uint64_t to;
	int i, ok = 0;

	if (init(d) || move_bar(d, &to)) {
		printf("vdrive: move failed: %s\n", strerror(errno));
		return;
	}
	request(d, VIRTIO_BLK_T_IN);
	stale = submit_at(d, 0, d->old_bar, 1000);	/* the old doorbell: nothing may happen */
	r = stale[0] == 't' ? kick_wait(d, d->bar, 10000) : "skipped";
	for (i = 0; i < 1000 && r[0] == 'u'; i++) {
		request(d, VIRTIO_BLK_T_IN);
		ok += submit(d, 0)[0] == 'u' && d->buf[STATUS] == 0;
	}
	printf("vdrive: move to 0x%llx: old-doorbell %s, new-doorbell %s, reads %d/1000\n",
	       (unsigned long long)to, stale, r, ok);
}

static void run(struct dev *d, const char *mode)
{
	const char *r;

	if (!strcmp(mode, "move")) {
		move(d);
		return;
	}
	if (!strcmp(mode, "cfgwin")) {
		cfg_window(d);
		return;
	}

	if (init(d)) {
		printf("vdrive: %s: device init failed (status 0x%x)\n", mode, *c8(d, VIRTIO_PCI_COMMON_STATUS));
		return;
	}
	if (!strcmp(mode, "write") || !strcmp(mode, "read")) {
		request(d, !strcmp(mode, "write") ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN);
		r = submit(d, 0);
		printf("vdrive: %s %s status=%u\n", mode, r, d->buf[STATUS]);
		return;
	}
	request(d, VIRTIO_BLK_T_IN);
	if (!strcmp(mode, "loop"))
		desc(d, 2, d->buf_pa + STATUS, 1, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	else	/* range: a buffer 64 TiB up, far outside guest RAM */
		desc(d, 1, 1ull << 46, 512, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 2);
	r = submit(d, 0);
	printf("vdrive: %s %s status=0x%x\n", mode, r, *c8(d, VIRTIO_PCI_COMMON_STATUS));
}

int main(int argc, char **argv)
{
	struct dev d = { 0 };
	char path[160];
	int fd, i;

	if (argc < 3) {
		fprintf(stderr, "usage: vdrive BDF write|read|loop|range...\n");
		return 2;
	}
	snprintf(d.sys, sizeof(d.sys), "/sys/bus/pci/devices/%s", argv[1]);
	snprintf(path, sizeof(path), "%s/resource4", d.sys);
	fd = open(path, O_RDWR | O_SYNC);
	if (fd < 0 || find_caps(&d)) {
		printf("vdrive: %s: cannot open the device: %s\n", argv[1], strerror(errno));
		return 1;
	}
	d.bar = mmap(NULL, 0x4000, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	d.ring = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0);
	if (d.bar == MAP_FAILED || d.ring == MAP_FAILED) {
		printf("vdrive: mmap: %s\n", strerror(errno));
		return 1;
	}
	d.buf = d.ring + PAGE;
	memset(d.ring, 0, 2 * PAGE);
	d.ring_pa = phys(d.ring);
	d.buf_pa = phys(d.buf);
	if (!d.ring_pa || !d.buf_pa) {
		printf("vdrive: no physical addresses (pagemap)\n");
		return 1;
	}
	for (i = 2; i < argc; i++)
		run(&d, argv[i]);
	*c8(&d, VIRTIO_PCI_COMMON_STATUS) = 0;
	return 0;
}
