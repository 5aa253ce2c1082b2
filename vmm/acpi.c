/*
 * sluice: ACPI tables. Section numbers are ACPI 6.4 unless noted. The layout
 * in the region is RSDP (offset 0, so the 0xe0000-0xfffff scan finds it),
 * FACS, DSDT, FADT, MADT, MCFG, [VIOT,] XSDT: each table before the ones
 * that point at it, so every address is known when it is written.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "vmm/acpi.h"
#include "vmm/aml.h"
#include "vmm/layout.h"

#define ACPI_CREATOR_ID		"SLCE"
#define ACPI_CREATOR_REVISION	1
#define ACPI_OEM_REVISION	1

#define PACKED __attribute__((packed))

/* Generic Address Structure, §5.2.3.2 */
struct acpi_gas {
	uint8_t space_id;
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access_size;
	uint64_t address;
} PACKED;

#define GAS_SYSTEM_IO	1
#define GAS_ACCESS_BYTE	1
#define GAS_ACCESS_WORD	2

/* §5.2.5.3 */
struct acpi_rsdp {
	char signature[8];
	uint8_t checksum;	/* over the first 20 bytes (the ACPI 1.0 part) */
	char oem_id[6];
	uint8_t revision;
	uint32_t rsdt_address;
	uint32_t length;
	uint64_t xsdt_address;
	uint8_t ext_checksum;	/* over all 36 bytes */
	uint8_t reserved[3];
} PACKED;

/* §5.2.10 */
struct acpi_facs {
	char signature[4];
	uint32_t length;
	uint32_t hardware_signature;
	uint32_t waking_vector;
	uint32_t global_lock;
	uint32_t flags;
	uint64_t x_waking_vector;
	uint8_t version;
	uint8_t reserved[3];
	uint32_t ospm_flags;
	uint8_t reserved2[24];
} PACKED;

/* §5.2.9: revision 6 */
struct acpi_fadt {
	struct acpi_table_header h;
	uint32_t firmware_ctrl;
	uint32_t dsdt;
	uint8_t reserved0;
	uint8_t preferred_pm_profile;
	uint16_t sci_int;
	uint32_t smi_cmd;
	uint8_t acpi_enable;
	uint8_t acpi_disable;
	uint8_t s4bios_req;
	uint8_t pstate_cnt;
	uint32_t pm1a_evt_blk;
	uint32_t pm1b_evt_blk;
	uint32_t pm1a_cnt_blk;
	uint32_t pm1b_cnt_blk;
	uint32_t pm2_cnt_blk;
	uint32_t pm_tmr_blk;
	uint32_t gpe0_blk;
	uint32_t gpe1_blk;
	uint8_t pm1_evt_len;
	uint8_t pm1_cnt_len;
	uint8_t pm2_cnt_len;
	uint8_t pm_tmr_len;
	uint8_t gpe0_blk_len;
	uint8_t gpe1_blk_len;
	uint8_t gpe1_base;
	uint8_t cst_cnt;
	uint16_t p_lvl2_lat;
	uint16_t p_lvl3_lat;
	uint16_t flush_size;
	uint16_t flush_stride;
	uint8_t duty_offset;
	uint8_t duty_width;
	uint8_t day_alrm;
	uint8_t mon_alrm;
	uint8_t century;
	uint16_t iapc_boot_arch;
	uint8_t reserved1;
	uint32_t flags;
	struct acpi_gas reset_reg;
	uint8_t reset_value;
	uint16_t arm_boot_arch;
	uint8_t minor_version;
	uint64_t x_firmware_ctrl;
	uint64_t x_dsdt;
	struct acpi_gas x_pm1a_evt_blk;
	struct acpi_gas x_pm1b_evt_blk;
	struct acpi_gas x_pm1a_cnt_blk;
	struct acpi_gas x_pm1b_cnt_blk;
	struct acpi_gas x_pm2_cnt_blk;
	struct acpi_gas x_pm_tmr_blk;
	struct acpi_gas x_gpe0_blk;
	struct acpi_gas x_gpe1_blk;
	struct acpi_gas sleep_control_reg;
	struct acpi_gas sleep_status_reg;
	uint64_t hypervisor_vendor_id;
} PACKED;

_Static_assert(sizeof(struct acpi_table_header) == 36, "ACPI header is 36 bytes");
_Static_assert(sizeof(struct acpi_rsdp) == 36, "RSDP rev 2 is 36 bytes");
_Static_assert(sizeof(struct acpi_facs) == 64, "FACS is 64 bytes");
_Static_assert(offsetof(struct acpi_fadt, iapc_boot_arch) == 109, "FADT IAPC_BOOT_ARCH");
_Static_assert(offsetof(struct acpi_fadt, x_dsdt) == 140, "FADT X_DSDT");
_Static_assert(sizeof(struct acpi_fadt) == 276, "FADT rev 6 is 276 bytes");

/* Fixed feature flags, §5.2.9 */
#define FADT_WBINVD		(1u << 0)
#define FADT_PWR_BUTTON		(1u << 4)	/* no fixed power button */
#define FADT_SLP_BUTTON		(1u << 5)	/* no fixed sleep button */
#define FADT_RESET_REG_SUP	(1u << 10)

/* IA-PC boot architecture flags, §5.2.9.3 */
#define BOOT_LEGACY_DEVICES	(1u << 0)
#define BOOT_8042		(1u << 1)
#define BOOT_VGA_NOT_PRESENT	(1u << 2)
#define BOOT_MSI_NOT_SUPPORTED	(1u << 3)
#define BOOT_PCIE_ASPM_CONTROLS	(1u << 4)
#define BOOT_CMOS_RTC_NOT_PRESENT (1u << 5)

/* MADT, §5.2.12 */
struct acpi_madt {
	struct acpi_table_header h;
	uint32_t lapic_address;
	uint32_t flags;
} PACKED;

#define MADT_PCAT_COMPAT	(1u << 0)	/* dual 8259s present */

struct madt_lapic {		/* §5.2.12.2 */
	uint8_t type;
	uint8_t length;
	uint8_t processor_uid;
	uint8_t apic_id;
	uint32_t flags;
} PACKED;

struct madt_ioapic {		/* §5.2.12.3 */
	uint8_t type;
	uint8_t length;
	uint8_t id;
	uint8_t reserved;
	uint32_t address;
	uint32_t gsi_base;
} PACKED;

struct madt_iso {		/* §5.2.12.5 */
	uint8_t type;
	uint8_t length;
	uint8_t bus;
	uint8_t source;
	uint32_t gsi;
	uint16_t flags;
} PACKED;

struct madt_lapic_nmi {		/* §5.2.12.7 */
	uint8_t type;
	uint8_t length;
	uint8_t processor_uid;
	uint16_t flags;
	uint8_t lint;
} PACKED;

enum { MADT_LAPIC = 0, MADT_IOAPIC = 1, MADT_ISO = 2, MADT_LAPIC_NMI = 4 };

#define MADT_LAPIC_ENABLED	(1u << 0)
/* MPS INTI flags, §5.2.12.5: polarity in bits 1:0, trigger in 3:2 */
#define MPS_ACTIVE_HIGH		0x1
#define MPS_LEVEL		(0x3 << 2)
#define MADT_ALL_PROCESSORS	0xff

/* MCFG, PCI Firmware Specification 3.3 §4.1.2 */
struct mcfg_alloc {
	uint64_t base;
	uint16_t segment;
	uint8_t start_bus;
	uint8_t end_bus;
	uint32_t reserved;
} PACKED;

struct acpi_mcfg {
	struct acpi_table_header h;
	uint8_t reserved[8];
	struct mcfg_alloc alloc[1];
} PACKED;

/* VIOT, ACPI 6.5 §5.2.30 (Linux include/acpi/actbl3.h) */
struct viot_node_header {
	uint8_t type;
	uint8_t reserved;
	uint16_t length;
} PACKED;

#define VIOT_NODE_PCI_RANGE		1
#define VIOT_NODE_VIRTIO_IOMMU_PCI	3

struct viot_pci_range {
	struct viot_node_header h;
	uint32_t endpoint_start;
	uint16_t segment_start, segment_end;
	uint16_t bdf_start, bdf_end;
	uint16_t output_node;		/* the IOMMU node's offset in the table */
	uint8_t reserved[6];
} PACKED;

struct viot_virtio_iommu_pci {
	struct viot_node_header h;
	uint16_t segment;
	uint16_t bdf;
	uint8_t reserved[8];
} PACKED;

struct acpi_viot_table {
	struct acpi_table_header h;
	uint16_t node_count;
	uint16_t node_offset;
	uint8_t reserved[8];
	struct viot_virtio_iommu_pci iommu;
	struct viot_pci_range range[];
} PACKED;

/* §5.2.8 */
struct acpi_xsdt {
	struct acpi_table_header h;
	uint64_t entry[];
} PACKED;

/* _OSC (ACPI 6.4 §6.2.11): the status DWORD's bits as the platform returns them */
#define OSC_STS_FAILURE		(1u << 1)	/* could not process the request */
#define OSC_STS_BAD_UUID	(1u << 2)	/* unrecognized UUID */
#define OSC_STS_BAD_REVISION	(1u << 3)	/* unrecognized revision */
#define OSC_STS_MASKED		(1u << 4)	/* control bits the OS asked for were cleared */

/* PCI Firmware Specification 3.3 §4.5.1: the PCI host bridge _OSC interface */
#define OSC_UUID_PCI_HOST_BRIDGE "33DB4D5B-1FF7-401C-9657-7441C03DD766"

/* Where the tables go: a host buffer the guest sees at @gpa. */
struct acpi_buf {
	uint8_t *base;
	size_t len;
	size_t used;
	uint64_t gpa;
};

struct acpi_config acpi_config_for(unsigned nr_cpus, uint64_t ram_size)
{
	return (struct acpi_config){
		.nr_cpus = nr_cpus,
		.mmio64_base = layout_mmio64_base(ram_size),
		.mmio64_size = LAYOUT_MMIO64_SIZE,
	};
}

uint8_t acpi_checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (len--)
		sum = (uint8_t)(sum + *b++);
	return sum;
}

/* Reserve @size zeroed bytes at the next @align (power of 2) boundary. */
static void *take(struct acpi_buf *b, size_t size, size_t align)
{
	size_t off = (b->used + align - 1) & ~(align - 1);

	if (off < b->used || off > b->len || size > b->len - off)
		return NULL;
	memset(b->base + b->used, 0, off + size - b->used);
	b->used = off + size;
	return b->base + off;
}

static uint64_t gpa_of(const struct acpi_buf *b, const void *p)
{
	return b->gpa + (uint64_t)((const uint8_t *)p - b->base);
}

/* Bytes from @start to the end of what has been taken so far. */
static uint32_t len_from(const struct acpi_buf *b, const void *start)
{
	return (uint32_t)(b->base + b->used - (const uint8_t *)start);
}

/* Fill the header of a table whose bytes are all written, then checksum it. */
static void header_finish(struct acpi_table_header *h, const char *sig, uint32_t length,
			  uint8_t revision)
{
	memcpy(h->signature, sig, sizeof(h->signature));
	h->length = length;
	h->revision = revision;
	memcpy(h->oem_id, ACPI_OEM_ID, sizeof(h->oem_id));
	memcpy(h->oem_table_id, ACPI_OEM_TABLE_ID, sizeof(h->oem_table_id));
	h->oem_revision = ACPI_OEM_REVISION;
	memcpy(h->creator_id, ACPI_CREATOR_ID, sizeof(h->creator_id));
	h->creator_revision = ACPI_CREATOR_REVISION;
	h->checksum = 0;
	h->checksum = (uint8_t)-acpi_checksum(h, length);
}

/*
 * The PCIe host bridge's resources (§6.2.2, §6.4.3.5): bus 0, all I/O but
 * the config ports 0xcf8-0xcff, which it consumes itself (a plain IO
 * descriptor; Linux drops it from the windows, arch/x86/pci/acpi.c), and
 * the two MMIO windows. The 64-bit one is marked cacheable as BARs placed
 * there are usually prefetchable; Linux treats both alike.
 */
static void dsdt_pci0_crs(struct aml *a, const struct acpi_config *cfg)
{
	size_t crs;

	aml_name(a, "_CRS");
	crs = aml_restemplate_begin(a);
	aml_res_bus_range(a, 0, (uint16_t)(LAYOUT_ECAM_SIZE / MiB - 1));
	aml_res_io_window(a, 0x0000, LAYOUT_PORT_PCI_CF8 - 1);
	aml_res_io(a, LAYOUT_PORT_PCI_CF8, 8);
	aml_res_io_window(a, LAYOUT_PORT_PCI_CF8 + 8, 0xffff);
	aml_res_mem_window(a, LAYOUT_MMIO32_BASE, LAYOUT_MMIO32_SIZE, false);
	if (cfg->mmio64_size)
		aml_res_mem_window(a, cfg->mmio64_base, cfg->mmio64_size, true);
	aml_restemplate_end(a, crs);
}

/*
 * _PRT (§6.2.13): with Source = 0, Source Index is the GSI, so every entry
 * is a fixed IOAPIC pin (level, active low). Address is slot << 16 | 0xffff
 * (any function). Routing is layout_pci_intx_gsi(), as the PCI core programs it.
 */
static void dsdt_pci0_prt(struct aml *a)
{
	unsigned slot, pin;
	size_t prt, entry;

	aml_name(a, "_PRT");
	prt = aml_package_begin(a, LAYOUT_PCI_SLOTS * 4);
	for (slot = 0; slot < LAYOUT_PCI_SLOTS; slot++) {
		for (pin = 0; pin < 4; pin++) {
			entry = aml_package_begin(a, 4);
			aml_int(a, (uint64_t)slot << 16 | 0xffff);
			aml_int(a, pin);
			aml_int(a, 0);
			aml_int(a, layout_pci_intx_gsi(slot, pin));
			aml_end(a, entry);
		}
	}
	aml_end(a, prt);
}

/* Or (CDW1, @bit, CDW1): report an _OSC status bit (ACPI 6.4 §6.2.11). */
static void osc_status(struct aml *a, uint32_t bit)
{
	aml_op(a, AML_OP_OR);
	aml_namestring(a, "CDW1");
	aml_int(a, bit);
	aml_namestring(a, "CDW1");
}

/*
 * With at least the three DWORDs of revision 1 (status, support, control):
 *   CreateDWordField (Arg3, 8, CDW3)
 *   And (CDW3, ACPI_PCI_OSC_GRANTED, Local0)
 *   If (LNotEqual (Local0, CDW3)) { Or (CDW1, OSC_STS_MASKED, CDW1) }
 *   Store (Local0, CDW3)
 * The answer is the same with the query flag set or not: granting changes
 * nothing in sluice, so there is no state to keep or to leave alone
 * (ACPI 6.4 §6.2.11.1.1, Query Flag).
 */
static void osc_control(struct aml *a)
{
	size_t masked;

	aml_op(a, AML_OP_CREATE_DWORD_FIELD);
	aml_arg(a, 3);
	aml_int(a, 8);
	aml_namestring(a, "CDW3");
	aml_op(a, AML_OP_AND);
	aml_namestring(a, "CDW3");
	aml_int(a, ACPI_PCI_OSC_GRANTED);
	aml_local(a, 0);
	masked = aml_if_begin(a);
	aml_op(a, AML_OP_LNOT);
	aml_op(a, AML_OP_LEQUAL);
	aml_local(a, 0);
	aml_namestring(a, "CDW3");
	osc_status(a, OSC_STS_MASKED);
	aml_end(a, masked);
	aml_op(a, AML_OP_STORE);
	aml_local(a, 0);
	aml_namestring(a, "CDW3");
}

/*
 * Arg1 is the revision and Arg2 the count of DWORDs in Arg3. An unknown
 * revision is reported but still answered with the bits revision 1 defines
 * (ACPI 6.4 §6.2.11: "bits beyond those comprehended ... will be masked");
 * a buffer too short for the control DWORD cannot be answered (_OSC failure).
 *   If (LNotEqual (Arg1, One)) { Or (CDW1, OSC_STS_BAD_REVISION, CDW1) }
 *   If (LLess (Arg2, 3)) { Or (CDW1, OSC_STS_FAILURE, CDW1) }
 *   Else { osc_control }
 */
static void osc_pci(struct aml *a)
{
	size_t rev, count, ok;

	rev = aml_if_begin(a);
	aml_op(a, AML_OP_LNOT);
	aml_op(a, AML_OP_LEQUAL);
	aml_arg(a, 1);
	aml_int(a, 1);
	osc_status(a, OSC_STS_BAD_REVISION);
	aml_end(a, rev);
	count = aml_if_begin(a);
	aml_op(a, AML_OP_LLESS);
	aml_arg(a, 2);
	aml_int(a, 3);
	osc_status(a, OSC_STS_FAILURE);
	aml_end(a, count);
	ok = aml_else_begin(a);
	osc_control(a);
	aml_end(a, ok);
}

/*
 * _OSC of a PCIe host bridge (PCI Firmware Specification 3.3 §4.5.1, which
 * requires one; ACPI 6.4 §6.2.11). The OS asks for control of PCIe features
 * in the control DWORD; sluice grants only those it can honour, clears the
 * rest and says so. Serialized: it creates the CDWn names.
 *   Method (_OSC, 4, Serialized) {
 *     CreateDWordField (Arg3, 0, CDW1)
 *     If (LEqual (Arg0, ToUUID (PCI_HOST_BRIDGE))) { osc_pci }
 *     Else { Or (CDW1, OSC_STS_BAD_UUID, CDW1) }
 *     Return (Arg3)
 *   }
 */
static void dsdt_pci0_osc(struct aml *a)
{
	size_t m = aml_method_begin(a, "_OSC", 4, true);
	size_t uuid, other;

	aml_op(a, AML_OP_CREATE_DWORD_FIELD);
	aml_arg(a, 3);
	aml_int(a, 0);
	aml_namestring(a, "CDW1");
	uuid = aml_if_begin(a);
	aml_op(a, AML_OP_LEQUAL);
	aml_arg(a, 0);
	aml_uuid(a, OSC_UUID_PCI_HOST_BRIDGE);
	osc_pci(a);
	aml_end(a, uuid);
	other = aml_else_begin(a);
	osc_status(a, OSC_STS_BAD_UUID);
	aml_end(a, other);
	aml_return(a);
	aml_arg(a, 3);
	aml_end(a, m);
}

static void dsdt_pci0(struct aml *a, const struct acpi_config *cfg)
{
	size_t dev = aml_device_begin(a, "PCI0");

	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0A08");	/* PCI Express root bridge */
	aml_name(a, "_CID");
	aml_eisaid(a, "PNP0A03");	/* ... compatible with a PCI one */
	aml_name(a, "_SEG");
	aml_int(a, 0);
	aml_name(a, "_BBN");
	aml_int(a, 0);
	aml_name(a, "_UID");
	aml_int(a, 0);
	dsdt_pci0_crs(a, cfg);
	dsdt_pci0_prt(a);
	dsdt_pci0_osc(a);
	aml_end(a, dev);
}

/*
 * Motherboard resources (PNP0C02): the ECAM range must be reserved here (PCI
 * Firmware Spec 3.3 §4.1.2; Linux otherwise falls back to E820 or refuses
 * MMCONFIG), and the PM and reset ports belong to no other device.
 */
static void dsdt_mres(struct aml *a)
{
	size_t dev = aml_device_begin(a, "MRES");
	size_t crs;

	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0C02");
	aml_name(a, "_CRS");
	crs = aml_restemplate_begin(a);
	aml_res_mem32_fixed(a, (uint32_t)LAYOUT_ECAM_BASE, (uint32_t)LAYOUT_ECAM_SIZE);
	aml_res_io(a, LAYOUT_PORT_PM1A_EVT, 4);
	aml_res_io(a, LAYOUT_PORT_PM1A_CNT, 2);
	aml_res_io(a, LAYOUT_PORT_RESET, 1);
	aml_restemplate_end(a, crs);
	aml_end(a, dev);
}

static void dsdt_com1(struct aml *a)
{
	size_t dev = aml_device_begin(a, "COM1");
	size_t crs;

	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0501");	/* 16550A-compatible UART */
	aml_name(a, "_UID");
	aml_int(a, 0);
	aml_name(a, "_CRS");
	crs = aml_restemplate_begin(a);
	aml_res_io(a, LAYOUT_PORT_COM1, 8);
	aml_res_irq(a, LAYOUT_IRQ_COM1);
	aml_restemplate_end(a, crs);
	aml_end(a, dev);
}

/* QEMU's pvpanic ISA device: Linux's pvpanic driver binds to QEMU0001. */
static void dsdt_pvpanic(struct aml *a)
{
	size_t dev = aml_device_begin(a, "PEVT");
	size_t crs, sta;

	aml_name(a, "_HID");
	aml_string(a, "QEMU0001");
	aml_name(a, "_CRS");
	crs = aml_restemplate_begin(a);
	aml_res_io(a, LAYOUT_PORT_PVPANIC, 1);
	aml_restemplate_end(a, crs);
	sta = aml_method_begin(a, "_STA", 0, false);
	aml_return(a);
	aml_int(a, 0x0f);	/* present, enabled, shown, functioning: §6.3.7 */
	aml_end(a, sta);
	aml_end(a, dev);
}

/*
 * \_S5 (§7.4.2): {SLP_TYPa, SLP_TYPb, reserved, reserved}. OSPM writes
 * SLP_TYPa | SLP_EN to PM1a_CNT to power off (§4.8.3.2.1, §7.4.2).
 */
static void dsdt_s5(struct aml *a)
{
	size_t pkg;

	aml_name(a, "\\_S5");
	pkg = aml_package_begin(a, 4);
	aml_int(a, LAYOUT_SLP_TYP_S5);
	aml_int(a, LAYOUT_SLP_TYP_S5);
	aml_int(a, 0);
	aml_int(a, 0);
	aml_end(a, pkg);
}

static void dsdt_body(struct aml *a, const struct acpi_config *cfg)
{
	size_t sb = aml_scope_begin(a, "\\_SB");

	dsdt_pci0(a, cfg);
	dsdt_mres(a);
	dsdt_com1(a);
	dsdt_pvpanic(a);
	aml_end(a, sb);
	dsdt_s5(a);
}

/* DSDT revision 2: integers are 64 bits wide (§5.2.11.1). */
static int build_dsdt(struct acpi_buf *b, const struct acpi_config *cfg, uint64_t *gpa)
{
	struct acpi_table_header *h = take(b, sizeof(*h), 16);
	struct aml a;

	if (!h)
		return -ENOSPC;
	aml_init(&a, b->base + b->used, b->len - b->used);
	dsdt_body(&a, cfg);
	if (aml_error(&a))
		return aml_error(&a);
	b->used += a.len;
	header_finish(h, "DSDT", len_from(b, h), 2);
	*gpa = gpa_of(b, h);
	return 0;
}

/*
 * A FACS is required unless the FADT is hardware-reduced (§5.2.9
 * FIRMWARE_CTRL, §5.2.10); it must be 64-byte aligned. Nothing here uses the
 * global lock or S3/S4, so it stays zero but for its identity.
 */
static int build_facs(struct acpi_buf *b, uint64_t *gpa)
{
	struct acpi_facs *f = take(b, sizeof(*f), 64);

	if (!f)
		return -ENOSPC;
	memcpy(f->signature, "FACS", sizeof(f->signature));
	f->length = sizeof(*f);
	f->version = 2;
	*gpa = gpa_of(b, f);
	return 0;
}

static struct acpi_gas gas_io(uint16_t port, unsigned bytes, uint8_t access)
{
	struct acpi_gas g = {
		.space_id = GAS_SYSTEM_IO,
		.bit_width = (uint8_t)(8 * bytes),
		.access_size = access,
		.address = port,
	};
	return g;
}

/*
 * PM1a event (status + enable, §4.8.3.1) and control (§4.8.3.2) blocks, in
 * both the 32-bit and the X_ form, which must agree (§5.2.9). No PM1b, PM2,
 * PM timer (optional since ACPI 5.0A) or GPE blocks: their lengths stay 0.
 * A Linux guest clocks from kvm-clock, and nothing in sluice raises a
 * general-purpose event; ARCHITECTURE.md ("ACPI") gives the decision.
 */
static void fadt_pm_blocks(struct acpi_fadt *f)
{
	f->sci_int = LAYOUT_IRQ_SCI;
	f->smi_cmd = 0;		/* no SMM: always in ACPI mode */
	f->pm1a_evt_blk = LAYOUT_PORT_PM1A_EVT;
	f->pm1_evt_len = 4;
	f->x_pm1a_evt_blk = gas_io(LAYOUT_PORT_PM1A_EVT, 4, GAS_ACCESS_WORD);
	f->pm1a_cnt_blk = LAYOUT_PORT_PM1A_CNT;
	f->pm1_cnt_len = 2;
	f->x_pm1a_cnt_blk = gas_io(LAYOUT_PORT_PM1A_CNT, 2, GAS_ACCESS_WORD);
}

static int build_fadt(struct acpi_buf *b, uint64_t facs, uint64_t dsdt, uint64_t *gpa)
{
	struct acpi_fadt *f = take(b, sizeof(*f), 16);

	if (!f)
		return -ENOSPC;
	/*
	 * ACPI 6.4 §5.2.9: X_FIRMWARE_CTRL must be zero when FIRMWARE_CTRL
	 * holds the FACS (below 4 GiB); Linux would otherwise list it twice.
	 */
	f->firmware_ctrl = (uint32_t)facs;
	f->x_firmware_ctrl = 0;
	f->dsdt = (uint32_t)dsdt;
	f->x_dsdt = dsdt;
	fadt_pm_blocks(f);
	/* Latencies above 100 and 1000 us say C2 and C3 are unsupported (§5.2.9). */
	f->p_lvl2_lat = 101;
	f->p_lvl3_lat = 1001;
	/*
	 * COM1 is an ISA-style device; there is no 8042, VGA or CMOS RTC, and
	 * OSPM must leave ASPM alone. MSI works: BOOT_MSI_NOT_SUPPORTED and
	 * BOOT_8042 stay clear.
	 */
	f->iapc_boot_arch = BOOT_LEGACY_DEVICES | BOOT_VGA_NOT_PRESENT |
			    BOOT_PCIE_ASPM_CONTROLS | BOOT_CMOS_RTC_NOT_PRESENT;
	f->flags = FADT_WBINVD | FADT_PWR_BUTTON | FADT_SLP_BUTTON | FADT_RESET_REG_SUP;
	/* §4.8.3.6: OSPM resets the machine by writing RESET_VALUE here. */
	f->reset_reg = gas_io(LAYOUT_PORT_RESET, 1, GAS_ACCESS_BYTE);
	f->reset_value = LAYOUT_RESET_VALUE;
	f->minor_version = 4;	/* ACPI 6.4 */
	header_finish(&f->h, "FACP", sizeof(*f), 6);
	*gpa = gpa_of(b, f);
	return 0;
}

static int madt_cpus(struct acpi_buf *b, unsigned nr_cpus)
{
	unsigned i;

	for (i = 0; i < nr_cpus; i++) {
		struct madt_lapic *l = take(b, sizeof(*l), 1);

		if (!l)
			return -ENOSPC;
		l->type = MADT_LAPIC;
		l->length = sizeof(*l);
		l->processor_uid = (uint8_t)i;
		l->apic_id = (uint8_t)i;
		l->flags = MADT_LAPIC_ENABLED;
	}
	return 0;
}

/*
 * One IOAPIC with GSIs 0-23. ISA IRQs are identity-mapped to GSIs (KVM's
 * default routing, and what OSPM assumes absent an override, §5.2.12.5)
 * except that the SCI is level, active high (§5.2.9 SCI_INT).
 */
static int madt_irqs(struct acpi_buf *b)
{
	struct madt_ioapic *io = take(b, sizeof(*io), 1);
	struct madt_iso *iso = take(b, sizeof(*iso), 1);
	struct madt_lapic_nmi *nmi = take(b, sizeof(*nmi), 1);

	if (!io || !iso || !nmi)
		return -ENOSPC;
	io->type = MADT_IOAPIC;
	io->length = sizeof(*io);
	io->id = 0;
	io->address = (uint32_t)LAYOUT_IOAPIC;
	io->gsi_base = 0;
	iso->type = MADT_ISO;
	iso->length = sizeof(*iso);
	iso->bus = 0;		/* ISA */
	iso->source = LAYOUT_IRQ_SCI;
	iso->gsi = LAYOUT_IRQ_SCI;
	iso->flags = MPS_ACTIVE_HIGH | MPS_LEVEL;
	/* NMI on LINT1 of every CPU, as on a PC (§5.2.12.7) */
	nmi->type = MADT_LAPIC_NMI;
	nmi->length = sizeof(*nmi);
	nmi->processor_uid = MADT_ALL_PROCESSORS;
	nmi->flags = 0;		/* conforms to the bus: edge, active high */
	nmi->lint = 1;
	return 0;
}

/* MADT revision 5 (ACPI 6.3/6.4) */
static int build_madt(struct acpi_buf *b, const struct acpi_config *cfg, uint64_t *gpa)
{
	struct acpi_madt *m = take(b, sizeof(*m), 16);
	int ret;

	if (!m)
		return -ENOSPC;
	m->lapic_address = (uint32_t)LAYOUT_LAPIC;
	m->flags = MADT_PCAT_COMPAT;
	ret = madt_cpus(b, cfg->nr_cpus);
	if (!ret)
		ret = madt_irqs(b);
	if (ret)
		return ret;
	header_finish(&m->h, "APIC", len_from(b, m), 5);
	*gpa = gpa_of(b, m);
	return 0;
}

/* ECAM gives each bus 1 MiB: 32 devices x 8 functions x 4 KiB (PCIe 5.0 §7.2.2). */
static int build_mcfg(struct acpi_buf *b, uint64_t *gpa)
{
	struct acpi_mcfg *m = take(b, sizeof(*m), 16);

	if (!m)
		return -ENOSPC;
	m->alloc[0].base = LAYOUT_ECAM_BASE;
	m->alloc[0].segment = 0;
	m->alloc[0].start_bus = 0;
	m->alloc[0].end_bus = (uint8_t)(LAYOUT_ECAM_SIZE / MiB - 1);
	header_finish(&m->h, "MCFG", sizeof(*m), 1);
	*gpa = gpa_of(b, m);
	return 0;
}

/* The IOMMU node first, then one PCI range per endpoint, each pointing at it. */
static int build_viot(struct acpi_buf *b, const struct acpi_viot *v, uint64_t *gpa)
{
	struct acpi_viot_table *t = take(b, sizeof(*t) + v->nr_endpoints * sizeof(t->range[0]), 16);
	unsigned i;

	if (!t)
		return -ENOSPC;
	t->node_count = (uint16_t)(1 + v->nr_endpoints);
	t->node_offset = offsetof(struct acpi_viot_table, iommu);
	t->iommu.h.type = VIOT_NODE_VIRTIO_IOMMU_PCI;
	t->iommu.h.length = sizeof(t->iommu);
	t->iommu.bdf = v->iommu_bdf;
	for (i = 0; i < v->nr_endpoints; i++) {
		struct viot_pci_range *r = &t->range[i];

		r->h.type = VIOT_NODE_PCI_RANGE;
		r->h.length = sizeof(*r);
		r->endpoint_start = v->endpoint_bdf[i];
		r->bdf_start = r->bdf_end = v->endpoint_bdf[i];
		r->output_node = offsetof(struct acpi_viot_table, iommu);
	}
	header_finish(&t->h, "VIOT", len_from(b, t), 0);
	*gpa = gpa_of(b, t);
	return 0;
}

static int build_xsdt(struct acpi_buf *b, const uint64_t *tables, unsigned n, uint64_t *gpa)
{
	struct acpi_xsdt *x = take(b, sizeof(*x) + n * sizeof(x->entry[0]), 16);
	unsigned i;

	if (!x)
		return -ENOSPC;
	for (i = 0; i < n; i++)
		x->entry[i] = tables[i];
	header_finish(&x->h, "XSDT", len_from(b, x), 1);
	*gpa = gpa_of(b, x);
	return 0;
}

/* RSDP revision 2 (ACPI 2.0+): no RSDT, OSPM uses the XSDT (§5.2.5.3). */
static void rsdp_finish(struct acpi_rsdp *r, uint64_t xsdt)
{
	memcpy(r->signature, "RSD PTR ", sizeof(r->signature));
	memcpy(r->oem_id, ACPI_OEM_ID, sizeof(r->oem_id));
	r->revision = 2;
	r->rsdt_address = 0;
	r->length = sizeof(*r);
	r->xsdt_address = xsdt;
	r->checksum = 0;
	r->checksum = (uint8_t)-acpi_checksum(r, offsetof(struct acpi_rsdp, length));
	r->ext_checksum = 0;
	r->ext_checksum = (uint8_t)-acpi_checksum(r, sizeof(*r));
}

static int check_args(const void *buf, size_t len, uint64_t gpa, const struct acpi_config *cfg)
{
	if (!cfg || (!buf && len))
		return -EINVAL;
	if (cfg->nr_cpus == 0 || cfg->nr_cpus > ACPI_MAX_CPUS)
		return -EINVAL;
	if (cfg->mmio64_size && cfg->mmio64_base + cfg->mmio64_size - 1 < cfg->mmio64_base)
		return -EINVAL;
	if (cfg->viot.nr_endpoints > ACPI_VIOT_MAX_ENDPOINTS)
		return -EINVAL;
	/* FACS alignment; FADT DSDT and FIRMWARE_CTRL are 32-bit fields */
	if (gpa % 64 || gpa > UINT32_MAX || len > UINT32_MAX - gpa + 1)
		return -EINVAL;
	return 0;
}

int acpi_build(void *buf, size_t len, uint64_t gpa, const struct acpi_config *cfg,
	       uint64_t *rsdp_gpa)
{
	struct acpi_buf b = { .base = buf, .len = len, .gpa = gpa };
	uint64_t facs, dsdt, xsdt, tables[4];	/* FADT, MADT, MCFG[, VIOT] */
	unsigned nr_tables = 3;
	struct acpi_rsdp *rsdp;
	int ret;

	ret = check_args(buf, len, gpa, cfg);
	if (ret)
		return ret;
	rsdp = take(&b, sizeof(*rsdp), 16);
	if (!rsdp)
		return -ENOSPC;
	ret = build_facs(&b, &facs);
	if (!ret)
		ret = build_dsdt(&b, cfg, &dsdt);
	if (!ret)
		ret = build_fadt(&b, facs, dsdt, &tables[0]);
	if (!ret)
		ret = build_madt(&b, cfg, &tables[1]);
	if (!ret)
		ret = build_mcfg(&b, &tables[2]);
	if (!ret && cfg->viot.nr_endpoints)
		ret = build_viot(&b, &cfg->viot, &tables[nr_tables++]);
	if (!ret)
		ret = build_xsdt(&b, tables, nr_tables, &xsdt);
	if (ret)
		return ret;
	rsdp_finish(rsdp, xsdt);
	if (rsdp_gpa)
		*rsdp_gpa = gpa;
	return 0;
}
