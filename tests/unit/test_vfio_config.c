/* cmocka: the guest's view of a passthrough device's config space (vfio/config.c), on buffers. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <linux/vfio.h>
#include <string.h>

#include "vfio/config.h"
#include "vmm/bus.h"
#include "vmm/layout.h"
#include "vmm/log.h"
#include "vmm/msi.h"
#include "vmm/msix.h"
#include "vmm/pci.h"

#define RW	(VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE)
#define RWM	(RW | VFIO_REGION_INFO_FLAG_MMAP)
#define MAXCAPS	64

enum { HID = VFIO_CFG_HIDDEN, EMU = VFIO_CFG_EMULATED, RO = VFIO_CFG_READONLY,
       PT = VFIO_CFG_PASSTHROUGH };

struct fx {
	struct vfio_config vc;
	struct pci_dev dev;
	uint8_t phys[PCI_CFG_SPACE_EXP_SIZE];
	struct vfio_config_in in;
	struct bus pio, mmio;
	struct pci_host host;
};

static void nop_bar_access(struct pci_dev *d, int bar, uint64_t offset, uint8_t *data,
			   uint32_t len, bool is_write)
{
	(void)d, (void)bar, (void)offset;
	if (!is_write)
		memset(data, 0xff, len);
}

static const struct pci_dev_ops nop_ops = { .bar_access = nop_bar_access };

static int setup(void **state)
{
	struct fx *f = test_calloc(1, sizeof(*f));

	f->in = (struct vfio_config_in){ .bdf = "0000:03:10.0", .name = "vfio-test", .ops = &nop_ops,
					 .cfg = f->phys, .len = PCI_CFG_SPACE_EXP_SIZE };
	/* A bare PCIe endpoint with nothing in it; tests add what they need. */
	pci_put16(&f->phys[PCI_VENDOR_ID], 0x8086);
	pci_put16(&f->phys[PCI_DEVICE_ID], 0x1520);
	pci_put32(&f->phys[PCI_CLASS_REVISION], 0x02000001);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	test_free(*state);
	return 0;
}

static void cap(struct fx *f, uint32_t off, uint8_t id, uint8_t next)
{
	f->phys[off] = id;
	f->phys[off + 1] = next;
}

/* Point 0x34 at @first and set Status's capabilities-list bit. */
static void cap_list(struct fx *f, uint8_t first)
{
	f->phys[PCI_CAPABILITY_LIST] = first;
	f->phys[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
}

static void ecap(struct fx *f, uint32_t off, uint16_t id, uint32_t next)
{
	pci_put32(&f->phys[off], id | 1u << 16 | next << 20);
}

static void build(struct fx *f)
{
	assert_int_equal(vfio_config_init(&f->vc, &f->dev, &f->in), 0);
}

/* The guest's standard list, walked as a guest would (bounded). */
static unsigned guest_caps(const struct fx *f, uint8_t *off)
{
	unsigned n = 0;
	uint8_t p = f->dev.cfg[PCI_CAPABILITY_LIST];

	if (!(f->dev.cfg[PCI_STATUS] & PCI_STATUS_CAP_LIST))
		return 0;
	for (; p && n < MAXCAPS; p = f->dev.cfg[p + 1]) {
		assert_true(p >= 0x40 && !(p & 3));
		off[n++] = p;
	}
	assert_true(n < MAXCAPS);
	return n;
}

/* The guest's extended list from 0x100: IDs and offsets (bounded). */
static unsigned guest_ecaps(const struct fx *f, uint16_t *id, uint16_t *off)
{
	uint32_t p = PCI_CFG_SPACE_SIZE, hdr;
	unsigned n = 0;

	if (!pci_cfg_get32(&f->dev, p))
		return 0;
	for (; p && n < MAXCAPS; p = hdr >> 20) {
		assert_true(p >= 0x100 && !(p & 3));
		hdr = pci_cfg_get32(&f->dev, p);
		id[n] = (uint16_t)hdr;
		off[n++] = (uint16_t)p;
	}
	assert_true(n < MAXCAPS);
	return n;
}

static void assert_policy(const struct fx *f, uint32_t start, uint32_t end, int policy)
{
	uint32_t i;

	for (i = start; i < end; i++) {
		if (f->vc.policy[i] != policy)
			fail_msg("byte 0x%x: policy %d, expected %d", i, f->vc.policy[i], policy);
		if (policy == HID && f->dev.cfg[i])
			fail_msg("hidden byte 0x%x reads 0x%02x", i, f->dev.cfg[i]);
	}
}

/*
 * An 82576 (igb) VF, 8086:10ca, as lspci shows one: BAR0 and BAR3 16 KiB
 * 64-bit prefetchable; MSI-X at 0x70 (table and PBA in BAR3), PCIe v2
 * endpoint at 0xa0; AER at 0x100, ARI at 0x150.
 */
static void igb_vf(struct fx *f)
{
	pci_put16(&f->phys[PCI_DEVICE_ID], 0x10ca);
	pci_put32(&f->phys[PCI_BASE_ADDRESS_0], 0xf000000c);
	pci_put32(&f->phys[PCI_BASE_ADDRESS_3], 0xf001000c);
	pci_put16(&f->phys[PCI_SUBSYSTEM_VENDOR_ID], 0x8086);
	pci_put16(&f->phys[PCI_SUBSYSTEM_ID], 0xa03c);
	cap_list(f, 0x70);
	cap(f, 0x70, PCI_CAP_ID_MSIX, 0xa0);
	pci_put16(&f->phys[0x72], 0x0002);		/* 3 vectors */
	pci_put32(&f->phys[0x74], 0x00000003);		/* table: BAR3 + 0 */
	pci_put32(&f->phys[0x78], 0x00002003);		/* PBA: BAR3 + 0x2000 */
	cap(f, 0xa0, PCI_CAP_ID_EXP, 0);
	pci_put16(&f->phys[0xa0 + PCI_EXP_FLAGS], 0x0002);	/* v2, Endpoint */
	pci_put32(&f->phys[0xa0 + PCI_EXP_DEVCAP], 0x10008cc2);
	pci_put16(&f->phys[0xa0 + PCI_EXP_DEVCTL], 0x2810);
	pci_put32(&f->phys[0xa0 + PCI_EXP_LNKCAP], 0x00036c81);
	pci_put16(&f->phys[0xa0 + PCI_EXP_LNKSTA], 0x1081);
	pci_put32(&f->phys[0xa0 + PCI_EXP_LNKCAP2], 0x00000006);
	ecap(f, 0x100, PCI_EXT_CAP_ID_ERR, 0x150);
	memset(&f->phys[0x104], 0x5a, 0x40);
	ecap(f, 0x150, PCI_EXT_CAP_ID_ARI, 0);
	pci_put32(&f->phys[0x154], 0x00000100);
	f->in.bar[0] = (struct vfio_bar_info){ 0x4000, RWM };
	f->in.bar[3] = (struct vfio_bar_info){ 0x4000, RWM };
}

/* ---- An igb VF ---- */

static void igb_vf_standard_chain(void **state)
{
	struct fx *f = *state;
	uint8_t off[MAXCAPS];

	igb_vf(f);
	build(f);
	assert_int_equal(guest_caps(f, off), 2);
	assert_int_equal(off[0], 0x70);
	assert_int_equal(off[1], 0xa0);
	assert_int_equal(f->vc.msix_cap, 0x70);
	assert_int_equal(f->vc.exp_cap, 0xa0);
	assert_int_equal(f->vc.msi_cap, 0);
	assert_int_equal(f->vc.pm_cap, 0);
	assert_int_equal(f->vc.problems, 0);
	/* MSI-X belongs to the interrupt code: emulated, body intact. */
	assert_policy(f, 0x72, 0x7c, EMU);
	assert_int_equal(pci_cfg_get32(&f->dev, 0x78), 0x00002003);
	/* On bus 0 an Endpoint becomes an RCiEP: no Link registers. */
	assert_int_equal(f->dev.cfg[0xa0 + PCI_EXP_FLAGS], PCI_EXP_TYPE_RC_END << 4 | 2);
	assert_policy(f, 0xa0 + PCI_EXP_LNKCAP, 0xa0 + PCI_EXP_SLTCAP, HID);
	assert_policy(f, 0xa0 + PCI_EXP_LNKCAP2, 0xa0 + PCI_EXP_SLTCAP2, HID);
	assert_policy(f, 0xa0 + PCI_EXP_DEVCAP, 0xa0 + PCI_EXP_DEVCTL, RO);
	assert_policy(f, 0xa0 + PCI_EXP_DEVCTL, 0xa0 + PCI_EXP_LNKCAP, PT);
	assert_policy(f, 0xa0 + PCI_EXP_DEVCTL2, 0xa0 + PCI_EXP_DEVCTL2 + 2, RO);
	/* Gaps between capabilities read 0. */
	assert_policy(f, 0x40, 0x70, HID);
	assert_policy(f, 0x7c, 0xa0, HID);
}

static void igb_vf_extended_all_hidden(void **state)
{
	struct fx *f = *state;
	uint16_t id[MAXCAPS], off[MAXCAPS];

	igb_vf(f);
	build(f);
	/* AER and ARI both go: 0x100 is an all-zero header, "no extended capabilities". */
	assert_int_equal(guest_ecaps(f, id, off), 0);
	assert_policy(f, 0x100, 0x104, EMU);
	assert_policy(f, 0x104, 0x1000, HID);
	assert_int_equal(vfio_config_live_mask(&f->vc, 0x150, 4), 0);
}

static uint32_t ecam_rw(struct fx *f, uint32_t reg, uint32_t val, bool is_write)
{
	uint64_t a = LAYOUT_ECAM_BASE + ((uint64_t)f->dev.slot << 15) + reg;
	uint8_t d[4];

	pci_put32(d, val);
	assert_int_equal(bus_access(&f->mmio, a, d, 4, is_write), 0);
	return (uint32_t)(d[0] | d[1] << 8 | d[2] << 16 | (uint32_t)d[3] << 24);
}

static uint32_t size_bar(struct fx *f, uint32_t reg)
{
	uint32_t old = ecam_rw(f, reg, 0, false), v;

	ecam_rw(f, reg, 0xffffffff, true);
	v = ecam_rw(f, reg, 0, false);
	ecam_rw(f, reg, old, true);
	return v;
}

/* The PCI core's sizing emulation, driven through ECAM, matches the hardware. */
static void igb_vf_bars_size_like_hardware(void **state)
{
	struct fx *f = *state;

	igb_vf(f);
	build(f);
	assert_int_equal(bus_init(&f->pio, "pio"), 0);
	assert_int_equal(bus_init(&f->mmio, "mmio"), 0);
	assert_int_equal(pci_host_init(&f->host, &f->pio, &f->mmio, 1ull << 32), 0);
	assert_int_equal(pci_host_add(&f->host, &f->dev), 0);
	assert_int_equal(size_bar(f, PCI_BASE_ADDRESS_0), 0xffffc00c);
	assert_int_equal(size_bar(f, PCI_BASE_ADDRESS_1), 0xffffffff);	/* upper half */
	assert_int_equal(size_bar(f, PCI_BASE_ADDRESS_2), 0);
	assert_int_equal(size_bar(f, PCI_BASE_ADDRESS_3), 0xffffc00c);
	assert_int_equal(size_bar(f, PCI_ROM_ADDRESS), 0);
	/* IDs read-only through the core too. */
	ecam_rw(f, PCI_VENDOR_ID, 0, true);
	assert_int_equal(ecam_rw(f, PCI_VENDOR_ID, 0, false), 0x10ca8086);
	pci_host_exit(&f->host);
	bus_exit(&f->mmio);
	bus_exit(&f->pio);
}

/* ---- BARs and ROM ---- */

static void bar_types_and_sizes(void **state)
{
	struct fx *f = *state;
	const struct pci_bar *b = f->dev.bar;

	pci_put32(&f->phys[PCI_BASE_ADDRESS_0], 0x0000e001);	/* I/O */
	pci_put32(&f->phys[PCI_BASE_ADDRESS_1], 0xfe000000);	/* 32-bit */
	pci_put32(&f->phys[PCI_BASE_ADDRESS_2], 0x0000000c);	/* 64-bit prefetchable */
	pci_put32(&f->phys[PCI_BASE_ADDRESS_3], 0x00000001);	/* its upper half */
	pci_put32(&f->phys[PCI_BASE_ADDRESS_4], 0xfd000008);	/* 32-bit prefetchable */
	f->in.bar[0] = (struct vfio_bar_info){ 0x20, RW };
	f->in.bar[1] = (struct vfio_bar_info){ 0x20000, RWM };
	f->in.bar[2] = (struct vfio_bar_info){ 0x100000, RWM };
	f->in.bar[4] = (struct vfio_bar_info){ 0x1000, RWM };
	build(f);
	assert_int_equal(b[0].type, PCI_BAR_IO);
	assert_int_equal(b[0].size, 0x20);
	assert_int_equal(b[1].type, PCI_BAR_MEM32);
	assert_false(b[1].prefetchable);
	assert_int_equal(b[1].size, 0x20000);
	assert_int_equal(b[2].type, PCI_BAR_MEM64);
	assert_true(b[2].prefetchable);
	assert_int_equal(b[2].size, 0x100000);
	assert_int_equal(b[3].type, PCI_BAR_NONE);
	assert_int_equal(b[4].type, PCI_BAR_MEM32);
	assert_true(b[4].prefetchable);
	assert_int_equal(b[5].type, PCI_BAR_NONE);
	/* Host addresses never reach the guest: the core fills these. */
	assert_policy(f, PCI_BASE_ADDRESS_0, PCI_CARDBUS_CIS, EMU);
	assert_int_equal(pci_cfg_get32(&f->dev, PCI_BASE_ADDRESS_1), 0);
}

static void bar_malformed_refused(void **state)
{
	struct fx *f = *state;

	pci_put32(&f->phys[PCI_BASE_ADDRESS_5], 0x4);		/* 64-bit in the last slot */
	f->in.bar[5] = (struct vfio_bar_info){ 0x1000, RW };
	assert_int_equal(vfio_config_init(&f->vc, &f->dev, &f->in), -EINVAL);
	assert_int_equal(f->dev.cfg[PCI_VENDOR_ID], 0);	/* zeroed on failure */
	pci_put32(&f->phys[PCI_BASE_ADDRESS_5], 0x6);		/* reserved type */
	assert_int_equal(vfio_config_init(&f->vc, &f->dev, &f->in), -EINVAL);
	pci_put32(&f->phys[PCI_BASE_ADDRESS_5], 0);
	f->in.bar[5].size = 0x1800;				/* not a power of two */
	assert_int_equal(vfio_config_init(&f->vc, &f->dev, &f->in), -EINVAL);
	f->in.bar[5] = (struct vfio_bar_info){ 1ull << 32, RW };	/* 4 GiB in 32 bits */
	assert_int_equal(vfio_config_init(&f->vc, &f->dev, &f->in), -EINVAL);
	f->in.bar[5] = (struct vfio_bar_info){ 0x1000, VFIO_REGION_INFO_FLAG_MMAP };
	assert_int_equal(vfio_config_init(&f->vc, &f->dev, &f->in), -EINVAL);
	f->in.bar[5] = (struct vfio_bar_info){ 0x1000, RW };
	build(f);
}

static void rom_present_and_absent(void **state)
{
	struct fx *f = *state;

	pci_put32(&f->phys[PCI_ROM_ADDRESS], 0xfe800001);
	build(f);
	assert_int_equal(f->dev.rom.type, PCI_BAR_NONE);
	assert_policy(f, PCI_ROM_ADDRESS, PCI_ROM_ADDRESS + 4, EMU);
	assert_int_equal(pci_cfg_get32(&f->dev, PCI_ROM_ADDRESS), 0);
	f->in.rom_size = 0x10000;
	build(f);
	assert_int_equal(f->dev.rom.type, PCI_BAR_MEM32);
	assert_int_equal(f->dev.rom.size, 0x10000);
	assert_int_equal(pci_cfg_get32(&f->dev, PCI_ROM_ADDRESS), 0);
	f->in.rom_size = 3000;		/* nonsense: no ROM rather than no device */
	build(f);
	assert_int_equal(f->dev.rom.type, PCI_BAR_NONE);
}

/* ---- The header ---- */

static void header_policies(void **state)
{
	struct fx *f = *state;

	f->phys[PCI_HEADER_TYPE] = 0x80;	/* function 0 of a multi-function device */
	f->phys[PCI_BIST] = PCI_BIST_CAPABLE;
	f->phys[PCI_INTERRUPT_LINE] = 11;
	f->phys[PCI_INTERRUPT_PIN] = 1;
	pci_put16(&f->phys[PCI_STATUS], 0x0010);	/* a list bit with nothing behind it */
	build(f);
	assert_policy(f, PCI_VENDOR_ID, PCI_COMMAND, RO);
	assert_policy(f, PCI_COMMAND, PCI_CLASS_REVISION, PT);
	assert_int_equal(f->vc.vmask[PCI_COMMAND], PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
	assert_int_equal(f->dev.wmask[PCI_COMMAND], PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
	assert_int_equal(f->dev.wmask[PCI_COMMAND + 1], 0);
	assert_int_equal(pci_cfg_get16(&f->dev, PCI_STATUS) & PCI_STATUS_CAP_LIST, 0);
	assert_int_equal(f->dev.w1cmask[PCI_STATUS + 1], 0);	/* RW1C errors go to the device */
	assert_policy(f, PCI_CLASS_REVISION, PCI_CACHE_LINE_SIZE, RO);
	assert_policy(f, PCI_CACHE_LINE_SIZE, PCI_BIST, EMU);
	assert_int_equal(f->dev.wmask[PCI_CACHE_LINE_SIZE], 0xff);
	assert_int_equal(f->dev.cfg[PCI_HEADER_TYPE], 0);
	assert_int_equal(f->dev.wmask[PCI_HEADER_TYPE], 0);
	assert_policy(f, PCI_BIST, PCI_BASE_ADDRESS_0, HID);
	assert_policy(f, PCI_CARDBUS_CIS, PCI_ROM_ADDRESS, RO);
	assert_policy(f, PCI_CAPABILITY_LIST, PCI_CAPABILITY_LIST + 1, EMU);
	assert_policy(f, PCI_CAPABILITY_LIST + 1, PCI_INTERRUPT_LINE, HID);
	assert_policy(f, PCI_INTERRUPT_LINE, PCI_INTERRUPT_PIN, EMU);
	assert_int_equal(f->dev.cfg[PCI_INTERRUPT_LINE], 0);	/* pci_host_add routes it */
	assert_int_equal(f->dev.wmask[PCI_INTERRUPT_LINE], 0xff);
	assert_policy(f, PCI_INTERRUPT_PIN, PCI_STD_HEADER_SIZEOF, RO);
	assert_int_equal(f->dev.cfg[PCI_INTERRUPT_PIN], 1);
	assert_int_equal(f->dev.cfg[PCI_CLASS_DEVICE + 1], 0x02);
}

static void runtime_masks_and_refresh(void **state)
{
	struct fx *f = *state;
	uint8_t phys[4];

	build(f);
	assert_int_equal(vfio_config_live_mask(&f->vc, PCI_VENDOR_ID, 4), 0xf);
	assert_int_equal(vfio_config_forward_mask(&f->vc, PCI_VENDOR_ID, 4), 0);
	assert_int_equal(vfio_config_forward_mask(&f->vc, PCI_COMMAND, 4), 0xf);
	assert_int_equal(vfio_config_live_mask(&f->vc, PCI_BASE_ADDRESS_0, 4), 0);
	assert_int_equal(vfio_config_live_mask(&f->vc, PCI_CACHE_LINE_SIZE, 4), 0);
	assert_int_equal(vfio_config_live_mask(&f->vc, PCI_INTERRUPT_LINE, 4), 0xe);
	/* The device says IO off, bus master on, INTx disabled: decode stays the core's. */
	f->dev.cfg[PCI_COMMAND] = PCI_COMMAND_MEMORY;
	pci_put16(phys, PCI_COMMAND_MASTER | PCI_COMMAND_IO | PCI_COMMAND_INTX_DISABLE);
	pci_put16(phys + 2, PCI_STATUS_SIG_TARGET_ABORT);
	vfio_config_refresh(&f->vc, f->dev.cfg, phys, PCI_COMMAND, 4);
	assert_int_equal(pci_cfg_get16(&f->dev, PCI_COMMAND),
			 PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE);
	assert_int_equal(pci_cfg_get16(&f->dev, PCI_STATUS), PCI_STATUS_SIG_TARGET_ABORT);
	/* Hidden and emulated bytes ignore the device. */
	memset(phys, 0xee, sizeof(phys));
	vfio_config_refresh(&f->vc, f->dev.cfg, phys, PCI_CACHE_LINE_SIZE, 4);
	assert_int_equal(f->dev.cfg[PCI_BIST], 0);
	assert_int_equal(f->dev.cfg[PCI_HEADER_TYPE], 0);
}

/* ---- Standard capabilities ---- */

static void std_hidden_ones_unlinked(void **state)
{
	struct fx *f = *state;
	uint8_t off[MAXCAPS];

	cap_list(f, 0x40);
	cap(f, 0x40, PCI_CAP_ID_PM, 0x48);
	pci_put16(&f->phys[0x42], 0xc803);		/* PME from D0, D3hot, D3cold */
	pci_put16(&f->phys[0x44], 0x8103);		/* D3hot, PME_En, PME_Status */
	cap(f, 0x48, PCI_CAP_ID_VPD, 0x50);
	pci_put32(&f->phys[0x4c], 0x12345678);
	cap(f, 0x50, PCI_CAP_ID_MSI, 0x68);
	pci_put16(&f->phys[0x52], 0x01b5);		/* maskable, 64-bit, enabled */
	cap(f, 0x68, PCI_CAP_ID_VNDR, 0x70);
	f->phys[0x6a] = 8;
	memset(&f->phys[0x6b], 0x77, 5);
	cap(f, 0x70, PCI_CAP_ID_AF, 0);
	f->phys[0x72] = 6;
	build(f);
	assert_int_equal(guest_caps(f, off), 3);
	assert_int_equal(off[0], 0x40);
	assert_int_equal(off[1], 0x50);
	assert_int_equal(off[2], 0x68);
	assert_int_equal(f->vc.pm_cap, 0x40);
	assert_int_equal(f->vc.msi_cap, 0x50);
	assert_policy(f, 0x48, 0x50, HID);
	assert_policy(f, 0x70, 0x78, HID);
	/* PM: no PME advertised; PowerState forwarded; PME_En/PME_Status hidden. */
	assert_int_equal(pci_cfg_get16(&f->dev, 0x42), 0x0003);
	assert_policy(f, 0x42, 0x44, EMU);
	assert_policy(f, 0x44, 0x45, PT);
	assert_policy(f, 0x45, 0x48, HID);
	/* MSI: 64-bit maskable is 24 bytes, emulated, reset to disabled. */
	assert_policy(f, 0x50, 0x51, RO);
	assert_policy(f, 0x51, 0x68, EMU);
	assert_int_equal(pci_cfg_get16(&f->dev, 0x52), 0x0184);
	/* Vendor-specific: read-only, its own length. */
	assert_policy(f, 0x6a, 0x70, RO);
	assert_int_equal(f->dev.cfg[0x6c], 0x77);
	assert_int_equal(f->vc.problems, 0);
}

static void std_all_hidden(void **state)
{
	struct fx *f = *state;
	uint8_t off[MAXCAPS];

	cap_list(f, 0x40);
	cap(f, 0x40, PCI_CAP_ID_VPD, 0);
	build(f);
	assert_int_equal(guest_caps(f, off), 0);
	assert_int_equal(f->dev.cfg[PCI_CAPABILITY_LIST], 0);
	assert_int_equal(f->dev.cfg[PCI_STATUS] & PCI_STATUS_CAP_LIST, 0);
}

static void std_list_bit_clear(void **state)
{
	struct fx *f = *state;

	f->phys[PCI_CAPABILITY_LIST] = 0x40;	/* PCI 3.0 §6.2.3: meaningless without bit 4 */
	cap(f, 0x40, PCI_CAP_ID_MSIX, 0);
	build(f);
	assert_int_equal(f->vc.msix_cap, 0);
	assert_int_equal(f->dev.cfg[PCI_CAPABILITY_LIST], 0);
}

static void std_duplicate_hidden(void **state)
{
	struct fx *f = *state;
	uint8_t off[MAXCAPS];

	cap_list(f, 0x40);
	cap(f, 0x40, PCI_CAP_ID_MSIX, 0x50);
	cap(f, 0x50, PCI_CAP_ID_MSIX, 0);
	build(f);
	assert_int_equal(guest_caps(f, off), 1);
	assert_int_equal(f->vc.msix_cap, 0x40);
	assert_int_equal(f->vc.problems, VFIO_CFG_BAD_DUP);
	assert_policy(f, 0x50, 0x5c, HID);
}

static void std_loop_terminated(void **state)
{
	struct fx *f = *state;
	uint8_t off[MAXCAPS];

	cap_list(f, 0x40);
	cap(f, 0x40, PCI_CAP_ID_MSIX, 0x50);
	cap(f, 0x50, PCI_CAP_ID_EXP, 0x40);
	build(f);
	assert_int_equal(guest_caps(f, off), 2);
	assert_int_equal(off[1], 0x50);
	assert_int_equal(f->vc.problems, VFIO_CFG_BAD_LOOP);
	/* A capability pointing at itself. */
	cap(f, 0x50, PCI_CAP_ID_EXP, 0x50);
	build(f);
	assert_int_equal(guest_caps(f, off), 2);
	assert_int_equal(f->vc.problems, VFIO_CFG_BAD_LOOP);
}

/* A chain through every dword of 0x40-0xff and back: bounded by the dword count. */
static void std_longest_loop(void **state)
{
	struct fx *f = *state;
	uint8_t off[MAXCAPS];
	uint32_t p;

	cap_list(f, 0x40);
	for (p = 0x40; p < 0x100; p += 4)
		cap(f, p, PCI_CAP_ID_VNDR, (uint8_t)(p == 0xfc ? 0x40 : p + 4));
	build(f);
	assert_int_equal(guest_caps(f, off), 48);
	assert_int_equal(f->vc.problems, VFIO_CFG_BAD_LOOP);
}

static void std_pointer_into_header(void **state)
{
	struct fx *f = *state;
	uint8_t off[MAXCAPS];

	cap_list(f, 0x20);
	build(f);
	assert_int_equal(guest_caps(f, off), 0);
	assert_int_equal(f->vc.problems, VFIO_CFG_BAD_HEADER);
	cap_list(f, 0x40);
	cap(f, 0x40, PCI_CAP_ID_MSIX, 0x10);
	build(f);
	assert_int_equal(guest_caps(f, off), 1);
	assert_int_equal(f->dev.cfg[0x41], 0);
	assert_int_equal(f->vc.problems, VFIO_CFG_BAD_HEADER);
}

static void std_unaligned_masked(void **state)
{
	struct fx *f = *state;
	uint8_t off[MAXCAPS];

	cap_list(f, 0x42);	/* PCI 3.0 §6.7: software masks bits 1:0 */
	cap(f, 0x40, PCI_CAP_ID_MSIX, 0x53);
	cap(f, 0x50, PCI_CAP_ID_EXP, 0);
	build(f);
	assert_int_equal(guest_caps(f, off), 2);
	assert_int_equal(off[0], 0x40);
	assert_int_equal(off[1], 0x50);
	assert_int_equal(f->vc.problems, VFIO_CFG_BAD_ALIGN);
}

static void std_pointer_past_length(void **state)
{
	struct fx *f = *state;
	uint8_t off[MAXCAPS];

	f->in.len = 0x80;
	cap_list(f, 0x40);
	cap(f, 0x40, PCI_CAP_ID_MSIX, 0x90);
	cap(f, 0x90, PCI_CAP_ID_EXP, 0);
	build(f);
	assert_int_equal(guest_caps(f, off), 1);
	assert_int_equal(f->vc.problems, VFIO_CFG_BAD_END);
	assert_policy(f, 0x80, 0x1000, HID);
}

/* A capability's registers never spill into the next one by address. */
static void std_body_clipped_at_next(void **state)
{
	struct fx *f = *state;

	cap_list(f, 0x40);
	cap(f, 0x40, PCI_CAP_ID_VNDR, 0x48);
	f->phys[0x42] = 0x40;			/* claims 64 bytes */
	cap(f, 0x48, PCI_CAP_ID_VPD, 0);
	pci_put32(&f->phys[0x4c], 0xdeadbeef);
	build(f);
	assert_policy(f, 0x42, 0x48, RO);
	assert_policy(f, 0x48, 0x80, HID);
}

static void msi_nop_update(void *opaque, unsigned n, uint64_t addr, uint32_t data, bool enabled)
{
	(void)opaque, (void)n, (void)addr, (void)data, (void)enabled;
}

static void msi_nop_fire(void *opaque, unsigned n)
{
	(void)opaque, (void)n;
}

static const struct msi_ops msi_nop_ops = { .update = msi_nop_update, .fire = msi_nop_fire };

/*
 * Issue 13 item 5: a 64-bit maskable MSI at 0x50 claims 24 bytes, up to
 * 0x68, but the PCIe capability starts at 0x60. Taking the MSI over must
 * leave the PCIe capability as it was (header, values, and no writable bit
 * on its read-only bytes): the MSI is clipped to a layout that fits, here
 * 64-bit without per-vector masking (14 bytes).
 */
static void msi_overlapping_next_is_clipped(void **state)
{
	struct fx *f = *state;
	uint8_t cfg[0x20], wmask[0x20];
	struct msi m;

	cap_list(f, 0x50);
	cap(f, 0x50, PCI_CAP_ID_MSI, 0x60);
	pci_put16(&f->phys[0x52], PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_MASKBIT | 2 << 1);
	cap(f, 0x60, PCI_CAP_ID_EXP, 0);
	pci_put16(&f->phys[0x62], 2 | PCI_EXP_TYPE_ENDPOINT << 4);
	pci_put32(&f->phys[0x64], 0x8fc1);	/* DEVCAP */
	build(f);
	assert_int_equal(f->vc.msi_cap, 0x50);
	assert_int_equal(f->vc.exp_cap, 0x60);
	memcpy(cfg, &f->dev.cfg[0x60], sizeof(cfg));
	memcpy(wmask, &f->dev.wmask[0x60], sizeof(wmask));
	assert_int_equal(msi_init_existing(&m, &f->dev, f->vc.msi_cap, f->vc.msi_end, &msi_nop_ops,
					   NULL), 0);
	assert_memory_equal(&f->dev.cfg[0x60], cfg, sizeof(cfg));
	assert_memory_equal(&f->dev.wmask[0x60], wmask, sizeof(wmask));
	assert_int_equal(f->dev.cfg[0x60], PCI_CAP_ID_EXP);
	assert_int_equal(pci_cfg_get32(&f->dev, 0x64), 0x8fc1);
	/* What the guest sees of the MSI fits: 64-bit, not maskable, 4 vectors. */
	assert_true(m.is64);
	assert_false(m.maskable);
	assert_int_equal(m.max_vectors, 4);
	assert_int_equal(pci_cfg_get16(&f->dev, 0x52) & PCI_MSI_FLAGS_MASKBIT, 0);
	assert_true(f->vc.msi_end <= 0x60);
	assert_true(f->vc.problems & VFIO_CFG_BAD_OVERLAP);
	msi_exit(&m);
}

/* Room for no MSI layout at all (4 bytes to the next): the MSI is hidden. */
static void msi_without_room_hidden(void **state)
{
	struct fx *f = *state;
	uint8_t off[MAXCAPS];

	cap_list(f, 0x50);
	cap(f, 0x50, PCI_CAP_ID_MSI, 0x54);
	pci_put16(&f->phys[0x52], PCI_MSI_FLAGS_64BIT);
	cap(f, 0x54, PCI_CAP_ID_PM, 0);
	build(f);
	assert_int_equal(f->vc.msi_cap, 0);
	assert_int_equal(guest_caps(f, off), 1);
	assert_int_equal(off[0], 0x54);
	assert_true(f->vc.problems & VFIO_CFG_BAD_OVERLAP);
}

/* The same for MSI-X, which has a single layout of 12 bytes. */
static void msix_without_room_hidden(void **state)
{
	struct fx *f = *state;
	uint8_t off[MAXCAPS];

	cap_list(f, 0x50);
	cap(f, 0x50, PCI_CAP_ID_MSIX, 0x58);
	cap(f, 0x58, PCI_CAP_ID_PM, 0);
	build(f);
	assert_int_equal(f->vc.msix_cap, 0);
	assert_int_equal(guest_caps(f, off), 1);
	assert_int_equal(off[0], 0x58);
}

/* ---- Extended capabilities ---- */

static void ext_sriov_at_head(void **state)
{
	struct fx *f = *state;
	uint16_t id[MAXCAPS], off[MAXCAPS];

	ecap(f, 0x100, PCI_EXT_CAP_ID_SRIOV, 0x140);
	memset(&f->phys[0x104], 0x11, PCI_EXT_CAP_SRIOV_SIZEOF - 4);
	ecap(f, 0x140, PCI_EXT_CAP_ID_DSN, 0x180);
	pci_put32(&f->phys[0x144], 0xcafef00d);
	ecap(f, 0x180, PCI_EXT_CAP_ID_VNDR, 0);
	pci_put32(&f->phys[0x184], 0x01000001);	/* 16 bytes */
	build(f);
	assert_int_equal(guest_ecaps(f, id, off), 3);
	/* The null header: ID 0, version 0, next = the first one kept. */
	assert_int_equal(pci_cfg_get32(&f->dev, 0x100), 0x140u << 20);
	assert_int_equal(off[1], 0x140);
	assert_int_equal(id[1], PCI_EXT_CAP_ID_DSN);
	assert_int_equal(off[2], 0x180);
	assert_int_equal(id[2], PCI_EXT_CAP_ID_VNDR);
	assert_int_equal(pci_cfg_get32(&f->dev, 0x180) >> 16, 1);	/* version kept, next 0 */
	assert_policy(f, 0x104, 0x140, HID);
	assert_policy(f, 0x144, 0x14c, RO);
	assert_policy(f, 0x14c, 0x180, HID);
	assert_policy(f, 0x184, 0x190, RO);
	assert_int_equal(f->vc.problems, 0);
}

static void ext_sriov_in_middle(void **state)
{
	struct fx *f = *state;
	uint16_t id[MAXCAPS], off[MAXCAPS];

	ecap(f, 0x100, PCI_EXT_CAP_ID_DSN, 0x140);
	ecap(f, 0x140, PCI_EXT_CAP_ID_SRIOV, 0x180);
	ecap(f, 0x180, PCI_EXT_CAP_ID_DVSEC, 0);
	pci_put32(&f->phys[0x184], 0x00c00001);	/* 12 bytes */
	build(f);
	assert_int_equal(guest_ecaps(f, id, off), 2);
	assert_int_equal(id[0], PCI_EXT_CAP_ID_DSN);
	assert_int_equal(off[1], 0x180);
	assert_int_equal(id[1], PCI_EXT_CAP_ID_DVSEC);
	assert_policy(f, 0x140, 0x180, HID);
	assert_policy(f, 0x184, 0x18c, RO);
}

static void ext_host_only_hidden(void **state)
{
	static const uint16_t hidden[] = {
		PCI_EXT_CAP_ID_ERR, PCI_EXT_CAP_ID_ACS, PCI_EXT_CAP_ID_ARI, PCI_EXT_CAP_ID_ATS,
		PCI_EXT_CAP_ID_PRI, PCI_EXT_CAP_ID_PASID, PCI_EXT_CAP_ID_LTR, 0x7777,
	};
	struct fx *f = *state;
	uint16_t id[MAXCAPS], off[MAXCAPS];
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(hidden); i++)
		ecap(f, 0x100 + 0x20 * i, hidden[i], 0x120 + 0x20 * i);
	ecap(f, 0x100 + 0x20 * i, PCI_EXT_CAP_ID_DSN, 0);
	build(f);
	assert_int_equal(guest_ecaps(f, id, off), 2);
	assert_int_equal(id[0], 0);
	assert_int_equal(off[1], 0x100 + 0x20 * i);
}

static void ext_loop_terminated(void **state)
{
	struct fx *f = *state;
	uint16_t id[MAXCAPS], off[MAXCAPS];

	ecap(f, 0x100, PCI_EXT_CAP_ID_DSN, 0x140);
	ecap(f, 0x140, PCI_EXT_CAP_ID_VNDR, 0x100);
	build(f);
	assert_int_equal(guest_ecaps(f, id, off), 2);
	assert_int_equal(f->vc.problems, VFIO_CFG_BAD_LOOP);
}

static void ext_bad_pointers(void **state)
{
	struct fx *f = *state;
	uint16_t id[MAXCAPS], off[MAXCAPS];

	ecap(f, 0x100, PCI_EXT_CAP_ID_DSN, 0x080);	/* into standard space */
	build(f);
	assert_int_equal(guest_ecaps(f, id, off), 1);
	assert_int_equal(f->vc.problems, VFIO_CFG_BAD_HEADER);

	ecap(f, 0x100, PCI_EXT_CAP_ID_DSN, 0x142);	/* unaligned: masked */
	ecap(f, 0x140, PCI_EXT_CAP_ID_VNDR, 0);
	build(f);
	assert_int_equal(guest_ecaps(f, id, off), 2);
	assert_int_equal(off[1], 0x140);
	assert_int_equal(f->vc.problems, VFIO_CFG_BAD_ALIGN);

	f->in.len = 0x200;
	ecap(f, 0x100, PCI_EXT_CAP_ID_DSN, 0x300);	/* past what VFIO let us read */
	build(f);
	assert_int_equal(guest_ecaps(f, id, off), 1);
	assert_int_equal(f->vc.problems, VFIO_CFG_BAD_END);
	assert_policy(f, 0x200, 0x1000, HID);
}

static void ext_absent_headers(void **state)
{
	struct fx *f = *state;
	uint16_t id[MAXCAPS], off[MAXCAPS];

	pci_put32(&f->phys[0x100], 0xffffffff);	/* extended space not answering */
	build(f);
	assert_int_equal(guest_ecaps(f, id, off), 0);
	assert_int_equal(f->vc.problems, 0);
}

static void conventional_has_no_extended(void **state)
{
	struct fx *f = *state;

	f->in.len = PCI_CFG_SPACE_SIZE;
	ecap(f, 0x100, PCI_EXT_CAP_ID_DSN, 0);	/* beyond len: must not be read */
	build(f);
	assert_policy(f, 0x100, 0x1000, HID);
	assert_int_equal(vfio_config_live_mask(&f->vc, 0x100, 4), 0);
	assert_int_equal(vfio_config_forward_mask(&f->vc, 0xffc, 4), 0);
}

/* ---- Quirks and input checks ---- */

static bool match_igb_vf(uint16_t vendor, uint16_t device)
{
	return vendor == 0x8086 && device == 0x10ca;
}

/* A quirk with a visible effect: hide the CardBus CIS pointer. */
static int hide_cis(struct vfio_config *vc, struct pci_dev *dev, const struct vfio_config_in *in)
{
	(void)dev, (void)in;
	memset(&vc->policy[PCI_CARDBUS_CIS], VFIO_CFG_HIDDEN, 4);
	return 0;
}

static int refuse(struct vfio_config *vc, struct pci_dev *dev, const struct vfio_config_in *in)
{
	(void)vc, (void)dev, (void)in;
	return -ENODEV;
}

static const struct vfio_quirk_ops quirk_hide_cis = { "hide-cis", match_igb_vf, hide_cis };
static const struct vfio_quirk_ops quirk_refuse = { "refuse", match_igb_vf, refuse };

static void quirk_table_consulted(void **state)
{
	static const struct vfio_quirk_ops *const quirks[] = { &quirk_hide_cis, NULL };
	static const struct vfio_quirk_ops *const failing[] = { &quirk_refuse, NULL };
	struct fx *f = *state;

	assert_null(vfio_quirks_default[0]);
	pci_put32(&f->phys[PCI_CARDBUS_CIS], 0x12345678);
	f->in.quirks = quirks;
	build(f);				/* 8086:1520 does not match */
	assert_policy(f, PCI_CARDBUS_CIS, PCI_CARDBUS_CIS + 4, RO);
	igb_vf(f);
	build(f);
	assert_policy(f, PCI_CARDBUS_CIS, PCI_CARDBUS_CIS + 4, HID);
	f->in.quirks = failing;
	assert_int_equal(vfio_config_init(&f->vc, &f->dev, &f->in), -ENODEV);
	assert_int_equal(f->vc.len, 0);
}

static void bad_input_refused(void **state)
{
	struct fx *f = *state;

	f->phys[PCI_HEADER_TYPE] = PCI_HEADER_TYPE_BRIDGE;
	assert_int_equal(vfio_config_init(&f->vc, &f->dev, &f->in), -EINVAL);
	f->phys[PCI_HEADER_TYPE] = 0;
	f->in.len = 0;
	assert_int_equal(vfio_config_init(&f->vc, &f->dev, &f->in), -EINVAL);
	f->in.len = 258;
	assert_int_equal(vfio_config_init(&f->vc, &f->dev, &f->in), -EINVAL);
	f->in.len = 8192;
	assert_int_equal(vfio_config_init(&f->vc, &f->dev, &f->in), -EINVAL);
	f->in.len = 256;
	f->in.cfg = NULL;
	assert_int_equal(vfio_config_init(&f->vc, &f->dev, &f->in), -EINVAL);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(igb_vf_standard_chain),
		T(igb_vf_extended_all_hidden),
		T(igb_vf_bars_size_like_hardware),
		T(bar_types_and_sizes),
		T(bar_malformed_refused),
		T(rom_present_and_absent),
		T(header_policies),
		T(runtime_masks_and_refresh),
		T(std_hidden_ones_unlinked),
		T(std_all_hidden),
		T(std_list_bit_clear),
		T(std_duplicate_hidden),
		T(std_loop_terminated),
		T(std_longest_loop),
		T(std_pointer_into_header),
		T(msi_overlapping_next_is_clipped),
		T(msi_without_room_hidden),
		T(msix_without_room_hidden),
		T(std_unaligned_masked),
		T(std_pointer_past_length),
		T(std_body_clipped_at_next),
		T(ext_sriov_at_head),
		T(ext_sriov_in_middle),
		T(ext_host_only_hidden),
		T(ext_loop_terminated),
		T(ext_bad_pointers),
		T(ext_absent_headers),
		T(conventional_has_no_extended),
		T(quirk_table_consulted),
		T(bad_input_refused),
	};
	return cmocka_run_group_tests_name("vfio_config", tests, NULL, NULL);
}
