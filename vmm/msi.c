/*
 * sluice: MSI emulation (vmm/msi.h). The registers live in cfg[], written by
 * the PCI core through wmask; this file copies them into struct msi on each
 * write and reports what changed for every vector.
 */
#include <errno.h>
#include <string.h>

#include "vmm/log.h"
#include "vmm/msi.h"

#define MSI_CTRL_RW	(PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE)
/* Message Control bits this emulation shows as they are: 64-bit, maskable, MMC. */
#define MSI_CTRL_RO	(PCI_MSI_FLAGS_QMASK | PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_MASKBIT)

static const char *dev_label(const struct pci_dev *dev)
{
	return dev->bdf[0] ? dev->bdf : dev->name;
}


/* §6.8.1: the four layouts, by 64-bit address and per-vector masking. */
static uint32_t cap_len(bool is64, bool maskable)
{
	if (maskable)
		return is64 ? PCI_MSI_PENDING_64 + 4 : PCI_MSI_PENDING_32 + 4;
	return is64 ? PCI_MSI_DATA_64 + 2 : PCI_MSI_DATA_32 + 2;
}

static uint32_t data_off(const struct msi *m)
{
	return m->cap + (m->is64 ? PCI_MSI_DATA_64 : PCI_MSI_DATA_32);
}

static uint32_t mask_off(const struct msi *m)
{
	return m->cap + (m->is64 ? PCI_MSI_MASK_64 : PCI_MSI_MASK_32);
}

/* Mask and Pending bits exist for the vectors the function is capable of (§6.8.1.7). */
static uint32_t valid_bits(const struct msi *m)
{
	return m->max_vectors == 32 ? UINT32_MAX : (1u << m->max_vectors) - 1;
}

/* Guest-writable: Enable, MME, the address (bits 1:0 RO 0), data, mask bits. */
static void set_wmask(struct msi *m)
{
	struct pci_dev *dev = m->dev;
	uint32_t len = cap_len(m->is64, m->maskable);

	memset(&dev->wmask[m->cap + PCI_MSI_FLAGS], 0, len - PCI_MSI_FLAGS);
	memset(&dev->w1cmask[m->cap + PCI_MSI_FLAGS], 0, len - PCI_MSI_FLAGS);
	pci_put16(&dev->wmask[m->cap + PCI_MSI_FLAGS], MSI_CTRL_RW);
	pci_put32(&dev->wmask[m->cap + PCI_MSI_ADDRESS_LO], 0xfffffffc);
	if (m->is64)
		pci_put32(&dev->wmask[m->cap + PCI_MSI_ADDRESS_HI], UINT32_MAX);
	pci_put16(&dev->wmask[data_off(m)], 0xffff);
	if (m->maskable)
		pci_put32(&dev->wmask[mask_off(m)], valid_bits(m));
}

/* The guest's settings, from cfg[]. */
static void load(struct msi *m)
{
	const struct pci_dev *dev = m->dev;
	uint16_t ctrl = pci_cfg_get16(dev, m->cap + PCI_MSI_FLAGS);
	unsigned mme = (ctrl & PCI_MSI_FLAGS_QSIZE) >> 4;

	m->enabled = ctrl & PCI_MSI_FLAGS_ENABLE;
	/* MME above MMC is undefined (§6.8.1.3): allocate what the function has. */
	m->nr_vectors = mme <= 5 && (1u << mme) < m->max_vectors ? 1u << mme : m->max_vectors;
	m->addr = pci_cfg_get32(dev, m->cap + PCI_MSI_ADDRESS_LO);
	if (m->is64)
		m->addr |= (uint64_t)pci_cfg_get32(dev, m->cap + PCI_MSI_ADDRESS_HI) << 32;
	m->data = pci_cfg_get16(dev, data_off(m));
	m->mask = m->maskable ? pci_cfg_get32(dev, mask_off(m)) & valid_bits(m) : 0;
}

/* Report vector @n's effective state if it changed; deliver a pending message. */
static void sync_vector(struct msi *m, unsigned n)
{
	struct msi_route *r = &m->route[n];
	bool on = m->enabled && n < m->nr_vectors && !(m->mask & 1u << n);
	/* §6.8.1.6: the function modifies the MME low-order bits of the data. */
	uint32_t data = (m->data & ~(m->nr_vectors - 1)) | n;

	if (on && (!r->on || r->addr != m->addr || r->data != data)) {
		*r = (struct msi_route){ .on = true, .addr = m->addr, .data = data };
		m->ops->update(m->opaque, n, r->addr, r->data, true);
	} else if (!on && r->on) {
		r->on = false;
		m->ops->update(m->opaque, n, r->addr, r->data, false);
	}
	/* §6.8.1.8: a pending message goes out once its vector is unmasked. */
	if (on && (m->pending & 1u << n)) {
		m->pending &= ~(1u << n);
		m->ops->fire(m->opaque, n);
	}
}

static void flush(struct msi *m)
{
	if (m->ops->flush)
		m->ops->flush(m->opaque);
}

static void sync_all(struct msi *m)
{
	unsigned n;

	for (n = 0; n < m->max_vectors; n++)
		sync_vector(m, n);
}

/* Zero what the guest may write, and the Pending Bits (§6.8.1 reset values). */
static void reset_regs(struct msi *m)
{
	struct pci_dev *dev = m->dev;
	uint32_t len = cap_len(m->is64, m->maskable);
	uint16_t ctrl = pci_cfg_get16(dev, m->cap + PCI_MSI_FLAGS);

	pci_put16(&dev->cfg[m->cap + PCI_MSI_FLAGS], ctrl & MSI_CTRL_RO);
	memset(&dev->cfg[m->cap + PCI_MSI_ADDRESS_LO], 0, len - PCI_MSI_ADDRESS_LO);
	m->pending = 0;
}

static int setup(struct msi *m, struct pci_dev *dev, uint16_t cap, const struct msi_ops *ops,
		 void *opaque)
{
	uint16_t ctrl = pci_cfg_get16(dev, cap + PCI_MSI_FLAGS);
	int err;

	memset(m, 0, sizeof(*m));
	m->dev = dev;
	m->ops = ops;
	m->opaque = opaque;
	m->cap = cap;
	m->is64 = ctrl & PCI_MSI_FLAGS_64BIT;
	m->maskable = ctrl & PCI_MSI_FLAGS_MASKBIT;
	m->max_vectors = 1u << ((ctrl & PCI_MSI_FLAGS_QMASK) >> 1);
	err = -pthread_mutex_init(&m->lock, NULL);
	if (err)
		return err;
	set_wmask(m);
	reset_regs(m);
	load(m);
	return 0;
}

int msi_init(struct msi *m, struct pci_dev *dev, unsigned nr_vectors, unsigned flags,
	     const struct msi_ops *ops, void *opaque)
{
	bool is64 = flags & MSI_64BIT, maskable = flags & MSI_MASKABLE;
	unsigned mmc = (unsigned)__builtin_ctz(nr_vectors | 64);
	uint16_t ctrl;
	int cap;

	if (nr_vectors > MSI_MAX_VECTORS || nr_vectors != 1u << mmc ||
	    (flags & ~(MSI_64BIT | MSI_MASKABLE)) || !ops || !ops->update || !ops->fire) {
		pr_err("%s: MSI with %u vectors and flags 0x%x: need 1-32 vectors (a power of two) and both callbacks",
		       dev_label(dev), nr_vectors, flags);
		return -EINVAL;
	}
	cap = pci_dev_add_cap(dev, PCI_CAP_ID_MSI, cap_len(is64, maskable));
	if (cap < 0) {
		pr_err("%s: no room for an MSI capability in config space", dev_label(dev));
		return cap;
	}
	ctrl = (uint16_t)(mmc << 1 | (is64 ? PCI_MSI_FLAGS_64BIT : 0) |
			  (maskable ? PCI_MSI_FLAGS_MASKBIT : 0));
	pci_put16(&dev->cfg[cap + PCI_MSI_FLAGS], ctrl);
	return setup(m, dev, (uint16_t)cap, ops, opaque);
}

int msi_init_existing(struct msi *m, struct pci_dev *dev, uint16_t cap, uint32_t end,
		      const struct msi_ops *ops, void *opaque)
{
	uint16_t ctrl;

	if (cap < PCI_STD_HEADER_SIZEOF || cap > PCI_CFG_SPACE_SIZE - PCI_MSI_DATA_32 - 2 ||
	    (cap & 3) || dev->cfg[cap + PCI_CAP_LIST_ID] != PCI_CAP_ID_MSI) {
		pr_err("%s: no MSI capability at config offset 0x%x", dev_label(dev), cap);
		return -EINVAL;
	}
	ctrl = pci_cfg_get16(dev, cap + PCI_MSI_FLAGS);
	if (cap + cap_len(ctrl & PCI_MSI_FLAGS_64BIT, ctrl & PCI_MSI_FLAGS_MASKBIT) >
	    PCI_CFG_SPACE_SIZE || ((ctrl & PCI_MSI_FLAGS_QMASK) >> 1) > 5) {
		pr_err("%s: malformed MSI capability at 0x%x (Message Control 0x%04x); "
		       "the device cannot use MSI here", dev_label(dev), cap, ctrl);
		return -EINVAL;
	}
	/* Every register of the layout becomes ours: none may belong to the next capability. */
	if (cap + cap_len(ctrl & PCI_MSI_FLAGS_64BIT, ctrl & PCI_MSI_FLAGS_MASKBIT) > end) {
		pr_err("%s: MSI capability at 0x%x (Message Control 0x%04x) runs past 0x%x, "
		       "where the next capability starts; the device cannot use MSI here",
		       dev_label(dev), cap, ctrl, end);
		return -EINVAL;
	}
	if (!ops || !ops->update || !ops->fire) {
		pr_err("%s: MSI needs both callbacks", dev_label(dev));
		return -EINVAL;
	}
	return setup(m, dev, cap, ops, opaque);
}

void msi_exit(struct msi *m)
{
	pthread_mutex_destroy(&m->lock);
	memset(m, 0, sizeof(*m));
}

void msi_reset(struct msi *m)
{
	pthread_mutex_lock(&m->lock);
	reset_regs(m);
	load(m);
	sync_all(m);
	flush(m);
	pthread_mutex_unlock(&m->lock);
}

void msi_cfg_written(struct msi *m, uint32_t off, uint32_t len)
{
	if (!pci_cfg_touches(off, len, m->cap + PCI_MSI_FLAGS, m->cap + cap_len(m->is64, m->maskable)))
		return;
	pthread_mutex_lock(&m->lock);
	load(m);
	sync_all(m);
	flush(m);
	pthread_mutex_unlock(&m->lock);
}

void msi_cfg_read(struct msi *m, uint32_t off, uint32_t len)
{
	uint32_t pend = mask_off(m) + 4;

	if (!m->maskable || !pci_cfg_touches(off, len, pend, pend + 4))
		return;
	pthread_mutex_lock(&m->lock);
	pci_put32(&m->dev->cfg[pend], m->pending);
	pthread_mutex_unlock(&m->lock);
}

int msi_signal(struct msi *m, unsigned n)
{
	int err = 0;

	if (n >= m->max_vectors)
		return -EINVAL;
	pthread_mutex_lock(&m->lock);
	if (!m->enabled || n >= m->nr_vectors)
		err = -EAGAIN;
	else if (m->mask & 1u << n)
		m->pending |= 1u << n;
	else
		m->ops->fire(m->opaque, n);
	pthread_mutex_unlock(&m->lock);
	return err;
}

bool msi_enabled(struct msi *m)
{
	bool on;

	pthread_mutex_lock(&m->lock);
	on = m->enabled;
	pthread_mutex_unlock(&m->lock);
	return on;
}
