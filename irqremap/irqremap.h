/*
 * sluice: device interrupts, one concern per file:
 *
 *   gsi.c        the VM's GSI pool and MSI routes (state, under a mutex)
 *   route.c      the KVM routing table built from it, and KVM_SET_GSI_ROUTING
 *   irqfd.c      KVM_IRQFD: an eventfd that injects a GSI
 *   msi_check.c  does a guest-programmed MSI target this guest's own APICs?
 *   host.c       is the host's interrupt remapping on, is VFIO strict? (pure)
 *   host_probe.c the same, read from /proc and /sys under a root directory
 *
 * Why the checks: with VFIO the device is programmed with the host's own
 * (remapped) MSI, never the guest's; the guest's message only picks a KVM
 * route. Host interrupt remapping (VT-d spec ch. 5; AMD IOMMU spec,
 * "Interrupt Remapping") is what stops a device from writing any message it
 * likes; msi_check() stops a guest from making its device deliver what no
 * device should (SMI, INIT, ExtINT).
 *
 * Kernel-facing calls (route_commit, irqfd_*) print nothing and return
 * -errno: the caller names the device or VM in its message.
 */
#ifndef SLUICE_IRQREMAP_H
#define SLUICE_IRQREMAP_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/layout.h"

/* ---- GSIs and routes (gsi.c, route.c) ---------------------------------- */

/* GSIs 0-23 are the IOAPIC's (and 0-15 also the PIC's); MSIs start above. */
#define ROUTE_GSI_FIRST_MSI	LAYOUT_IOAPIC_PINS
/* KVM_CAP_IRQ_ROUTING's answer when the kernel gives none (KVM_MAX_IRQ_ROUTES of old x86). */
#define ROUTE_MAX_DEFAULT	1024
/* The routes KVM_CREATE_IRQCHIP installs: IOAPIC for 0-23, plus PIC for 0-15. */
#define ROUTE_NR_DEFAULT	(LAYOUT_IOAPIC_PINS + 16)

struct msi_msg {
	uint32_t addr_lo, addr_hi, data;
};

struct route_msi {
	bool used;		/* allocated by gsi_alloc() */
	bool routed;		/* has an MSI route; else the GSI injects nothing */
	struct msi_msg msg;
};

struct route_table {
	pthread_mutex_t lock;	/* vCPU threads reprogram MSI-X concurrently */
	unsigned max_routes;	/* KVM_CAP_IRQ_ROUTING */
	unsigned nr_pool;	/* GSIs ROUTE_GSI_FIRST_MSI .. + nr_pool - 1 */
	struct route_msi *pool;
};

/* KVM_CAP_IRQ_ROUTING on @fd (/dev/kvm or a VM), or ROUTE_MAX_DEFAULT. */
unsigned route_max_routes(int fd);

/* @max_routes: 0 for ROUTE_MAX_DEFAULT. -EINVAL if it leaves no MSI GSI. */
int route_table_init(struct route_table *t, unsigned max_routes);
void route_table_destroy(struct route_table *t);

/* Lowest free GSI >= ROUTE_GSI_FIRST_MSI, or -ENOSPC. */
int gsi_alloc(struct route_table *t);
/* -EINVAL if @gsi is not allocated (double free). Drops its route. */
int gsi_free(struct route_table *t, unsigned gsi);

/*
 * Route an allocated GSI to an MSI, or to nothing. Only the table changes;
 * route_commit() makes KVM see it. Run msi_check() first: these store
 * whatever they are given. -EINVAL if @gsi is not allocated.
 */
int route_set_msi(struct route_table *t, unsigned gsi, uint32_t addr_lo,
		  uint32_t addr_hi, uint32_t data);
int route_clear(struct route_table *t, unsigned gsi);

/* The whole table as KVM_SET_GSI_ROUTING takes it; free() it. NULL + errno. */
struct kvm_irq_routing *route_build(struct route_table *t);
/* Build and issue KVM_SET_GSI_ROUTING under the lock, so commits never reorder. */
int route_commit(struct route_table *t, int vm_fd);

/* ---- irqfds (irqfd.c) -------------------------------------------------- */

/* @resample_fd: -1, or for a level-triggered IOAPIC GSI (< 24) only. */
int irqfd_assign(int vm_fd, unsigned gsi, int eventfd, int resample_fd);
int irqfd_deassign(int vm_fd, unsigned gsi, int eventfd);

/* ---- MSI validation (msi_check.c) -------------------------------------- */

enum msi_verdict {
	MSI_OK = 0,
	MSI_BAD_ADDR_HI,	/* bits 63:32 set: no xAPIC message lives there */
	MSI_BAD_WINDOW,		/* bits 31:20 are not 0xfee */
	MSI_BAD_REMAPPABLE,	/* bit 4: remappable format, but the guest has no IOMMU */
	MSI_BAD_ADDR_RESERVED,	/* bits 11:5: KVM's extended destination ID */
	MSI_BAD_DELIVERY,	/* SMI, NMI, INIT, ExtINT, reserved */
	MSI_BAD_VECTOR,		/* 0-15: illegal for a local APIC */
	MSI_BAD_TRIGGER,	/* level: PCI MSI is edge-only */
	MSI_BAD_DEST,		/* physical destination names no vCPU */
};

/* Does @m land on this guest's own local APICs, @nr_cpus of them (IDs 0..n-1)? */
enum msi_verdict msi_check(const struct msi_msg *m, unsigned nr_cpus);
const char *msi_verdict_name(enum msi_verdict v);
/*
 * One log line for @m, programmed into table entry (or MSI vector) @entry of
 * device @bdf, e.g. "0000:01:10.0 entry 2 (APIC vector 36): MSI address
 * 0xfed00000 is outside the local APIC window; dropped". Returns the verdict
 * it explains; @buf always ends in a NUL.
 */
enum msi_verdict msi_check_explain(char *buf, size_t len, const char *bdf, unsigned entry,
				   const struct msi_msg *m, unsigned nr_cpus);

/* ---- Host interrupt remapping (host.c, host_probe.c) ------------------- */

enum irq_host_verdict {
	IRQ_HOST_OK,
	IRQ_HOST_NO_REMAPPING,
	IRQ_HOST_UNSAFE_ALLOWED,
	IRQ_HOST_UNKNOWN,
};

/* What the host shows; gathered by irq_host_probe(), judged by irq_host_judge(). */
struct irq_host_facts {
	bool proc_read;		/* /proc/interrupts could be read */
	unsigned ir_lines;	/* lines on an IR-* chip (IR-IO-APIC, IR-PCI-MSI...) */
	unsigned plain_lines;	/* lines on IO-APIC or PCI-MSI* without IR- */
	unsigned iommu_units;	/* dmar* and ivhd* under /sys/class/iommu */
	int ir_capable;		/* 1 all units can remap, 0 one cannot, -1 no unit */
	char unit[32];		/* the unit that decided ir_capable, for messages */
	bool unsafe;		/* allow_unsafe_interrupts is Y (absent counts as N) */
};

/* Pure parsers, on the text of one file. */
void irq_host_parse_interrupts(const char *text, struct irq_host_facts *f);
/* Intel VT-d ECAP register as sysfs prints it (hex): bit 3 is IR (VT-d §11.4.3). */
int irq_host_parse_ecap(const char *text, bool *ir);
/* A bool module parameter: "Y"/"N" (also "1"/"0"), one trailing newline. */
int irq_host_parse_param(const char *text, bool *on);

/* Read the facts under @root ("" or "/" for this host; a fixture dir in tests). */
int irq_host_probe(const char *root, struct irq_host_facts *f);
/* Pure: the verdict, and in @msg a line that says what to do. */
enum irq_host_verdict irq_host_judge(const struct irq_host_facts *f, char *msg, size_t len);
/*
 * Policy for startup: OK passes quietly; anything else fails with the
 * message (-EPERM) unless @allow_unsafe (--allow-unsafe-interrupts), in which
 * case it passes with a loud warning. -errno if @root cannot be read at all.
 */
int irq_host_require(const char *root, bool allow_unsafe);

#endif
