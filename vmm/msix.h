/*
 * sluice: MSI-X emulation (PCI Local Bus 3.0 §6.8.2), shared by emulated
 * devices (virtio-pci) and passthrough (VFIO).
 *
 * The guest programs vectors in an emulated table and reads an emulated
 * Pending Bit Array; sluice turns each effective vector into a KVM MSI route
 * (msi_ops.update, vmm/msi.h) and delivers it (msi_ops.fire). Vector n is
 * effective when MSI-X Enable is set, Function Mask is clear and the
 * vector's Mask bit is clear (§6.8.2.3, §6.8.2.9).
 *
 * Wiring, from the device model:
 *   - cfg_write hook: msix_cfg_written(m, off, len) on every write;
 *   - bar_access (or the trapped pages of a passthrough BAR):
 *     msix_bar_access(), or msix_table_access()/msix_pba_access() with an
 *     offset relative to the table or PBA;
 *   - the device's interrupt source: msix_signal(m, n). A passthrough device
 *     calls it too when a host interrupt reaches userspace while the vector
 *     is masked: there is one entry point for both.
 * A passthrough device maps its BAR except msix_table_pages() and
 * msix_pba_pages(), and must neither forward the capability's Message
 * Control to the device nor refresh it from it.
 *
 * Choices where the spec leaves the result undefined (§6.8.2: software uses
 * aligned DWORD or QWORD accesses only):
 *   - any other table or PBA access (size, alignment, past the end) reads
 *     all-ones, like an unsupported request, and a write is dropped;
 *   - a table write to an unmasked vector's address or data (§6.8.2.9 says
 *     software must not) is applied at once and reported by update(); a
 *     64-bit address written as two DWORDs is then reported twice;
 *   - Message Address bits 1:0 and Vector Control bits 31:1 read 0;
 *   - msix_signal while MSI-X is disabled drops the message (the function
 *     uses INTx then, §6.8.2.3) and returns -EAGAIN.
 *
 * Locking: cfg[] belongs to the PCI core's lock, so msix_cfg_written,
 * msix_init*, msix_reset run where that lock is held (the cfg hooks) or
 * before pci_host_add. The rest of the state has its own mutex: table and
 * PBA accesses (bar_access runs with no PCI lock) and msix_signal may come
 * from any thread. Callbacks run under that mutex, in the order the changes
 * happen: they must not call back into msix_*, and must not take the PCI
 * lock (they may run under it).
 */
#ifndef SLUICE_MSIX_H
#define SLUICE_MSIX_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/msi.h"
#include "vmm/pci.h"

#define MSIX_MAX_VECTORS	2048	/* Table Size is 11 bits, N - 1 (§6.8.2.3) */
#define MSIX_PAGE_SIZE		4096	/* granule a passthrough BAR traps */

/* Where the table and PBA live (§6.8.2.4, §6.8.2.5). */
struct msix_layout {
	unsigned nr_vectors;		/* 1-2048 */
	uint8_t table_bar, pba_bar;	/* BIR: 0-5, a memory BAR (its lower half if 64-bit) */
	uint32_t table_offset;		/* into the BAR, QWORD aligned */
	uint32_t pba_offset;		/* QWORD aligned, not overlapping the table */
};

/* One table entry as the guest sees it (§6.8.2.6-9), and what was reported. */
struct msix_vector {
	uint32_t addr_lo, addr_hi, data, ctrl;
	struct msi_route route;
};

struct msix {
	pthread_mutex_t lock;
	struct pci_dev *dev;
	const struct msi_ops *ops;
	void *opaque;

	/* Fixed by init */
	struct msix_layout layout;
	uint16_t cap;			/* the capability's offset in config space */

	/* Message Control, copied from cfg[] by msix_cfg_written */
	bool enabled, function_masked;

	struct msix_vector *vec;	/* layout.nr_vectors entries */
	uint64_t *pba;			/* one bit per vector, QWORDs as in the BAR */
};

/* A byte range [start, end) of a BAR. */
struct msix_pages {
	int bar;
	uint64_t start, end;
};

/*
 * Add an MSI-X capability (ID 0x11, 12 bytes) to @dev (not yet on a host)
 * with @l's layout; only Enable and Function Mask are guest-writable. When
 * @l's BAR is already described in dev->bar[], the table and PBA must fit in
 * it. 0; -EINVAL for a bad layout or ops; -ENOSPC when config space is full;
 * -ENOMEM.
 */
int msix_init(struct msix *m, struct pci_dev *dev, const struct msix_layout *l,
	      const struct msi_ops *ops, void *opaque);
/*
 * Take over the MSI-X capability already at @cap in dev->cfg[] (a
 * passthrough device's copy of its config space): its layout is read from
 * there, Message Control reset, wmask/w1cmask rewritten as for msix_init.
 * 0; -EINVAL (not an MSI-X capability, or a bad layout); -ENOMEM.
 */
int msix_init_existing(struct msix *m, struct pci_dev *dev, uint16_t cap,
		       const struct msi_ops *ops, void *opaque);
/* Frees the table; calls nothing back (msix_reset first to get the disables). */
void msix_exit(struct msix *m);

/*
 * Reset state (§6.8.2.3, §6.8.2.9): Enable and Function Mask 0, every vector
 * masked with address and data 0, no pending bits. Reports the disables.
 */
void msix_reset(struct msix *m);

/* From the device's cfg_write, on every write: acts when Message Control was touched. */
void msix_cfg_written(struct msix *m, uint32_t off, uint32_t len);

/* An access at @offset into the table (or PBA), @len bytes, as for bus_io_fn. */
void msix_table_access(struct msix *m, uint64_t offset, uint8_t *data, uint32_t len,
		       bool is_write);
/* The PBA is read-only: writes are ignored (§6.8.2.10). */
void msix_pba_access(struct msix *m, uint64_t offset, uint8_t *data, uint32_t len,
		     bool is_write);
/*
 * For a device's bar_access: if @offset in BAR @bar falls in the table or the
 * PBA, handle the access and return true; else leave it and return false.
 */
bool msix_bar_access(struct msix *m, int bar, uint64_t offset, uint8_t *data, uint32_t len,
		     bool is_write);

/*
 * The device wants vector @n: fire it if effective, else set its Pending bit
 * (delivered, and cleared, once the vector becomes effective: §6.8.2.9).
 * 0 when fired or left pending; -EAGAIN when MSI-X is disabled (dropped);
 * -EINVAL when @n is not in the table.
 */
int msix_signal(struct msix *m, unsigned n);

bool msix_enabled(struct msix *m);

/* The table's and the PBA's bytes in their BARs, widened to whole 4 KiB pages. */
struct msix_pages msix_table_pages(const struct msix *m);
struct msix_pages msix_pba_pages(const struct msix *m);

#endif
