/*
 * sluice: the register model of the virtio-pci modern transport (virtio 1.2
 * §4.1), pure: the common configuration structure (§4.1.4.3) as plain
 * state, the device status state machine (§2.1, §3.1.1), and the vendor
 * capabilities that tell the driver where each structure lives in the BAR
 * (§4.1.4). vmm/virtio_pci.c wires it to a BAR, ioeventfds and MSI-X; the
 * unit tests drive it on plain structs.
 *
 * What a write asks the transport to do is returned as an event: the model
 * itself never quiesces, enables a queue or routes an interrupt.
 */
#ifndef SLUICE_VIRTIO_PCI_REGS_H
#define SLUICE_VIRTIO_PCI_REGS_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>

#include "vmm/pci.h"

#define VPCI_MAX_QUEUES		4
#define VPCI_NO_VECTOR		VIRTIO_MSI_NO_VECTOR	/* 0xffff (§4.1.4.3) */
#define VPCI_COMMON_SIZE	0x3c	/* through queue_reset (1.2) */

/* The BAR layout: one 64-bit prefetchable BAR of four 4 KiB pages. */
#define VPCI_BAR		4
#define VPCI_BAR_SIZE		0x4000
#define VPCI_COMMON_OFF		0x0000
#define VPCI_ISR_OFF		0x1000
#define VPCI_DEVICE_OFF		0x2000
#define VPCI_NOTIFY_OFF		0x3000
#define VPCI_REGION_SIZE	0x1000
#define VPCI_NOTIFY_MULT	4	/* a queue's doorbell: notify + 4 * queue_notify_off */
/* MSI-X table and PBA in a 32-bit BAR of their own (not prefetchable). */
#define VPCI_MSIX_BAR		1
#define VPCI_MSIX_BAR_SIZE	0x1000
#define VPCI_MSIX_PBA_OFF	0x800

/* ISR status bits (§4.1.4.5) */
#define VPCI_ISR_QUEUE		0x1
#define VPCI_ISR_CONFIG		0x2

struct vpci_queue_regs {
	uint16_t size;			/* driver-chosen, starts at the maximum */
	uint16_t msix_vector;
	bool enabled;
	uint64_t desc, driver, device;	/* descriptor, driver (avail), device (used) areas */
};

struct vpci_regs {
	/* Fixed at init */
	uint64_t device_features;
	uint16_t nr_queues;
	uint16_t max_queue_size;
	unsigned nr_vectors;		/* MSI-X table size */
	/* Optional: the device type's rules on feature combinations (FEATURES_OK refused). */
	bool (*features_ok)(uint64_t driver_features);

	/* Driver-visible state */
	uint32_t device_feature_select, driver_feature_select;
	uint64_t driver_features;
	uint16_t msix_config;
	uint8_t status;
	uint8_t config_generation;
	uint16_t queue_select;
	struct vpci_queue_regs q[VPCI_MAX_QUEUES];
};

/* What a common-config write asks of the transport. */
enum vpci_event {
	VPCI_EV_NONE,
	VPCI_EV_RESET,		/* status written 0: the model is reset already; quiesce the rest */
	VPCI_EV_FEATURES_OK,	/* the driver's features were accepted */
	VPCI_EV_DRIVER_OK,	/* the device is live: start processing */
	VPCI_EV_QUEUE_ENABLE,	/* queue *q was enabled (the transport may veto: vpci_queue_refuse) */
	VPCI_EV_QUEUE_VECTOR,	/* queue *q's MSI-X vector changed */
	VPCI_EV_CONFIG_VECTOR,	/* msix_config changed */
};

/*
 * A device offering @features (VIRTIO_F_VERSION_1 must be among them),
 * @nr_queues queues (1..VPCI_MAX_QUEUES, else -EINVAL) of at most
 * @max_queue_size entries, @nr_vectors MSI-X vectors. In the reset state;
 * r->features_ok may be set afterwards. 0 or -EINVAL.
 */
int vpci_regs_init(struct vpci_regs *r, uint64_t features, unsigned nr_queues,
		   uint16_t max_queue_size, unsigned nr_vectors);
/* The reset state (§2.4): status 0, nothing negotiated, queues disabled, no vectors. */
void vpci_regs_reset(struct vpci_regs *r);

/*
 * An access at @off into the common configuration structure. Reads may
 * span fields (bytes beyond the structure read 0). A write must lie within
 * one field (§4.1.3.1: the driver uses the field's width, or 32-bit halves
 * of a 64-bit one); others are dropped. Returns what the transport must do,
 * with the queue in *q for queue events.
 */
void vpci_common_read(const struct vpci_regs *r, uint32_t off, uint8_t *data, uint32_t len);
enum vpci_event vpci_common_write(struct vpci_regs *r, uint32_t off, const uint8_t *data,
				  uint32_t len, unsigned *q);

/* The transport could not enable queue @q (bad ring addresses): it reads back 0. */
void vpci_queue_refuse(struct vpci_regs *r, unsigned q);

/* The features both sides agreed on, valid once FEATURES_OK is set. */
static inline uint64_t vpci_features(const struct vpci_regs *r)
{
	return r->driver_features;
}

/* Where queue @q's doorbell is, relative to the BAR. */
static inline uint64_t vpci_notify_offset(unsigned q)
{
	return VPCI_NOTIFY_OFF + (uint64_t)q * VPCI_NOTIFY_MULT;
}

/*
 * Add the virtio vendor capabilities to @dev (§4.1.4): common, notify
 * (multiplier VPCI_NOTIFY_MULT, @nr_queues doorbells), ISR, device
 * (@device_cfg_len bytes) in BAR VPCI_BAR, and the PCI configuration access
 * capability. @nr_queues as vpci_regs_init accepted it. Returns the offset of
 * the last (PCI_CFG) or -errno.
 */
int vpci_add_caps(struct pci_dev *dev, unsigned nr_queues, uint32_t device_cfg_len);

#endif
