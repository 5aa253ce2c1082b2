/* cmocka: MSI-X emulation (vmm/msix.c) on a PCI host over plain buses, no KVM. */
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
#include "vmm/msix.h"
#include "tests/unit/msi_events.h"
#include "vmm/pci.h"

#define RAM_SIZE	(4 * GiB)
#define SLOT		1		/* the first device after the host bridge */
#define BAR		2
#define BAR_SIZE	0x10000
#define PBA_OFF		0x8000		/* after a 2048-vector table */
#define ADDR		0xfee01000ull
#define ADDR64		0x12345678fee02000ull

struct tdev {
	struct pci_dev pci;
	struct msix msix;
	struct ev_log log;
	bool msix_up;
};

struct fx {
	struct bus pio, mmio;
	struct pci_host host;
	struct tdev t;
};

static struct tdev *to_tdev(struct pci_dev *d)
{
	return (struct tdev *)((char *)d - offsetof(struct tdev, pci));
}


static void forget_events(struct tdev *t)
{
	t->log = (struct ev_log){ 0 };
}

/* ---- The device model: config writes and BAR accesses go to msix ---- */

static void tdev_cfg_write(struct pci_dev *d, uint32_t off, const uint8_t *data, uint32_t len)
{
	(void)data;
	msix_cfg_written(&to_tdev(d)->msix, off, len);
}

static void tdev_bar_access(struct pci_dev *d, int bar, uint64_t offset, uint8_t *data,
			    uint32_t len, bool is_write)
{
	if (!msix_bar_access(&to_tdev(d)->msix, bar, offset, data, len, is_write) && !is_write)
		memset(data, 0x5a, len);	/* the device's own registers */
}

static const struct pci_dev_ops tdev_ops = {
	.cfg_write = tdev_cfg_write, .bar_access = tdev_bar_access,
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

	if (f->t.msix_up)
		msix_exit(&f->t.msix);
	pci_host_exit(&f->host);
	bus_exit(&f->mmio);
	bus_exit(&f->pio);
	test_free(f);
	return 0;
}

static void tdev_init(struct tdev *t)
{
	pci_dev_init(&t->pci, "tdev", &tdev_ops, 0x1af4, 0x1041, 0x020000);
	t->pci.bar[BAR].type = PCI_BAR_MEM32;
	t->pci.bar[BAR].size = BAR_SIZE;
}

/* The fixture's device with @nr vectors, table at BAR2 + 0, PBA at BAR2 + PBA_OFF, on slot 1. */
static struct tdev *add(struct fx *f, unsigned nr)
{
	struct msix_layout l = { .nr_vectors = nr, .table_bar = BAR, .pba_bar = BAR,
				 .table_offset = 0, .pba_offset = PBA_OFF };
	struct tdev *t = &f->t;

	tdev_init(t);
	assert_int_equal(msix_init(&t->msix, &t->pci, &l, &ev_ops, &t->log), 0);
	t->msix_up = true;
	assert_int_equal(pci_host_add(&f->host, &t->pci), 0);
	return t;
}

/* ---- Config space through ECAM, the table and PBA directly ---- */

static uint32_t cfg_rd(struct fx *f, uint32_t reg, uint32_t len)
{
	uint8_t d[4] = { 0 };

	assert_int_equal(bus_access(&f->mmio, LAYOUT_ECAM_BASE + (SLOT << 15 | reg), d, len,
				    false), 0);
	return (uint32_t)d[0] | (uint32_t)d[1] << 8 | (uint32_t)d[2] << 16 | (uint32_t)d[3] << 24;
}

static void cfg_wr(struct fx *f, uint32_t reg, uint32_t len, uint32_t v)
{
	uint8_t d[4];

	pci_put32(d, v);
	assert_int_equal(bus_access(&f->mmio, LAYOUT_ECAM_BASE + (SLOT << 15 | reg), d, len,
				    true), 0);
}

static void ctrl_wr(struct fx *f, uint16_t v)
{
	cfg_wr(f, f->t.msix.cap + PCI_MSIX_FLAGS, 2, v);
}

static uint64_t le64(const uint8_t *d)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | d[i];
	return v;
}

static void put64(uint8_t *d, uint64_t v)
{
	pci_put32(d, (uint32_t)v);
	pci_put32(d + 4, (uint32_t)(v >> 32));
}

static uint64_t tbl_rd(struct tdev *t, uint64_t off, uint32_t len)
{
	uint8_t d[8] = { 0 };

	msix_table_access(&t->msix, off, d, len, false);
	return len == 8 ? le64(d) : (uint32_t)le64(d);
}

static void tbl_wr(struct tdev *t, uint64_t off, uint32_t len, uint64_t v)
{
	uint8_t d[8];

	put64(d, v);
	msix_table_access(&t->msix, off, d, len, true);
}

static uint64_t pba_rd(struct tdev *t, uint64_t off, uint32_t len)
{
	uint8_t d[8] = { 0 };

	msix_pba_access(&t->msix, off, d, len, false);
	return len == 8 ? le64(d) : (uint32_t)le64(d);
}

/* Vector @n's address and data, written as Linux does: QWORDs, mask untouched. */
static void program(struct tdev *t, unsigned n, uint64_t addr, uint32_t data)
{
	uint64_t e = (uint64_t)n * PCI_MSIX_ENTRY_SIZE;

	tbl_wr(t, e + PCI_MSIX_ENTRY_LOWER_ADDR, 8, addr);
	tbl_wr(t, e + PCI_MSIX_ENTRY_DATA, 4, data);
}

static void set_mask(struct tdev *t, unsigned n, bool masked)
{
	tbl_wr(t, (uint64_t)n * PCI_MSIX_ENTRY_SIZE + PCI_MSIX_ENTRY_VECTOR_CTRL, 4, masked);
}

/* ---- Tests ---- */

static void cap_bytes(void **state)
{
	struct fx *f = *state;
	struct tdev *t = &f->t;
	struct msix_layout l = { .nr_vectors = 37, .table_bar = BAR, .pba_bar = 4,
				 .table_offset = 0x3000, .pba_offset = 0x808 };
	uint16_t cap;

	tdev_init(t);
	t->pci.bar[4].type = PCI_BAR_MEM32;
	t->pci.bar[4].size = 0x1000;
	assert_int_equal(pci_dev_add_cap(&t->pci, PCI_CAP_ID_PM, 8), 0x40);
	assert_int_equal(msix_init(&t->msix, &t->pci, &l, &ev_ops, &t->log), 0);
	t->msix_up = true;
	assert_int_equal(pci_dev_add_cap(&t->pci, PCI_CAP_ID_VNDR, 4), 0x54);
	assert_int_equal(pci_host_add(&f->host, &t->pci), 0);
	cap = t->msix.cap;
	assert_int_equal(cap, 0x48);

	/* The chain: PM -> MSI-X -> vendor, through config reads. */
	assert_true(cfg_rd(f, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	assert_int_equal(cfg_rd(f, PCI_CAPABILITY_LIST, 1), 0x40);
	assert_int_equal(cfg_rd(f, 0x40 + PCI_CAP_LIST_NEXT, 1), cap);
	assert_int_equal(cfg_rd(f, cap + PCI_CAP_LIST_ID, 1), PCI_CAP_ID_MSIX);
	assert_int_equal(cfg_rd(f, cap + PCI_CAP_LIST_NEXT, 1), 0x54);
	/* §6.8.2.3-5: Table Size N - 1, disabled; offset | BIR. */
	assert_int_equal(cfg_rd(f, cap + PCI_MSIX_FLAGS, 2), 36);
	assert_int_equal(cfg_rd(f, cap + PCI_MSIX_TABLE, 4), 0x3000 | BAR);
	assert_int_equal(cfg_rd(f, cap + PCI_MSIX_PBA, 4), 0x808 | 4);
	assert_false(msix_enabled(&t->msix));
}

static void only_enable_and_mask_writable(void **state)
{
	struct fx *f = *state;
	struct tdev *t = add(f, 8);
	uint16_t cap = t->msix.cap;

	ctrl_wr(f, 0xffff);
	assert_int_equal(cfg_rd(f, cap + PCI_MSIX_FLAGS, 2),
			 PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL | 7);
	assert_true(msix_enabled(&t->msix));
	assert_true(t->msix.function_masked);
	cfg_wr(f, cap, 4, 0);	/* ID, next and Table Size stay */
	assert_int_equal(cfg_rd(f, cap, 4), 7u << 16 | PCI_CAP_ID_MSIX);
	assert_false(msix_enabled(&t->msix));
	cfg_wr(f, cap + PCI_MSIX_TABLE, 4, 0xffffffff);
	cfg_wr(f, cap + PCI_MSIX_PBA, 4, 0xffffffff);
	assert_int_equal(cfg_rd(f, cap + PCI_MSIX_TABLE, 4), BAR);
	assert_int_equal(cfg_rd(f, cap + PCI_MSIX_PBA, 4), PBA_OFF | BAR);
	/* The high byte alone: Enable only. */
	cfg_wr(f, cap + PCI_MSIX_FLAGS + 1, 1, 0x80);
	assert_true(msix_enabled(&t->msix));
	assert_false(t->msix.function_masked);
	expect_none(&t->log);		/* every vector masked: nothing to report */
}

static void table_reset_state(void **state)
{
	struct fx *f = *state;
	struct tdev *t = add(f, 8);
	unsigned n;

	/* §6.8.2.9: Mask bits come out of reset set; address and data we clear. */
	for (n = 0; n < 8; n++) {
		assert_int_equal(tbl_rd(t, n * 16 + PCI_MSIX_ENTRY_LOWER_ADDR, 8), 0);
		assert_int_equal(tbl_rd(t, n * 16 + PCI_MSIX_ENTRY_DATA, 4), 0);
		assert_int_equal(tbl_rd(t, n * 16 + PCI_MSIX_ENTRY_VECTOR_CTRL, 4), 1);
	}
	assert_int_equal(pba_rd(t, 0, 8), 0);
}

static void table_dword_and_qword(void **state)
{
	struct fx *f = *state;
	struct tdev *t = add(f, 8);

	/* DWORDs: address bits 1:0 and Vector Control bits 31:1 read 0. */
	tbl_wr(t, 0x20 + PCI_MSIX_ENTRY_LOWER_ADDR, 4, 0xfee00003);
	tbl_wr(t, 0x20 + PCI_MSIX_ENTRY_UPPER_ADDR, 4, 0x12);
	tbl_wr(t, 0x20 + PCI_MSIX_ENTRY_DATA, 4, 0xdeadbeef);
	tbl_wr(t, 0x20 + PCI_MSIX_ENTRY_VECTOR_CTRL, 4, 0xfffffffe);
	assert_int_equal(tbl_rd(t, 0x20, 4), 0xfee00000);
	assert_int_equal(tbl_rd(t, 0x24, 4), 0x12);
	assert_int_equal(tbl_rd(t, 0x28, 4), 0xdeadbeef);
	assert_int_equal(tbl_rd(t, 0x2c, 4), 0);
	/* QWORDs over address lo/hi and over data/control. */
	assert_int_equal(tbl_rd(t, 0x20, 8), 0x12fee00000ull);
	tbl_wr(t, 0x30, 8, ADDR64);
	tbl_wr(t, 0x38, 8, 0x00000001000000abull);
	assert_int_equal(tbl_rd(t, 0x30, 4), (uint32_t)ADDR64);
	assert_int_equal(tbl_rd(t, 0x34, 4), ADDR64 >> 32);
	assert_int_equal(tbl_rd(t, 0x38, 8), 0x00000001000000abull);
	assert_int_equal(tbl_rd(t, 0x20, 8), 0x12fee00000ull);	/* its neighbour untouched */
	expect_none(&t->log);		/* disabled: no routing yet */
}

static void bad_accesses_harmless(void **state)
{
	struct fx *f = *state;
	struct tdev *t = add(f, 8);
	static const struct { uint64_t off; uint32_t len; } bad[] = {
		{ 0x10, 1 }, { 0x10, 2 }, { 0x10, 3 }, { 0x12, 4 }, { 0x14, 8 }, { 0x1c, 8 },
		{ 8 * 16, 4 }, { 8 * 16 - 4, 8 }, { 0x10000, 8 }, { UINT64_MAX - 3, 4 },
	};
	uint8_t d[8];
	unsigned i;

	program(t, 1, ADDR, 0x41);
	ctrl_wr(f, PCI_MSIX_FLAGS_ENABLE);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		memset(d, 0, sizeof(d));
		msix_table_access(&t->msix, bad[i].off, d, bad[i].len, false);
		assert_memory_equal(d, "\xff\xff\xff\xff\xff\xff\xff\xff", bad[i].len);
		memset(d, 0, sizeof(d));
		msix_table_access(&t->msix, bad[i].off, d, bad[i].len, true);
		memset(d, 0, sizeof(d));
		msix_pba_access(&t->msix, bad[i].off, d, bad[i].len, false);
		assert_memory_equal(d, "\xff\xff\xff\xff\xff\xff\xff\xff", bad[i].len);
	}
	/* The writes were dropped: vector 1 still masked, its entry as programmed. */
	assert_int_equal(tbl_rd(t, 0x10, 8), ADDR);
	assert_int_equal(tbl_rd(t, 0x18, 8), 1ull << 32 | 0x41);
	/* The PBA is one QWORD for 8 vectors: 8 and beyond is out. */
	assert_int_equal(pba_rd(t, 8, 4), 0xffffffff);
	expect_none(&t->log);
}

static void update_once_per_transition(void **state)
{
	struct fx *f = *state;
	struct tdev *t = add(f, 4);

	/* Unmasked while disabled: nothing yet. Enable: one update. */
	program(t, 2, ADDR, 0x42);
	set_mask(t, 2, false);
	expect_none(&t->log);
	ctrl_wr(f, PCI_MSIX_FLAGS_ENABLE);
	expect_update(&t->log, 2, ADDR, 0x42, true);
	ctrl_wr(f, PCI_MSIX_FLAGS_ENABLE);	/* same value: no change */
	set_mask(t, 2, false);
	expect_none(&t->log);
	/* Vector mask and unmask. */
	set_mask(t, 2, true);
	expect_update(&t->log, 2, ADDR, 0x42, false);
	set_mask(t, 2, true);
	program(t, 2, ADDR64, 0x43);	/* while masked: reported at unmask */
	expect_none(&t->log);
	set_mask(t, 2, false);
	expect_update(&t->log, 2, ADDR64, 0x43, true);
	/* Function Mask and unmask. */
	ctrl_wr(f, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	expect_update(&t->log, 2, ADDR64, 0x43, false);
	ctrl_wr(f, PCI_MSIX_FLAGS_ENABLE);
	expect_update(&t->log, 2, ADDR64, 0x43, true);
	/* Data written while unmasked (out of spec, applied); same data again: nothing. */
	tbl_wr(t, 2 * 16 + PCI_MSIX_ENTRY_DATA, 4, 0x44);
	expect_update(&t->log, 2, ADDR64, 0x44, true);
	tbl_wr(t, 2 * 16 + PCI_MSIX_ENTRY_DATA, 4, 0x44);
	tbl_wr(t, 2 * 16, 8, ADDR64);
	expect_none(&t->log);
	/* Disable: the last reported routing goes. */
	ctrl_wr(f, 0);
	expect_update(&t->log, 2, ADDR64, 0x44, false);
	ctrl_wr(f, PCI_MSIX_FLAGS_MASKALL);
	expect_none(&t->log);
	assert_int_equal(t->log.fires, 0);
}

static void signal_masked_pends(void **state)
{
	struct fx *f = *state;
	struct tdev *t = add(f, 8);

	program(t, 3, ADDR, 0x33);
	ctrl_wr(f, PCI_MSIX_FLAGS_ENABLE);
	/* Masked: the PBA bit, no message; twice is still one bit. */
	assert_int_equal(msix_signal(&t->msix, 3), 0);
	assert_int_equal(msix_signal(&t->msix, 3), 0);
	assert_int_equal(pba_rd(t, 0, 4), 1u << 3);
	assert_int_equal(pba_rd(t, 0, 8), 1u << 3);
	expect_none(&t->log);
	/* §6.8.2.9: unmasked with Pending set, the message goes, once. */
	set_mask(t, 3, false);
	expect_update(&t->log, 3, ADDR, 0x33, true);
	expect_fire(&t->log, 3);
	expect_none(&t->log);
	assert_int_equal(pba_rd(t, 0, 8), 0);
	/* The same through Function Mask. */
	ctrl_wr(f, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	expect_update(&t->log, 3, ADDR, 0x33, false);
	assert_int_equal(msix_signal(&t->msix, 3), 0);
	assert_int_equal(pba_rd(t, 0, 8), 1u << 3);
	ctrl_wr(f, PCI_MSIX_FLAGS_ENABLE);
	expect_update(&t->log, 3, ADDR, 0x33, true);
	expect_fire(&t->log, 3);
	expect_none(&t->log);
	assert_int_equal(pba_rd(t, 0, 8), 0);
}

static void signal_enabled_fires(void **state)
{
	struct fx *f = *state;
	struct tdev *t = add(f, 8);

	program(t, 7, ADDR, 0x77);
	set_mask(t, 7, false);
	/* Disabled: dropped (the function uses INTx), nothing pends. */
	assert_int_equal(msix_signal(&t->msix, 7), -EAGAIN);
	assert_int_equal(pba_rd(t, 0, 8), 0);
	ctrl_wr(f, PCI_MSIX_FLAGS_ENABLE);
	expect_update(&t->log, 7, ADDR, 0x77, true);
	assert_int_equal(msix_signal(&t->msix, 7), 0);
	assert_int_equal(msix_signal(&t->msix, 7), 0);
	expect_fire(&t->log, 7);
	expect_fire(&t->log, 7);
	expect_none(&t->log);
	assert_int_equal(pba_rd(t, 0, 8), 0);
	assert_int_equal(msix_signal(&t->msix, 8), -EINVAL);
	assert_int_equal(msix_signal(&t->msix, UINT32_MAX), -EINVAL);
}

static void pba_read_only(void **state)
{
	struct fx *f = *state;
	struct tdev *t = add(f, 100);
	uint8_t d[8] = { 0 };

	ctrl_wr(f, PCI_MSIX_FLAGS_ENABLE);
	assert_int_equal(msix_signal(&t->msix, 70), 0);
	assert_int_equal(pba_rd(t, 8, 8), 1u << 6);
	assert_int_equal(pba_rd(t, 8, 4), 1u << 6);
	assert_int_equal(pba_rd(t, 12, 4), 0);
	msix_pba_access(&t->msix, 8, d, 8, true);
	msix_pba_access(&t->msix, 8, d, 4, true);
	assert_int_equal(pba_rd(t, 8, 8), 1u << 6);
	/* Two QWORDs for 100 vectors: 16 is past the end. */
	assert_int_equal(pba_rd(t, 16, 8), UINT64_MAX);
	expect_none(&t->log);
}

static void through_the_bar(void **state)
{
	struct fx *f = *state;
	struct tdev *t = add(f, 8);
	uint64_t base;
	uint8_t d[8];

	cfg_wr(f, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	base = t->pci.bar[BAR].addr;
	put64(d, ADDR);
	assert_int_equal(bus_access(&f->mmio, base + 0x10, d, 8, true), 0);
	pci_put32(d, 0x51);
	assert_int_equal(bus_access(&f->mmio, base + 0x18, d, 4, true), 0);
	pci_put32(d, 0);
	assert_int_equal(bus_access(&f->mmio, base + 0x1c, d, 4, true), 0);
	ctrl_wr(f, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	assert_int_equal(msix_signal(&t->msix, 1), 0);
	assert_int_equal(bus_access(&f->mmio, base + PBA_OFF, d, 8, false), 0);
	assert_int_equal(le64(d), 2);
	/* Past the table and PBA: the device's own registers. */
	assert_int_equal(bus_access(&f->mmio, base + 0x80, d, 4, false), 0);
	assert_memory_equal(d, "\x5a\x5a\x5a\x5a", 4);
	assert_int_equal(bus_access(&f->mmio, base + PBA_OFF + 8, d, 4, false), 0);
	assert_memory_equal(d, "\x5a\x5a\x5a\x5a", 4);
	ctrl_wr(f, PCI_MSIX_FLAGS_ENABLE);
	expect_update(&t->log, 1, ADDR, 0x51, true);
	expect_fire(&t->log, 1);
	expect_none(&t->log);
}

static void vectors_2048(void **state)
{
	struct fx *f = *state;
	struct tdev *t = add(f, MSIX_MAX_VECTORS);
	uint64_t last = (MSIX_MAX_VECTORS - 1) * PCI_MSIX_ENTRY_SIZE;
	unsigned n;

	assert_int_equal(cfg_rd(f, t->msix.cap + PCI_MSIX_FLAGS, 2), 0x7ff);
	program(t, 2047, ADDR, 0x7ff);
	assert_int_equal(tbl_rd(t, last, 8), ADDR);
	assert_int_equal(tbl_rd(t, last + 8, 8), 1ull << 32 | 0x7ff);
	assert_int_equal(tbl_rd(t, last + 16, 4), 0xffffffff);	/* one past */
	ctrl_wr(f, PCI_MSIX_FLAGS_ENABLE);
	assert_int_equal(msix_signal(&t->msix, 2047), 0);
	assert_int_equal(pba_rd(t, 31 * 8, 8), 1ull << 63);
	assert_int_equal(pba_rd(t, 31 * 8 + 4, 4), 1u << 31);
	set_mask(t, 2047, false);
	expect_update(&t->log, 2047, ADDR, 0x7ff, true);
	expect_fire(&t->log, 2047);
	expect_none(&t->log);
	assert_int_equal(msix_signal(&t->msix, 2048), -EINVAL);
	/* Every vector unmasked, then the function masked: one update each. */
	for (n = 0; n < MSIX_MAX_VECTORS; n++)
		set_mask(t, n, false);
	forget_events(t);
	ctrl_wr(f, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	assert_int_equal(t->log.updates, MSIX_MAX_VECTORS);
	assert_int_equal(t->log.fires, 0);
}

static void reset_reports_disables(void **state)
{
	struct fx *f = *state;
	struct tdev *t = add(f, 4);

	program(t, 0, ADDR, 0x10);
	set_mask(t, 0, false);
	ctrl_wr(f, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	assert_int_equal(msix_signal(&t->msix, 1), 0);
	ctrl_wr(f, PCI_MSIX_FLAGS_ENABLE);
	expect_update(&t->log, 0, ADDR, 0x10, true);
	msix_reset(&t->msix);
	expect_update(&t->log, 0, ADDR, 0x10, false);
	expect_none(&t->log);
	assert_int_equal(cfg_rd(f, t->msix.cap + PCI_MSIX_FLAGS, 2), 3);
	assert_int_equal(tbl_rd(t, 0, 8), 0);
	assert_int_equal(tbl_rd(t, PCI_MSIX_ENTRY_VECTOR_CTRL, 4), 1);
	assert_int_equal(pba_rd(t, 0, 8), 0);
	assert_false(msix_enabled(&t->msix));
}

/* ---- Without a host: layouts, page ranges, a passthrough capability ---- */

static int init_layout(struct tdev *t, unsigned nr, uint8_t tbar, uint32_t toff, uint8_t pbar,
		       uint32_t poff)
{
	struct msix_layout l = { .nr_vectors = nr, .table_bar = tbar, .pba_bar = pbar,
				 .table_offset = toff, .pba_offset = poff };
	int err;

	tdev_init(t);
	err = msix_init(&t->msix, &t->pci, &l, &ev_ops, &t->log);
	if (!err)
		msix_exit(&t->msix);
	return err;
}

static void init_rejects_bad_layout(void **state)
{
	struct tdev *t = test_calloc(1, sizeof(*t));
	struct msix_layout l = { .nr_vectors = 1, .table_bar = BAR, .pba_bar = BAR,
				 .pba_offset = 0x10 };
	const struct msi_ops half = { .update = ev_update };

	(void)state;
	assert_int_equal(init_layout(t, 1, BAR, 0, BAR, 0x10), 0);
	assert_int_equal(init_layout(t, 0, BAR, 0, BAR, 0x8000), -EINVAL);
	assert_int_equal(init_layout(t, 2049, BAR, 0, BAR, 0x8800), -EINVAL);
	assert_int_equal(init_layout(t, 8, 6, 0, BAR, 0x8000), -EINVAL);	/* BIR 6 reserved */
	assert_int_equal(init_layout(t, 8, BAR, 4, BAR, 0x8000), -EINVAL);	/* not QWORD aligned */
	assert_int_equal(init_layout(t, 8, BAR, 0, BAR, 0x7c), -EINVAL);	/* not aligned */
	assert_int_equal(init_layout(t, 8, BAR, 0, BAR, 0x78), -EINVAL);	/* overlaps */
	assert_int_equal(init_layout(t, 8, BAR, 0x100, BAR, 0x100), -EINVAL);
	assert_int_equal(init_layout(t, 8, BAR, 0x8, BAR, 0), 0);	/* PBA just before */
	assert_int_equal(init_layout(t, 8, BAR, BAR_SIZE - 0x40, BAR, 0), -EINVAL); /* past BAR */
	assert_int_equal(init_layout(t, 8, BAR, 0, BAR, BAR_SIZE - 4), -EINVAL);
	assert_int_equal(init_layout(t, 8, BAR, 0, 5, 0), -EINVAL);	/* BAR5: the device has none */
	tdev_init(t);
	t->pci.bar[0].type = PCI_BAR_IO;
	t->pci.bar[0].size = 0x100;
	l.table_bar = 0;
	assert_int_equal(msix_init(&t->msix, &t->pci, &l, &ev_ops, &t->log), -EINVAL);
	t->pci.bar[0].type = PCI_BAR_MEM64;
	t->pci.bar[0].size = 0x1000;
	l.table_bar = 1;	/* the upper half of BAR0 */
	assert_int_equal(msix_init(&t->msix, &t->pci, &l, &ev_ops, &t->log), -EINVAL);
	l.table_bar = BAR;
	assert_int_equal(msix_init(&t->msix, &t->pci, &l, NULL, t), -EINVAL);
	assert_int_equal(msix_init(&t->msix, &t->pci, &l, &half, &t->log), -EINVAL);
	assert_int_equal(t->pci.cfg[PCI_CAPABILITY_LIST], 0);	/* nothing added on failure */
	test_free(t);
}

static void page_ranges(void **state)
{
	struct tdev *t = test_calloc(1, sizeof(*t));
	struct msix_layout l = { .nr_vectors = 300, .table_bar = BAR, .pba_bar = 4,
				 .table_offset = 0x1800, .pba_offset = 0x3ff8 };
	struct msix_pages p;

	(void)state;
	tdev_init(t);
	t->pci.bar[4].type = PCI_BAR_MEM32;	/* the PBA's BAR */
	t->pci.bar[4].size = 0x10000;
	/* 300 entries: 0x1800-0x2abf; 5 PBA QWORDs: 0x3ff8-0x401f. */
	assert_int_equal(msix_init(&t->msix, &t->pci, &l, &ev_ops, &t->log), 0);
	p = msix_table_pages(&t->msix);
	assert_int_equal(p.bar, BAR);
	assert_int_equal(p.start, 0x1000);
	assert_int_equal(p.end, 0x3000);
	p = msix_pba_pages(&t->msix);
	assert_int_equal(p.bar, 4);
	assert_int_equal(p.start, 0x3000);
	assert_int_equal(p.end, 0x5000);
	msix_exit(&t->msix);
	/* One vector, table and PBA sharing the first page. */
	l = (struct msix_layout){ .nr_vectors = 1, .table_bar = BAR, .pba_bar = BAR,
				  .table_offset = 0, .pba_offset = 0x800 };
	assert_int_equal(msix_init(&t->msix, &t->pci, &l, &ev_ops, &t->log), 0);
	p = msix_table_pages(&t->msix);
	assert_int_equal(p.start, 0);
	assert_int_equal(p.end, 0x1000);
	p = msix_pba_pages(&t->msix);
	assert_int_equal(p.start, 0);
	assert_int_equal(p.end, 0x1000);
	msix_exit(&t->msix);
	test_free(t);
}

static void init_existing(void **state)
{
	struct tdev *t = test_calloc(1, sizeof(*t));
	int cap;

	(void)state;
	/* What VFIO copies from a device: enabled, 16 vectors, table BAR2 0x2000, PBA BAR2 0x3000. */
	tdev_init(t);
	cap = pci_dev_add_cap(&t->pci, PCI_CAP_ID_MSIX, PCI_CAP_MSIX_SIZEOF);
	assert_int_equal(cap, 0x40);
	pci_put16(&t->pci.cfg[cap + PCI_MSIX_FLAGS], PCI_MSIX_FLAGS_ENABLE | 15);
	pci_put32(&t->pci.cfg[cap + PCI_MSIX_TABLE], 0x2000 | BAR);
	pci_put32(&t->pci.cfg[cap + PCI_MSIX_PBA], 0x3000 | BAR);
	assert_int_equal(msix_init_existing(&t->msix, &t->pci, 0x44, &ev_ops, &t->log), -EINVAL);
	assert_int_equal(msix_init_existing(&t->msix, &t->pci, 0x30, &ev_ops, &t->log), -EINVAL);
	assert_int_equal(msix_init_existing(&t->msix, &t->pci, 0xfc, &ev_ops, &t->log), -EINVAL);
	assert_int_equal(msix_init_existing(&t->msix, &t->pci, (uint16_t)cap, &ev_ops, &t->log), 0);
	assert_int_equal(t->msix.cap, cap);
	assert_int_equal(t->msix.layout.nr_vectors, 16);
	assert_int_equal(t->msix.layout.table_offset, 0x2000);
	assert_int_equal(t->msix.layout.pba_bar, BAR);
	assert_int_equal(t->msix.layout.pba_offset, 0x3000);
	/* Reset state, and the PCI core may write Enable and Function Mask only. */
	assert_int_equal(pci_cfg_get16(&t->pci, cap + PCI_MSIX_FLAGS), 15);
	assert_int_equal(t->pci.wmask[cap + PCI_MSIX_FLAGS], 0);
	assert_int_equal(t->pci.wmask[cap + PCI_MSIX_FLAGS + 1], 0xc0);
	assert_int_equal(pci_cfg_get32(&t->pci, cap + PCI_MSIX_TABLE), 0x2000 | BAR);
	assert_int_equal(tbl_rd(t, 15 * 16 + PCI_MSIX_ENTRY_VECTOR_CTRL, 4), 1);
	msix_exit(&t->msix);
	/* A layout that overlaps is refused. */
	pci_put32(&t->pci.cfg[cap + PCI_MSIX_PBA], 0x2080 | BAR);
	assert_int_equal(msix_init_existing(&t->msix, &t->pci, (uint16_t)cap, &ev_ops, &t->log), -EINVAL);
	test_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(cap_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(only_enable_and_mask_writable, setup, teardown),
		cmocka_unit_test_setup_teardown(table_reset_state, setup, teardown),
		cmocka_unit_test_setup_teardown(table_dword_and_qword, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_accesses_harmless, setup, teardown),
		cmocka_unit_test_setup_teardown(update_once_per_transition, setup, teardown),
		cmocka_unit_test_setup_teardown(signal_masked_pends, setup, teardown),
		cmocka_unit_test_setup_teardown(signal_enabled_fires, setup, teardown),
		cmocka_unit_test_setup_teardown(pba_read_only, setup, teardown),
		cmocka_unit_test_setup_teardown(through_the_bar, setup, teardown),
		cmocka_unit_test_setup_teardown(vectors_2048, setup, teardown),
		cmocka_unit_test_setup_teardown(reset_reports_disables, setup, teardown),
		cmocka_unit_test(init_rejects_bad_layout),
		cmocka_unit_test(page_ranges),
		cmocka_unit_test(init_existing),
	};
	return cmocka_run_group_tests_name("msix", tests, NULL, NULL);
}
