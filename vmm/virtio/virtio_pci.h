/*
 * sluice: the virtio-pci modern transport (virtio 1.2 §4.1), device side.
 *
 * A device model (virtio-blk, virtio-net) describes itself in struct
 * virtio_pci_config and gets a PCI function with:
 *   - the common/notify/ISR/device-config structures in BAR4 (register
 *     model: vmm/virtio_pci_regs.c), MSI-X in BAR1 (vmm/msix.c);
 *   - per queue, a doorbell eventfd registered with KVM_IOEVENTFD on the
 *     queue's notify address once the driver enables the queue (moved with
 *     the BAR, removed on reset), so a kick never exits to sluice;
 *   - per queue and for configuration changes, a "call" eventfd that KVM
 *     injects through an irqfd on the GSI of the MSI-X vector the driver
 *     chose (vmm/msix_route.c); while that vector is masked or MSI-X is off,
 *     the main thread reads it and sets the Pending bit or raises INTx;
 *   - a worker thread (when the device has queue_notify) that waits on the
 *     doorbells and on one device fd, and runs the device's processing.
 *
 * The device status state machine: queues are processed only after
 * DRIVER_OK (§3.1.1); a reset (status 0) parks the worker, stops the device
 * (ops->reset), removes the ioeventfds, resets the queues and detaches the
 * queues' irqfds. A device that finds a queue broken calls
 * virtio_pci_needs_reset() (DEVICE_NEEDS_RESET and a configuration change
 * notification, §2.1.2).
 *
 * Threads: vCPUs access the BARs and config space; the transport's lock
 * serialises them. The worker takes no transport lock, so a vCPU can park
 * it while holding one. ops->start and ops->reset run on a vCPU with the
 * worker parked; queue_notify and fd_ready on the worker.
 */
#ifndef SLUICE_VIRTIO_PCI_H
#define SLUICE_VIRTIO_PCI_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/evloop.h"
#include "vmm/msix.h"
#include "vmm/msix_route.h"
#include "vmm/pci.h"
#include "vmm/virtio/virtio_pci_regs.h"
#include "vmm/virtio/virtqueue.h"

struct vm;

/* Offered by every device: virtio 1.x, and the ring features vmm/virtqueue.c implements. */
#define VIRTIO_PCI_FEATURES	((1ull << VIRTIO_F_VERSION_1) | VIRTQ_FEATURES)

struct virtio_pci_ops {
	/* Device configuration bytes [off, off + len) (§4.1.4.6); the transport clips to config_size. */
	void (*config_read)(void *dev, uint32_t off, uint8_t *data, uint32_t len);
	/* DRIVER_OK with @features negotiated. 0, or -errno: the device needs a reset. */
	int (*start)(void *dev, uint64_t features);
	/* The driver reset a started device: undo start. */
	void (*reset)(void *dev);
	/* Worker: queue @q was kicked (also once for every enabled queue after start). */
	void (*queue_notify)(void *dev, unsigned q);
	/* Worker: the fd given to virtio_pci_watch() is ready. */
	void (*fd_ready)(void *dev, uint32_t events);
};

struct virtio_pci_config {
	const char *name;		/* messages: "disk0 (/img)"; must outlive the device */
	uint16_t device_type;		/* VIRTIO_ID_NET, VIRTIO_ID_BLOCK: PCI device 0x1040 + type */
	uint32_t class_code;		/* base << 16 | sub << 8 | prog-if */
	uint64_t features;		/* all offered, VIRTIO_PCI_FEATURES included */
	unsigned nr_queues;		/* 1..VPCI_MAX_QUEUES */
	uint16_t queue_size;		/* maximum, a power of 2 */
	const char *const *queue_names;
	uint32_t config_size;		/* device configuration bytes */
	/* Optional: may the driver take this combination (FEATURES_OK)? Pure. */
	bool (*features_ok)(uint64_t features);
	const struct virtio_pci_ops *ops;
	void *dev;
};

/* An eventfd that raises one MSI-X vector (a queue's or the configuration's), or INTx. */
struct vpci_irq {
	struct virtio_pci *vp;
	int efd;
	uint8_t isr_bit;		/* VPCI_ISR_* when it goes through INTx */
	struct msix_route_follower follow;	/* of the driver's vector */
};

struct vpci_queue {
	struct virtq vq;
	int kick_fd;			/* the doorbell's ioeventfd */
	bool ioeventfd;			/* registered at bar_addr + vpci_notify_offset(q) */
	struct vpci_irq call;
};

struct vpci_worker {
	pthread_t thread;
	bool running;			/* thread created */
	int epfd, ctl_fd;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool active, parked, stop;
	bool dev_fd_added;
};

struct virtio_pci {
	struct pci_dev pci;
	struct vm *vm;
	struct virtio_pci_config cfg;
	bool on_host;

	pthread_mutex_t lock;		/* regs, queue enable, BAR mapping, started */
	struct vpci_regs regs;
	bool started;			/* ops->start succeeded since the last reset */
	bool bar_mapped;
	uint64_t bar_addr;
	int pci_cfg_cap;		/* VIRTIO_PCI_CAP_PCI_CFG's offset */
	atomic_bool needs_reset;	/* set from any thread, folded into status */
	atomic_uint isr;		/* VPCI_ISR_*; a read clears it */

	struct msix msix;
	bool msix_ready;
	struct msix_route vecs;
	bool vecs_ready;
	struct vpci_irq config_irq;
	unsigned nr_fds;		/* eventfds created so far, for teardown */
	struct vpci_queue q[VPCI_MAX_QUEUES];

	int intx_efd, intx_resample, intx_gsi;	/* INTA# when MSI-X is off; -1 if none */
	atomic_bool intx_disabled;	/* the guest's PCI_COMMAND_INTX_DISABLE */
	struct ev_watch resample;

	struct vpci_worker w;
};

/*
 * Create the function and put it on @vm's PCI host. Every host resource
 * (eventfds, the worker thread) is created here, before vCPUs run. 0 or
 * -errno with a message naming cfg->name; nothing to undo on error.
 */
int virtio_pci_create(struct virtio_pci **vpp, struct vm *vm, const struct virtio_pci_config *cfg);
/* Mirrors create. The vCPUs must be stopped. */
void virtio_pci_destroy(struct virtio_pci *vp);

static inline struct virtq *virtio_pci_vq(struct virtio_pci *vp, unsigned q)
{
	return &vp->q[q].vq;
}

/* Worker (or vhost through the fd): a used buffer notification for queue @q. */
void virtio_pci_notify(struct virtio_pci *vp, unsigned q);
/* Any thread: DEVICE_NEEDS_RESET, then a configuration change notification (§2.1.2). */
void virtio_pci_needs_reset(struct virtio_pci *vp);
/* Worker: come back to queue @q soon (work left after a budget). */
void virtio_pci_kick(struct virtio_pci *vp, unsigned q);
/* Worker or start(): wait for @events on the device's one fd (0: registered but silent). */
int virtio_pci_watch(struct virtio_pci *vp, int fd, uint32_t events);
/* Worker: forget that fd (EPOLLERR/EPOLLHUP come even with no events asked). */
int virtio_pci_unwatch(struct virtio_pci *vp, int fd);

/* For a device that hands its queues to the kernel (vhost): the doorbell and call eventfds. */
static inline int virtio_pci_kick_fd(const struct virtio_pci *vp, unsigned q)
{
	return vp->q[q].kick_fd;
}

static inline int virtio_pci_call_fd(const struct virtio_pci *vp, unsigned q)
{
	return vp->q[q].call.efd;
}

#endif
