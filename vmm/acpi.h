/*
 * sluice: the guest's ACPI tables (ACPI 6.4), built once into the region at
 * LAYOUT_ACPI: RSDP, FACS, DSDT, FADT, MADT, MCFG and XSDT. The machine they
 * describe is a PC with KVM's in-kernel PIC, PIT and IOAPIC, one PCIe host
 * bridge (ECAM bus 0), COM1, pvpanic and the PM1a/reset ports of vmm/layout.h;
 * with a virtio-iommu (--viommu), a VIOT naming it and the endpoints behind it.
 */
#ifndef SLUICE_ACPI_H
#define SLUICE_ACPI_H

#include <stddef.h>
#include <stdint.h>

#define ACPI_MAX_CPUS		255	/* xAPIC IDs 0-254; 255 is broadcast */
#define ACPI_OEM_ID		"SLUICE"
#define ACPI_OEM_TABLE_ID	"SLUICEVM"

/* System Description Table Header, ACPI 6.4 §5.2.6 */
struct acpi_table_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	char creator_id[4];
	uint32_t creator_revision;
} __attribute__((packed));

/* _OSC control DWORD of a PCI host bridge, PCI Firmware Specification 3.3 §4.5.1 */
#define ACPI_OSC_PCIE_HOTPLUG	(1u << 0)	/* PCIe native hot plug */
#define ACPI_OSC_SHPC_HOTPLUG	(1u << 1)	/* SHPC native hot plug */
#define ACPI_OSC_PCIE_PME	(1u << 2)	/* PCIe native power management events */
#define ACPI_OSC_PCIE_AER	(1u << 3)	/* PCIe advanced error reporting */
#define ACPI_OSC_PCIE_CAP	(1u << 4)	/* PCIe capability structure */
#define ACPI_OSC_PCIE_LTR	(1u << 5)	/* latency tolerance reporting */
#define ACPI_OSC_PCIE_DPC	(1u << 7)	/* downstream port containment */

/*
 * What sluice's host bridge grants: the PCIe capability structures only,
 * which the guest's PCI core configures anyway (sluice has no firmware that
 * would). No hot plug (the bus is fixed at boot, no SHPC), no PME and no AER
 * (nothing raises those events or messages), no LTR or DPC (no root or
 * downstream ports: devices sit on bus 0). Every other bit is reserved.
 */
#define ACPI_PCI_OSC_GRANTED	ACPI_OSC_PCIE_CAP

#define ACPI_VIOT_MAX_ENDPOINTS	16

/*
 * The VIOT (ACPI 6.5 §5.2.30): a virtio-pci IOMMU at @iommu_bdf (segment 0)
 * and, per endpoint, a PCI range node of that one BDF whose endpoint ID is
 * the BDF itself (bus << 8 | devfn): the IDs the virtio-iommu answers to.
 */
struct acpi_viot {
	unsigned nr_endpoints;		/* 0: no VIOT */
	uint16_t iommu_bdf;
	uint16_t endpoint_bdf[ACPI_VIOT_MAX_ENDPOINTS];
};

struct acpi_config {
	unsigned nr_cpus;	/* 1..ACPI_MAX_CPUS: APIC ID = processor UID = index */
	uint64_t mmio64_base;	/* PCI 64-bit MMIO window; no window if size is 0 */
	uint64_t mmio64_size;
	struct acpi_viot viot;
};

/* The tables of a machine with @nr_cpus vCPUs and @ram_size of RAM (the 64-bit window above it). */
struct acpi_config acpi_config_for(unsigned nr_cpus, uint64_t ram_size);

/* Sum of @len bytes modulo 256: 0 for a table with a valid checksum. */
uint8_t acpi_checksum(const void *p, size_t len);

/*
 * Write the tables into @buf (@len bytes), which the guest sees at @gpa, and
 * return the RSDP's guest address (always @gpa) in @rsdp_gpa if not NULL.
 * @gpa must be 64-byte aligned (FACS, §5.2.10) and the tables below 4 GiB.
 * Returns 0, -EINVAL for a bad config or address, or -ENOSPC when @len is too
 * small; never writes past @buf + @len.
 */
int acpi_build(void *buf, size_t len, uint64_t gpa, const struct acpi_config *cfg,
	       uint64_t *rsdp_gpa);

#endif
