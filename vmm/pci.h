/*
 * sluice: PCI host bridge, bus 0 only, reached through ECAM (PCIe Base 4.0
 * §7.2.2) and the legacy CF8/CFC mechanism (PCI Local Bus 3.0 §3.2.2.3.2).
 *
 * A device model embeds a struct pci_dev, fills it with pci_dev_init(), its
 * BAR descriptors and capabilities, and hands it to pci_host_add(). The core
 * emulates the type-0 header from cfg[] and wmask[]: BAR sizing, decode
 * enables, RW1C status bits, INTx routing. The device supplies only the
 * callbacks in struct pci_dev_ops. The core never includes a device's header.
 *
 * Full control (VFIO passthrough). There is no separate raw mode; the hooks
 * are enough. A passthrough device treats cfg[] as a cache of the physical
 * config space:
 *   - it clears wmask[] and w1cmask[] on every byte it forwards, so the
 *     generic write leaves those bytes alone;
 *   - its cfg_read hook refreshes cfg[off, off + len) from the device before
 *     the core copies it to the guest;
 *   - its cfg_write hook receives the guest's raw bytes (after the generic
 *     emulation) and forwards what it does not virtualise;
 *   - the core keeps owning what must stay virtual on any passthrough: the
 *     BAR and ROM registers (0x10-0x27, 0x30-0x33: guest addresses are not
 *     host ones) and the IO/MEM decode bits of the command register. Hooks
 *     must not change those bytes in cfg[] (they may forward them);
 *   - bar_map/bar_unmap let it map a host BAR as a KVM memory slot instead
 *     of trapping every access; it registers the pages it must trap (the
 *     MSI-X table) itself, on pci_dev_bar_bus().
 *
 * Locking: config accesses, pci_host_add and pci_host_remove serialise on
 * host->lock; cfg_read, cfg_write, bar_map and bar_unmap run under it and
 * must not call back into pci_host_*. bar_access runs from bus_access with
 * no PCI lock held: a device serialises its own BAR state.
 */
#ifndef SLUICE_PCI_H
#define SLUICE_PCI_H

#include <linux/pci_regs.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/bus.h"
#include "vmm/layout.h"

#define PCI_HOST_SLOTS	LAYOUT_PCI_SLOTS	/* bus 0, function 0 of each device */
#define PCI_BAR_ROM	PCI_STD_NUM_BARS	/* BAR index used for the expansion ROM */

/* Where firmware would put BARs on this machine. */
#define PCI_IO_WINDOW_BASE	0xc000
#define PCI_IO_WINDOW_SIZE	0x4000
/* A 64-bit BAR at least this large goes above 4 GiB even if not prefetchable. */
#define PCI_BAR_LARGE		(64ull << 20)

struct pci_dev;

enum pci_bar_type {
	PCI_BAR_NONE,
	PCI_BAR_IO,
	PCI_BAR_MEM32,
	PCI_BAR_MEM64,	/* uses bar[i] and bar[i + 1]; the device leaves bar[i + 1] NONE */
};

struct pci_bar {
	/* Filled by the device before pci_host_add */
	enum pci_bar_type type;
	bool prefetchable;	/* memory BARs only */
	uint64_t size;		/* power of two: >= 4 for I/O, >= 16 memory, >= 2 KiB ROM */

	/* Core-owned */
	uint64_t addr;		/* as programmed in config space (assigned by pci_host_add) */
	bool mapped;		/* decoded at mapped_addr right now */
	uint64_t mapped_addr;
	bool conflict;		/* last map at conflict_addr failed; warned once */
	uint64_t conflict_addr;
	struct pci_dev *dev;
	int index;
	char name[32];		/* bus range name: "0000:00:02.0 BAR0" */
};

struct pci_dev_ops {
	/* Before the core reads cfg[off, off + len): refresh live state there. */
	void (*cfg_read)(struct pci_dev *dev, uint32_t off, uint32_t len);
	/* After the core applied the masked write: @data is what the guest wrote. */
	void (*cfg_write)(struct pci_dev *dev, uint32_t off, const uint8_t *data, uint32_t len);
	/*
	 * A BAR starts/stops decoding at @addr (bar is 0-5 or PCI_BAR_ROM). Both
	 * or neither. When NULL, the core registers the whole BAR on the bus and
	 * routes accesses to bar_access. A failing bar_map leaves it unmapped.
	 */
	int (*bar_map)(struct pci_dev *dev, int bar, uint64_t addr);
	void (*bar_unmap)(struct pci_dev *dev, int bar, uint64_t addr);
	/* An access at @offset into BAR @bar, as for bus_io_fn. */
	void (*bar_access)(struct pci_dev *dev, int bar, uint64_t offset, uint8_t *data,
			   uint32_t len, bool is_write);
};

struct pci_dev {
	uint8_t cfg[PCI_CFG_SPACE_EXP_SIZE];	/* what the guest reads, little-endian */
	uint8_t wmask[PCI_CFG_SPACE_EXP_SIZE];	/* bits the guest may write */
	uint8_t w1cmask[PCI_CFG_SPACE_EXP_SIZE];	/* bits a guest 1 clears (RW1C) */
	const char *name;			/* model, for messages: "virtio-net" */
	const struct pci_dev_ops *ops;
	struct pci_bar bar[PCI_STD_NUM_BARS];
	struct pci_bar rom;			/* type NONE or MEM32 */
	int slot;				/* -1: next free; set by pci_host_add */

	/* Core-owned */
	struct pci_host *host;
	char bdf[16];				/* "0000:00:02.0" */
	uint16_t cap_end;			/* where the next capability goes */
};

/* A range of guest addresses BARs are assigned from. */
struct pci_window {
	const char *name;
	uint64_t base, size;
};

struct pci_host {
	struct bus *pio, *mmio;
	pthread_mutex_t lock;
	uint32_t cf8;				/* CONFIG_ADDRESS latch */
	struct pci_dev *slot[PCI_HOST_SLOTS];
	struct pci_window mmio32, mmio64, io;
	struct pci_dev bridge;			/* 00:00.0 */
	/*
	 * The reset control register at 0xcf9 (FADT RESET_REG) sits inside the
	 * CONFIG_ADDRESS dword; byte accesses there are "passed through" to it
	 * (PCI 3.0 §3.2.2.3.2). Set with pci_host_set_cf9().
	 */
	bus_io_fn cf9_fn;
	void *cf9_opaque;
};

/*
 * Register CF8/CFC on @pio and ECAM on @mmio; the 64-bit window starts above
 * @ram_size. 0 or -errno (-EEXIST: a port or the ECAM range is taken); on
 * failure *h is left zeroed.
 */
int pci_host_init(struct pci_host *h, struct bus *pio, struct bus *mmio, uint64_t ram_size);
/* Undo pci_host_init, removing devices still present first; zeroes *h. */
void pci_host_exit(struct pci_host *h);
/* Route byte accesses to port 0xcf9 to @fn (offset 0). NULL: reads all-ones. */
void pci_host_set_cf9(struct pci_host *h, bus_io_fn fn, void *opaque);

/*
 * Zero @dev and fill a type-0 header: IDs, class (base << 16 | sub << 8 |
 * prog-if), the standard write masks. Interrupt pin 0 (none): set
 * cfg[PCI_INTERRUPT_PIN] afterwards to use INTx. slot = -1.
 */
void pci_dev_init(struct pci_dev *dev, const char *name, const struct pci_dev_ops *ops,
		  uint16_t vendor, uint16_t device, uint32_t class_code);

/*
 * Append a capability of @len bytes (header included) to the list in the
 * first 256 bytes. Returns its offset, -EINVAL or -ENOSPC. The device fills
 * the body and its wmask; the ID and next pointer stay read-only.
 */
int pci_dev_add_cap(struct pci_dev *dev, uint8_t cap_id, uint32_t len);

/*
 * Put @dev on bus 0 at dev->slot (or the next free slot) and assign its BARs
 * as firmware would, decode left off. 0; -EINVAL for a malformed BAR or ops;
 * -EBUSY for a taken slot; -ENOSPC for no free slot or a full window.
 */
int pci_host_add(struct pci_host *h, struct pci_dev *dev);
/* Unmap @dev's BARs and free its slot; its window space becomes free. */
void pci_host_remove(struct pci_host *h, struct pci_dev *dev);

/* The bus a BAR decodes on (pio or mmio); NULL for a NONE BAR or before add. */
struct bus *pci_dev_bar_bus(const struct pci_dev *dev, int bar);

/*
 * INTx routing (vmm/layout.h): slot s, pin p (0 = INTA) to GSI
 * LAYOUT_PCI_INTX_GSI_BASE + (s + p) % 4.
 */
unsigned pci_intx_gsi(unsigned slot, unsigned pin);

static inline uint16_t pci_cfg_get16(const struct pci_dev *dev, uint32_t off)
{
	return (uint16_t)(dev->cfg[off] | dev->cfg[off + 1] << 8);
}

static inline uint32_t pci_cfg_get32(const struct pci_dev *dev, uint32_t off)
{
	return pci_cfg_get16(dev, off) | (uint32_t)pci_cfg_get16(dev, off + 2) << 16;
}

static inline void pci_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void pci_put32(uint8_t *p, uint32_t v)
{
	pci_put16(p, (uint16_t)v);
	pci_put16(p + 2, (uint16_t)(v >> 16));
}

/* Little-endian loads from config-space bytes (or any byte buffer). */
static inline uint16_t pci_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t pci_get32(const uint8_t *p)
{
	return (uint32_t)pci_get16(p) | (uint32_t)pci_get16(p + 2) << 16;
}

/* Does an access to [off, off + len) touch the register range [start, end)? */
static inline bool pci_cfg_touches(uint32_t off, uint32_t len, uint32_t start, uint32_t end)
{
	return off < end && start < off + len;
}

#endif
