/*
 * sluice: PCI host bridge on bus 0 (vmm/pci.h). Config space is emulated from
 * each device's cfg[]/wmask[]/w1cmask[]; BARs are (un)registered on the pio
 * and mmio buses as the guest programs them.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "vmm/layout.h"
#include "vmm/log.h"
#include "vmm/pci.h"

/* CONFIG_ADDRESS (PCI 3.0 §3.2.2.3.2): enable, bus, device, function, register. */
#define CF8_ENABLE	0x80000000u
#define CF8_MASK	(CF8_ENABLE | 0x00fffffcu)

unsigned pci_intx_gsi(unsigned slot, unsigned pin)
{
	return layout_pci_intx_gsi(slot, pin);
}

/* ---- BARs: where they are, whether they decode, (un)mapping them ---- */

static struct pci_bar *dev_bar(struct pci_dev *dev, int i)
{
	return i == PCI_BAR_ROM ? &dev->rom : &dev->bar[i];
}

static uint32_t bar_reg(int i)
{
	return i == PCI_BAR_ROM ? PCI_ROM_ADDRESS : PCI_BASE_ADDRESS_0 + 4 * (uint32_t)i;
}

struct bus *pci_dev_bar_bus(const struct pci_dev *dev, int bar)
{
	const struct pci_bar *b;

	if (!dev->host || bar < 0 || bar > PCI_BAR_ROM)
		return NULL;
	b = bar == PCI_BAR_ROM ? &dev->rom : &dev->bar[bar];
	if (b->type == PCI_BAR_NONE)
		return NULL;
	return b->type == PCI_BAR_IO ? dev->host->pio : dev->host->mmio;
}

/* The address BAR @i holds in config space (PCI 3.0 §6.2.5.1, §6.2.5.2). */
static uint64_t bar_programmed(struct pci_dev *dev, int i)
{
	uint32_t lo = pci_cfg_get32(dev, bar_reg(i));

	switch (dev_bar(dev, i)->type) {
	case PCI_BAR_IO:
		return lo & PCI_BASE_ADDRESS_IO_MASK;
	case PCI_BAR_MEM32:
		return lo & (i == PCI_BAR_ROM ? PCI_ROM_ADDRESS_MASK : PCI_BASE_ADDRESS_MEM_MASK);
	case PCI_BAR_MEM64:
		return (lo & PCI_BASE_ADDRESS_MEM_MASK) |
		       (uint64_t)pci_cfg_get32(dev, bar_reg(i) + 4) << 32;
	default:
		return 0;
	}
}

/*
 * Whether BAR @i decodes at b->addr now: the command register's IO or MEM
 * enable (PCI 3.0 §6.2.2), and for the ROM its own enable bit (§6.2.5.2).
 * Address 0 is "unassigned". A BAR reaching the last byte of its space is
 * the sizing pattern left in the register, never a placement: ignore it, as
 * firmware and QEMU do.
 */
static bool bar_decodes(struct pci_dev *dev, int i)
{
	struct pci_bar *b = dev_bar(dev, i);
	uint16_t cmd = pci_cfg_get16(dev, PCI_COMMAND);
	uint64_t last_ok;

	switch (b->type) {
	case PCI_BAR_IO:
		if (!(cmd & PCI_COMMAND_IO))
			return false;
		last_ok = 0xffff;
		break;
	case PCI_BAR_MEM32:
		if (!(cmd & PCI_COMMAND_MEMORY))
			return false;
		if (i == PCI_BAR_ROM &&
		    !(pci_cfg_get32(dev, PCI_ROM_ADDRESS) & PCI_ROM_ADDRESS_ENABLE))
			return false;
		last_ok = 0xfffffffe;
		break;
	case PCI_BAR_MEM64:
		if (!(cmd & PCI_COMMAND_MEMORY))
			return false;
		last_ok = UINT64_MAX - 1;
		break;
	default:
		return false;
	}
	return b->addr && b->size - 1 <= last_ok && b->addr <= last_ok - (b->size - 1);
}

static void bar_io(void *opaque, uint64_t offset, uint8_t *data, uint32_t len, bool is_write)
{
	struct pci_bar *b = opaque;

	b->dev->ops->bar_access(b->dev, b->index, offset, data, len, is_write);
}

static void map_bar(struct pci_dev *dev, int i)
{
	struct pci_bar *b = dev_bar(dev, i);
	int err;

	if (dev->ops->bar_map)
		err = dev->ops->bar_map(dev, i, b->addr);
	else
		err = bus_register(pci_dev_bar_bus(dev, i), b->addr, b->size, bar_io, b, b->name);
	if (err) {
		/* The guest owns BAR placement; a bad one is its bug, not ours. Say it once. */
		if (!b->conflict || b->conflict_addr != b->addr)
			pr_warn_rl("%s (%s) at 0x%" PRIx64 "-0x%" PRIx64 ": %s; left unmapped until the guest moves it",
				b->name, dev->name, b->addr, b->addr + (b->size - 1),
				err == -EEXIST ? "overlaps another range" : strerror(-err));
		b->conflict = true;
		b->conflict_addr = b->addr;
		return;
	}
	b->conflict = false;
	b->mapped = true;
	b->mapped_addr = b->addr;
}

static void unmap_bar(struct pci_dev *dev, int i)
{
	struct pci_bar *b = dev_bar(dev, i);

	if (dev->ops->bar_unmap)
		dev->ops->bar_unmap(dev, i, b->mapped_addr);
	else
		bus_unregister(pci_dev_bar_bus(dev, i), b->mapped_addr);
	b->mapped = false;
}

/* Bring @dev's BAR mappings in line with its registers: the unmap or the map half. */
static void dev_sync_bars(struct pci_dev *dev, bool map)
{
	int i;

	for (i = 0; i <= PCI_BAR_ROM; i++) {
		struct pci_bar *b = dev_bar(dev, i);
		bool on;

		if (b->type == PCI_BAR_NONE)
			continue;
		b->addr = bar_programmed(dev, i);
		on = bar_decodes(dev, i);
		if (!map && b->mapped && (!on || b->addr != b->mapped_addr))
			unmap_bar(dev, i);
		if (map && on && !b->mapped)
			map_bar(dev, i);
	}
}

/*
 * After any write to a command or BAR register. Every device, unmaps first:
 * BARs that trade places never collide, and a BAR left unmapped by a
 * conflict gets mapped once the range in its way moves. Lock held.
 */
static void host_sync_bars(struct pci_host *h)
{
	unsigned s;

	for (s = 0; s < PCI_HOST_SLOTS; s++)
		if (h->slot[s])
			dev_sync_bars(h->slot[s], false);
	for (s = 0; s < PCI_HOST_SLOTS; s++)
		if (h->slot[s])
			dev_sync_bars(h->slot[s], true);
}

/* ---- Config space ---- */


static void dev_cfg_read(struct pci_dev *dev, uint32_t off, uint8_t *data, uint32_t len)
{
	if (dev->ops && dev->ops->cfg_read)
		dev->ops->cfg_read(dev, off, len);
	memcpy(data, &dev->cfg[off], len);
}

static void dev_cfg_write(struct pci_host *h, struct pci_dev *dev, uint32_t off,
			  const uint8_t *data, uint32_t len)
{
	uint32_t i;

	for (i = 0; i < len; i++) {
		uint8_t w = dev->wmask[off + i], w1c = dev->w1cmask[off + i];
		uint8_t *c = &dev->cfg[off + i];

		*c = (uint8_t)((*c & ~w) | (data[i] & w));
		*c = (uint8_t)(*c & ~(data[i] & w1c));
	}
	if (pci_cfg_touches(off, len, PCI_COMMAND, PCI_COMMAND + 2) ||
	    pci_cfg_touches(off, len, PCI_BASE_ADDRESS_0, PCI_BASE_ADDRESS_5 + 4) ||
	    pci_cfg_touches(off, len, PCI_ROM_ADDRESS, PCI_ROM_ADDRESS + 4))
		host_sync_bars(h);
	if (dev->ops && dev->ops->cfg_write)
		dev->ops->cfg_write(dev, off, data, len);
}

/*
 * One config access on bus 0 (@reg 0-4095). A config request carries the
 * byte enables of one dword (PCIe Base 4.0 §7.2.2): any other size, or an
 * access crossing a dword, reads all-ones and writes nothing, like an absent
 * function. Lock held.
 */
static void host_cfg_access(struct pci_host *h, unsigned busno, unsigned devno, unsigned fn,
			    uint32_t reg, uint8_t *data, uint32_t len, bool is_write)
{
	bool well_formed = (len == 1 || len == 2 || len == 4) && (reg & 3) + len <= 4;
	struct pci_dev *dev = NULL;

	/* Functions 1-7 are absent: no device sets the multi-function bit. */
	if (well_formed && busno == 0 && fn == 0 && devno < PCI_HOST_SLOTS)
		dev = h->slot[devno];
	if (!dev) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	if (is_write)
		dev_cfg_write(h, dev, reg, data, len);
	else
		dev_cfg_read(dev, reg, data, len);
}

static void cf8_io(void *opaque, uint64_t offset, uint8_t *data, uint32_t len, bool is_write)
{
	struct pci_host *h = opaque;
	bus_io_fn cf9_fn;
	void *cf9_opaque;

	pthread_mutex_lock(&h->lock);
	cf9_fn = h->cf9_fn;
	cf9_opaque = h->cf9_opaque;
	/* Only a dword access is CONFIG_ADDRESS; others are ordinary I/O (§3.2.2.3.2). */
	if (offset == 0 && len == 4) {
		if (is_write)
			h->cf8 = (uint32_t)(data[0] | data[1] << 8 | data[2] << 16 |
					    (uint32_t)data[3] << 24) & CF8_MASK;
		else
			pci_put32(data, h->cf8);
		pthread_mutex_unlock(&h->lock);
		return;
	}
	pthread_mutex_unlock(&h->lock);
	/* Unlocked, like any bus callback: the reset handler may tear things down. */
	if (offset == LAYOUT_PORT_RESET - LAYOUT_PORT_PCI_CF8 && len == 1 && cf9_fn)
		cf9_fn(cf9_opaque, 0, data, len, is_write);
	else if (!is_write)
		memset(data, 0xff, len);
}

static void cfc_io(void *opaque, uint64_t offset, uint8_t *data, uint32_t len, bool is_write)
{
	struct pci_host *h = opaque;
	uint32_t a;

	pthread_mutex_lock(&h->lock);
	a = h->cf8;
	if (a & CF8_ENABLE)
		host_cfg_access(h, (a >> 16) & 0xff, (a >> 11) & 0x1f, (a >> 8) & 7,
				(a & 0xfc) + (uint32_t)offset, data, len, is_write);
	else if (!is_write)
		memset(data, 0xff, len);
	pthread_mutex_unlock(&h->lock);
}

/* ECAM offset: bus 27:20, device 19:15, function 14:12, register 11:0 (PCIe §7.2.2). */
static void ecam_io(void *opaque, uint64_t offset, uint8_t *data, uint32_t len, bool is_write)
{
	struct pci_host *h = opaque;

	pthread_mutex_lock(&h->lock);
	host_cfg_access(h, (unsigned)(offset >> 20), (offset >> 15) & 0x1f, (offset >> 12) & 7,
			offset & 0xfff, data, len, is_write);
	pthread_mutex_unlock(&h->lock);
}

/* ---- Devices ---- */

void pci_dev_init(struct pci_dev *dev, const char *name, const struct pci_dev_ops *ops,
		  uint16_t vendor, uint16_t device, uint32_t class_code)
{
	memset(dev, 0, sizeof(*dev));
	dev->name = name;
	dev->ops = ops;
	dev->slot = -1;
	dev->cap_end = PCI_STD_HEADER_SIZEOF;
	pci_put16(&dev->cfg[PCI_VENDOR_ID], vendor);
	pci_put16(&dev->cfg[PCI_DEVICE_ID], device);
	pci_put32(&dev->cfg[PCI_CLASS_REVISION], class_code << 8);
	dev->cfg[PCI_HEADER_TYPE] = PCI_HEADER_TYPE_NORMAL;
	/* PCI 3.0 §6.2.2: the command bits a conventional function implements. */
	pci_put16(&dev->wmask[PCI_COMMAND], PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
		  PCI_COMMAND_PARITY | PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE);
	/* §6.2.3: error bits in the status register are write-one-to-clear. */
	pci_put16(&dev->w1cmask[PCI_STATUS], PCI_STATUS_PARITY | PCI_STATUS_SIG_TARGET_ABORT |
		  PCI_STATUS_REC_TARGET_ABORT | PCI_STATUS_REC_MASTER_ABORT |
		  PCI_STATUS_SIG_SYSTEM_ERROR | PCI_STATUS_DETECTED_PARITY);
	dev->wmask[PCI_CACHE_LINE_SIZE] = 0xff;
	dev->wmask[PCI_LATENCY_TIMER] = 0xff;
	dev->wmask[PCI_INTERRUPT_LINE] = 0xff;	/* a scratch register for the OS (§6.2.4) */
}

int pci_dev_add_cap(struct pci_dev *dev, uint8_t cap_id, uint32_t len)
{
	uint32_t off = dev->cap_end ? dev->cap_end : PCI_STD_HEADER_SIZEOF;
	uint8_t *next = &dev->cfg[PCI_CAPABILITY_LIST];
	unsigned hops;

	if (len < PCI_CAP_FLAGS)
		return -EINVAL;
	if (off >= PCI_CFG_SPACE_SIZE || len > PCI_CFG_SPACE_SIZE - off)
		return -ENOSPC;
	/* Bounded walk: a device that wrote a looping chain gets -EINVAL, not a hang. */
	for (hops = 0; *next; hops++) {
		if (hops == PCI_CFG_SPACE_SIZE / 4)
			return -EINVAL;
		next = &dev->cfg[(*next & ~3u) + PCI_CAP_LIST_NEXT];
	}
	*next = (uint8_t)off;
	dev->cfg[off + PCI_CAP_LIST_ID] = cap_id;
	dev->cfg[off + PCI_CAP_LIST_NEXT] = 0;
	pci_put16(&dev->cfg[PCI_STATUS], pci_cfg_get16(dev, PCI_STATUS) | PCI_STATUS_CAP_LIST);
	/* PCI 3.0 §6.7: capabilities are dword aligned (pointer bits 1:0 reserved). */
	dev->cap_end = (uint16_t)((off + len + 3) & ~3u);
	return (int)off;
}

/* ---- Adding devices: validation, slots, firmware-style BAR assignment ---- */

static bool is_pow2(uint64_t x)
{
	return x && !(x & (x - 1));
}

static int check_bar(const struct pci_dev *dev, int i, const struct pci_bar *b)
{
	uint64_t min = b->type == PCI_BAR_IO ? 4 : i == PCI_BAR_ROM ? 2048 : 16;

	if (b->type == PCI_BAR_NONE)
		return 0;
	if (!is_pow2(b->size) || b->size < min) {
		pr_err("%s: BAR%d size 0x%" PRIx64 " is not a power of two >= 0x%" PRIx64,
		       dev->name, i, b->size, min);
		return -EINVAL;
	}
	if ((b->type == PCI_BAR_IO && b->prefetchable) ||
	    (i == PCI_BAR_ROM && b->type != PCI_BAR_MEM32)) {
		pr_err("%s: BAR%d has an impossible type", dev->name, i);
		return -EINVAL;
	}
	if (b->type == PCI_BAR_MEM64 &&
	    (i >= PCI_STD_NUM_BARS - 1 || dev->bar[i + 1].type != PCI_BAR_NONE)) {
		pr_err("%s: 64-bit BAR%d needs the next BAR (type NONE) for its upper half",
		       dev->name, i);
		return -EINVAL;
	}
	return 0;
}

static int check_dev(const struct pci_dev *dev)
{
	const struct pci_dev_ops *ops = dev->ops;
	bool any = dev->rom.type != PCI_BAR_NONE;
	int i, err;

	for (i = 0; i < PCI_STD_NUM_BARS; i++) {
		any |= dev->bar[i].type != PCI_BAR_NONE;
		err = check_bar(dev, i, &dev->bar[i]);
		if (err)
			return err;
		if (dev->bar[i].type == PCI_BAR_MEM64)
			i++;
	}
	err = check_bar(dev, PCI_BAR_ROM, &dev->rom);
	if (err)
		return err;
	if (ops && !ops->bar_map != !ops->bar_unmap) {
		pr_err("%s: bar_map and bar_unmap come as a pair", dev->name);
		return -EINVAL;
	}
	if (any && (!ops || (!ops->bar_map && !ops->bar_access))) {
		pr_err("%s: has BARs but neither bar_map nor bar_access", dev->name);
		return -EINVAL;
	}
	if (dev->cfg[PCI_INTERRUPT_PIN] > 4) {
		pr_err("%s: interrupt pin %u is not INTA-INTD", dev->name, dev->cfg[PCI_INTERRUPT_PIN]);
		return -EINVAL;
	}
	return 0;
}

/* @want, or the first free slot when it is -1; the slot or -errno. Lock held. */
static int pick_slot(const struct pci_host *h, int want)
{
	int s;

	if (want >= PCI_HOST_SLOTS || want < -1)
		return -EINVAL;
	if (want >= 0)
		return h->slot[want] ? -EBUSY : want;
	for (s = 1; s < PCI_HOST_SLOTS; s++)
		if (!h->slot[s])
			return s;
	return -ENOSPC;
}

/* Whether [a, last] meets a BAR on the host or on @dev; @blast gets its last byte. */
static bool bar_in_use(struct pci_host *h, struct pci_dev *dev, uint64_t a, uint64_t last,
		       uint64_t *blast)
{
	unsigned s;
	int i;

	for (s = 0; s <= PCI_HOST_SLOTS; s++) {
		struct pci_dev *d = s < PCI_HOST_SLOTS ? h->slot[s] : dev;

		for (i = 0; d && i <= PCI_BAR_ROM; i++) {
			struct pci_bar *b = dev_bar(d, i);

			/* Naturally aligned: addr + size - 1 never wraps. */
			if (b->type == PCI_BAR_NONE || !b->addr)
				continue;
			*blast = b->addr + (b->size - 1);
			if (b->addr <= last && a <= *blast)
				return true;
		}
	}
	return false;
}

static uint64_t align_up(uint64_t x, uint64_t pow2)
{
	return (x + pow2 - 1) & ~(pow2 - 1);
}

/*
 * First fit, naturally aligned (PCI 3.0 §6.2.5.1: a BAR's low bits are its
 * size). No allocator state: the BARs in place are the allocation, so a
 * removed device's space is free again. Lock held.
 */
static int window_alloc(struct pci_host *h, struct pci_dev *dev, const struct pci_window *w,
			uint64_t size, uint64_t *addr)
{
	uint64_t wlast = w->base + (w->size - 1);
	uint64_t a = align_up(w->base, size), blast;

	while (size <= w->size && a >= w->base && a <= wlast && size - 1 <= wlast - a) {
		if (!bar_in_use(h, dev, a, a + (size - 1), &blast)) {
			*addr = a;
			return 0;
		}
		if (blast >= wlast)
			break;
		a = align_up(blast + 1, size);
	}
	return -ENOSPC;
}

/* Choose a window as firmware would, and an address in it. */
static int bar_alloc(struct pci_host *h, struct pci_dev *dev, struct pci_bar *b)
{
	const struct pci_window *w = &h->mmio32;
	int err;

	if (b->type == PCI_BAR_IO)
		w = &h->io;
	else if (b->type == PCI_BAR_MEM64 && (b->prefetchable || b->size >= PCI_BAR_LARGE))
		w = &h->mmio64;
	err = window_alloc(h, dev, w, b->size, &b->addr);
	/* A small 64-bit BAR may still go high when the low window is full. */
	if (err && b->type == PCI_BAR_MEM64 && w == &h->mmio32) {
		w = &h->mmio64;
		err = window_alloc(h, dev, w, b->size, &b->addr);
	}
	if (err)
		pr_err("%s (%s): no room for 0x%" PRIx64 " bytes in the %s window "
		       "0x%" PRIx64 "-0x%" PRIx64 "; remove a device or shrink the BAR",
		       b->name, dev->name, b->size, w->name, w->base,
		       w->base + (w->size - 1));
	return err;
}

/* Fill BAR @i's register(s) and write mask; sizing then falls out of wmask. */
static void bar_init_regs(struct pci_dev *dev, int i)
{
	struct pci_bar *b = dev_bar(dev, i);
	uint64_t mask = ~(b->size - 1);
	uint32_t reg = bar_reg(i), flags = 0;

	if (b->type == PCI_BAR_IO)
		flags = PCI_BASE_ADDRESS_SPACE_IO;
	else if (i != PCI_BAR_ROM)
		flags = (b->type == PCI_BAR_MEM64 ? PCI_BASE_ADDRESS_MEM_TYPE_64 : 0) |
			(b->prefetchable ? PCI_BASE_ADDRESS_MEM_PREFETCH : 0);
	pci_put32(&dev->cfg[reg], (uint32_t)b->addr | flags);
	pci_put32(&dev->wmask[reg], (uint32_t)mask | (i == PCI_BAR_ROM ? PCI_ROM_ADDRESS_ENABLE : 0));
	if (b->type == PCI_BAR_MEM64) {
		pci_put32(&dev->cfg[reg + 4], (uint32_t)(b->addr >> 32));
		pci_put32(&dev->wmask[reg + 4], (uint32_t)(mask >> 32));
	}
}

/* Lock held; @dev is not in a slot yet. */
static int assign_bars(struct pci_host *h, struct pci_dev *dev)
{
	int i, err;

	for (i = 0; i <= PCI_BAR_ROM; i++) {
		struct pci_bar *b = dev_bar(dev, i);

		*b = (struct pci_bar){ .type = b->type, .prefetchable = b->prefetchable,
				       .size = b->size, .dev = dev, .index = i };
		if (i == PCI_BAR_ROM)
			snprintf(b->name, sizeof(b->name), "%s ROM", dev->bdf);
		else
			snprintf(b->name, sizeof(b->name), "%s BAR%d", dev->bdf, i);
	}
	for (i = 0; i <= PCI_BAR_ROM; i++) {
		struct pci_bar *b = dev_bar(dev, i);

		if (b->type == PCI_BAR_NONE)
			continue;
		err = bar_alloc(h, dev, b);
		if (err)
			return err;
		bar_init_regs(dev, i);
	}
	return 0;
}

int pci_host_add(struct pci_host *h, struct pci_dev *dev)
{
	int want = dev->slot, slot, err;
	uint8_t pin = dev->cfg[PCI_INTERRUPT_PIN];

	err = check_dev(dev);
	if (err)
		return err;
	pthread_mutex_lock(&h->lock);
	slot = pick_slot(h, want);
	if (slot < 0) {
		err = slot;
		pr_err("%s: %s", dev->name,
		       slot == -EBUSY ? "its PCI slot is taken; ask for another or none" :
		       slot == -EINVAL ? "PCI slots are 0-31" : "bus 0 has no free slot left");
		goto out_unlock;
	}
	dev->slot = slot;
	dev->host = h;
	snprintf(dev->bdf, sizeof(dev->bdf), "0000:00:%02x.0", (unsigned)slot & 0x1f);
	err = assign_bars(h, dev);
	if (err)
		goto err_forget_slot;
	/* Decode stays off: the guest's enumeration turns it on (PCI 3.0 §6.2.2). */
	pci_put16(&dev->cfg[PCI_COMMAND], 0);
	if (pin)
		dev->cfg[PCI_INTERRUPT_LINE] = (uint8_t)pci_intx_gsi((unsigned)slot, pin - 1u);
	h->slot[slot] = dev;
	pthread_mutex_unlock(&h->lock);
	return 0;

err_forget_slot:
	dev->host = NULL;
	dev->slot = want;
out_unlock:
	pthread_mutex_unlock(&h->lock);
	return err;
}

void pci_host_remove(struct pci_host *h, struct pci_dev *dev)
{
	int i;

	pthread_mutex_lock(&h->lock);
	if (dev->host == h && h->slot[dev->slot] == dev) {
		for (i = PCI_BAR_ROM; i >= 0; i--)
			if (dev_bar(dev, i)->mapped)
				unmap_bar(dev, i);
		h->slot[dev->slot] = NULL;
		dev->host = NULL;
	}
	pthread_mutex_unlock(&h->lock);
}

/* ---- The host bridge ---- */

void pci_host_set_cf9(struct pci_host *h, bus_io_fn fn, void *opaque)
{
	pthread_mutex_lock(&h->lock);
	h->cf9_fn = fn;
	h->cf9_opaque = opaque;
	pthread_mutex_unlock(&h->lock);
}

static int host_register(struct bus *b, uint64_t base, uint64_t len, bus_io_fn fn,
			 struct pci_host *h, const char *name)
{
	int err = bus_register(b, base, len, fn, h, name);

	if (err)
		pr_err("pci host: cannot register %s at 0x%" PRIx64 "-0x%" PRIx64 " on the %s bus: %s%s",
		       name, base, base + len - 1, b->name, strerror(-err),
		       base == LAYOUT_PORT_PCI_CF8 && err == -EEXIST ?
		       " (a reset port at 0xcf9 belongs in pci_host_set_cf9)" : "");
	return err;
}

int pci_host_init(struct pci_host *h, struct bus *pio, struct bus *mmio, uint64_t ram_size)
{
	int err;

	memset(h, 0, sizeof(*h));
	h->pio = pio;
	h->mmio = mmio;
	h->mmio32 = (struct pci_window){ "mmio32", LAYOUT_MMIO32_BASE, LAYOUT_MMIO32_SIZE };
	h->mmio64 = (struct pci_window){ "mmio64", layout_mmio64_base(ram_size), LAYOUT_MMIO64_SIZE };
	h->io = (struct pci_window){ "io", PCI_IO_WINDOW_BASE, PCI_IO_WINDOW_SIZE };
	err = -pthread_mutex_init(&h->lock, NULL);
	if (err)
		return err;
	/* QEMU's generic PCIe host bridge IDs: guests already know them. */
	pci_dev_init(&h->bridge, "host bridge", NULL, 0x1b36, 0x0008, 0x060000);
	h->bridge.slot = 0;
	err = pci_host_add(h, &h->bridge);
	if (err)
		goto err_destroy_lock;
	/* CONFIG_ADDRESS is a dword at 0xcf8: a dword access must fit one range. */
	err = host_register(pio, LAYOUT_PORT_PCI_CF8, 4, cf8_io, h, "pci-cf8");
	if (err)
		goto err_remove_bridge;
	err = host_register(pio, LAYOUT_PORT_PCI_CFC, 4, cfc_io, h, "pci-cfc");
	if (err)
		goto err_unregister_cf8;
	err = host_register(mmio, LAYOUT_ECAM_BASE, LAYOUT_ECAM_SIZE, ecam_io, h, "pci-ecam");
	if (err)
		goto err_unregister_cfc;
	return 0;

err_unregister_cfc:
	bus_unregister(pio, LAYOUT_PORT_PCI_CFC);
err_unregister_cf8:
	bus_unregister(pio, LAYOUT_PORT_PCI_CF8);
err_remove_bridge:
	pci_host_remove(h, &h->bridge);
err_destroy_lock:
	pthread_mutex_destroy(&h->lock);
	/* Zeroed, so an owner's "h->pio set means initialised" test holds. */
	memset(h, 0, sizeof(*h));
	return err;
}

void pci_host_exit(struct pci_host *h)
{
	unsigned s;

	/* Devices their owners left behind must not stay on the buses. */
	for (s = PCI_HOST_SLOTS - 1; s > 0; s--)
		if (h->slot[s])
			pci_host_remove(h, h->slot[s]);
	bus_unregister(h->mmio, LAYOUT_ECAM_BASE);
	bus_unregister(h->pio, LAYOUT_PORT_PCI_CFC);
	bus_unregister(h->pio, LAYOUT_PORT_PCI_CF8);
	pci_host_remove(h, &h->bridge);
	pthread_mutex_destroy(&h->lock);
	memset(h, 0, sizeof(*h));
}
