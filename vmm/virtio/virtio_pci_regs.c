/* sluice: virtio-pci modern register model (virtio 1.2 §4.1.4), pure. */
#include <errno.h>
#include <string.h>

#include "vmm/virtio/virtio_pci_regs.h"

/* One field of struct virtio_pci_common_cfg; the 64-bit queue addresses are one field each. */
struct field {
	uint8_t off, size;
};

static const struct field fields[] = {
	{ VIRTIO_PCI_COMMON_DFSELECT, 4 }, { VIRTIO_PCI_COMMON_DF, 4 },
	{ VIRTIO_PCI_COMMON_GFSELECT, 4 }, { VIRTIO_PCI_COMMON_GF, 4 },
	{ VIRTIO_PCI_COMMON_MSIX, 2 }, { VIRTIO_PCI_COMMON_NUMQ, 2 },
	{ VIRTIO_PCI_COMMON_STATUS, 1 }, { VIRTIO_PCI_COMMON_CFGGENERATION, 1 },
	{ VIRTIO_PCI_COMMON_Q_SELECT, 2 }, { VIRTIO_PCI_COMMON_Q_SIZE, 2 },
	{ VIRTIO_PCI_COMMON_Q_MSIX, 2 }, { VIRTIO_PCI_COMMON_Q_ENABLE, 2 },
	{ VIRTIO_PCI_COMMON_Q_NOFF, 2 }, { VIRTIO_PCI_COMMON_Q_DESCLO, 8 },
	{ VIRTIO_PCI_COMMON_Q_AVAILLO, 8 }, { VIRTIO_PCI_COMMON_Q_USEDLO, 8 },
	{ VIRTIO_PCI_COMMON_Q_NDATA, 2 }, { VIRTIO_PCI_COMMON_Q_RESET, 2 },
};
_Static_assert(VIRTIO_PCI_COMMON_Q_RESET + 2 == VPCI_COMMON_SIZE, "common cfg size");

static const struct field *field_at(uint32_t off)
{
	unsigned i;

	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (off >= fields[i].off && off < (uint32_t)fields[i].off + fields[i].size)
			return &fields[i];
	return NULL;
}

static bool vector_ok(const struct vpci_regs *r, uint16_t v)
{
	return v == VPCI_NO_VECTOR || v < r->nr_vectors;
}

void vpci_regs_reset(struct vpci_regs *r)
{
	unsigned i;

	r->device_feature_select = r->driver_feature_select = 0;
	r->driver_features = 0;
	r->msix_config = VPCI_NO_VECTOR;
	r->status = 0;
	r->queue_select = 0;
	for (i = 0; i < VPCI_MAX_QUEUES; i++)
		r->q[i] = (struct vpci_queue_regs){
			.size = i < r->nr_queues ? r->max_queue_size : 0,
			.msix_vector = VPCI_NO_VECTOR,
		};
}

int vpci_regs_init(struct vpci_regs *r, uint64_t features, unsigned nr_queues,
		   uint16_t max_queue_size, unsigned nr_vectors)
{
	memset(r, 0, sizeof(*r));
	if (!nr_queues || nr_queues > VPCI_MAX_QUEUES)
		return -EINVAL;
	r->device_features = features;
	r->nr_queues = (uint16_t)nr_queues;
	r->max_queue_size = max_queue_size;
	r->nr_vectors = nr_vectors;
	vpci_regs_reset(r);
	return 0;
}

/* The selected queue, or NULL when queue_select names none (its fields read 0). */
static const struct vpci_queue_regs *sel(const struct vpci_regs *r)
{
	return r->queue_select < r->nr_queues ? &r->q[r->queue_select] : NULL;
}

static uint64_t field_get(const struct vpci_regs *r, unsigned off)
{
	const struct vpci_queue_regs *q = sel(r);

	switch (off) {
	case VIRTIO_PCI_COMMON_DFSELECT: return r->device_feature_select;
	case VIRTIO_PCI_COMMON_DF:
		/* §4.1.4.3: a 32-bit window selected by device_feature_select. */
		return r->device_feature_select < 2 ?
		       (uint32_t)(r->device_features >> (32 * r->device_feature_select)) : 0;
	case VIRTIO_PCI_COMMON_GFSELECT: return r->driver_feature_select;
	case VIRTIO_PCI_COMMON_GF:
		return r->driver_feature_select < 2 ?
		       (uint32_t)(r->driver_features >> (32 * r->driver_feature_select)) : 0;
	case VIRTIO_PCI_COMMON_MSIX: return r->msix_config;
	case VIRTIO_PCI_COMMON_NUMQ: return r->nr_queues;
	case VIRTIO_PCI_COMMON_STATUS: return r->status;
	case VIRTIO_PCI_COMMON_CFGGENERATION: return r->config_generation;
	case VIRTIO_PCI_COMMON_Q_SELECT: return r->queue_select;
	}
	if (!q)
		return 0;
	switch (off) {
	case VIRTIO_PCI_COMMON_Q_SIZE: return q->size;
	case VIRTIO_PCI_COMMON_Q_MSIX: return q->msix_vector;
	case VIRTIO_PCI_COMMON_Q_ENABLE: return q->enabled;
	case VIRTIO_PCI_COMMON_Q_NOFF: return r->queue_select;	/* doorbell q at 4 * q */
	case VIRTIO_PCI_COMMON_Q_DESCLO: return q->desc;
	case VIRTIO_PCI_COMMON_Q_AVAILLO: return q->driver;
	case VIRTIO_PCI_COMMON_Q_USEDLO: return q->device;
	default: return 0;	/* queue_notify_data, queue_reset: features not offered */
	}
}

void vpci_common_read(const struct vpci_regs *r, uint32_t off, uint8_t *data, uint32_t len)
{
	uint32_t i, b;

	for (i = 0; i < len; i++) {
		const struct field *f;

		b = off + i;
		f = b < VPCI_COMMON_SIZE ? field_at(b) : NULL;
		data[i] = f ? (uint8_t)(field_get(r, f->off) >> (8 * (b - f->off))) : 0;
	}
}

/*
 * §3.1.1 step 5: the driver's subset of our features, VERSION_1 among them
 * (§6.1), and a combination the device type allows (e.g. §5.1.3.1).
 */
static bool features_acceptable(const struct vpci_regs *r)
{
	return !(r->driver_features & ~r->device_features) &&
	       (r->driver_features & (1ull << VIRTIO_F_VERSION_1)) &&
	       (!r->features_ok || r->features_ok(r->driver_features));
}

/*
 * §2.1: the driver only ever adds bits, except by writing 0 (reset).
 * FEATURES_OK sticks only when we accept the features (§2.2.2); DRIVER_OK
 * needs FEATURES_OK first (§3.1.1). NEEDS_RESET is the device's bit.
 */
static enum vpci_event write_status(struct vpci_regs *r, uint8_t val)
{
	uint8_t old = r->status, now;
	enum vpci_event ev = VPCI_EV_NONE;

	if (!val) {
		vpci_regs_reset(r);
		return VPCI_EV_RESET;
	}
	now = (uint8_t)((old | val) & ~VIRTIO_CONFIG_S_NEEDS_RESET);
	now |= old & VIRTIO_CONFIG_S_NEEDS_RESET;
	if ((now & ~old) & VIRTIO_CONFIG_S_FEATURES_OK) {
		if (features_acceptable(r))
			ev = VPCI_EV_FEATURES_OK;
		else
			now &= (uint8_t)~VIRTIO_CONFIG_S_FEATURES_OK;
	}
	if ((now & ~old) & VIRTIO_CONFIG_S_DRIVER_OK) {
		if (now & VIRTIO_CONFIG_S_FEATURES_OK)
			ev = VPCI_EV_DRIVER_OK;
		else
			now &= (uint8_t)~VIRTIO_CONFIG_S_DRIVER_OK;
	}
	r->status = now;
	return ev;
}

static void write_driver_features(struct vpci_regs *r, uint32_t val)
{
	unsigned shift = 32 * r->driver_feature_select;

	/* §2.2.2: no feature changes once FEATURES_OK is set. */
	if (r->driver_feature_select >= 2 || (r->status & VIRTIO_CONFIG_S_FEATURES_OK))
		return;
	r->driver_features = (r->driver_features & ~(0xffffffffull << shift)) | (uint64_t)val << shift;
}

static enum vpci_event write_queue(struct vpci_regs *r, unsigned off, uint64_t val, unsigned *qi)
{
	struct vpci_queue_regs *q = r->queue_select < r->nr_queues ? &r->q[r->queue_select] : NULL;

	*qi = r->queue_select;
	if (!q)
		return VPCI_EV_NONE;
	if (off == VIRTIO_PCI_COMMON_Q_MSIX) {
		/* §4.1.5.1.2: an unmappable vector reads back as NO_VECTOR. */
		q->msix_vector = vector_ok(r, (uint16_t)val) ? (uint16_t)val : VPCI_NO_VECTOR;
		return VPCI_EV_QUEUE_VECTOR;
	}
	if (off == VIRTIO_PCI_COMMON_Q_ENABLE) {
		/*
		 * §4.1.4.3.2: only 1 may be written; the rings need the negotiated
		 * ring features, so FEATURES_OK comes first (§3.1.1 step 7); and
		 * the driver enables queues before DRIVER_OK unless it took
		 * VIRTIO_F_RING_RESET (which a started backend, vhost, would miss).
		 */
		if (val != 1 || q->enabled || !(r->status & VIRTIO_CONFIG_S_FEATURES_OK) ||
		    (r->status & VIRTIO_CONFIG_S_NEEDS_RESET) ||
		    ((r->status & VIRTIO_CONFIG_S_DRIVER_OK) &&
		     !(r->driver_features & (1ull << VIRTIO_F_RING_RESET))))
			return VPCI_EV_NONE;
		q->enabled = true;
		return VPCI_EV_QUEUE_ENABLE;
	}
	/* §4.1.4.3.2: the driver configures a queue before enabling it; later writes are ignored. */
	if (q->enabled)
		return VPCI_EV_NONE;
	switch (off) {
	case VIRTIO_PCI_COMMON_Q_SIZE: q->size = (uint16_t)val; break;
	case VIRTIO_PCI_COMMON_Q_DESCLO: q->desc = val; break;
	case VIRTIO_PCI_COMMON_Q_AVAILLO: q->driver = val; break;
	case VIRTIO_PCI_COMMON_Q_USEDLO: q->device = val; break;
	}
	return VPCI_EV_NONE;
}

static enum vpci_event field_set(struct vpci_regs *r, unsigned off, uint64_t val, unsigned *q)
{
	switch (off) {
	case VIRTIO_PCI_COMMON_DFSELECT:
		r->device_feature_select = (uint32_t)val;
		return VPCI_EV_NONE;
	case VIRTIO_PCI_COMMON_GFSELECT:
		r->driver_feature_select = (uint32_t)val;
		return VPCI_EV_NONE;
	case VIRTIO_PCI_COMMON_GF:
		write_driver_features(r, (uint32_t)val);
		return VPCI_EV_NONE;
	case VIRTIO_PCI_COMMON_MSIX:
		r->msix_config = vector_ok(r, (uint16_t)val) ? (uint16_t)val : VPCI_NO_VECTOR;
		return VPCI_EV_CONFIG_VECTOR;
	case VIRTIO_PCI_COMMON_STATUS:
		return write_status(r, (uint8_t)val);
	case VIRTIO_PCI_COMMON_Q_SELECT:
		r->queue_select = (uint16_t)val;
		return VPCI_EV_NONE;
	case VIRTIO_PCI_COMMON_Q_SIZE:
	case VIRTIO_PCI_COMMON_Q_MSIX:
	case VIRTIO_PCI_COMMON_Q_ENABLE:
	case VIRTIO_PCI_COMMON_Q_DESCLO:
	case VIRTIO_PCI_COMMON_Q_AVAILLO:
	case VIRTIO_PCI_COMMON_Q_USEDLO:
		return write_queue(r, off, val, q);
	default:
		return VPCI_EV_NONE;	/* read-only */
	}
}

enum vpci_event vpci_common_write(struct vpci_regs *r, uint32_t off, const uint8_t *data,
				  uint32_t len, unsigned *q)
{
	const struct field *f = off < VPCI_COMMON_SIZE ? field_at(off) : NULL;
	uint64_t val = 0, cur, mask;
	unsigned shift;
	uint32_t i;

	*q = 0;
	if (!f || !len || len > 8 || off + len > (uint32_t)f->off + f->size)
		return VPCI_EV_NONE;
	for (i = 0; i < len; i++)
		val |= (uint64_t)data[i] << (8 * i);
	/* A part of a field (a 32-bit half of a 64-bit address) merges into the rest. */
	if (len < f->size) {
		shift = 8 * (off - f->off);
		mask = ((1ull << (8 * len)) - 1) << shift;
		cur = field_get(r, f->off);
		val = (cur & ~mask) | (val << shift);
	}
	return field_set(r, f->off, val, q);
}

void vpci_queue_refuse(struct vpci_regs *r, unsigned q)
{
	if (q < r->nr_queues)
		r->q[q].enabled = false;
}

/* ---- Capabilities (§4.1.4) ---- */

static int add_vendor_cap(struct pci_dev *dev, uint8_t type, uint8_t bar, uint32_t offset,
			  uint32_t length, uint8_t cap_len)
{
	int at = pci_dev_add_cap(dev, PCI_CAP_ID_VNDR, cap_len);
	uint8_t *c;

	if (at < 0)
		return at;
	c = &dev->cfg[at];
	c[VIRTIO_PCI_CAP_LEN] = cap_len;
	c[VIRTIO_PCI_CAP_CFG_TYPE] = type;
	c[VIRTIO_PCI_CAP_BAR] = bar;
	pci_put32(c + VIRTIO_PCI_CAP_OFFSET, offset);
	pci_put32(c + VIRTIO_PCI_CAP_LENGTH, length);
	return at;
}

int vpci_add_caps(struct pci_dev *dev, unsigned nr_queues, uint32_t device_cfg_len)
{
	const uint8_t cfg_len = sizeof(struct virtio_pci_cfg_cap);
	int at;

	if (device_cfg_len > VPCI_REGION_SIZE)
		return -EINVAL;
	if ((at = add_vendor_cap(dev, VIRTIO_PCI_CAP_COMMON_CFG, VPCI_BAR, VPCI_COMMON_OFF,
				 VPCI_COMMON_SIZE, sizeof(struct virtio_pci_cap))) < 0 ||
	    (at = add_vendor_cap(dev, VIRTIO_PCI_CAP_NOTIFY_CFG, VPCI_BAR, VPCI_NOTIFY_OFF,
				 nr_queues * VPCI_NOTIFY_MULT, sizeof(struct virtio_pci_notify_cap))) < 0)
		return at;
	pci_put32(&dev->cfg[at + VIRTIO_PCI_NOTIFY_CAP_MULT], VPCI_NOTIFY_MULT);
	if ((at = add_vendor_cap(dev, VIRTIO_PCI_CAP_ISR_CFG, VPCI_BAR, VPCI_ISR_OFF, 1,
				 sizeof(struct virtio_pci_cap))) < 0)
		return at;
	if (device_cfg_len &&
	    (at = add_vendor_cap(dev, VIRTIO_PCI_CAP_DEVICE_CFG, VPCI_BAR, VPCI_DEVICE_OFF,
				 device_cfg_len, sizeof(struct virtio_pci_cap))) < 0)
		return at;
	/*
	 * §4.1.4.9: the device MUST present a PCI configuration access
	 * capability; its bar, offset, length and data are the driver's.
	 */
	at = add_vendor_cap(dev, VIRTIO_PCI_CAP_PCI_CFG, 0, 0, 0, cfg_len);
	if (at < 0)
		return at;
	dev->wmask[at + VIRTIO_PCI_CAP_BAR] = 0xff;
	memset(&dev->wmask[at + VIRTIO_PCI_CAP_OFFSET], 0xff, cfg_len - VIRTIO_PCI_CAP_OFFSET);
	return at;
}
