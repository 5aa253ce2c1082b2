/*
 * sluice: MSI-X emulation (vmm/msix.h). Message Control lives in cfg[],
 * written by the PCI core through wmask; the table and PBA live here.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/log.h"
#include "vmm/msix.h"

#define MSIX_CTRL_RW	(PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL)

static const char *dev_label(const struct pci_dev *dev)
{
	return dev->bdf[0] ? dev->bdf : dev->name;
}


static uint64_t table_size(const struct msix_layout *l)
{
	return (uint64_t)l->nr_vectors * PCI_MSIX_ENTRY_SIZE;
}

/* §6.8.2.10: the PBA is made of QWORDs, one bit per vector. */
static uint64_t pba_size(const struct msix_layout *l)
{
	return (l->nr_vectors + 63u) / 64 * 8;
}


/* ---- Layout checks ---- */

/* §6.8.2.4: the BIR names a memory BAR, the lower half of a 64-bit one. */
static int check_bar(const struct pci_dev *dev, const char *what, unsigned bir, uint64_t off,
		     uint64_t size)
{
	const struct pci_bar *b = bir < PCI_STD_NUM_BARS ? &dev->bar[bir] : NULL;

	if (!b || (bir > 0 && dev->bar[bir - 1].type == PCI_BAR_MEM64) || b->type == PCI_BAR_IO) {
		pr_err("%s: MSI-X %s BIR %u is not a memory BAR", dev_label(dev), what, bir);
		return -EINVAL;
	}
	if (off & 7) {
		pr_err("%s: MSI-X %s offset 0x%" PRIx64 " in BAR%u is not QWORD aligned",
		       dev_label(dev), what, off, bir);
		return -EINVAL;
	}
	/* Both callers describe their BARs first: a table in no BAR is unreachable. */
	if (b->type == PCI_BAR_NONE) {
		pr_err("%s: MSI-X %s BIR %u names a BAR the device does not have", dev_label(dev),
		       what, bir);
		return -EINVAL;
	}
	if (size > b->size || off > b->size - size) {
		pr_err("%s: MSI-X %s at BAR%u 0x%" PRIx64 "-0x%" PRIx64 " does not fit the "
		       "0x%" PRIx64 "-byte BAR; grow the BAR or move the %s",
		       dev_label(dev), what, bir, off, off + size - 1, b->size, what);
		return -EINVAL;
	}
	return 0;
}

static int check_layout(const struct pci_dev *dev, const struct msix_layout *l)
{
	uint64_t t = l->table_offset, p = l->pba_offset;
	int err;

	if (l->nr_vectors < 1 || l->nr_vectors > MSIX_MAX_VECTORS) {
		pr_err("%s: %u MSI-X vectors: a table holds 1-%u", dev_label(dev), l->nr_vectors,
		       MSIX_MAX_VECTORS);
		return -EINVAL;
	}
	err = check_bar(dev, "table", l->table_bar, t, table_size(l));
	if (!err)
		err = check_bar(dev, "PBA", l->pba_bar, p, pba_size(l));
	if (err)
		return err;
	/* §6.8.2: they may share a page but must not overlap. */
	if (l->table_bar == l->pba_bar && t < p + pba_size(l) && p < t + table_size(l)) {
		pr_err("%s: MSI-X table (BAR%u 0x%" PRIx64 "-0x%" PRIx64 ") overlaps the PBA "
		       "(0x%" PRIx64 "-0x%" PRIx64 "); move one", dev_label(dev), l->table_bar,
		       t, t + table_size(l) - 1, p, p + pba_size(l) - 1);
		return -EINVAL;
	}
	return 0;
}

/* ---- Setup and teardown ---- */

/* Only Enable and Function Mask are writable (§6.8.2.3); the rest is RO. */
static void set_wmask(struct msix *m)
{
	struct pci_dev *dev = m->dev;

	memset(&dev->wmask[m->cap + PCI_MSIX_FLAGS], 0, PCI_CAP_MSIX_SIZEOF - PCI_MSIX_FLAGS);
	memset(&dev->w1cmask[m->cap + PCI_MSIX_FLAGS], 0, PCI_CAP_MSIX_SIZEOF - PCI_MSIX_FLAGS);
	pci_put16(&dev->wmask[m->cap + PCI_MSIX_FLAGS], MSIX_CTRL_RW);
}

/* Reset values (§6.8.2.3, §6.8.2.9): disabled, every vector masked, nothing pending. */
static void reset_state(struct msix *m)
{
	uint8_t *ctrl = &m->dev->cfg[m->cap + PCI_MSIX_FLAGS];
	unsigned n;

	pci_put16(ctrl, pci_cfg_get16(m->dev, m->cap + PCI_MSIX_FLAGS) & PCI_MSIX_FLAGS_QSIZE);
	m->enabled = false;
	m->function_masked = false;
	for (n = 0; n < m->layout.nr_vectors; n++) {
		struct msix_vector *v = &m->vec[n];

		v->addr_lo = v->addr_hi = v->data = 0;
		v->ctrl = PCI_MSIX_ENTRY_CTRL_MASKBIT;
	}
	memset(m->pba, 0, pba_size(&m->layout));
}

static int setup(struct msix *m, struct pci_dev *dev, uint16_t cap, const struct msix_layout *l,
		 const struct msi_ops *ops, void *opaque)
{
	int err;

	memset(m, 0, sizeof(*m));
	m->dev = dev;
	m->ops = ops;
	m->opaque = opaque;
	m->layout = *l;
	m->cap = cap;
	m->vec = calloc(l->nr_vectors, sizeof(*m->vec));
	m->pba = calloc(1, pba_size(l));
	if (!m->vec || !m->pba) {
		err = -ENOMEM;
		goto err_free;
	}
	err = -pthread_mutex_init(&m->lock, NULL);
	if (err)
		goto err_free;
	set_wmask(m);
	reset_state(m);
	return 0;

err_free:
	free(m->pba);
	free(m->vec);
	memset(m, 0, sizeof(*m));
	return err;
}

static bool ops_ok(const struct pci_dev *dev, const struct msi_ops *ops)
{
	if (ops && ops->update && ops->fire)
		return true;
	pr_err("%s: MSI-X needs both the update and fire callbacks", dev_label(dev));
	return false;
}

int msix_init(struct msix *m, struct pci_dev *dev, const struct msix_layout *l,
	      const struct msi_ops *ops, void *opaque)
{
	int cap, err;

	if (!ops_ok(dev, ops))
		return -EINVAL;
	err = check_layout(dev, l);
	if (err)
		return err;
	cap = pci_dev_add_cap(dev, PCI_CAP_ID_MSIX, PCI_CAP_MSIX_SIZEOF);
	if (cap < 0) {
		pr_err("%s: no room for an MSI-X capability in config space", dev_label(dev));
		return cap;
	}
	/* §6.8.2.3-5: Table Size is N - 1; offsets and BIRs share a DWORD. */
	pci_put16(&dev->cfg[cap + PCI_MSIX_FLAGS], (uint16_t)(l->nr_vectors - 1));
	pci_put32(&dev->cfg[cap + PCI_MSIX_TABLE], l->table_offset | l->table_bar);
	pci_put32(&dev->cfg[cap + PCI_MSIX_PBA], l->pba_offset | l->pba_bar);
	return setup(m, dev, (uint16_t)cap, l, ops, opaque);
}

int msix_init_existing(struct msix *m, struct pci_dev *dev, uint16_t cap,
		       const struct msi_ops *ops, void *opaque)
{
	struct msix_layout l;
	uint32_t table, pba;
	int err;

	if (cap < PCI_STD_HEADER_SIZEOF || cap > PCI_CFG_SPACE_SIZE - PCI_CAP_MSIX_SIZEOF ||
	    (cap & 3) || dev->cfg[cap + PCI_CAP_LIST_ID] != PCI_CAP_ID_MSIX) {
		pr_err("%s: no MSI-X capability at config offset 0x%x", dev_label(dev), cap);
		return -EINVAL;
	}
	if (!ops_ok(dev, ops))
		return -EINVAL;
	table = pci_cfg_get32(dev, cap + PCI_MSIX_TABLE);
	pba = pci_cfg_get32(dev, cap + PCI_MSIX_PBA);
	l = (struct msix_layout){
		.nr_vectors = (pci_cfg_get16(dev, cap + PCI_MSIX_FLAGS) & PCI_MSIX_FLAGS_QSIZE) + 1u,
		.table_bar = table & PCI_MSIX_TABLE_BIR,
		.table_offset = table & PCI_MSIX_TABLE_OFFSET,
		.pba_bar = pba & PCI_MSIX_PBA_BIR,
		.pba_offset = pba & PCI_MSIX_PBA_OFFSET,
	};
	err = check_layout(dev, &l);
	if (err)
		return err;
	return setup(m, dev, cap, &l, ops, opaque);
}

void msix_exit(struct msix *m)
{
	pthread_mutex_destroy(&m->lock);
	free(m->pba);
	free(m->vec);
	memset(m, 0, sizeof(*m));
}

/* ---- Effective state ---- */

static bool pending(const struct msix *m, unsigned n)
{
	return m->pba[n / 64] >> (n % 64) & 1;
}

static bool effective(const struct msix *m, unsigned n)
{
	return m->enabled && !m->function_masked &&
	       !(m->vec[n].ctrl & PCI_MSIX_ENTRY_CTRL_MASKBIT);
}

/* Report vector @n's effective state if it changed; deliver a pending message. */
static void sync_vector(struct msix *m, unsigned n)
{
	struct msix_vector *v = &m->vec[n];
	struct msi_route *r = &v->route;
	uint64_t addr = (uint64_t)v->addr_hi << 32 | v->addr_lo;
	bool on = effective(m, n);

	if (on && (!r->on || r->addr != addr || r->data != v->data)) {
		*r = (struct msi_route){ .on = true, .addr = addr, .data = v->data };
		m->ops->update(m->opaque, n, addr, v->data, true);
	} else if (!on && r->on) {
		r->on = false;
		m->ops->update(m->opaque, n, r->addr, r->data, false);
	}
	/* §6.8.2.9: unmasked with its Pending bit set, the function sends the message. */
	if (on && pending(m, n)) {
		m->pba[n / 64] &= ~(1ull << (n % 64));
		m->ops->fire(m->opaque, n);
	}
}

static void flush(struct msix *m)
{
	if (m->ops->flush)
		m->ops->flush(m->opaque);
}

static void sync_all(struct msix *m)
{
	unsigned n;

	for (n = 0; n < m->layout.nr_vectors; n++)
		sync_vector(m, n);
}

void msix_reset(struct msix *m)
{
	pthread_mutex_lock(&m->lock);
	reset_state(m);
	sync_all(m);
	flush(m);
	pthread_mutex_unlock(&m->lock);
}

void msix_cfg_written(struct msix *m, uint32_t off, uint32_t len)
{
	uint16_t ctrl;

	if (!pci_cfg_touches(off, len, m->cap + PCI_MSIX_FLAGS, m->cap + PCI_MSIX_FLAGS + 2))
		return;
	ctrl = pci_cfg_get16(m->dev, m->cap + PCI_MSIX_FLAGS);
	pthread_mutex_lock(&m->lock);
	m->enabled = ctrl & PCI_MSIX_FLAGS_ENABLE;
	m->function_masked = ctrl & PCI_MSIX_FLAGS_MASKALL;
	sync_all(m);
	flush(m);
	pthread_mutex_unlock(&m->lock);
}

/* ---- Table and PBA ---- */

/* §6.8.2: aligned DWORD or QWORD accesses inside the structure, nothing else. */
static bool well_formed(uint64_t off, uint32_t len, uint64_t size)
{
	return (len == 4 || len == 8) && !(off & (len - 1)) && off < size && len <= size - off;
}

static uint32_t entry_read(const struct msix_vector *v, unsigned field)
{
	switch (field) {
	case PCI_MSIX_ENTRY_LOWER_ADDR:
		return v->addr_lo;
	case PCI_MSIX_ENTRY_UPPER_ADDR:
		return v->addr_hi;
	case PCI_MSIX_ENTRY_DATA:
		return v->data;
	default:
		return v->ctrl;
	}
}

/* §6.8.2.6: address bits 1:0 are 0; §6.8.2.9: Vector Control bits 31:1 reserved. */
static void entry_write(struct msix_vector *v, unsigned field, uint32_t val)
{
	switch (field) {
	case PCI_MSIX_ENTRY_LOWER_ADDR:
		v->addr_lo = val & ~3u;
		break;
	case PCI_MSIX_ENTRY_UPPER_ADDR:
		v->addr_hi = val;
		break;
	case PCI_MSIX_ENTRY_DATA:
		v->data = val;
		break;
	default:
		v->ctrl = val & PCI_MSIX_ENTRY_CTRL_MASKBIT;
	}
}

void msix_table_access(struct msix *m, uint64_t offset, uint8_t *data, uint32_t len,
		       bool is_write)
{
	unsigned n = (unsigned)(offset / PCI_MSIX_ENTRY_SIZE);
	uint32_t i;

	if (!well_formed(offset, len, table_size(&m->layout))) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(&m->lock);
	/* An aligned QWORD stays within one entry: apply both halves, then report once. */
	for (i = 0; i < len; i += 4) {
		unsigned field = (unsigned)(offset + i) % PCI_MSIX_ENTRY_SIZE;

		if (is_write)
			entry_write(&m->vec[n], field, pci_get32(data + i));
		else
			pci_put32(data + i, entry_read(&m->vec[n], field));
	}
	if (is_write) {
		sync_vector(m, n);
		flush(m);
	}
	pthread_mutex_unlock(&m->lock);
}

void msix_pba_access(struct msix *m, uint64_t offset, uint8_t *data, uint32_t len,
		     bool is_write)
{
	uint64_t q;

	if (is_write)
		return;
	if (!well_formed(offset, len, pba_size(&m->layout))) {
		memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(&m->lock);
	q = m->pba[offset / 8] >> (offset & 4) * 8;
	pthread_mutex_unlock(&m->lock);
	pci_put32(data, (uint32_t)q);
	if (len == 8)
		pci_put32(data + 4, (uint32_t)(q >> 32));
}

bool msix_bar_access(struct msix *m, int bar, uint64_t offset, uint8_t *data, uint32_t len,
		     bool is_write)
{
	const struct msix_layout *l = &m->layout;

	if (bar == l->table_bar && offset >= l->table_offset &&
	    offset - l->table_offset < table_size(l)) {
		msix_table_access(m, offset - l->table_offset, data, len, is_write);
		return true;
	}
	if (bar == l->pba_bar && offset >= l->pba_offset && offset - l->pba_offset < pba_size(l)) {
		msix_pba_access(m, offset - l->pba_offset, data, len, is_write);
		return true;
	}
	return false;
}

/* ---- The device side ---- */

int msix_signal(struct msix *m, unsigned n)
{
	int err = 0;

	if (n >= m->layout.nr_vectors)
		return -EINVAL;
	pthread_mutex_lock(&m->lock);
	if (!m->enabled)
		err = -EAGAIN;
	else if (effective(m, n))
		m->ops->fire(m->opaque, n);
	else
		m->pba[n / 64] |= 1ull << (n % 64);
	pthread_mutex_unlock(&m->lock);
	return err;
}

bool msix_enabled(struct msix *m)
{
	bool on;

	pthread_mutex_lock(&m->lock);
	on = m->enabled;
	pthread_mutex_unlock(&m->lock);
	return on;
}

static struct msix_pages pages(int bar, uint64_t off, uint64_t size)
{
	return (struct msix_pages){
		.bar = bar,
		.start = off & ~(uint64_t)(MSIX_PAGE_SIZE - 1),
		.end = (off + size + MSIX_PAGE_SIZE - 1) & ~(uint64_t)(MSIX_PAGE_SIZE - 1),
	};
}

struct msix_pages msix_table_pages(const struct msix *m)
{
	return pages(m->layout.table_bar, m->layout.table_offset, table_size(&m->layout));
}

struct msix_pages msix_pba_pages(const struct msix *m)
{
	return pages(m->layout.pba_bar, m->layout.pba_offset, pba_size(&m->layout));
}
