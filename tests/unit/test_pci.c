/* cmocka: the PCI host bridge (vmm/pci.c) on plain buses, no KVM. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "vmm/bus.h"
#include "vmm/layout.h"
#include "vmm/log.h"
#include "vmm/pci.h"

#define RAM_SIZE	(4 * GiB)
#define MAX_DEVS	8

/* A device model as sluice's would be: a pci_dev embedded, plus what it saw. */
struct tdev {
	struct pci_dev pci;
	int calls, bar;
	uint64_t offset;
	uint32_t len;
	bool is_write;
	int maps, unmaps;
	uint64_t map_addr;
	int cfg_reads;
	uint32_t wr_off, wr_len;
	uint8_t wr_data[4];
};

static struct tdev *to_tdev(struct pci_dev *d)
{
	return (struct tdev *)((char *)d - offsetof(struct tdev, pci));
}

static void tdev_bar_access(struct pci_dev *d, int bar, uint64_t offset, uint8_t *data,
			    uint32_t len, bool is_write)
{
	struct tdev *t = to_tdev(d);

	t->calls++;
	t->bar = bar;
	t->offset = offset;
	t->len = len;
	t->is_write = is_write;
	if (!is_write)
		memset(data, 0xa0 + bar, len);
}

static const struct pci_dev_ops tdev_ops = { .bar_access = tdev_bar_access };

struct fx {
	struct bus pio, mmio;
	struct pci_host host;
	struct tdev dev[MAX_DEVS];	/* in the fixture: cmocka frees a test's own blocks */
	int ndev;
};

static int setup(void **state)
{
	struct fx *f = test_calloc(1, sizeof(*f));

	if (bus_init(&f->pio, "pio") || bus_init(&f->mmio, "mmio") ||
	    pci_host_init(&f->host, &f->pio, &f->mmio, RAM_SIZE))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	pci_host_exit(&f->host);
	/* Exit mirrors init: nothing of the host stays on either bus. */
	assert_int_equal(f->pio.nr, 0);
	assert_int_equal(f->mmio.nr, 0);
	bus_exit(&f->mmio);
	bus_exit(&f->pio);
	test_free(f);
	return 0;
}

/* A fresh device (virtio-net IDs), not yet added. */
static struct tdev *tdev_new(struct fx *f, const struct pci_dev_ops *ops)
{
	struct tdev *t;

	assert_true(f->ndev < MAX_DEVS);
	t = &f->dev[f->ndev++];
	pci_dev_init(&t->pci, "tdev", ops ? ops : &tdev_ops, 0x1af4, 0x1000, 0x020000);
	return t;
}

static void set_bar(struct tdev *t, int i, enum pci_bar_type type, uint64_t size, bool pref)
{
	struct pci_bar *b = i == PCI_BAR_ROM ? &t->pci.rom : &t->pci.bar[i];

	b->type = type;
	b->size = size;
	b->prefetchable = pref;
}

/* ---- Config access through either mechanism ---- */

enum mech { CF8, ECAM };

static uint32_t le(const uint8_t *d, uint32_t len)
{
	uint32_t v = 0;

	while (len--)
		v = v << 8 | d[len];
	return v;
}

static void set_cf8(struct fx *f, uint32_t v)
{
	uint8_t d[4];

	pci_put32(d, v);
	assert_int_equal(bus_access(&f->pio, LAYOUT_PORT_PCI_CF8, d, 4, true), 0);
}

static uint64_t ecam(unsigned devno, unsigned fn, uint32_t reg)
{
	return LAYOUT_ECAM_BASE + (devno << 15 | fn << 12 | reg);
}

static void cfg_access(struct fx *f, enum mech m, unsigned devno, unsigned fn, uint32_t reg,
		       uint8_t *d, uint32_t len, bool is_write)
{
	if (m == CF8) {
		set_cf8(f, 0x80000000u | devno << 11 | fn << 8 | (reg & 0xfc));
		assert_int_equal(bus_access(&f->pio, LAYOUT_PORT_PCI_CFC + (reg & 3), d, len,
					    is_write), 0);
	} else {
		assert_int_equal(bus_access(&f->mmio, ecam(devno, fn, reg), d, len, is_write), 0);
	}
}

static uint32_t cfg_rd(struct fx *f, enum mech m, unsigned devno, uint32_t reg, uint32_t len)
{
	uint8_t d[4] = { 0 };

	cfg_access(f, m, devno, 0, reg, d, len, false);
	return le(d, len);
}

static void cfg_wr(struct fx *f, enum mech m, unsigned devno, uint32_t reg, uint32_t len,
		   uint32_t v)
{
	uint8_t d[4];

	pci_put32(d, v);
	cfg_access(f, m, devno, 0, reg, d, len, true);
}

/* Shorthands: dword accesses through ECAM. */
static uint32_t rd32(struct fx *f, unsigned devno, uint32_t reg)
{
	return cfg_rd(f, ECAM, devno, reg, 4);
}

static void wr32(struct fx *f, unsigned devno, uint32_t reg, uint32_t v)
{
	cfg_wr(f, ECAM, devno, reg, 4, v);
}

static void wr16(struct fx *f, unsigned devno, uint32_t reg, uint16_t v)
{
	cfg_wr(f, ECAM, devno, reg, 2, v);
}

static int mmio_rd(struct fx *f, uint64_t addr, uint32_t len)
{
	uint8_t d[8];

	return bus_access(&f->mmio, addr, d, len, false);
}

/* ---- Tests ---- */

static void lanes_cf8_and_ecam(void **state)
{
	struct fx *f = *state;
	struct tdev *t = tdev_new(f, NULL);
	enum mech m;
	unsigned i;

	t->pci.cfg[PCI_INTERRUPT_PIN] = 1;
	assert_int_equal(pci_host_add(&f->host, &t->pci), 0);
	for (m = CF8; m <= ECAM; m++) {
		/* The host bridge, 00:00.0: 1b36:0008, class 06.00.00. */
		assert_int_equal(cfg_rd(f, m, 0, 0, 4), 0x00081b36);
		for (i = 0; i < 4; i++)
			assert_int_equal(cfg_rd(f, m, 0, i, 1), (0x00081b36 >> (8 * i)) & 0xff);
		assert_int_equal(cfg_rd(f, m, 0, 0, 2), 0x1b36);
		assert_int_equal(cfg_rd(f, m, 0, 2, 2), 0x0008);
		assert_int_equal(cfg_rd(f, m, 0, PCI_CLASS_REVISION, 4), 0x06000000);

		/* 0x0c: cache line (RW), latency (RW), header type (RO), BIST (RO 0). */
		wr32(f, 1, 0x0c, 0);
		for (i = 0; i < 4; i++)
			cfg_wr(f, m, 1, 0x0c + i, 1, 0x11 * (i + 1));
		assert_int_equal(cfg_rd(f, m, 1, 0x0c, 4), 0x00002211);
		cfg_wr(f, m, 1, 0x0e, 2, 0xffff);
		assert_int_equal(cfg_rd(f, m, 1, 0x0c, 4), 0x00002211);
		cfg_wr(f, m, 1, 0x0c, 2, 0x4433);
		assert_int_equal(cfg_rd(f, m, 1, 0x0c, 2), 0x4433);
		assert_int_equal(cfg_rd(f, m, 1, 0x0d, 1), 0x44);

		/* 0x3c: interrupt line RW, pin RO, min_gnt/max_lat RO 0. */
		cfg_wr(f, m, 1, 0x3c, 4, 0xffffff0b);
		assert_int_equal(cfg_rd(f, m, 1, 0x3c, 4), 0x0000010b);
		assert_int_equal(cfg_rd(f, m, 1, 0x3d, 1), 1);
		assert_int_equal(cfg_rd(f, m, 1, 0x3e, 2), 0);
	}
	/* Extended config space only through ECAM: 4 KiB per function. */
	t->pci.wmask[0xffc] = 0xff;
	wr32(f, 1, 0xffc, 0x12345678);
	assert_int_equal(rd32(f, 1, 0xffc), 0x78);
}

static void absent_reads_all_ones(void **state)
{
	struct fx *f = *state;
	uint8_t d[4];
	enum mech m;

	for (m = CF8; m <= ECAM; m++) {
		assert_int_equal(cfg_rd(f, m, 5, 0, 4), 0xffffffff);
		assert_int_equal(cfg_rd(f, m, 31, 2, 2), 0xffff);
		cfg_wr(f, m, 5, 0x04, 2, 0x7);	/* dropped, no crash */
		assert_int_equal(cfg_rd(f, m, 5, 0x04, 2), 0xffff);
	}
	/* Function 1 of the host bridge: absent, through both mechanisms. */
	cfg_access(f, ECAM, 0, 1, 0, d, 4, false);
	assert_int_equal(le(d, 4), 0xffffffff);
	cfg_access(f, CF8, 0, 7, 0, d, 4, false);
	assert_int_equal(le(d, 4), 0xffffffff);
	/* Bus 1 through CF8. */
	set_cf8(f, 0x80010000);
	assert_int_equal(bus_access(&f->pio, LAYOUT_PORT_PCI_CFC, d, 4, false), 0);
	assert_int_equal(le(d, 4), 0xffffffff);
	/* Enable bit clear: CFC reads all-ones even for 00:00.0. */
	set_cf8(f, 0x00000000);
	assert_int_equal(bus_access(&f->pio, LAYOUT_PORT_PCI_CFC, d, 4, false), 0);
	assert_int_equal(le(d, 4), 0xffffffff);
	/* The latch reads back, reserved bits 30:24 and 1:0 as 0. */
	set_cf8(f, 0xffffffff);
	assert_int_equal(bus_access(&f->pio, LAYOUT_PORT_PCI_CF8, d, 4, false), 0);
	assert_int_equal(le(d, 4), 0x80fffffc);
}

static void cf9_seen(void *opaque, uint64_t offset, uint8_t *data, uint32_t len, bool is_write)
{
	uint8_t *seen = opaque;

	assert_int_equal(offset, 0);
	assert_int_equal(len, 1);
	if (is_write)
		*seen = data[0];
}

static void bad_sizes_are_harmless(void **state)
{
	struct fx *f = *state;
	uint8_t d[8], seen = 0;

	/* ECAM: a qword, and accesses crossing a dword, read all-ones and write nothing. */
	assert_int_equal(bus_access(&f->mmio, ecam(0, 0, 0), d, 8, false), 0);
	assert_memory_equal(d, "\xff\xff\xff\xff\xff\xff\xff\xff", 8);
	assert_int_equal(bus_access(&f->mmio, ecam(0, 0, 2), d, 4, false), 0);
	assert_int_equal(le(d, 4), 0xffffffff);
	assert_int_equal(bus_access(&f->mmio, ecam(0, 0, 3), d, 2, false), 0);
	assert_int_equal(le(d, 2), 0xffff);
	assert_int_equal(bus_access(&f->mmio, ecam(0, 0, 0x3), d, 3, false), 0);
	pci_put32(d, 0xffffffff);
	assert_int_equal(bus_access(&f->mmio, ecam(0, 0, 0x0e), d, 4, true), 0);
	assert_int_equal(bus_access(&f->mmio, ecam(0, 0, 0xffe), d, 4, true), 0);
	assert_int_equal(rd32(f, 0, 0x0c), 0);
	/* A byte at CF8 is not CONFIG_ADDRESS; the latch keeps its value. */
	set_cf8(f, 0x80000008);
	d[0] = 0;
	assert_int_equal(bus_access(&f->pio, LAYOUT_PORT_PCI_CF8, d, 1, true), 0);
	assert_int_equal(bus_access(&f->pio, LAYOUT_PORT_PCI_CF8, d, 4, false), 0);
	assert_int_equal(le(d, 4), 0x80000008);
	/* ... and a byte at 0xcf9 is the reset register, once someone provides it. */
	d[0] = LAYOUT_RESET_VALUE;
	assert_int_equal(bus_access(&f->pio, LAYOUT_PORT_RESET, d, 1, true), 0);
	assert_int_equal(bus_access(&f->pio, LAYOUT_PORT_RESET, d, 1, false), 0);
	assert_int_equal(d[0], 0xff);
	pci_host_set_cf9(&f->host, cf9_seen, &seen);
	d[0] = LAYOUT_RESET_VALUE;
	assert_int_equal(bus_access(&f->pio, LAYOUT_PORT_RESET, d, 1, true), 0);
	assert_int_equal(seen, LAYOUT_RESET_VALUE);
}

static void ids_read_only(void **state)
{
	struct fx *f = *state;
	struct tdev *t = tdev_new(f, NULL);

	assert_int_equal(pci_host_add(&f->host, &t->pci), 0);
	wr32(f, 1, PCI_VENDOR_ID, 0xffffffff);
	wr32(f, 1, PCI_CLASS_REVISION, 0xffffffff);
	cfg_wr(f, CF8, 1, PCI_DEVICE_ID, 2, 0);
	assert_int_equal(rd32(f, 1, PCI_VENDOR_ID), 0x10001af4);
	assert_int_equal(rd32(f, 1, PCI_CLASS_REVISION), 0x02000000);
	assert_int_equal(cfg_rd(f, ECAM, 1, PCI_HEADER_TYPE, 1), 0);
}

static void bar_sizing(void **state)
{
	struct fx *f = *state;
	struct tdev *t = tdev_new(f, NULL), *big = tdev_new(f, NULL);
	uint32_t r;
	int i;

	set_bar(t, 0, PCI_BAR_IO, 0x20, false);
	set_bar(t, 1, PCI_BAR_MEM32, 0x1000, false);
	set_bar(t, 2, PCI_BAR_MEM64, 0x100000, true);
	set_bar(t, 4, PCI_BAR_MEM32, 0x4000, true);
	set_bar(big, 0, PCI_BAR_MEM64, 8 * GiB, false);
	assert_int_equal(pci_host_add(&f->host, &t->pci), 0);
	assert_int_equal(pci_host_add(&f->host, &big->pci), 0);
	/* Assigned like firmware, naturally aligned, decode off. */
	assert_int_equal(rd32(f, 1, PCI_COMMAND) & 0xffff, 0);
	r = rd32(f, 1, PCI_BASE_ADDRESS_0);
	assert_int_equal(r & 3, PCI_BASE_ADDRESS_SPACE_IO);
	assert_true(r >= PCI_IO_WINDOW_BASE && (r & 0x1c) == 0);
	r = rd32(f, 1, PCI_BASE_ADDRESS_1);
	assert_true(r >= LAYOUT_MMIO32_BASE && (r & 0xfff) == 0);
	/* Prefetchable 64-bit goes high. */
	assert_true(t->pci.bar[2].addr >= layout_mmio64_base(RAM_SIZE));
	assert_int_equal(rd32(f, 1, PCI_BASE_ADDRESS_3), t->pci.bar[2].addr >> 32);

	for (i = 0; i < 6; i++)
		wr32(f, 1, PCI_BASE_ADDRESS_0 + 4 * i, 0xffffffff);
	wr32(f, 1, PCI_ROM_ADDRESS, 0xffffffff);
	assert_int_equal(rd32(f, 1, PCI_BASE_ADDRESS_0), 0xffffffe1);
	assert_int_equal(rd32(f, 1, PCI_BASE_ADDRESS_1), 0xfffff000);
	assert_int_equal(rd32(f, 1, PCI_BASE_ADDRESS_2), 0xfff0000c);
	assert_int_equal(rd32(f, 1, PCI_BASE_ADDRESS_3), 0xffffffff);
	assert_int_equal(rd32(f, 1, PCI_BASE_ADDRESS_4), 0xffffc008);
	assert_int_equal(rd32(f, 1, PCI_BASE_ADDRESS_5), 0);
	assert_int_equal(rd32(f, 1, PCI_ROM_ADDRESS), 0);	/* no ROM */
	/* An 8 GiB BAR: the size shows in the upper half too. */
	wr32(f, 2, PCI_BASE_ADDRESS_0, 0xffffffff);
	wr32(f, 2, PCI_BASE_ADDRESS_1, 0xffffffff);
	assert_int_equal(rd32(f, 2, PCI_BASE_ADDRESS_0), 0x00000004);
	assert_int_equal(rd32(f, 2, PCI_BASE_ADDRESS_1), 0xfffffffe);
}

static void mem_and_io_decode(void **state)
{
	struct fx *f = *state;
	struct tdev *t = tdev_new(f, NULL);
	uint8_t d[4];
	uint64_t io, mem;

	set_bar(t, 0, PCI_BAR_IO, 0x20, false);
	set_bar(t, 2, PCI_BAR_MEM64, 0x4000, false);
	assert_int_equal(pci_host_add(&f->host, &t->pci), 0);
	io = t->pci.bar[0].addr;
	mem = 0xc1230000;	/* the guest's choice, not ours */
	wr32(f, 1, PCI_BASE_ADDRESS_2, (uint32_t)mem);
	wr32(f, 1, PCI_BASE_ADDRESS_3, 0);
	assert_int_equal(mmio_rd(f, mem + 0x10, 4), -ENOENT);

	wr16(f, 1, PCI_COMMAND, PCI_COMMAND_MEMORY);
	assert_int_equal(mmio_rd(f, mem + 0x10, 4), 0);
	assert_int_equal(t->calls, 1);
	assert_int_equal(t->bar, 2);
	assert_int_equal(t->offset, 0x10);
	assert_int_equal(t->len, 4);
	assert_false(t->is_write);
	assert_int_equal(mmio_rd(f, mem + 0x3ffc, 8), -ENOENT);	/* past the end */
	assert_int_equal(bus_access(&f->pio, io, d, 1, false), -ENOENT);	/* IO still off */

	wr16(f, 1, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_IO);
	assert_int_equal(bus_access(&f->pio, io + 0x1f, d, 1, true), 0);
	assert_int_equal(t->bar, 0);
	assert_int_equal(t->offset, 0x1f);
	assert_true(t->is_write);
}

static void relocate_and_disable(void **state)
{
	struct fx *f = *state;
	struct tdev *t = tdev_new(f, NULL);
	uint64_t old;

	set_bar(t, 1, PCI_BAR_MEM32, 0x1000, false);
	assert_int_equal(pci_host_add(&f->host, &t->pci), 0);
	old = t->pci.bar[1].addr;
	wr16(f, 1, PCI_COMMAND, PCI_COMMAND_MEMORY);
	assert_int_equal(mmio_rd(f, old, 4), 0);

	/* Moved while decoding: gone from the old address, there at the new one. */
	wr32(f, 1, PCI_BASE_ADDRESS_1, 0xc8000000);
	assert_int_equal(mmio_rd(f, old, 4), -ENOENT);
	assert_int_equal(mmio_rd(f, 0xc8000ffc, 4), 0);
	assert_int_equal(t->offset, 0xffc);
	/* Sizing while decoding maps nothing at the top of the space. */
	wr32(f, 1, PCI_BASE_ADDRESS_1, 0xffffffff);
	assert_false(t->pci.bar[1].mapped);
	assert_int_equal(mmio_rd(f, 0xc8000000, 4), -ENOENT);
	wr32(f, 1, PCI_BASE_ADDRESS_1, 0xc8000000);
	assert_int_equal(mmio_rd(f, 0xc8000000, 4), 0);

	wr16(f, 1, PCI_COMMAND, 0);
	assert_int_equal(mmio_rd(f, 0xc8000000, 4), -ENOENT);
	assert_false(t->pci.bar[1].mapped);
}

static void other_bar_io(void *opaque, uint64_t offset, uint8_t *data, uint32_t len,
			 bool is_write)
{
	(void)offset, (void)is_write;
	(*(int *)opaque)++;
	memset(data, 0x55, len);
}

static void overlapping_bar_stays_unmapped(void **state)
{
	struct fx *f = *state;
	struct tdev *a = tdev_new(f, NULL), *b = tdev_new(f, NULL);
	int other = 0;

	set_bar(a, 0, PCI_BAR_MEM32, 0x1000, false);
	set_bar(b, 0, PCI_BAR_MEM32, 0x1000, false);
	assert_int_equal(pci_host_add(&f->host, &a->pci), 0);
	assert_int_equal(pci_host_add(&f->host, &b->pci), 0);
	assert_int_equal(bus_register(&f->mmio, 0xd0000000, 0x10000, other_bar_io, &other, "x"), 0);

	/* Over a non-PCI range: that range keeps its accesses. */
	wr32(f, 1, PCI_BASE_ADDRESS_0, 0xd0004000);
	wr16(f, 1, PCI_COMMAND, PCI_COMMAND_MEMORY);
	assert_false(a->pci.bar[0].mapped);
	assert_int_equal(mmio_rd(f, 0xd0004000, 4), 0);
	assert_int_equal(other, 1);
	assert_int_equal(a->calls, 0);

	/* Over another device's BAR: the first one there keeps it. */
	wr32(f, 2, PCI_BASE_ADDRESS_0, 0xc4000000);
	wr16(f, 2, PCI_COMMAND, PCI_COMMAND_MEMORY);
	wr32(f, 1, PCI_BASE_ADDRESS_0, 0xc4000000);
	assert_false(a->pci.bar[0].mapped);
	assert_int_equal(mmio_rd(f, 0xc4000000, 4), 0);
	assert_int_equal(b->calls, 1);

	/* The two trade places in one step each: both end up mapped. */
	wr32(f, 2, PCI_BASE_ADDRESS_0, 0xc5000000);
	assert_true(a->pci.bar[0].mapped);
	assert_true(b->pci.bar[0].mapped);
	assert_int_equal(mmio_rd(f, 0xc4000000, 4), 0);
	assert_int_equal(a->calls, 1);
	assert_int_equal(bus_unregister(&f->mmio, 0xd0000000), 0);
}

static void status_rw1c(void **state)
{
	struct fx *f = *state;
	struct tdev *t = tdev_new(f, NULL);
	uint16_t st;

	assert_int_equal(pci_dev_add_cap(&t->pci, PCI_CAP_ID_PM, 8), 0x40);
	assert_int_equal(pci_host_add(&f->host, &t->pci), 0);
	/* The device reports a master abort and a parity error. */
	pci_put16(&t->pci.cfg[PCI_STATUS], pci_cfg_get16(&t->pci, PCI_STATUS) |
		  PCI_STATUS_REC_MASTER_ABORT | PCI_STATUS_DETECTED_PARITY);
	wr16(f, 1, PCI_STATUS, 0);
	st = (uint16_t)cfg_rd(f, ECAM, 1, PCI_STATUS, 2);
	assert_int_equal(st, PCI_STATUS_CAP_LIST | PCI_STATUS_REC_MASTER_ABORT |
			     PCI_STATUS_DETECTED_PARITY);
	/* Write one to clear; the RO capability bit stays. A dword write at the command. */
	wr32(f, 1, PCI_COMMAND, (uint32_t)(PCI_STATUS_REC_MASTER_ABORT | PCI_STATUS_CAP_LIST) << 16);
	st = (uint16_t)cfg_rd(f, CF8, 1, PCI_STATUS, 2);
	assert_int_equal(st, PCI_STATUS_CAP_LIST | PCI_STATUS_DETECTED_PARITY);
}

static void capability_chain(void **state)
{
	struct fx *f = *state;
	struct tdev *t = tdev_new(f, NULL);
	uint32_t ptr, ids[4], n = 0;

	assert_int_equal(pci_dev_add_cap(&t->pci, PCI_CAP_ID_MSI, 14), 0x40);
	assert_int_equal(pci_dev_add_cap(&t->pci, PCI_CAP_ID_MSIX, 12), 0x50);
	assert_int_equal(pci_dev_add_cap(&t->pci, PCI_CAP_ID_VNDR, 1), -EINVAL);
	assert_int_equal(pci_host_add(&f->host, &t->pci), 0);
	assert_true(cfg_rd(f, CF8, 1, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	/* The header is read-only to the guest. */
	wr16(f, 1, 0x40, 0xffff);
	for (ptr = cfg_rd(f, CF8, 1, PCI_CAPABILITY_LIST, 1); ptr && n < 4;
	     ptr = cfg_rd(f, ECAM, 1, ptr + PCI_CAP_LIST_NEXT, 1))
		ids[n++] = cfg_rd(f, ECAM, 1, ptr + PCI_CAP_LIST_ID, 1);
	assert_int_equal(n, 2);
	assert_int_equal(ids[0], PCI_CAP_ID_MSI);
	assert_int_equal(ids[1], PCI_CAP_ID_MSIX);
	/* The rest of the 256 bytes, then no more. */
	assert_int_equal(pci_dev_add_cap(&t->pci, PCI_CAP_ID_VNDR, 0x100 - 0x5c), 0x5c);
	assert_int_equal(pci_dev_add_cap(&t->pci, PCI_CAP_ID_VNDR, 4), -ENOSPC);
}

static void window_exhaustion(void **state)
{
	struct fx *f = *state;
	struct tdev *a = tdev_new(f, NULL), *b = tdev_new(f, NULL), *c = tdev_new(f, NULL);

	set_bar(a, 0, PCI_BAR_MEM32, LAYOUT_MMIO32_SIZE / 2, false);
	set_bar(b, 0, PCI_BAR_MEM32, LAYOUT_MMIO32_SIZE / 2, false);
	set_bar(c, 0, PCI_BAR_MEM32, 0x1000, false);
	assert_int_equal(pci_host_add(&f->host, &a->pci), 0);
	assert_int_equal(pci_host_add(&f->host, &b->pci), 0);
	assert_int_equal(pci_host_add(&f->host, &c->pci), -ENOSPC);
	assert_int_equal(c->pci.slot, -1);
	assert_null(c->pci.host);
	/* Removing a device frees its space. */
	pci_host_remove(&f->host, &a->pci);
	assert_int_equal(pci_host_add(&f->host, &c->pci), 0);
	assert_int_equal(c->pci.bar[0].addr, LAYOUT_MMIO32_BASE);
	/* Slots: a taken one is -EBUSY. */
	a->pci.slot = c->pci.slot;
	assert_int_equal(pci_host_add(&f->host, &a->pci), -EBUSY);
}

static void intx_swizzle(void **state)
{
	struct fx *f = *state;
	static const uint8_t pins[] = { 1, 2, 3, 4, 1, 0 };
	unsigned i, slot;

	assert_int_equal(pci_intx_gsi(0, 0), LAYOUT_PCI_INTX_GSI_BASE);
	assert_int_equal(pci_intx_gsi(3, 2), LAYOUT_PCI_INTX_GSI_BASE + 1);
	for (i = 0; i < ARRAY_SIZE(pins); i++) {
		struct tdev *t = tdev_new(f, NULL);

		t->pci.slot = (int)(3 + i);
		t->pci.cfg[PCI_INTERRUPT_PIN] = pins[i];
		assert_int_equal(pci_host_add(&f->host, &t->pci), 0);
	}
	for (i = 0; i < ARRAY_SIZE(pins); i++) {
		slot = 3 + i;
		assert_int_equal(cfg_rd(f, CF8, slot, PCI_INTERRUPT_PIN, 1), pins[i]);
		assert_int_equal(cfg_rd(f, ECAM, slot, PCI_INTERRUPT_LINE, 1),
				 pins[i] ? LAYOUT_PCI_INTX_GSI_BASE + (slot + pins[i] - 1) % 4 : 0);
	}
}

static void rom_bar(void **state)
{
	struct fx *f = *state;
	struct tdev *t = tdev_new(f, NULL);
	uint32_t rom;

	set_bar(t, PCI_BAR_ROM, PCI_BAR_MEM32, 0x8000, false);
	assert_int_equal(pci_host_add(&f->host, &t->pci), 0);
	rom = rd32(f, 1, PCI_ROM_ADDRESS);
	assert_int_equal(rom, t->pci.rom.addr);
	assert_true(rom >= LAYOUT_MMIO32_BASE && !(rom & 0x7fff));
	wr32(f, 1, PCI_ROM_ADDRESS, 0xffffffff);
	assert_int_equal(rd32(f, 1, PCI_ROM_ADDRESS), 0xffff8001);
	/* Decoded only with both MEM and the ROM's own enable bit. */
	wr32(f, 1, PCI_ROM_ADDRESS, rom);
	wr16(f, 1, PCI_COMMAND, PCI_COMMAND_MEMORY);
	assert_int_equal(mmio_rd(f, rom, 4), -ENOENT);
	wr32(f, 1, PCI_ROM_ADDRESS, rom | PCI_ROM_ADDRESS_ENABLE);
	assert_int_equal(mmio_rd(f, rom + 0x7ffc, 4), 0);
	assert_int_equal(t->bar, PCI_BAR_ROM);
	assert_int_equal(t->offset, 0x7ffc);
}

/* A passthrough-style device: cfg[] is a cache, BARs mapped by the device. */
static void pt_cfg_read(struct pci_dev *d, uint32_t off, uint32_t len)
{
	struct tdev *t = to_tdev(d);

	(void)off, (void)len;
	t->cfg_reads++;
	pci_put32(&d->cfg[0x48], 0x1000 + (uint32_t)t->cfg_reads);	/* "live" register */
}

static void pt_cfg_write(struct pci_dev *d, uint32_t off, const uint8_t *data, uint32_t len)
{
	struct tdev *t = to_tdev(d);

	t->wr_off = off;
	t->wr_len = len;
	memcpy(t->wr_data, data, len);
}

static int pt_bar_map(struct pci_dev *d, int bar, uint64_t addr)
{
	struct tdev *t = to_tdev(d);

	(void)bar;
	t->maps++;
	t->map_addr = addr;
	return addr == 0xc9000000 ? -EBUSY : 0;
}

static void pt_bar_unmap(struct pci_dev *d, int bar, uint64_t addr)
{
	struct tdev *t = to_tdev(d);

	(void)bar;
	assert_int_equal(addr, t->map_addr);
	t->unmaps++;
}

static const struct pci_dev_ops pt_ops = {
	.cfg_read = pt_cfg_read, .cfg_write = pt_cfg_write,
	.bar_map = pt_bar_map, .bar_unmap = pt_bar_unmap,
};

static void full_control_hooks(void **state)
{
	struct fx *f = *state;
	struct tdev *t = tdev_new(f, &pt_ops);
	uint64_t addr;

	set_bar(t, 0, PCI_BAR_MEM32, 0x4000, false);
	assert_int_equal(pci_host_add(&f->host, &t->pci), 0);
	addr = t->pci.bar[0].addr;
	/* Reads see what the hook refreshed; writes reach it raw, past a zero wmask. */
	assert_int_equal(rd32(f, 1, 0x48), 0x1001);
	assert_int_equal(rd32(f, 1, 0x48), 0x1002);
	wr32(f, 1, 0x48, 0xdeadbeef);
	assert_int_equal(t->wr_off, 0x48);
	assert_int_equal(t->wr_len, 4);
	assert_int_equal(le(t->wr_data, 4), 0xdeadbeef);
	/* bar_map replaces bus registration. */
	wr16(f, 1, PCI_COMMAND, PCI_COMMAND_MEMORY);
	assert_int_equal(t->maps, 1);
	assert_int_equal(t->map_addr, addr);
	assert_int_equal(mmio_rd(f, addr, 4), -ENOENT);
	wr32(f, 1, PCI_BASE_ADDRESS_0, 0xc9000000);	/* the device refuses this one */
	assert_int_equal(t->unmaps, 1);
	assert_int_equal(t->maps, 2);
	assert_false(t->pci.bar[0].mapped);
	wr16(f, 1, PCI_COMMAND, 0);
	assert_int_equal(t->unmaps, 1);
}

static void add_refuses_malformed(void **state)
{
	struct fx *f = *state;
	struct tdev *t = tdev_new(f, NULL);

	set_bar(t, 0, PCI_BAR_MEM32, 0x1800, false);
	assert_int_equal(pci_host_add(&f->host, &t->pci), -EINVAL);
	set_bar(t, 0, PCI_BAR_MEM64, 0x1000, false);
	set_bar(t, 1, PCI_BAR_MEM32, 0x1000, false);
	assert_int_equal(pci_host_add(&f->host, &t->pci), -EINVAL);
	set_bar(t, 1, PCI_BAR_NONE, 0, false);
	set_bar(t, 5, PCI_BAR_MEM64, 0x1000, false);
	assert_int_equal(pci_host_add(&f->host, &t->pci), -EINVAL);
	set_bar(t, 5, PCI_BAR_IO, 0x10, true);
	assert_int_equal(pci_host_add(&f->host, &t->pci), -EINVAL);
	set_bar(t, 5, PCI_BAR_NONE, 0, false);
	t->pci.slot = 32;
	assert_int_equal(pci_host_add(&f->host, &t->pci), -EINVAL);
	t->pci.slot = -1;
	assert_int_equal(pci_host_add(&f->host, &t->pci), 0);
	/* A small 64-bit BAR that is not prefetchable stays below 4 GiB. */
	assert_true(t->pci.bar[0].addr >= LAYOUT_MMIO32_BASE &&
		    t->pci.bar[0].addr < LAYOUT_MMIO32_BASE + LAYOUT_MMIO32_SIZE);
}

static void remove_unmaps(void **state)
{
	struct fx *f = *state;
	struct tdev *t = tdev_new(f, NULL);

	set_bar(t, 0, PCI_BAR_MEM32, 0x1000, false);
	assert_int_equal(pci_host_add(&f->host, &t->pci), 0);
	wr16(f, 1, PCI_COMMAND, PCI_COMMAND_MEMORY);
	assert_int_equal(mmio_rd(f, t->pci.bar[0].addr, 4), 0);
	pci_host_remove(&f->host, &t->pci);
	assert_int_equal(mmio_rd(f, t->pci.bar[0].addr, 4), -ENOENT);
	assert_int_equal(rd32(f, 1, PCI_VENDOR_ID), 0xffffffff);
	pci_host_remove(&f->host, &t->pci);	/* twice is harmless */
}

static void io_sink(void *opaque, uint64_t offset, uint8_t *data, uint32_t len, bool is_write)
{
	(void)opaque, (void)offset, (void)data, (void)len, (void)is_write;
}

/* No fixture: a port already taken makes init fail cleanly. */
static void init_fails_cleanly(void **state)
{
	struct fx *f = test_calloc(1, sizeof(*f));

	(void)state;
	assert_int_equal(bus_init(&f->pio, "pio"), 0);
	assert_int_equal(bus_init(&f->mmio, "mmio"), 0);
	assert_int_equal(bus_register(&f->mmio, LAYOUT_ECAM_BASE + 0x8000, 4, io_sink, NULL, "x"), 0);
	assert_int_equal(pci_host_init(&f->host, &f->pio, &f->mmio, RAM_SIZE), -EEXIST);
	assert_null(f->host.pio);
	assert_int_equal(f->pio.nr, 0);
	assert_int_equal(f->mmio.nr, 1);
	bus_exit(&f->mmio);
	bus_exit(&f->pio);
	test_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(lanes_cf8_and_ecam, setup, teardown),
		cmocka_unit_test_setup_teardown(absent_reads_all_ones, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_sizes_are_harmless, setup, teardown),
		cmocka_unit_test_setup_teardown(ids_read_only, setup, teardown),
		cmocka_unit_test_setup_teardown(bar_sizing, setup, teardown),
		cmocka_unit_test_setup_teardown(mem_and_io_decode, setup, teardown),
		cmocka_unit_test_setup_teardown(relocate_and_disable, setup, teardown),
		cmocka_unit_test_setup_teardown(overlapping_bar_stays_unmapped, setup, teardown),
		cmocka_unit_test_setup_teardown(status_rw1c, setup, teardown),
		cmocka_unit_test_setup_teardown(capability_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(window_exhaustion, setup, teardown),
		cmocka_unit_test_setup_teardown(intx_swizzle, setup, teardown),
		cmocka_unit_test_setup_teardown(rom_bar, setup, teardown),
		cmocka_unit_test_setup_teardown(full_control_hooks, setup, teardown),
		cmocka_unit_test_setup_teardown(add_refuses_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(remove_unmaps, setup, teardown),
		cmocka_unit_test(init_fails_cleanly),
	};
	return cmocka_run_group_tests_name("pci", tests, NULL, NULL);
}
