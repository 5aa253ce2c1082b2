/*
 * sluice: the guest's view of a passthrough device's config space
 * (vfio/config.h). Everything starts HIDDEN; the header, the BARs and each
 * capability we keep then say what the guest may see of them.
 *
 * Kept standard capabilities (PCI 3.0 §6.7): Power Management, MSI, PCI
 * Express, MSI-X, and vendor-specific ones (read-only: drivers find their
 * register layout there, e.g. virtio 1.x §4.1.4, and with writes dropped
 * they steer nothing). Everything else is unlinked.
 *
 * Kept extended capabilities (PCIe 4.0 §7.6): Device Serial Number,
 * Vendor-Specific and Designated Vendor-Specific, all read-only. Hidden:
 * every other ID, unknown ones included. SR-IOV because VF creation is the
 * host's; ATS/PRI/PASID because they need a guest IOMMU sluice does not
 * offer; ACS and ARI because they describe a hierarchy the guest does not
 * have; AER and DPC because with no root port or event collector nothing
 * would deliver those errors to the guest, and the masks and severities
 * belong to the host's AER driver; LTR, L1 PM Substates, PTM, Secondary
 * PCIe and Resizable BAR because they change the link or the BARs under the
 * host's feet.
 */
#include <errno.h>
#include <inttypes.h>
#include <linux/vfio.h>
#include <string.h>

#include "vfio/config.h"
#include "vmm/log.h"

/* Every capability takes at least a dword: bounds on the length of each list. */
#define STD_CAP_MAX	((PCI_CFG_SPACE_SIZE - PCI_STD_HEADER_SIZEOF) / 4)	/* 48 */
#define EXT_CAP_MAX	((PCI_CFG_SPACE_EXP_SIZE - PCI_CFG_SPACE_SIZE) / 4)	/* 960 */

const struct vfio_quirk_ops *const vfio_quirks_default[] = { NULL };

/* The capabilities one walk found, in list order. */
struct caps {
	unsigned n;
	uint16_t off[EXT_CAP_MAX];
	uint16_t id[EXT_CAP_MAX];
};

/* A policy for [start, end) of the header, or of a capability relative to its start. */
struct span {
	uint16_t start, end;
	uint8_t policy;
};



static uint32_t min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

static void set_policy(struct vfio_config *vc, uint32_t start, uint32_t end,
		       enum vfio_cfg_policy p)
{
	uint32_t i;

	for (i = start; i < end && i < vc->len; i++)
		vc->policy[i] = (uint8_t)p;
}

/* Apply @spans to the capability at @base, clipped at @end. */
static void set_spans(struct vfio_config *vc, uint32_t base, uint32_t end,
		      const struct span *spans, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		set_policy(vc, base + spans[i].start, min_u32(base + spans[i].end, end),
			   spans[i].policy);
}

/* ---- Header (PCI 3.0 §6.2) ---- */

static const struct span header_spans[] = {
	{ PCI_VENDOR_ID, PCI_COMMAND, VFIO_CFG_READONLY },
	/* Bus master, SERR, INTx disable... reach the device; vmask keeps the rest. */
	{ PCI_COMMAND, PCI_CLASS_REVISION, VFIO_CFG_PASSTHROUGH },
	{ PCI_CLASS_REVISION, PCI_CACHE_LINE_SIZE, VFIO_CFG_READONLY },
	/*
	 * Cache line size and latency timer do nothing on PCIe (PCIe 4.0
	 * §7.5.1.1.7-8) and on conventional PCI are the host's settings to keep:
	 * scratch registers for the guest. Header type: multi-function cleared.
	 */
	{ PCI_CACHE_LINE_SIZE, PCI_BIST, VFIO_CFG_EMULATED },
	/* BIST (HIDDEN): a self-test would reset the function behind vfio-pci's back. */
	{ PCI_BASE_ADDRESS_0, PCI_CARDBUS_CIS, VFIO_CFG_EMULATED },
	{ PCI_CARDBUS_CIS, PCI_ROM_ADDRESS, VFIO_CFG_READONLY },
	{ PCI_ROM_ADDRESS, PCI_CAPABILITY_LIST + 1, VFIO_CFG_EMULATED },
	{ PCI_INTERRUPT_LINE, PCI_INTERRUPT_PIN, VFIO_CFG_EMULATED },
	{ PCI_INTERRUPT_PIN, PCI_STD_HEADER_SIZEOF, VFIO_CFG_READONLY },
};

static void setup_header(struct vfio_config *vc, struct pci_dev *dev)
{
	uint8_t *cfg = dev->cfg;

	set_spans(vc, 0, PCI_STD_HEADER_SIZEOF, header_spans, ARRAY_SIZE(header_spans));
	/* The core owns decode (vmm/pci.h) and whether a capability list exists. */
	vc->vmask[PCI_COMMAND] = PCI_COMMAND_IO | PCI_COMMAND_MEMORY;
	vc->vmask[PCI_STATUS] = PCI_STATUS_CAP_LIST;
	/* Functions 1-7 of the guest's slot are absent (PCI 3.0 §6.2.1). */
	cfg[PCI_HEADER_TYPE] &= PCI_HEADER_TYPE_MASK;
	/* Guest addresses, not host ones: pci_host_add fills them. */
	memset(&cfg[PCI_BASE_ADDRESS_0], 0, PCI_CARDBUS_CIS - PCI_BASE_ADDRESS_0);
	memset(&cfg[PCI_ROM_ADDRESS], 0, 4);
	cfg[PCI_INTERRUPT_LINE] = 0;
	if (cfg[PCI_INTERRUPT_PIN] > 4) {
		pr_warn("%s: interrupt pin %u is not INTA-INTD; the guest sees no INTx",
			vc->bdf, cfg[PCI_INTERRUPT_PIN]);
		cfg[PCI_INTERRUPT_PIN] = 0;
		set_policy(vc, PCI_INTERRUPT_PIN, PCI_INTERRUPT_PIN + 1, VFIO_CFG_EMULATED);
	}
	/* The list is the physical one, rewritten: pci_dev_add_cap has no room left. */
	dev->cap_end = PCI_CFG_SPACE_SIZE;
}

/* ---- BARs (PCI 3.0 §6.2.5) ---- */

/* Whether VFIO's view of BAR @i is one a guest can size; 0 or -EINVAL. */
static int bar_check(const char *bdf, int i, const struct pci_bar *b, uint32_t flags)
{
	uint64_t min = b->type == PCI_BAR_IO ? 4 : 16;
	uint64_t max = b->type == PCI_BAR_IO ? 1ull << 16 :
		       b->type == PCI_BAR_MEM32 ? 1ull << 31 : 1ull << 63;

	if (!(flags & (VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE))) {
		pr_err("%s: VFIO gives no access to BAR%d; check the vfio-pci binding", bdf, i);
		return -EINVAL;
	}
	if (b->size & (b->size - 1) || b->size < min || b->size > max) {
		pr_err("%s: BAR%d: VFIO reports size 0x%" PRIx64 ", not a power of two in "
		       "0x%" PRIx64 "-0x%" PRIx64 "; this device cannot be assigned",
		       bdf, i, b->size, min, max);
		return -EINVAL;
	}
	return 0;
}

/* Decode BAR @i's type from the physical register (PCI 3.0 §6.2.5.1). */
static int bar_decode(const char *bdf, int i, uint32_t reg, struct pci_bar *b)
{
	if (reg & PCI_BASE_ADDRESS_SPACE_IO) {
		b->type = PCI_BAR_IO;
		return 0;
	}
	b->prefetchable = reg & PCI_BASE_ADDRESS_MEM_PREFETCH;
	switch (reg & PCI_BASE_ADDRESS_MEM_TYPE_MASK) {
	case PCI_BASE_ADDRESS_MEM_TYPE_64:
		if (i == PCI_STD_NUM_BARS - 1)
			break;
		b->type = PCI_BAR_MEM64;
		return 0;
	case PCI_BASE_ADDRESS_MEM_TYPE_32:
	case PCI_BASE_ADDRESS_MEM_TYPE_1M:	/* obsolete; anywhere in 32 bits will do */
		b->type = PCI_BAR_MEM32;
		return 0;
	}
	pr_err("%s: BAR%d register 0x%08" PRIx32 " has a reserved or impossible type; "
	       "this device cannot be assigned", bdf, i, reg);
	return -EINVAL;
}

static int setup_bars(struct vfio_config *vc, struct pci_dev *dev, const struct vfio_config_in *in)
{
	int i, err;

	for (i = 0; i < PCI_STD_NUM_BARS; i++) {
		uint32_t reg = pci_get32(&in->cfg[PCI_BASE_ADDRESS_0 + 4 * i]);
		struct pci_bar *b = &dev->bar[i];
		bool upper = false;

		if (in->bar[i].size) {
			b->size = in->bar[i].size;
			err = bar_decode(vc->bdf, i, reg, b);
			if (!err)
				err = bar_check(vc->bdf, i, b, in->bar[i].flags);
			if (err)
				return err;
			upper = b->type == PCI_BAR_MEM64;
		} else if (!(reg & PCI_BASE_ADDRESS_SPACE_IO) &&
			   (reg & PCI_BASE_ADDRESS_MEM_TYPE_MASK) == PCI_BASE_ADDRESS_MEM_TYPE_64) {
			upper = true;	/* an unimplemented 64-bit BAR still owns its upper half */
		}
		if (upper)
			i++;	/* bar[i + 1] stays NONE: the core's upper half */
	}
	return 0;
}

/* PCI 3.0 §6.2.5.2: the guest reads the ROM; its enable bit is the core's. */
static void setup_rom(struct vfio_config *vc, struct pci_dev *dev, uint64_t size)
{
	if (!size)
		return;
	if (size & (size - 1) || size < 2048 || size > 1ull << 31) {
		pr_warn("%s: ROM size 0x%" PRIx64 " is not a power of two in 2 KiB-2 GiB; "
			"the guest sees no ROM", vc->bdf, size);
		return;
	}
	dev->rom.type = PCI_BAR_MEM32;
	dev->rom.size = size;
}

/* ---- Capability lists ---- */

static void chain_problem(struct vfio_config *vc, unsigned bit, bool ext, uint32_t from,
			  uint32_t ptr, const char *what)
{
	vc->problems |= bit;
	pr_warn("%s: %s capability list: pointer 0x%" PRIx32 " at 0x%" PRIx32 " %s; %s",
		vc->bdf, ext ? "extended" : "standard", ptr, from, what,
		bit == VFIO_CFG_BAD_ALIGN ? "using it with bits 1:0 cleared" :
		"the guest's list ends there");
}

/*
 * Check pointer *@ptr read at @from against [@lo, vc->len) and @seen (one
 * bit per dword from @lo). Masks reserved bits 1:0 as PCI 3.0 §6.7 and
 * PCIe 4.0 §7.6.3 tell software to. False: the list ends here.
 */
static bool ptr_ok(struct vfio_config *vc, bool ext, uint32_t from, uint32_t *ptr,
		   uint64_t *seen)
{
	uint32_t lo = ext ? PCI_CFG_SPACE_SIZE : PCI_STD_HEADER_SIZEOF, idx;

	if (*ptr & 3) {
		chain_problem(vc, VFIO_CFG_BAD_ALIGN, ext, from, *ptr, "is not dword aligned");
		*ptr &= ~3u;
	}
	if (*ptr < lo) {
		chain_problem(vc, VFIO_CFG_BAD_HEADER, ext, from, *ptr,
			      ext ? "points below 0x100" : "points into the header");
		return false;
	}
	if (*ptr + (ext ? 4 : 2) > vc->len) {
		chain_problem(vc, VFIO_CFG_BAD_END, ext, from, *ptr,
			      "points past the readable config space");
		return false;
	}
	idx = (*ptr - lo) / 4;
	if (seen[idx / 64] & 1ull << idx % 64) {
		chain_problem(vc, VFIO_CFG_BAD_LOOP, ext, from, *ptr, "loops back");
		return false;
	}
	seen[idx / 64] |= 1ull << idx % 64;
	return true;
}

/* PCI 3.0 §6.7; the pointer at 0x34 is valid only with Status bit 4 (§6.2.3). */
static void walk_std(struct vfio_config *vc, const uint8_t *cfg, struct caps *c)
{
	uint64_t seen[1] = { 0 };
	uint32_t from = PCI_CAPABILITY_LIST, ptr = 0;

	c->n = 0;
	if (pci_get16(&cfg[PCI_STATUS]) & PCI_STATUS_CAP_LIST)
		ptr = cfg[PCI_CAPABILITY_LIST];
	/* Each hop marks a new dword in seen: at most STD_CAP_MAX hops. */
	while (ptr && ptr_ok(vc, false, from, &ptr, seen)) {
		c->off[c->n] = (uint16_t)ptr;
		c->id[c->n++] = cfg[ptr + PCI_CAP_LIST_ID];
		from = ptr + PCI_CAP_LIST_NEXT;
		ptr = cfg[from];
	}
}

/* PCIe 4.0 §7.6.3: the list starts at 0x100; an all-zero header there means none. */
static void walk_ext(struct vfio_config *vc, const uint8_t *cfg, struct caps *c)
{
	uint64_t seen[EXT_CAP_MAX / 64] = { 0 };
	uint32_t from = 0, ptr = PCI_CFG_SPACE_SIZE, hdr;

	c->n = 0;
	if (vc->len < PCI_CFG_SPACE_SIZE + 4)
		return;
	hdr = pci_get32(&cfg[ptr]);
	/* All-ones: the extended space does not answer (conventional behind PCIe). */
	if (hdr == 0 || hdr == UINT32_MAX)
		return;
	while (ptr && ptr_ok(vc, true, from, &ptr, seen)) {
		hdr = pci_get32(&cfg[ptr]);
		c->off[c->n] = (uint16_t)ptr;
		c->id[c->n++] = (uint16_t)PCI_EXT_CAP_ID(hdr);
		from = ptr;
		ptr = hdr >> 20;
	}
}

/* Where the capability at @off must end at the latest: the next one up, or @limit. */
static uint32_t cap_extent(const struct caps *c, uint32_t off, uint32_t limit)
{
	unsigned i;

	for (i = 0; i < c->n; i++)
		if (c->off[i] > off && c->off[i] < limit)
			limit = c->off[i];
	return limit;
}

/* ---- Standard capabilities we keep ---- */

/*
 * PCI PM 1.2 §3.2. PMC is emulated with PME_Support cleared: sluice routes
 * no PME to the guest. PMCSR's low byte is forwarded so PowerState writes
 * reach vfio-pci, which performs the transition and restores the function's
 * state on the way back to D0 (Linux vfio_pm_config_write); a read-only
 * PowerState would make the guest's pci core report a refused transition.
 * PMCSR's high byte (PME_En, Data_Select, PME_Status) and Data read 0.
 */
static const struct span pm_spans[] = {
	{ PCI_PM_PMC, PCI_PM_CTRL, VFIO_CFG_EMULATED },
	{ PCI_PM_CTRL, PCI_PM_CTRL + 1, VFIO_CFG_PASSTHROUGH },
};

/*
 * PCIe 4.0 §7.5.3. Device Control/Status are forwarded: vfio-pci already
 * virtualises what must not reach the device (FLR through its reset path,
 * and in recent kernels MPS/MRRS). Link Control and the "2" controls
 * (LTR, OBFF, AtomicOp, completion timeout) set hierarchy-wide policy the
 * guest cannot see: read-only.
 */
static const struct span exp_spans[] = {
	{ PCI_EXP_FLAGS, PCI_EXP_FLAGS + 1, VFIO_CFG_EMULATED },	/* type, below */
	{ PCI_EXP_FLAGS + 1, PCI_EXP_DEVCTL, VFIO_CFG_READONLY },
	{ PCI_EXP_DEVCTL, PCI_EXP_LNKCAP, VFIO_CFG_PASSTHROUGH },
	{ PCI_EXP_LNKCAP, PCI_EXP_SLTSTA2 + 2, VFIO_CFG_READONLY },
};

/*
 * sluice's bus 0 is a root complex bus with no root ports, so an Endpoint
 * there is a Root Complex Integrated Endpoint (PCIe 4.0 §7.5.3.2), which
 * has no Link registers (§7.5.3.6-8, §7.5.3.18-20). QEMU does the same.
 */
static const struct span rciep_spans[] = {
	{ PCI_EXP_LNKCAP, PCI_EXP_LNKSTA + 2, VFIO_CFG_HIDDEN },
	{ PCI_EXP_LNKCAP2, PCI_EXP_LNKSTA2 + 2, VFIO_CFG_HIDDEN },
};

static void expose_exp(struct vfio_config *vc, uint8_t *cfg, uint32_t off, uint32_t end)
{
	uint8_t type = (cfg[off + PCI_EXP_FLAGS] & PCI_EXP_FLAGS_TYPE) >> 4;

	set_spans(vc, off, end, exp_spans, ARRAY_SIZE(exp_spans));
	if (type != PCI_EXP_TYPE_ENDPOINT)
		return;
	cfg[off + PCI_EXP_FLAGS] = (uint8_t)((cfg[off + PCI_EXP_FLAGS] & ~PCI_EXP_FLAGS_TYPE) |
					     PCI_EXP_TYPE_RC_END << 4);
	set_spans(vc, off, end, rciep_spans, ARRAY_SIZE(rciep_spans));
}

/* Length of a kept capability by its own registers (before clipping). */
static uint32_t std_cap_len(const uint8_t *cfg, uint32_t off)
{
	uint16_t flags = pci_get16(&cfg[off + PCI_MSI_FLAGS]);

	switch (cfg[off + PCI_CAP_LIST_ID]) {
	case PCI_CAP_ID_PM:
		return PCI_PM_SIZEOF;
	case PCI_CAP_ID_MSI:	/* PCI 3.0 §6.8.1: 10, 14, 20 or 24 bytes */
		return (flags & PCI_MSI_FLAGS_64BIT ? 14 : 10) +
		       (flags & PCI_MSI_FLAGS_MASKBIT ? 10 : 0);
	case PCI_CAP_ID_EXP:
		return (flags & PCI_EXP_FLAGS_VERS) == 1 ? PCI_CAP_EXP_ENDPOINT_SIZEOF_V1 :
		       PCI_EXP_SLTSTA2 + 2;
	case PCI_CAP_ID_MSIX:
		return PCI_CAP_MSIX_SIZEOF;
	default:	/* vendor-specific: byte 2 is the length (PCI 3.0 Appendix H) */
		return cfg[off + PCI_CAP_FLAGS] < 3 ? 3 : cfg[off + PCI_CAP_FLAGS];
	}
}

/* The interrupt code's hook (vfio_config.msi_cap/msix_cap): emulated, disabled. */
static void expose_irq_cap(struct vfio_config *vc, uint8_t *cfg, uint32_t off, uint32_t end)
{
	uint16_t flags = pci_get16(&cfg[off + PCI_MSI_FLAGS]);

	if (cfg[off + PCI_CAP_LIST_ID] == PCI_CAP_ID_MSI)
		flags &= (uint16_t)~(PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE);
	else
		flags &= (uint16_t)~(PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	if (off + PCI_MSI_FLAGS + 2 <= end)
		pci_put16(&cfg[off + PCI_MSI_FLAGS], flags);
	set_policy(vc, off + PCI_CAP_FLAGS, end, VFIO_CFG_EMULATED);
}

static void expose_std_cap(struct vfio_config *vc, uint8_t *cfg, uint32_t off, uint32_t end)
{
	end = min_u32(off + std_cap_len(cfg, off), end);
	set_policy(vc, off + PCI_CAP_LIST_ID, off + PCI_CAP_LIST_NEXT, VFIO_CFG_READONLY);
	set_policy(vc, off + PCI_CAP_LIST_NEXT, off + PCI_CAP_FLAGS, VFIO_CFG_EMULATED);
	switch (cfg[off + PCI_CAP_LIST_ID]) {
	case PCI_CAP_ID_PM:
		set_spans(vc, off, end, pm_spans, ARRAY_SIZE(pm_spans));
		if (off + PCI_PM_PMC + 2 <= end)
			pci_put16(&cfg[off + PCI_PM_PMC], pci_get16(&cfg[off + PCI_PM_PMC]) &
				  (uint16_t)~PCI_PM_CAP_PME_MASK);
		break;
	case PCI_CAP_ID_MSI:
	case PCI_CAP_ID_MSIX:
		expose_irq_cap(vc, cfg, off, end);
		break;
	case PCI_CAP_ID_EXP:
		expose_exp(vc, cfg, off, end);
		break;
	default:
		set_policy(vc, off + PCI_CAP_FLAGS, end, VFIO_CFG_READONLY);
	}
}

/* Whether to keep a standard capability; records the offsets the rest of sluice needs. */
static bool std_cap_kept(struct vfio_config *vc, uint8_t id, uint32_t off)
{
	uint8_t *slot;

	switch (id) {
	case PCI_CAP_ID_VNDR:
		return true;
	case PCI_CAP_ID_PM:
		slot = &vc->pm_cap;
		break;
	case PCI_CAP_ID_MSI:
		slot = &vc->msi_cap;
		break;
	case PCI_CAP_ID_EXP:
		slot = &vc->exp_cap;
		break;
	case PCI_CAP_ID_MSIX:
		slot = &vc->msix_cap;
		break;
	default:
		return false;
	}
	if (*slot) {
		vc->problems |= VFIO_CFG_BAD_DUP;
		pr_warn("%s: second capability 0x%02x at 0x%" PRIx32 " (first at 0x%x) hidden",
			vc->bdf, id, off, *slot);
		return false;
	}
	*slot = (uint8_t)off;
	return true;
}

/*
 * MSI and MSI-X are wholly emulated (vmm/msi.c, vmm/msix.c), which own
 * every register of their layout: one that runs into the next capability
 * would overwrite it. An MSI is clipped to a layout that fits, dropping
 * per-vector masking, then the 64-bit address (PCI 3.0 §6.8.1: both are
 * optional; the emulation never forwards them, and an x86 MSI address has
 * 32 bits). MSI-X has one layout: without room it is hidden. False: hide.
 */
static bool irq_cap_fits(struct vfio_config *vc, uint8_t *cfg, uint32_t off, uint32_t end)
{
	static const uint16_t drop[] = { PCI_MSI_FLAGS_MASKBIT, PCI_MSI_FLAGS_64BIT };
	uint8_t id = cfg[off + PCI_CAP_LIST_ID];
	uint16_t flags;
	size_t i;

	if (id != PCI_CAP_ID_MSI && id != PCI_CAP_ID_MSIX)
		return true;
	if (off + std_cap_len(cfg, off) <= end)
		return true;
	vc->problems |= VFIO_CFG_BAD_OVERLAP;
	for (i = 0; id == PCI_CAP_ID_MSI && i < ARRAY_SIZE(drop); i++) {
		flags = pci_get16(&cfg[off + PCI_MSI_FLAGS]);
		pci_put16(&cfg[off + PCI_MSI_FLAGS], flags & (uint16_t)~drop[i]);
		if (off + std_cap_len(cfg, off) <= end) {
			pr_warn("%s: MSI capability at 0x%" PRIx32 " runs into the next one at 0x%" PRIx32
				"; the guest sees it with %s", vc->bdf, off, end,
				i ? "32-bit addresses and no per-vector masking" : "no per-vector masking");
			return true;
		}
	}
	pr_warn("%s: %s capability at 0x%" PRIx32 " has no room before the next one at 0x%" PRIx32
		"; hidden: the guest uses %s", vc->bdf, id == PCI_CAP_ID_MSI ? "MSI" : "MSI-X", off, end,
		id == PCI_CAP_ID_MSI ? "MSI-X or INTx" : "MSI or INTx");
	return false;
}

/* Relink the standard list through the capabilities we keep. */
static void setup_std_caps(struct vfio_config *vc, struct pci_dev *dev, struct caps *c)
{
	uint32_t limit = min_u32(vc->len, PCI_CFG_SPACE_SIZE);
	uint8_t *next = &dev->cfg[PCI_CAPABILITY_LIST];
	uint16_t status;
	unsigned i;

	walk_std(vc, dev->cfg, c);
	for (i = 0; i < c->n; i++) {
		uint32_t end = cap_extent(c, c->off[i], limit);

		if (!irq_cap_fits(vc, dev->cfg, c->off[i], end) ||
		    !std_cap_kept(vc, (uint8_t)c->id[i], c->off[i]))
			continue;
		if (c->id[i] == PCI_CAP_ID_MSI)
			vc->msi_end = (uint16_t)end;
		*next = (uint8_t)c->off[i];
		expose_std_cap(vc, dev->cfg, c->off[i], end);
		next = &dev->cfg[c->off[i] + PCI_CAP_LIST_NEXT];
	}
	*next = 0;
	status = pci_get16(&dev->cfg[PCI_STATUS]) & (uint16_t)~PCI_STATUS_CAP_LIST;
	if (dev->cfg[PCI_CAPABILITY_LIST])
		status |= PCI_STATUS_CAP_LIST;
	pci_put16(&dev->cfg[PCI_STATUS], status);
}

/* ---- Extended capabilities we keep ---- */

static bool ext_cap_kept(uint16_t id)
{
	return id == PCI_EXT_CAP_ID_DSN || id == PCI_EXT_CAP_ID_VNDR || id == PCI_EXT_CAP_ID_DVSEC;
}

/* A kept capability's length; @cfg_len bounds it: the device chooses @off. */
static uint32_t ext_cap_len(const uint8_t *cfg, uint32_t off, uint32_t cfg_len)
{
	uint32_t len;

	if (PCI_EXT_CAP_ID(pci_get32(&cfg[off])) == PCI_EXT_CAP_ID_DSN)
		return PCI_EXT_CAP_DSN_SIZEOF;
	if (off + 8 > cfg_len)
		return 4;	/* only the header is there: no second dword to read */
	/* VSEC and DVSEC: length in bits 31:20 of the second dword (PCIe 4.0 §7.9.5, §7.9.6). */
	len = pci_get32(&cfg[off + 4]) >> 20;
	return len < 8 ? 8 : len;
}

/*
 * Relink the extended list through the ones we keep. It must start at 0x100
 * (PCIe 4.0 §7.6.3): a hidden head becomes a null header, ID 0 and version
 * 0, whose next pointer leads to the first one kept.
 */
static void setup_ext_caps(struct vfio_config *vc, struct pci_dev *dev, struct caps *c)
{
	uint32_t prev = PCI_CFG_SPACE_SIZE, off, end;
	uint8_t *cfg = dev->cfg;
	unsigned i;

	walk_ext(vc, cfg, c);
	set_policy(vc, PCI_CFG_SPACE_SIZE, PCI_CFG_SPACE_SIZE + 4, VFIO_CFG_EMULATED);
	if (!c->n || !ext_cap_kept(c->id[0]))
		pci_put32(&cfg[PCI_CFG_SPACE_SIZE], 0);
	for (i = 0; i < c->n; i++) {
		if (!ext_cap_kept(c->id[i]))
			continue;
		off = c->off[i];
		if (off != prev)
			pci_put32(&cfg[prev], (pci_get32(&cfg[prev]) & 0xfffff) | off << 20);
		pci_put32(&cfg[off], pci_get32(&cfg[off]) & 0xfffff);
		set_policy(vc, off, off + 4, VFIO_CFG_EMULATED);
		end = min_u32(off + ext_cap_len(cfg, off, vc->len), cap_extent(c, off, vc->len));
		set_policy(vc, off + 4, end, VFIO_CFG_READONLY);
		prev = off;
	}
}

/* ---- Putting it together ---- */

static int run_quirks(struct vfio_config *vc, struct pci_dev *dev, const struct vfio_config_in *in)
{
	const struct vfio_quirk_ops *const *q = in->quirks ? in->quirks : vfio_quirks_default;
	uint16_t vendor = pci_get16(&in->cfg[PCI_VENDOR_ID]), device = pci_get16(&in->cfg[PCI_DEVICE_ID]);
	int err;

	for (; *q; q++) {
		if (!(*q)->match(vendor, device))
			continue;
		err = (*q)->fixup_config(vc, dev, in);
		if (err) {
			pr_err("%s: quirk %s failed: %s; the device cannot be assigned without it",
			       vc->bdf, (*q)->name, strerror(-err));
			return err;
		}
	}
	return 0;
}

/* Make the core's masks agree with the policies (vmm/pci.h, "Full control"). */
static void apply_policies(struct vfio_config *vc, struct pci_dev *dev)
{
	uint32_t i;

	for (i = 0; i < PCI_CFG_SPACE_EXP_SIZE; i++) {
		switch (vc->policy[i]) {
		case VFIO_CFG_PASSTHROUGH:
			dev->wmask[i] &= vc->vmask[i];
			dev->w1cmask[i] &= vc->vmask[i];
			continue;
		case VFIO_CFG_EMULATED:
			break;
		case VFIO_CFG_HIDDEN:
			dev->cfg[i] = 0;
			/* fall through */
		default:
			dev->wmask[i] = 0;
			dev->w1cmask[i] = 0;
		}
		vc->vmask[i] = 0;
	}
}

static int check_input(const struct vfio_config_in *in, const char *bdf)
{
	if (!in->cfg || in->len < PCI_STD_HEADER_SIZEOF || in->len > PCI_CFG_SPACE_EXP_SIZE ||
	    in->len % 4) {
		pr_err("%s: config space of %u bytes%s: expected 256 or 4096 from the VFIO config region",
		       bdf, in->len, in->cfg ? "" : " (no buffer)");
		return -EINVAL;
	}
	if ((in->cfg[PCI_HEADER_TYPE] & PCI_HEADER_TYPE_MASK) != PCI_HEADER_TYPE_NORMAL) {
		pr_err("%s: header type %u is not an endpoint (type 0); bridges cannot be assigned",
		       bdf, in->cfg[PCI_HEADER_TYPE] & PCI_HEADER_TYPE_MASK);
		return -EINVAL;
	}
	return 0;
}

static int build(struct vfio_config *vc, struct pci_dev *dev, const struct vfio_config_in *in)
{
	struct caps c;
	int err;

	pci_dev_init(dev, in->name, in->ops, pci_get16(&in->cfg[PCI_VENDOR_ID]),
		     pci_get16(&in->cfg[PCI_DEVICE_ID]), pci_get32(&in->cfg[PCI_CLASS_REVISION]) >> 8);
	memcpy(dev->cfg, in->cfg, in->len);
	setup_header(vc, dev);
	err = setup_bars(vc, dev, in);
	if (err)
		return err;
	setup_rom(vc, dev, in->rom_size);
	setup_std_caps(vc, dev, &c);
	if (vc->len > PCI_CFG_SPACE_SIZE)
		setup_ext_caps(vc, dev, &c);
	err = run_quirks(vc, dev, in);
	if (err)
		return err;
	apply_policies(vc, dev);
	return 0;
}

int vfio_config_init(struct vfio_config *vc, struct pci_dev *dev, const struct vfio_config_in *in)
{
	const char *bdf = in->bdf ? in->bdf : "vfio device";
	int err;

	memset(vc, 0, sizeof(*vc));
	err = check_input(in, bdf);
	if (err)
		goto err_clear;
	vc->bdf = bdf;
	vc->len = in->len;
	err = build(vc, dev, in);
	if (err)
		goto err_clear;
	return 0;

err_clear:
	memset(vc, 0, sizeof(*vc));
	memset(dev, 0, sizeof(*dev));
	return err;
}

/* ---- At run time, from the device's cfg_read and cfg_write hooks ---- */

static bool is_live(uint8_t policy)
{
	return policy == VFIO_CFG_READONLY || policy == VFIO_CFG_PASSTHROUGH;
}

unsigned vfio_config_live_mask(const struct vfio_config *vc, uint32_t off, uint32_t len)
{
	unsigned m = 0;
	uint32_t i;

	for (i = 0; i < len && i < 32 && off + i < vc->len; i++)
		if (is_live(vc->policy[off + i]))
			m |= 1u << i;
	return m;
}

unsigned vfio_config_forward_mask(const struct vfio_config *vc, uint32_t off, uint32_t len)
{
	unsigned m = 0;
	uint32_t i;

	for (i = 0; i < len && i < 32 && off + i < vc->len; i++)
		if (vc->policy[off + i] == VFIO_CFG_PASSTHROUGH)
			m |= 1u << i;
	return m;
}

void vfio_config_refresh(const struct vfio_config *vc, uint8_t *cfg, const uint8_t *phys,
			 uint32_t off, uint32_t len)
{
	uint32_t i;

	for (i = 0; i < len && off + i < vc->len; i++)
		if (is_live(vc->policy[off + i]))
			cfg[off + i] = (uint8_t)((cfg[off + i] & vc->vmask[off + i]) |
						 (phys[i] & ~vc->vmask[off + i]));
}
