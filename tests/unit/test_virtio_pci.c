/* cmocka: the virtio-pci modern register model (vmm/virtio_pci_regs.c) on plain structs. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "vmm/virtio/virtio_pci_regs.h"

#define FEATURES	((1ull << VIRTIO_F_VERSION_1) | (1ull << 5) | (1ull << 28) | (1ull << 29))
#define NQ		2
#define QMAX		256
#define NVEC		3

static struct vpci_regs R;
static unsigned Q;

static int setup(void **state)
{
	(void)state;
	vpci_regs_init(&R, FEATURES, NQ, QMAX, NVEC);
	return 0;
}

static uint64_t rd(uint32_t off, uint32_t len)
{
	uint8_t b[8] = { 0 };
	uint64_t v = 0;
	uint32_t i;

	vpci_common_read(&R, off, b, len);
	for (i = 0; i < len; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

static enum vpci_event wr(uint32_t off, uint32_t len, uint64_t v)
{
	uint8_t b[8];
	uint32_t i;

	for (i = 0; i < len; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	return vpci_common_write(&R, off, b, len, &Q);
}

static void set_status(uint8_t s)
{
	wr(VIRTIO_PCI_COMMON_STATUS, 1, s);
}

/* The driver's side of §3.1.1 up to FEATURES_OK, accepting @f. */
static void negotiate(uint64_t f)
{
	set_status(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	wr(VIRTIO_PCI_COMMON_GFSELECT, 4, 0);
	wr(VIRTIO_PCI_COMMON_GF, 4, (uint32_t)f);
	wr(VIRTIO_PCI_COMMON_GFSELECT, 4, 1);
	wr(VIRTIO_PCI_COMMON_GF, 4, (uint32_t)(f >> 32));
	set_status(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK);
}

static void device_feature_windows(void **state)
{
	(void)state;
	assert_int_equal(rd(VIRTIO_PCI_COMMON_DF, 4), (uint32_t)FEATURES);
	wr(VIRTIO_PCI_COMMON_DFSELECT, 4, 1);
	assert_int_equal(rd(VIRTIO_PCI_COMMON_DFSELECT, 4), 1);
	assert_int_equal(rd(VIRTIO_PCI_COMMON_DF, 4), FEATURES >> 32);
	wr(VIRTIO_PCI_COMMON_DFSELECT, 4, 2);
	assert_int_equal(rd(VIRTIO_PCI_COMMON_DF, 4), 0);
	wr(VIRTIO_PCI_COMMON_DF, 4, 0xffffffff);	/* read-only */
	wr(VIRTIO_PCI_COMMON_DFSELECT, 4, 0);
	assert_int_equal(rd(VIRTIO_PCI_COMMON_DF, 4), (uint32_t)FEATURES);
}

static void driver_feature_windows(void **state)
{
	(void)state;
	wr(VIRTIO_PCI_COMMON_GF, 4, 0x30000020);
	wr(VIRTIO_PCI_COMMON_GFSELECT, 4, 1);
	wr(VIRTIO_PCI_COMMON_GF, 4, 1);
	wr(VIRTIO_PCI_COMMON_GFSELECT, 4, 7);		/* no such window: ignored */
	wr(VIRTIO_PCI_COMMON_GF, 4, 0xffffffff);
	assert_int_equal(rd(VIRTIO_PCI_COMMON_GF, 4), 0);
	assert_int_equal(R.driver_features, 0x130000020ull);
	wr(VIRTIO_PCI_COMMON_GFSELECT, 4, 0);
	assert_int_equal(rd(VIRTIO_PCI_COMMON_GF, 4), 0x30000020);
}

static void features_ok_accepted(void **state)
{
	(void)state;
	negotiate(FEATURES);
	assert_int_equal(rd(VIRTIO_PCI_COMMON_STATUS, 1), 0x0b);
	/* §2.2.2: no changes once FEATURES_OK is set. */
	wr(VIRTIO_PCI_COMMON_GFSELECT, 4, 0);
	wr(VIRTIO_PCI_COMMON_GF, 4, 0);
	assert_int_equal(R.driver_features, FEATURES);
}

static void features_ok_event(void **state)
{
	(void)state;
	set_status(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	wr(VIRTIO_PCI_COMMON_GFSELECT, 4, 1);
	wr(VIRTIO_PCI_COMMON_GF, 4, 1);
	assert_int_equal(wr(VIRTIO_PCI_COMMON_STATUS, 1, 0x0b), VPCI_EV_FEATURES_OK);
}

static void features_ok_refused_without_version_1(void **state)
{
	(void)state;
	negotiate(1ull << 5);
	assert_int_equal(rd(VIRTIO_PCI_COMMON_STATUS, 1), 0x03);
}

static void features_ok_refused_for_unoffered_bit(void **state)
{
	(void)state;
	negotiate(FEATURES | (1ull << 33));
	assert_false(rd(VIRTIO_PCI_COMMON_STATUS, 1) & VIRTIO_CONFIG_S_FEATURES_OK);
}

static void driver_ok_needs_features_ok(void **state)
{
	(void)state;
	assert_int_equal(wr(VIRTIO_PCI_COMMON_STATUS, 1, 0x07), VPCI_EV_NONE);
	assert_int_equal(rd(VIRTIO_PCI_COMMON_STATUS, 1), 0x03);
	negotiate(FEATURES);
	assert_int_equal(wr(VIRTIO_PCI_COMMON_STATUS, 1, 0x0f), VPCI_EV_DRIVER_OK);
	assert_true(rd(VIRTIO_PCI_COMMON_STATUS, 1) & VIRTIO_CONFIG_S_DRIVER_OK);
	/* Once: writing it again is no new event. */
	assert_int_equal(wr(VIRTIO_PCI_COMMON_STATUS, 1, 0x0f), VPCI_EV_NONE);
}

static void status_bits_never_clear(void **state)
{
	(void)state;
	negotiate(FEATURES);
	wr(VIRTIO_PCI_COMMON_STATUS, 1, 0x0f);
	wr(VIRTIO_PCI_COMMON_STATUS, 1, VIRTIO_CONFIG_S_FAILED);
	assert_int_equal(rd(VIRTIO_PCI_COMMON_STATUS, 1), 0x8f);
}

static void needs_reset_is_the_devices(void **state)
{
	(void)state;
	negotiate(FEATURES);
	wr(VIRTIO_PCI_COMMON_STATUS, 1, 0x0f | VIRTIO_CONFIG_S_NEEDS_RESET);
	assert_int_equal(rd(VIRTIO_PCI_COMMON_STATUS, 1), 0x0f);
	R.status |= VIRTIO_CONFIG_S_NEEDS_RESET;	/* the transport sets it */
	wr(VIRTIO_PCI_COMMON_STATUS, 1, 0x0f);
	assert_int_equal(rd(VIRTIO_PCI_COMMON_STATUS, 1), 0x4f);
	/* A broken device enables no queue until reset. */
	assert_int_equal(wr(VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1), VPCI_EV_NONE);
	assert_int_equal(wr(VIRTIO_PCI_COMMON_STATUS, 1, 0), VPCI_EV_RESET);
	assert_int_equal(rd(VIRTIO_PCI_COMMON_STATUS, 1), 0);
}

static void reset_clears_everything(void **state)
{
	(void)state;
	negotiate(FEATURES);
	wr(VIRTIO_PCI_COMMON_MSIX, 2, 0);
	wr(VIRTIO_PCI_COMMON_Q_SELECT, 2, 1);
	wr(VIRTIO_PCI_COMMON_Q_SIZE, 2, 64);
	wr(VIRTIO_PCI_COMMON_Q_MSIX, 2, 2);
	wr(VIRTIO_PCI_COMMON_Q_DESCLO, 8, 0x1000);
	wr(VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
	wr(VIRTIO_PCI_COMMON_STATUS, 1, 0x0f);
	assert_int_equal(wr(VIRTIO_PCI_COMMON_STATUS, 1, 0), VPCI_EV_RESET);
	assert_int_equal(rd(VIRTIO_PCI_COMMON_STATUS, 1), 0);
	assert_int_equal(R.driver_features, 0);
	assert_int_equal(rd(VIRTIO_PCI_COMMON_MSIX, 2), VPCI_NO_VECTOR);
	assert_int_equal(rd(VIRTIO_PCI_COMMON_Q_SELECT, 2), 0);
	wr(VIRTIO_PCI_COMMON_Q_SELECT, 2, 1);
	assert_int_equal(rd(VIRTIO_PCI_COMMON_Q_SIZE, 2), QMAX);
	assert_int_equal(rd(VIRTIO_PCI_COMMON_Q_MSIX, 2), VPCI_NO_VECTOR);
	assert_int_equal(rd(VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
	assert_int_equal(rd(VIRTIO_PCI_COMMON_Q_DESCLO, 8), 0);
}

static void queue_select_and_fields(void **state)
{
	(void)state;
	assert_int_equal(rd(VIRTIO_PCI_COMMON_NUMQ, 2), NQ);
	wr(VIRTIO_PCI_COMMON_Q_SELECT, 2, 1);
	assert_int_equal(rd(VIRTIO_PCI_COMMON_Q_SIZE, 2), QMAX);
	wr(VIRTIO_PCI_COMMON_Q_SIZE, 2, 128);
	/* 64-bit addresses as 32-bit halves (§4.1.3.1) or whole. */
	wr(VIRTIO_PCI_COMMON_Q_DESCLO, 4, 0x12345000);
	wr(VIRTIO_PCI_COMMON_Q_DESCHI, 4, 0x1);
	wr(VIRTIO_PCI_COMMON_Q_AVAILLO, 8, 0x2000);
	wr(VIRTIO_PCI_COMMON_Q_USEDHI, 4, 0x2);
	wr(VIRTIO_PCI_COMMON_Q_USEDLO, 4, 0x3000);
	assert_int_equal(R.q[1].size, 128);
	assert_int_equal(R.q[1].desc, 0x112345000ull);
	assert_int_equal(R.q[1].driver, 0x2000);
	assert_int_equal(R.q[1].device, 0x200003000ull);
	assert_int_equal(rd(VIRTIO_PCI_COMMON_Q_DESCHI, 4), 1);
	assert_int_equal(R.q[0].size, QMAX);		/* the other queue untouched */
	assert_int_equal(R.q[0].desc, 0);
}

static void queue_select_out_of_range(void **state)
{
	(void)state;
	wr(VIRTIO_PCI_COMMON_Q_SELECT, 2, NQ);
	assert_int_equal(rd(VIRTIO_PCI_COMMON_Q_SELECT, 2), NQ);
	/* §4.1.4.3.1: an absent queue reads size 0. */
	assert_int_equal(rd(VIRTIO_PCI_COMMON_Q_SIZE, 2), 0);
	wr(VIRTIO_PCI_COMMON_Q_SIZE, 2, 16);
	wr(VIRTIO_PCI_COMMON_Q_DESCLO, 8, 0x5000);
	assert_int_equal(rd(VIRTIO_PCI_COMMON_Q_SIZE, 2), 0);
	assert_int_equal(rd(VIRTIO_PCI_COMMON_Q_DESCLO, 8), 0);
	negotiate(FEATURES);
	wr(VIRTIO_PCI_COMMON_Q_SELECT, 2, 0xffff);
	assert_int_equal(wr(VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1), VPCI_EV_NONE);
	assert_int_equal(wr(VIRTIO_PCI_COMMON_Q_MSIX, 2, 0), VPCI_EV_NONE);
}

static void queue_enable_rules(void **state)
{
	(void)state;
	wr(VIRTIO_PCI_COMMON_Q_SELECT, 2, 1);
	/* Before FEATURES_OK the rings' features are unknown: refused. */
	assert_int_equal(wr(VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1), VPCI_EV_NONE);
	negotiate(FEATURES);
	wr(VIRTIO_PCI_COMMON_Q_SELECT, 2, 1);
	assert_int_equal(wr(VIRTIO_PCI_COMMON_Q_ENABLE, 2, 0), VPCI_EV_NONE);
	assert_int_equal(wr(VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1), VPCI_EV_QUEUE_ENABLE);
	assert_int_equal(Q, 1);
	assert_int_equal(rd(VIRTIO_PCI_COMMON_Q_ENABLE, 2), 1);
	assert_int_equal(wr(VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1), VPCI_EV_NONE);
	/* An enabled queue's configuration stays put (§4.1.4.3.2); 0 does not disable. */
	wr(VIRTIO_PCI_COMMON_Q_SIZE, 2, 8);
	wr(VIRTIO_PCI_COMMON_Q_DESCLO, 8, 0x9000);
	wr(VIRTIO_PCI_COMMON_Q_ENABLE, 2, 0);
	assert_int_equal(rd(VIRTIO_PCI_COMMON_Q_SIZE, 2), QMAX);
	assert_int_equal(rd(VIRTIO_PCI_COMMON_Q_DESCLO, 8), 0);
	assert_int_equal(rd(VIRTIO_PCI_COMMON_Q_ENABLE, 2), 1);
	/* The transport can refuse it (bad rings): it reads back 0. */
	vpci_queue_refuse(&R, 1);
	assert_int_equal(rd(VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
}

/* §4.1.4.3.2: queues are enabled before DRIVER_OK; a started backend (vhost) would never see it. */
static void queue_enable_after_driver_ok_refused(void **state)
{
	(void)state;
	negotiate(FEATURES);
	wr(VIRTIO_PCI_COMMON_Q_SELECT, 2, 0);
	assert_int_equal(wr(VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1), VPCI_EV_QUEUE_ENABLE);
	assert_int_equal(wr(VIRTIO_PCI_COMMON_STATUS, 1, 0x0f), VPCI_EV_DRIVER_OK);
	wr(VIRTIO_PCI_COMMON_Q_SELECT, 2, 1);
	assert_int_equal(wr(VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1), VPCI_EV_NONE);
	assert_int_equal(rd(VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
}

static bool no_bit_5_without_28(uint64_t f)
{
	return !(f & (1ull << 5)) || (f & (1ull << 28));
}

/* A device type's dependency rule refuses FEATURES_OK: the bit does not stick, no event. */
static void features_ok_refused_by_device_rule(void **state)
{
	(void)state;
	R.features_ok = no_bit_5_without_28;
	set_status(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	wr(VIRTIO_PCI_COMMON_GFSELECT, 4, 0);
	wr(VIRTIO_PCI_COMMON_GF, 4, 1u << 5);
	wr(VIRTIO_PCI_COMMON_GFSELECT, 4, 1);
	wr(VIRTIO_PCI_COMMON_GF, 4, 1);
	assert_int_equal(wr(VIRTIO_PCI_COMMON_STATUS, 1, 0x0b), VPCI_EV_NONE);
	assert_int_equal(rd(VIRTIO_PCI_COMMON_STATUS, 1), 0x03);
	/* Nor DRIVER_OK after it. */
	assert_int_equal(wr(VIRTIO_PCI_COMMON_STATUS, 1, 0x0f), VPCI_EV_NONE);
	assert_false(rd(VIRTIO_PCI_COMMON_STATUS, 1) & VIRTIO_CONFIG_S_DRIVER_OK);
	/* The whole offer satisfies the rule. */
	wr(VIRTIO_PCI_COMMON_STATUS, 1, 0);
	R.features_ok = no_bit_5_without_28;
	negotiate(FEATURES);
	assert_int_equal(rd(VIRTIO_PCI_COMMON_STATUS, 1), 0x0b);
}

/* The queue-count limit lives in the register model. */
static void queue_count_limit(void **state)
{
	struct vpci_regs r;

	(void)state;
	assert_int_equal(vpci_regs_init(&r, FEATURES, 0, QMAX, NVEC), -EINVAL);
	assert_int_equal(vpci_regs_init(&r, FEATURES, VPCI_MAX_QUEUES + 1, QMAX, NVEC), -EINVAL);
	assert_int_equal(vpci_regs_init(&r, FEATURES, VPCI_MAX_QUEUES, QMAX, NVEC), 0);
	assert_int_equal(r.nr_queues, VPCI_MAX_QUEUES);
}

static void vectors(void **state)
{
	(void)state;
	assert_int_equal(rd(VIRTIO_PCI_COMMON_MSIX, 2), VPCI_NO_VECTOR);
	assert_int_equal(wr(VIRTIO_PCI_COMMON_MSIX, 2, 2), VPCI_EV_CONFIG_VECTOR);
	assert_int_equal(rd(VIRTIO_PCI_COMMON_MSIX, 2), 2);
	/* §4.1.5.1.2: one it cannot map reads back NO_VECTOR. */
	wr(VIRTIO_PCI_COMMON_MSIX, 2, NVEC);
	assert_int_equal(rd(VIRTIO_PCI_COMMON_MSIX, 2), VPCI_NO_VECTOR);
	wr(VIRTIO_PCI_COMMON_Q_SELECT, 2, 1);
	assert_int_equal(wr(VIRTIO_PCI_COMMON_Q_MSIX, 2, 1), VPCI_EV_QUEUE_VECTOR);
	assert_int_equal(Q, 1);
	assert_int_equal(rd(VIRTIO_PCI_COMMON_Q_MSIX, 2), 1);
	wr(VIRTIO_PCI_COMMON_Q_MSIX, 2, 0x7ff);
	assert_int_equal(rd(VIRTIO_PCI_COMMON_Q_MSIX, 2), VPCI_NO_VECTOR);
	wr(VIRTIO_PCI_COMMON_Q_MSIX, 2, VPCI_NO_VECTOR);
	assert_int_equal(rd(VIRTIO_PCI_COMMON_Q_MSIX, 2), VPCI_NO_VECTOR);
}

static void notify_offsets(void **state)
{
	(void)state;
	wr(VIRTIO_PCI_COMMON_Q_SELECT, 2, 0);
	assert_int_equal(rd(VIRTIO_PCI_COMMON_Q_NOFF, 2), 0);
	wr(VIRTIO_PCI_COMMON_Q_SELECT, 2, 1);
	assert_int_equal(rd(VIRTIO_PCI_COMMON_Q_NOFF, 2), 1);
	assert_int_equal(vpci_notify_offset(0), VPCI_NOTIFY_OFF);
	assert_int_equal(vpci_notify_offset(1), VPCI_NOTIFY_OFF + VPCI_NOTIFY_MULT);
	/* Read-only, and the 1.2 fields of features we do not offer read 0. */
	wr(VIRTIO_PCI_COMMON_Q_NOFF, 2, 7);
	assert_int_equal(rd(VIRTIO_PCI_COMMON_Q_NOFF, 2), 1);
	assert_int_equal(rd(VIRTIO_PCI_COMMON_Q_NDATA, 2), 0);
	assert_int_equal(rd(VIRTIO_PCI_COMMON_Q_RESET, 2), 0);
	wr(VIRTIO_PCI_COMMON_NUMQ, 2, 9);
	assert_int_equal(rd(VIRTIO_PCI_COMMON_NUMQ, 2), NQ);
}

static void odd_accesses(void **state)
{
	(void)state;
	/* A read across fields composes their bytes: msix_config | num_queues << 16. */
	wr(VIRTIO_PCI_COMMON_MSIX, 2, 1);
	assert_int_equal(rd(VIRTIO_PCI_COMMON_MSIX, 4), 0x00020001);
	/* A write across fields is dropped. */
	assert_int_equal(wr(VIRTIO_PCI_COMMON_MSIX, 4, 0x00000002), VPCI_EV_NONE);
	assert_int_equal(rd(VIRTIO_PCI_COMMON_MSIX, 2), 1);
	/* Past the structure: reads 0, writes dropped. */
	assert_int_equal(rd(VPCI_COMMON_SIZE, 4), 0);
	assert_int_equal(wr(VPCI_COMMON_SIZE, 4, 0xffffffff), VPCI_EV_NONE);
	/* One byte of a 16-bit field merges with the other. */
	wr(VIRTIO_PCI_COMMON_Q_SIZE, 2, 0x0100);
	wr(VIRTIO_PCI_COMMON_Q_SIZE, 1, 0x40);
	assert_int_equal(rd(VIRTIO_PCI_COMMON_Q_SIZE, 2), 0x0140);
	/* status 0 as part of a wider access to it counts as a reset too. */
	negotiate(FEATURES);
	assert_int_equal(wr(VIRTIO_PCI_COMMON_STATUS, 1, 0), VPCI_EV_RESET);
}

/* ---- capability layout (§4.1.4) ---- */

static const uint8_t *find_cap(const struct pci_dev *dev, uint8_t type)
{
	unsigned off = dev->cfg[PCI_CAPABILITY_LIST], hops = 0;

	while (off && hops++ < 48) {
		if (dev->cfg[off] == PCI_CAP_ID_VNDR && dev->cfg[off + VIRTIO_PCI_CAP_CFG_TYPE] == type)
			return &dev->cfg[off];
		off = dev->cfg[off + PCI_CAP_LIST_NEXT];
	}
	return NULL;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void capability_layout(void **state)
{
	struct pci_dev dev;
	const uint8_t *c;
	int at;

	(void)state;
	pci_dev_init(&dev, "t", NULL, 0x1af4, 0x1041, 0x020000);
	at = vpci_add_caps(&dev, NQ, 8);
	assert_true(at > 0);
	assert_true(dev.cfg[PCI_STATUS] & PCI_STATUS_CAP_LIST);

	c = find_cap(&dev, VIRTIO_PCI_CAP_COMMON_CFG);
	assert_non_null(c);
	assert_int_equal(c[VIRTIO_PCI_CAP_LEN], 16);
	assert_int_equal(c[VIRTIO_PCI_CAP_BAR], VPCI_BAR);
	assert_int_equal(le32(c + VIRTIO_PCI_CAP_OFFSET), VPCI_COMMON_OFF);
	assert_true(le32(c + VIRTIO_PCI_CAP_LENGTH) >= sizeof(struct virtio_pci_common_cfg));

	c = find_cap(&dev, VIRTIO_PCI_CAP_NOTIFY_CFG);
	assert_non_null(c);
	assert_int_equal(c[VIRTIO_PCI_CAP_LEN], 20);
	assert_int_equal(c[VIRTIO_PCI_CAP_BAR], VPCI_BAR);
	assert_int_equal(le32(c + VIRTIO_PCI_CAP_OFFSET), VPCI_NOTIFY_OFF);
	assert_int_equal(le32(c + VIRTIO_PCI_CAP_LENGTH), NQ * VPCI_NOTIFY_MULT);
	assert_int_equal(le32(c + VIRTIO_PCI_NOTIFY_CAP_MULT), VPCI_NOTIFY_MULT);
	/* §4.1.4.4: 2-byte doorbells at multiples of the multiplier. */
	assert_true(VPCI_NOTIFY_MULT % 2 == 0);

	c = find_cap(&dev, VIRTIO_PCI_CAP_ISR_CFG);
	assert_non_null(c);
	assert_int_equal(le32(c + VIRTIO_PCI_CAP_OFFSET), VPCI_ISR_OFF);
	assert_true(le32(c + VIRTIO_PCI_CAP_LENGTH) >= 1);

	c = find_cap(&dev, VIRTIO_PCI_CAP_DEVICE_CFG);
	assert_non_null(c);
	assert_int_equal(le32(c + VIRTIO_PCI_CAP_OFFSET), VPCI_DEVICE_OFF);
	assert_int_equal(le32(c + VIRTIO_PCI_CAP_LENGTH), 8);

	/* §4.1.4.9: the PCI_CFG window, its bar/offset/length/data writable. */
	c = find_cap(&dev, VIRTIO_PCI_CAP_PCI_CFG);
	assert_non_null(c);
	assert_int_equal(c - dev.cfg, at);
	assert_int_equal(c[VIRTIO_PCI_CAP_LEN], 20);
	assert_int_equal(dev.wmask[at + VIRTIO_PCI_CAP_BAR], 0xff);
	assert_int_equal(le32(&dev.wmask[at + VIRTIO_PCI_CAP_OFFSET]), 0xffffffff);
	assert_int_equal(le32(&dev.wmask[at + VIRTIO_PCI_CAP_LENGTH]), 0xffffffff);
	assert_int_equal(le32(&dev.wmask[at + 16]), 0xffffffff);
	assert_int_equal(dev.wmask[at + VIRTIO_PCI_CAP_CFG_TYPE], 0);
	/* Every structure lies inside the BAR. */
	assert_true(VPCI_NOTIFY_OFF + NQ * VPCI_NOTIFY_MULT <= VPCI_BAR_SIZE);
}

static void capability_no_device_cfg(void **state)
{
	struct pci_dev dev;

	(void)state;
	pci_dev_init(&dev, "t", NULL, 0x1af4, 0x1042, 0x010000);
	assert_true(vpci_add_caps(&dev, 1, 0) > 0);
	assert_null(find_cap(&dev, VIRTIO_PCI_CAP_DEVICE_CFG));
	/* The queue-count limit: vpci_regs_init (queue_count_limit); the config size here. */
	pci_dev_init(&dev, "t", NULL, 0x1af4, 0x1042, 0x010000);
	assert_int_equal(vpci_add_caps(&dev, 1, VPCI_REGION_SIZE + 1), -EINVAL);
}

#define T(fn) cmocka_unit_test_setup(fn, setup)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(device_feature_windows), T(driver_feature_windows), T(features_ok_accepted),
		T(features_ok_event), T(features_ok_refused_without_version_1),
		T(features_ok_refused_for_unoffered_bit), T(driver_ok_needs_features_ok),
		T(status_bits_never_clear), T(needs_reset_is_the_devices), T(reset_clears_everything),
		T(queue_select_and_fields), T(queue_select_out_of_range), T(queue_enable_rules),
		T(vectors), T(notify_offsets), T(odd_accesses), T(capability_layout),
		T(capability_no_device_cfg), T(queue_enable_after_driver_ok_refused),
		T(features_ok_refused_by_device_rule), T(queue_count_limit),
	};
	return cmocka_run_group_tests_name("virtio_pci", tests, NULL, NULL);
}
