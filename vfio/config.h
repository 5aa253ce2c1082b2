/*
 * sluice: the guest's view of a passthrough (VFIO) device's config space.
 * Pure logic over buffers: the VFIO device code reads the physical config
 * space and the region sizes once at attach, calls vfio_config_init(), and
 * from then on only asks which bytes are live (vfio_config_live_mask),
 * which to forward (vfio_config_forward_mask) and merges fresh device bytes
 * into the cache (vfio_config_refresh). See vmm/pci.h, "Full control".
 *
 * Every byte of config space gets one policy:
 *   EMULATED     sluice owns it: cfg[] is the truth, the core's wmask applies,
 *                nothing reaches the device (BARs, ROM BAR, interrupt line,
 *                rewritten capability pointers, MSI/MSI-X bodies).
 *   PASSTHROUGH  refreshed from the device and guest writes forwarded to it,
 *                except the bits in vmask[], which stay virtual (the
 *                command register's I/O and memory enables, Status's
 *                capabilities-list bit).
 *   READONLY     refreshed from the device; guest writes dropped.
 *   HIDDEN       reads 0; guest writes dropped (hidden capabilities, gaps,
 *                BIST, anything past the readable length).
 */
#ifndef SLUICE_VFIO_CONFIG_H
#define SLUICE_VFIO_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/pci.h"

enum vfio_cfg_policy {
	VFIO_CFG_HIDDEN = 0,	/* zero: the safe default for bytes nobody described */
	VFIO_CFG_EMULATED,
	VFIO_CFG_READONLY,
	VFIO_CFG_PASSTHROUGH,
};

/* What the capability walks found wrong (vfio_config.problems); each also warns once. */
#define VFIO_CFG_BAD_ALIGN	(1u << 0)	/* pointer bits 1:0 set: masked, as the spec says */
#define VFIO_CFG_BAD_HEADER	(1u << 1)	/* pointer into the header (< 0x40, ext < 0x100) */
#define VFIO_CFG_BAD_END	(1u << 2)	/* pointer past the readable length */
#define VFIO_CFG_BAD_LOOP	(1u << 3)	/* pointer back to a capability already seen */
#define VFIO_CFG_BAD_DUP	(1u << 4)	/* a second PM/MSI/PCIe/MSI-X capability: hidden */
#define VFIO_CFG_BAD_OVERLAP	(1u << 5)	/* MSI/MSI-X runs into the next one: clipped or hidden */

struct vfio_config;
struct vfio_config_in;

/*
 * A device quirk: code that fixes what the generic view gets wrong for one
 * device. Each lives in its own file (vfio/quirk_<name>.c) and is listed in
 * the table passed as vfio_config_in.quirks. fixup_config runs after the
 * generic setup, for every entry whose match() accepts the device's IDs; it
 * may change cfg[], wmask[], vc->policy[] and vc->vmask[] and returns 0 or
 * -errno (which fails vfio_config_init). No quirk is needed for igb VFs.
 */
struct vfio_quirk_ops {
	const char *name;	/* for messages: "bcm-rom-bar" */
	bool (*match)(uint16_t vendor, uint16_t device);
	int (*fixup_config)(struct vfio_config *vc, struct pci_dev *dev,
			    const struct vfio_config_in *in);
};

/* The default quirk table: empty, NULL-terminated. */
extern const struct vfio_quirk_ops *const vfio_quirks_default[];

/* One BAR as VFIO_DEVICE_GET_REGION_INFO describes it. */
struct vfio_bar_info {
	uint64_t size;		/* 0: not implemented (also the upper half of a 64-bit BAR) */
	uint32_t flags;		/* VFIO_REGION_INFO_FLAG_* */
};

struct vfio_config_in {
	const char *bdf;	/* host BDF, for messages: "0000:03:10.0" */
	const char *name;	/* model name for the pci_dev */
	const struct pci_dev_ops *ops;
	/*
	 * The physical config space as read from the VFIO config region, @len
	 * bytes: 256 for conventional functions, 4096 for PCIe (any dword
	 * multiple from 64 is accepted). BAR types (I/O, 64-bit, prefetchable)
	 * are decoded from its BAR registers, sizes from bar[].
	 */
	const uint8_t *cfg;
	uint32_t len;
	struct vfio_bar_info bar[PCI_STD_NUM_BARS];
	uint64_t rom_size;	/* VFIO_PCI_ROM_REGION_INDEX size; 0: no ROM */
	const struct vfio_quirk_ops *const *quirks;	/* NULL: vfio_quirks_default */
};

struct vfio_config {
	uint8_t policy[PCI_CFG_SPACE_EXP_SIZE];	/* enum vfio_cfg_policy */
	uint8_t vmask[PCI_CFG_SPACE_EXP_SIZE];	/* PASSTHROUGH bytes: bits kept virtual */
	const char *bdf;
	uint32_t len;
	/*
	 * Guest-visible capability offsets, 0 when absent (capabilities are
	 * never moved, so these are the physical offsets too). Hook for the
	 * MSI/MSI-X emulation (vmm/msi.h, vmm/msix.h): it takes over the
	 * capability at msi_cap/msix_cap. Until it does, those bodies are
	 * EMULATED with wmask 0 and the enable bits cleared: read-only, off.
	 */
	uint8_t pm_cap, msi_cap, msix_cap, exp_cap;
	/*
	 * Where the MSI capability's registers must end (the next capability, or
	 * the end of config space): msi_init_existing never writes past it.
	 */
	uint16_t msi_end;
	unsigned problems;	/* VFIO_CFG_BAD_* */
};

/*
 * Build the guest's view of a passthrough device into @dev (as pci_dev_init
 * would, then cfg/wmask/w1cmask/bar/rom) and its byte policies into @vc.
 * Call once at attach, before pci_host_add. 0, or -EINVAL for input sluice
 * cannot present (not a type-0 function, malformed BARs, bad length) or a
 * quirk's -errno; on failure @vc and @dev are zeroed.
 */
int vfio_config_init(struct vfio_config *vc, struct pci_dev *dev,
		     const struct vfio_config_in *in);

/* Bit i set: byte @off + i (i < 32) must be read from the device first. */
unsigned vfio_config_live_mask(const struct vfio_config *vc, uint32_t off, uint32_t len);
/* Bit i set: the guest's write to byte @off + i (i < 32) goes to the device. */
unsigned vfio_config_forward_mask(const struct vfio_config *vc, uint32_t off, uint32_t len);
/*
 * Merge @phys (the device's bytes at [@off, @off + @len)) into @cfg, the
 * pci_dev's cache: live bytes take the device's bits except the vmask bits.
 */
void vfio_config_refresh(const struct vfio_config *vc, uint8_t *cfg, const uint8_t *phys,
			 uint32_t off, uint32_t len);

#endif
