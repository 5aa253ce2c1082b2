/*
 * sluice: MSI emulation (PCI Local Bus 3.0 §6.8.1), for emulated devices and
 * for passthrough devices whose MSI capability is virtualised.
 *
 * The guest programs the capability through config space; sluice turns each
 * effective vector into a KVM MSI route (msi_ops.update) and delivers it
 * (msi_ops.fire). Vector n of 2^MME is effective when MSI Enable is set, n is
 * below the allocated count and, if the capability has per-vector masking,
 * its Mask bit is clear. The data of vector n is the Message Data with its
 * MME low bits replaced by n (§6.8.1.6).
 *
 * Wiring, from the device model:
 *   - cfg_write hook: msi_cfg_written(m, off, len) on every write;
 *   - cfg_read hook:  msi_cfg_read(m, off, len) on every read (it refreshes
 *     the Pending Bits register, which the device side sets);
 *   - the device's interrupt source: msi_signal(m, n).
 * A passthrough device must neither forward the capability's bytes to the
 * device nor refresh them from it: they are wholly virtual.
 *
 * Locking: cfg[] belongs to the PCI core's lock, so msi_cfg_written,
 * msi_cfg_read, msi_init*, msi_reset run where that lock is held (the cfg
 * hooks) or before pci_host_add. The rest of the state has its own mutex, so
 * msi_signal may run from any thread. Callbacks run under that mutex, in the
 * order the changes happen: they must not call back into msi_*, and must not
 * take the PCI lock (they may run under it).
 */
#ifndef SLUICE_MSI_H
#define SLUICE_MSI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/pci.h"

#define MSI_MAX_VECTORS	32	/* Multiple Message Capable 101b (§6.8.1.3) */

/* What a device's MSI or MSI-X vectors turn into; vmm/msix.h uses it too. */
struct msi_ops {
	/*
	 * Vector @n's effective routing changed: @enabled with a new (or first)
	 * @addr/@data, or no longer enabled (then @addr/@data are the ones last
	 * reported). Called only on a real change.
	 */
	void (*update)(void *opaque, unsigned n, uint64_t addr, uint32_t data, bool enabled);
	/* Deliver vector @n now (the caller writes its irqfd). Only while enabled. */
	void (*fire)(void *opaque, unsigned n);
	/*
	 * Optional: the end of one guest access (a table write, a Message
	 * Control write, a reset) that may have called update() for several
	 * vectors, so their routes reach KVM in one commit. A fire() within the
	 * access may come before it.
	 */
	void (*flush)(void *opaque);
};

/* msi_init flags */
#define MSI_64BIT	0x1	/* 64 bit address capable (§6.8.1.3 bit 7) */
#define MSI_MASKABLE	0x2	/* per-vector masking capable (bit 8) */

struct msi_route {
	bool on;		/* the last update() said enabled */
	uint64_t addr;
	uint32_t data;
};

struct msi {
	pthread_mutex_t lock;
	struct pci_dev *dev;
	const struct msi_ops *ops;
	void *opaque;

	/* Fixed by init */
	uint16_t cap;		/* the capability's offset in config space */
	bool is64, maskable;
	unsigned max_vectors;	/* 2^Multiple Message Capable */

	/* The guest's settings, copied from cfg[] by msi_cfg_written */
	bool enabled;
	unsigned nr_vectors;	/* 2^Multiple Message Enable, at most max_vectors */
	uint64_t addr;
	uint16_t data;
	uint32_t mask;

	uint32_t pending;	/* device-owned; shown in cfg[] by msi_cfg_read */
	struct msi_route route[MSI_MAX_VECTORS];
};

/*
 * Add an MSI capability to @dev (not yet on a host) with @nr_vectors (a
 * power of two, 1-32) and MSI_* @flags; all guest-writable bits get their
 * wmask. 0; -EINVAL for a bad count, flags or ops; -ENOSPC when config space
 * is full; or another -errno.
 */
int msi_init(struct msi *m, struct pci_dev *dev, unsigned nr_vectors, unsigned flags,
	     const struct msi_ops *ops, void *opaque);
/*
 * Take over the MSI capability already at @cap in dev->cfg[] (a passthrough
 * device's copy of its config space): its Capable/64-bit/masking bits are
 * kept, its guest-writable fields are reset, wmask/w1cmask rewritten.
 * Extended Message Data (PCIe 4.0) is not emulated: its capable bit reads 0.
 * Its registers must end by @end (the next capability, or the end of config
 * space): they all become the emulation's. 0 or -EINVAL (not an MSI
 * capability, or it does not fit).
 */
int msi_init_existing(struct msi *m, struct pci_dev *dev, uint16_t cap, uint32_t end,
		      const struct msi_ops *ops, void *opaque);
/* Frees nothing the callbacks set up; msi_reset first to get the disables. */
void msi_exit(struct msi *m);

/* Reset state (§6.8.1: Enable, MME, Mask and Pending bits 0); reports the disables. */
void msi_reset(struct msi *m);

/* From the device's cfg_write, on every write: acts when it touched the capability. */
void msi_cfg_written(struct msi *m, uint32_t off, uint32_t len);
/* From the device's cfg_read, on every read: refreshes Pending Bits in cfg[]. */
void msi_cfg_read(struct msi *m, uint32_t off, uint32_t len);

/*
 * The device wants vector @n: fire it if effective, else set its Pending bit
 * when it is only masked (§6.8.1.8). A passthrough device calls it too for a
 * host interrupt that reached userspace. 0 when fired or left pending;
 * -EAGAIN when MSI is disabled or @n is not allocated (dropped: the device
 * may use INTx, §6.8.1); -EINVAL when @n is beyond Multiple Message Capable.
 */
int msi_signal(struct msi *m, unsigned n);

bool msi_enabled(struct msi *m);

#endif
