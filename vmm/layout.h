/*
 * sluice: the guest's physical address map (x86-64). One place, so the ACPI
 * tables, the e820 map, the PCI host and the boot code agree by construction.
 *
 *   0x00000000  RAM (real mode area; zero page, command line, page tables)
 *   0x0009fc00  reserved to 1 MiB (EBDA, BIOS area; ACPI tables at 0xe0000)
 *   0x00100000  RAM: kernel, initrd (top of low RAM), up to min(RAM, 3 GiB)
 *   0xc0000000  PCI 32-bit MMIO window (BARs), 512 MiB
 *   0xe0000000  PCI ECAM (MMCONFIG), bus 0 only, 1 MiB
 *   0xfec00000  IOAPIC
 *   0xfee00000  local APIC
 *   0x100000000 RAM above 3 GiB continues here
 *   mmio64      PCI 64-bit MMIO window, after RAM, 1 GiB aligned
 */
#ifndef SLUICE_LAYOUT_H
#define SLUICE_LAYOUT_H

#include <stdint.h>

#define KiB (1ull << 10)
#define MiB (1ull << 20)
#define GiB (1ull << 30)

/* Low memory */
#define LAYOUT_GDT		0x00000500ull	/* boot GDT: null, code64, data */
#define LAYOUT_ZERO_PAGE	0x00007000ull	/* struct boot_params */
#define LAYOUT_PML4		0x00009000ull	/* identity map of the first 4 GiB */
#define LAYOUT_PDPT		0x0000a000ull
#define LAYOUT_PD		0x0000b000ull	/* 4 pages: 0xb000-0xefff, 2 MiB pages */
#define LAYOUT_CMDLINE		0x00020000ull
#define LAYOUT_CMDLINE_MAX	0x00010000ull	/* 64 KiB, must fit below EBDA */
#define LAYOUT_EBDA		0x0009fc00ull
#define LAYOUT_ACPI		0x000e0000ull	/* RSDP and tables, 128 KiB */
#define LAYOUT_ACPI_SIZE	0x00020000ull
#define LAYOUT_HIMEM		0x00100000ull	/* protected-mode kernel load address */

/* The hole below 4 GiB */
#define LAYOUT_LOWMEM_MAX	0xc0000000ull
#define LAYOUT_MMIO32_BASE	0xc0000000ull
#define LAYOUT_MMIO32_SIZE	0x20000000ull
#define LAYOUT_ECAM_BASE	0xe0000000ull
#define LAYOUT_ECAM_SIZE	0x00100000ull	/* bus 0: 32 devices x 8 functions x 4 KiB */
#define LAYOUT_IOAPIC		0xfec00000ull
#define LAYOUT_LAPIC		0xfee00000ull
/* VMX's real-mode helpers, at the top of the 32-bit hole: KVM_SET_IDENTITY_MAP_ADDR (1 page), KVM_SET_TSS_ADDR (3 pages). */
#define LAYOUT_IDENTITY_MAP	0xfffbc000ull
#define LAYOUT_TSS		0xfffbd000ull
#define LAYOUT_HIGHMEM		0x100000000ull

/* The 64-bit MMIO window starts at the first 1 GiB boundary above RAM. */
#define LAYOUT_MMIO64_ALIGN	GiB
#define LAYOUT_MMIO64_SIZE	(64 * GiB)

/* Port I/O */
#define LAYOUT_PORT_COM1	0x3f8
#define LAYOUT_IRQ_COM1		4
#define LAYOUT_PORT_PVPANIC	0x505	/* QEMU's pvpanic ISA port, ACPI QEMU0001 */
#define LAYOUT_PORT_PM1A_EVT	0x600	/* PM1a status (2 bytes) + enable (2 bytes) */
#define LAYOUT_PORT_PM1A_CNT	0x604	/* PM1a control, 2 bytes: SLP_TYP, SLP_EN */
#define LAYOUT_PORT_RESET	0xcf9	/* FADT RESET_REG, value LAYOUT_RESET_VALUE */
#define LAYOUT_RESET_VALUE	0x06
#define LAYOUT_PORT_PCI_CF8	0xcf8
#define LAYOUT_PORT_PCI_CFC	0xcfc
#define LAYOUT_IRQ_SCI		9
#define LAYOUT_SLP_TYP_S5	5	/* \_S5 package value, written to PM1a_CNT.SLP_TYP */

/* PCI INTx: device slot s, pin p (0 = INTA) is routed to GSI 16 + (s + p) % 4. */
#define LAYOUT_PCI_INTX_GSI_BASE 16
#define LAYOUT_PCI_SLOTS	32	/* bus 0: devices 0-31 */
#define LAYOUT_IOAPIC_PINS	24

/* The GSI of slot @slot's pin @pin (0 = INTA): the PCI core and the DSDT's _PRT agree. */
static inline unsigned layout_pci_intx_gsi(unsigned slot, unsigned pin)
{
	return LAYOUT_PCI_INTX_GSI_BASE + (slot + pin) % 4;
}

static inline uint64_t layout_mmio64_base(uint64_t ram_size)
{
	uint64_t top = ram_size <= LAYOUT_LOWMEM_MAX ? LAYOUT_HIGHMEM
						     : LAYOUT_HIGHMEM + ram_size - LAYOUT_LOWMEM_MAX;
	return (top + LAYOUT_MMIO64_ALIGN - 1) & ~(LAYOUT_MMIO64_ALIGN - 1);
}

#endif
