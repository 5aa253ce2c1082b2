/* cmocka: MSI emulation (vmm/msi.c) on a PCI host over plain buses, no KVM. */
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
#include "vmm/msi.h"
#include "tests/unit/msi_events.h"
#include "vmm/pci.h"

#define END	PCI_CFG_SPACE_SIZE	/* msi_init_existing: no capability after it */
#define RAM_SIZE	(4 * GiB)
#define SLOT		1		/* the first device after the host bridge */
#define ADDR		0xfee01000u
#define ADDR_HI		0x12u

struct tdev {
	struct pci_dev pci;
	struct msi msi;
	struct ev_log log;
	bool msi_up;
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


/* ---- The device model: config reads and writes go to msi ---- */

static void tdev_cfg_read(struct pci_dev *d, uint32_t off, uint32_t len)
{
	msi_cfg_read(&to_tdev(d)->msi, off, len);
}

static void tdev_cfg_write(struct pci_dev *d, uint32_t off, const uint8_t *data, uint32_t len)
{
	(void)data;
	msi_cfg_written(&to_tdev(d)->msi, off, len);
}

static const struct pci_dev_ops tdev_ops = {
	.cfg_read = tdev_cfg_read, .cfg_write = tdev_cfg_write,
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

	if (f->t.msi_up)
		msi_exit(&f->t.msi);
	pci_host_exit(&f->host);
	bus_exit(&f->mmio);
	bus_exit(&f->pio);
	test_free(f);
	return 0;
}

static void tdev_init(struct tdev *t)
{
	pci_dev_init(&t->pci, "tdev", &tdev_ops, 0x8086, 0x10d3, 0x020000);
}

/* The fixture's device with a new MSI capability, on slot 1. */
static struct tdev *add(struct fx *f, unsigned nr, unsigned flags)
{
	struct tdev *t = &f->t;

	tdev_init(t);
	assert_int_equal(msi_init(&t->msi, &t->pci, nr, flags, &ev_ops, &t->log), 0);
	t->msi_up = true;
	assert_int_equal(pci_host_add(&f->host, &t->pci), 0);
	return t;
}

/* ---- Config space through ECAM; offsets relative to the capability ---- */

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

static uint32_t cap_rd(struct fx *f, uint32_t off, uint32_t len)
{
	return cfg_rd(f, f->t.msi.cap + off, len);
}

static void cap_wr(struct fx *f, uint32_t off, uint32_t len, uint32_t v)
{
	cfg_wr(f, f->t.msi.cap + off, len, v);
}

/* Message Control: Enable and Multiple Message Enable (log2 of the vectors). */
static void ctrl_wr(struct fx *f, bool enable, unsigned mme)
{
	cap_wr(f, PCI_MSI_FLAGS, 2, (enable ? PCI_MSI_FLAGS_ENABLE : 0) | mme << 4);
}

/* ---- Tests ---- */

static void cap_32bit(void **state)
{
	struct fx *f = *state;
	struct tdev *t = add(f, 1, 0);

	assert_int_equal(t->msi.cap, 0x40);
	assert_int_equal(pci_dev_add_cap(&t->pci, PCI_CAP_ID_VNDR, 4), 0x4c);	/* 10 bytes */
	assert_int_equal(cfg_rd(f, PCI_CAPABILITY_LIST, 1), 0x40);
	assert_int_equal(cap_rd(f, PCI_CAP_LIST_ID, 1), PCI_CAP_ID_MSI);
	assert_int_equal(cap_rd(f, PCI_CAP_LIST_NEXT, 1), 0x4c);
	assert_int_equal(cap_rd(f, PCI_MSI_FLAGS, 2), 0);
	/* Enable and MME writable; address bits 1:0 RO 0; 16 bits of data. */
	cap_wr(f, PCI_MSI_FLAGS, 2, 0xfffe);
	assert_int_equal(cap_rd(f, PCI_MSI_FLAGS, 2), PCI_MSI_FLAGS_QSIZE);
	cap_wr(f, PCI_MSI_ADDRESS_LO, 4, 0xffffffff);
	assert_int_equal(cap_rd(f, PCI_MSI_ADDRESS_LO, 4), 0xfffffffc);
	cap_wr(f, PCI_MSI_DATA_32, 4, 0xffffffff);
	assert_int_equal(cap_rd(f, PCI_MSI_DATA_32, 4), 0xffff);
	cap_wr(f, PCI_MSI_ADDRESS_LO, 4, ADDR);
	cap_wr(f, PCI_MSI_DATA_32, 2, 0x4041);
	expect_none(&t->log);
	/* MME 7 with one vector capable: still vector 0 only, data untouched. */
	cap_wr(f, PCI_MSI_FLAGS, 2, 0xffff);
	expect_update(&t->log, 0, ADDR, 0x4041, true);
	expect_none(&t->log);
	assert_true(msi_enabled(&t->msi));
	ctrl_wr(f, false, 0);
	expect_update(&t->log, 0, ADDR, 0x4041, false);
	expect_none(&t->log);
}

static void cap_64bit(void **state)
{
	struct fx *f = *state;
	struct tdev *t = add(f, 2, MSI_64BIT);

	assert_int_equal(pci_dev_add_cap(&t->pci, PCI_CAP_ID_VNDR, 4), 0x50);	/* 14 bytes */
	assert_int_equal(cap_rd(f, PCI_MSI_FLAGS, 2), PCI_MSI_FLAGS_64BIT | 1 << 1);
	cap_wr(f, PCI_MSI_ADDRESS_HI, 4, ADDR_HI);
	cap_wr(f, PCI_MSI_ADDRESS_LO, 4, ADDR);
	cap_wr(f, PCI_MSI_DATA_64, 2, 0x30);
	assert_int_equal(cap_rd(f, PCI_MSI_ADDRESS_HI, 4), ADDR_HI);
	assert_int_equal(cap_rd(f, PCI_MSI_DATA_64, 2), 0x30);
	ctrl_wr(f, true, 0);
	expect_update(&t->log, 0, (uint64_t)ADDR_HI << 32 | ADDR, 0x30, true);
	/* Rewriting the same values changes nothing; a new address is reported. */
	cap_wr(f, PCI_MSI_ADDRESS_LO, 4, ADDR);
	ctrl_wr(f, true, 0);
	expect_none(&t->log);
	cap_wr(f, PCI_MSI_ADDRESS_HI, 4, 0);
	expect_update(&t->log, 0, ADDR, 0x30, true);
	assert_int_equal(msi_signal(&t->msi, 0), 0);
	expect_fire(&t->log, 0);
	assert_int_equal(msi_signal(&t->msi, 1), -EAGAIN);	/* not allocated */
	ctrl_wr(f, false, 0);
	expect_update(&t->log, 0, ADDR, 0x30, false);
	expect_none(&t->log);
}

static void cap_64bit_maskable(void **state)
{
	struct fx *f = *state;
	struct tdev *t = add(f, 4, MSI_64BIT | MSI_MASKABLE);

	assert_int_equal(pci_dev_add_cap(&t->pci, PCI_CAP_ID_VNDR, 4), 0x58);	/* 24 bytes */
	assert_int_equal(cap_rd(f, PCI_MSI_FLAGS, 2),
			 PCI_MSI_FLAGS_MASKBIT | PCI_MSI_FLAGS_64BIT | 2 << 1);
	/* Mask bits for the 4 capable vectors only; Pending Bits read-only. */
	cap_wr(f, PCI_MSI_MASK_64, 4, 0xffffffff);
	assert_int_equal(cap_rd(f, PCI_MSI_MASK_64, 4), 0xf);
	cap_wr(f, PCI_MSI_PENDING_64, 4, 0xffffffff);
	assert_int_equal(cap_rd(f, PCI_MSI_PENDING_64, 4), 0);
	expect_none(&t->log);
}

static void mme_data_low_bits(void **state)
{
	struct fx *f = *state;
	struct tdev *t = add(f, 4, MSI_64BIT);
	unsigned n;

	cap_wr(f, PCI_MSI_ADDRESS_LO, 4, ADDR);
	cap_wr(f, PCI_MSI_DATA_64, 2, 0x4a3);
	/* §6.8.1.6: with 4 vectors the function owns the 2 low data bits. */
	ctrl_wr(f, true, 2);
	for (n = 0; n < 4; n++)
		expect_update(&t->log, n, ADDR, 0x4a0 | n, true);
	assert_int_equal(msi_signal(&t->msi, 2), 0);
	expect_fire(&t->log, 2);
	assert_int_equal(msi_signal(&t->msi, 4), -EINVAL);	/* beyond Multiple Message Capable */
	/* Down to 2: one low bit, vectors 2 and 3 go. */
	ctrl_wr(f, true, 1);
	expect_update(&t->log, 0, ADDR, 0x4a2, true);
	expect_update(&t->log, 1, ADDR, 0x4a3, true);
	expect_update(&t->log, 2, ADDR, 0x4a2, false);
	expect_update(&t->log, 3, ADDR, 0x4a3, false);
	assert_int_equal(msi_signal(&t->msi, 2), -EAGAIN);
	/* MME above MMC is undefined: the 4 vectors the function has. */
	ctrl_wr(f, true, 7);
	for (n = 0; n < 4; n++)
		expect_update(&t->log, n, ADDR, 0x4a0 | n, true);
	expect_none(&t->log);
}

static void per_vector_mask_and_pending(void **state)
{
	struct fx *f = *state;
	struct tdev *t = add(f, 4, MSI_MASKABLE);

	cap_wr(f, PCI_MSI_ADDRESS_LO, 4, ADDR);
	cap_wr(f, PCI_MSI_DATA_32, 2, 0x20);
	cap_wr(f, PCI_MSI_MASK_32, 4, 1u << 1);
	ctrl_wr(f, true, 2);
	expect_update(&t->log, 0, ADDR, 0x20, true);
	expect_update(&t->log, 2, ADDR, 0x22, true);
	expect_update(&t->log, 3, ADDR, 0x23, true);
	/* §6.8.1.8: masked, the message pends; twice is one bit; guests cannot clear it. */
	assert_int_equal(msi_signal(&t->msi, 1), 0);
	assert_int_equal(msi_signal(&t->msi, 1), 0);
	expect_none(&t->log);
	assert_int_equal(cap_rd(f, PCI_MSI_PENDING_32, 4), 1u << 1);
	cap_wr(f, PCI_MSI_PENDING_32, 4, 0);
	assert_int_equal(cap_rd(f, PCI_MSI_PENDING_32, 4), 1u << 1);
	/* Mask 0, unmask 1: 1 is routed, then its pending message goes, once. */
	cap_wr(f, PCI_MSI_MASK_32, 4, 1u << 0);
	expect_update(&t->log, 0, ADDR, 0x20, false);
	expect_update(&t->log, 1, ADDR, 0x21, true);
	expect_fire(&t->log, 1);
	expect_none(&t->log);
	assert_int_equal(cap_rd(f, PCI_MSI_PENDING_32, 4), 0);
	assert_int_equal(msi_signal(&t->msi, 1), 0);
	expect_fire(&t->log, 1);
	/* Pending survives a disable and goes out when enabled and unmasked again. */
	assert_int_equal(msi_signal(&t->msi, 0), 0);
	ctrl_wr(f, false, 2);
	expect_update(&t->log, 1, ADDR, 0x21, false);
	expect_update(&t->log, 2, ADDR, 0x22, false);
	expect_update(&t->log, 3, ADDR, 0x23, false);
	assert_int_equal(msi_signal(&t->msi, 0), -EAGAIN);
	cap_wr(f, PCI_MSI_MASK_32, 4, 0);
	ctrl_wr(f, true, 0);
	expect_update(&t->log, 0, ADDR, 0x20, true);
	expect_fire(&t->log, 0);
	expect_none(&t->log);
}

static void reset_reports_disables(void **state)
{
	struct fx *f = *state;
	struct tdev *t = add(f, 2, MSI_MASKABLE);

	cap_wr(f, PCI_MSI_ADDRESS_LO, 4, ADDR);
	cap_wr(f, PCI_MSI_MASK_32, 4, 2);
	ctrl_wr(f, true, 1);
	expect_update(&t->log, 0, ADDR, 0, true);
	assert_int_equal(msi_signal(&t->msi, 1), 0);
	msi_reset(&t->msi);
	expect_update(&t->log, 0, ADDR, 0, false);
	expect_none(&t->log);
	assert_false(msi_enabled(&t->msi));
	assert_int_equal(cap_rd(f, PCI_MSI_FLAGS, 2), PCI_MSI_FLAGS_MASKBIT | 1 << 1);
	assert_int_equal(cap_rd(f, PCI_MSI_ADDRESS_LO, 4), 0);
	assert_int_equal(cap_rd(f, PCI_MSI_MASK_32, 4), 0);
	assert_int_equal(cap_rd(f, PCI_MSI_PENDING_32, 4), 0);
}

/* ---- Without a host ---- */

static void init_rejects(void **state)
{
	struct tdev *t = test_calloc(1, sizeof(*t));
	const struct msi_ops half = { .fire = ev_fire };
	static const unsigned bad[] = { 0, 3, 6, 64, 33 };
	unsigned i;

	(void)state;
	tdev_init(t);
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(msi_init(&t->msi, &t->pci, bad[i], 0, &ev_ops, &t->log), -EINVAL);
	assert_int_equal(msi_init(&t->msi, &t->pci, 1, 4, &ev_ops, &t->log), -EINVAL);
	assert_int_equal(msi_init(&t->msi, &t->pci, 1, 0, NULL, t), -EINVAL);
	assert_int_equal(msi_init(&t->msi, &t->pci, 1, 0, &half, &t->log), -EINVAL);
	assert_int_equal(t->pci.cfg[PCI_CAPABILITY_LIST], 0);
	assert_int_equal(msi_init(&t->msi, &t->pci, 32, MSI_MASKABLE, &ev_ops, &t->log), 0);
	/* 32 vectors: MMC 101b, every Mask bit writable. */
	assert_int_equal(pci_cfg_get16(&t->pci, t->msi.cap + PCI_MSI_FLAGS),
			 PCI_MSI_FLAGS_MASKBIT | 5 << 1);
	assert_int_equal(pci_cfg_get32(&t->pci, t->msi.cap + PCI_MSI_MASK_32), 0);
	assert_memory_equal(&t->pci.wmask[t->msi.cap + PCI_MSI_MASK_32], "\xff\xff\xff\xff", 4);
	msi_exit(&t->msi);
	test_free(t);
}

static void init_existing(void **state)
{
	struct tdev *t = test_calloc(1, sizeof(*t));
	uint8_t *c;

	(void)state;
	/* What VFIO copies: 64-bit, maskable, 8 capable, Extended Data capable, enabled. */
	tdev_init(t);
	assert_int_equal(pci_dev_add_cap(&t->pci, PCI_CAP_ID_PM, 16), 0x40);
	assert_int_equal(pci_dev_add_cap(&t->pci, PCI_CAP_ID_MSI, 24), 0x50);
	c = &t->pci.cfg[0x50];
	pci_put16(c + PCI_MSI_FLAGS, 0x0200 | PCI_MSI_FLAGS_MASKBIT | PCI_MSI_FLAGS_64BIT |
		  3 << 4 | 3 << 1 | PCI_MSI_FLAGS_ENABLE);
	pci_put32(c + PCI_MSI_ADDRESS_LO, ADDR);
	pci_put32(c + PCI_MSI_MASK_64, 0xff);
	pci_put32(c + PCI_MSI_PENDING_64, 0x3);
	assert_int_equal(msi_init_existing(&t->msi, &t->pci, 0x40, END, &ev_ops, &t->log), -EINVAL);
	assert_int_equal(msi_init_existing(&t->msi, &t->pci, 0x52, END, &ev_ops, &t->log), -EINVAL);
	assert_int_equal(msi_init_existing(&t->msi, &t->pci, 0x30, END, &ev_ops, &t->log), -EINVAL);
	assert_int_equal(msi_init_existing(&t->msi, &t->pci, 0x50, END, NULL, t), -EINVAL);
	/* 24 bytes of registers, but the next capability starts 16 bytes in: refused, untouched. */
	assert_int_equal(msi_init_existing(&t->msi, &t->pci, 0x50, 0x60, &ev_ops, &t->log), -EINVAL);
	assert_int_equal(pci_cfg_get32(&t->pci, 0x50 + PCI_MSI_PENDING_64), 0x3);
	assert_int_equal(t->pci.wmask[0x50 + PCI_MSI_MASK_64], 0);
	assert_int_equal(msi_init_existing(&t->msi, &t->pci, 0x50, 0x68, &ev_ops, &t->log), 0);
	msi_exit(&t->msi);
	assert_int_equal(msi_init_existing(&t->msi, &t->pci, 0x50, END, &ev_ops, &t->log), 0);
	assert_true(t->msi.is64 && t->msi.maskable);
	assert_int_equal(t->msi.max_vectors, 8);
	assert_false(msi_enabled(&t->msi));
	/* Reset values; Extended Message Data is not offered; wmask as for msi_init. */
	assert_int_equal(pci_cfg_get16(&t->pci, 0x50 + PCI_MSI_FLAGS),
			 PCI_MSI_FLAGS_MASKBIT | PCI_MSI_FLAGS_64BIT | 3 << 1);
	assert_int_equal(pci_cfg_get32(&t->pci, 0x50 + PCI_MSI_ADDRESS_LO), 0);
	assert_int_equal(pci_cfg_get32(&t->pci, 0x50 + PCI_MSI_MASK_64), 0);
	assert_int_equal(pci_cfg_get32(&t->pci, 0x50 + PCI_MSI_PENDING_64), 0);
	assert_int_equal(t->pci.wmask[0x50 + PCI_MSI_FLAGS], 0x71);
	assert_int_equal(t->pci.wmask[0x50 + PCI_MSI_FLAGS + 1], 0);
	assert_int_equal(t->pci.wmask[0x50 + PCI_MSI_MASK_64], 0xff);
	assert_int_equal(t->pci.wmask[0x50 + PCI_MSI_MASK_64 + 1], 0);
	assert_int_equal(t->pci.wmask[0x50 + PCI_MSI_PENDING_64], 0);
	msi_exit(&t->msi);
	/* Reserved Multiple Message Capable (110b), and a capability past 0xff. */
	pci_put16(c + PCI_MSI_FLAGS, 6 << 1);
	assert_int_equal(msi_init_existing(&t->msi, &t->pci, 0x50, END, &ev_ops, &t->log), -EINVAL);
	t->pci.cfg[0xf0] = PCI_CAP_ID_MSI;
	pci_put16(&t->pci.cfg[0xf2], PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_MASKBIT);
	assert_int_equal(msi_init_existing(&t->msi, &t->pci, 0xf0, END, &ev_ops, &t->log), -EINVAL);
	pci_put16(&t->pci.cfg[0xf2], PCI_MSI_FLAGS_64BIT);	/* 14 bytes fit */
	assert_int_equal(msi_init_existing(&t->msi, &t->pci, 0xf0, END, &ev_ops, &t->log), 0);
	msi_exit(&t->msi);
	test_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(cap_32bit, setup, teardown),
		cmocka_unit_test_setup_teardown(cap_64bit, setup, teardown),
		cmocka_unit_test_setup_teardown(cap_64bit_maskable, setup, teardown),
		cmocka_unit_test_setup_teardown(mme_data_low_bits, setup, teardown),
		cmocka_unit_test_setup_teardown(per_vector_mask_and_pending, setup, teardown),
		cmocka_unit_test_setup_teardown(reset_reports_disables, setup, teardown),
		cmocka_unit_test(init_rejects),
		cmocka_unit_test(init_existing),
	};
	return cmocka_run_group_tests_name("msi", tests, NULL, NULL);
}
