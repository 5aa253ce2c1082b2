/*
 * sluice: virtio-pci modern transport (vmm/virtio_pci.h): BARs, ioeventfd
 * doorbells, interrupts, the worker thread, the status state machine's
 * side effects.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "irqremap/irqremap.h"
#include "vmm/log.h"
#include "vmm/virtio/virtio_pci.h"
#include "vmm/vm.h"

#define VIRTIO_PCI_VENDOR	0x1af4
#define VIRTIO_PCI_DEVICE_BASE	0x1040	/* §4.1.2.1: 0x1040 + device type */
#define TAG_CTL			0xfff0u
#define TAG_DEV			0xfff1u

static struct virtio_pci *to_vp(struct pci_dev *pci)
{
	return (struct virtio_pci *)((char *)pci - offsetof(struct virtio_pci, pci));
}

static void signal_fd(int fd)
{
	uint64_t one = 1;
	ssize_t n = write(fd, &one, sizeof(one));

	(void)n;	/* an eventfd only refuses at 2^64 - 2 pending */
}

static void drain_fd(int fd)
{
	uint64_t cnt;
	ssize_t n = read(fd, &cnt, sizeof(cnt));

	(void)n;
}

/* ---- Interrupts: call eventfds follow their vector (vmm/msix_route.c), or INTx ---- */

static unsigned nr_vectors(const struct virtio_pci *vp)
{
	return vp->cfg.nr_queues + 1;
}

static void irq_set_vector(struct virtio_pci *vp, struct vpci_irq *s, uint16_t vector)
{
	msix_route_follow(&vp->vecs, &s->follow, vector < nr_vectors(vp) ? vector : MSIX_ROUTE_NONE);
}

/*
 * §4.1.4.5: with MSI-X off, INTA# stays asserted while ISR has a bit set;
 * the guest's Interrupt Disable (PCI 3.0 §6.2.2) keeps it deasserted.
 */
static void intx_assert(struct virtio_pci *vp)
{
	if (vp->intx_efd >= 0 && !atomic_load(&vp->intx_disabled))
		signal_fd(vp->intx_efd);
}

/* KVM lowered INTA# at the guest's EOI: raise it again if ISR still says so and INTx is in use. */
static void on_resample(struct ev_watch *w, uint32_t events)
{
	struct virtio_pci *vp = w->opaque;

	(void)events;
	drain_fd(w->fd);
	if (atomic_load(&vp->isr) && !msix_enabled(&vp->msix))
		intx_assert(vp);
}

/* The guest wrote the command register: Interrupt Disable cleared with ISR set asserts INTA#. */
static void intx_command(struct virtio_pci *vp)
{
	bool off = pci_cfg_get16(&vp->pci, PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE;

	if (atomic_exchange(&vp->intx_disabled, off) && !off && atomic_load(&vp->isr) &&
	    !msix_enabled(&vp->msix))
		intx_assert(vp);
}

/* Main thread: a call eventfd fired while KVM did not inject it (vector @n, or none). */
static void call_pending(struct msix_route_follower *f, unsigned n)
{
	struct vpci_irq *s = f->opaque;
	struct virtio_pci *vp = s->vp;
	bool intx;

	/* §4.1.5.4: masked -> Pending bit; MSI-X off -> INTx; no vector -> nothing. */
	if (n < nr_vectors(vp))
		intx = msix_signal(&vp->msix, n) == -EAGAIN;
	else
		intx = !msix_enabled(&vp->msix);
	if (intx) {
		atomic_fetch_or(&vp->isr, s->isr_bit);
		intx_assert(vp);
	}
}

void virtio_pci_notify(struct virtio_pci *vp, unsigned q)
{
	if (q < vp->cfg.nr_queues)
		signal_fd(vp->q[q].call.efd);
}

void virtio_pci_needs_reset(struct virtio_pci *vp)
{
	if (atomic_exchange(&vp->needs_reset, true))
		return;
	/* §4.1.4.5: the configuration bit is set for every configuration change. */
	atomic_fetch_or(&vp->isr, VPCI_ISR_CONFIG);
	signal_fd(vp->config_irq.efd);
}

/* ---- Doorbells: ioeventfds on the notify addresses ---- */

static int ioeventfd(struct virtio_pci *vp, uint64_t addr, int fd, bool assign)
{
	/* Linux writes the 16-bit queue index (§4.1.5.2); the address alone says which queue. */
	struct kvm_ioeventfd io = {
		.addr = addr, .len = 2, .fd = fd, .flags = assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN,
	};

	return ioctl(vp->vm->vm_fd, KVM_IOEVENTFD, &io) < 0 ? -errno : 0;
}

/* Where queue @q's ioeventfd is while vp->q[q].ioeventfd: the BAR has not moved since. */
static uint64_t doorbell_addr(const struct virtio_pci *vp, unsigned q)
{
	return vp->bar_addr + vpci_notify_offset(q);
}

/* vp->lock held */
static void doorbell_on(struct virtio_pci *vp, unsigned q)
{
	struct vpci_queue *vq = &vp->q[q];
	int err;

	if (vq->ioeventfd || !vp->bar_mapped || !vp->regs.q[q].enabled)
		return;
	err = ioeventfd(vp, doorbell_addr(vp, q), vq->kick_fd, true);
	if (err)
		pr_warn_rl("%s (%s): %s: ioeventfd at 0x%" PRIx64 ": %s; kicks exit to sluice",
			vp->cfg.name, vp->pci.bdf, vq->vq.name, doorbell_addr(vp, q), strerror(-err));
	vq->ioeventfd = !err;
}

/* vp->lock held; before bar_addr moves (bar_map sets it, bar_unmap calls this first). */
static void doorbell_off(struct virtio_pci *vp, unsigned q)
{
	struct vpci_queue *vq = &vp->q[q];

	if (vq->ioeventfd)
		ioeventfd(vp, doorbell_addr(vp, q), vq->kick_fd, false);
	vq->ioeventfd = false;
}

/* ---- The worker ---- */

static void worker_run_all(struct virtio_pci *vp)
{
	unsigned q;

	for (q = 0; q < vp->cfg.nr_queues; q++)
		if (vp->q[q].vq.enabled)
			vp->cfg.ops->queue_notify(vp->cfg.dev, q);
}

static void worker_dispatch(struct virtio_pci *vp, const struct epoll_event *e)
{
	uint32_t tag = e->data.u32;

	if (tag == TAG_CTL) {
		drain_fd(vp->w.ctl_fd);
	} else if (tag == TAG_DEV) {
		if (vp->cfg.ops->fd_ready)
			vp->cfg.ops->fd_ready(vp->cfg.dev, e->events);
	} else if (tag < vp->cfg.nr_queues) {
		drain_fd(vp->q[tag].kick_fd);
		if (vp->q[tag].vq.enabled)
			vp->cfg.ops->queue_notify(vp->cfg.dev, tag);
	}
}

/* Parked until start, between a reset and the next start, and at the end. */
static void *worker_main(void *arg)
{
	struct virtio_pci *vp = arg;
	struct vpci_worker *w = &vp->w;
	struct epoll_event evs[8];
	bool fresh = false;
	int i, n;

	/*
	 * Named by itself (for top, and the test bed): naming another thread writes
	 * /proc/self/task/TID/comm, and in the VMM's PID namespace a TID is the
	 * namespace's, which the host's /proc does not have.
	 */
	pthread_setname_np(pthread_self(), "sluice-virtio");
	pthread_mutex_lock(&w->lock);
	while (!w->stop) {
		if (!w->active) {
			w->parked = true;
			pthread_cond_broadcast(&w->cond);
			while (!w->active && !w->stop)
				pthread_cond_wait(&w->cond, &w->lock);
			w->parked = false;
			fresh = true;
			continue;
		}
		pthread_mutex_unlock(&w->lock);
		/* Kicks may have come before DRIVER_OK (§3.1.1): look at every queue once. */
		if (fresh)
			worker_run_all(vp);
		fresh = false;
		n = epoll_wait(w->epfd, evs, (int)ARRAY_SIZE(evs), -1);
		for (i = 0; i < n; i++)
			worker_dispatch(vp, &evs[i]);
		pthread_mutex_lock(&w->lock);
	}
	w->parked = true;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

/* Returns once the worker touches no queue; from a vCPU holding vp->lock. */
static void worker_park(struct virtio_pci *vp)
{
	struct vpci_worker *w = &vp->w;

	if (!w->running)
		return;
	pthread_mutex_lock(&w->lock);
	w->active = false;
	signal_fd(w->ctl_fd);
	while (!w->parked)
		pthread_cond_wait(&w->cond, &w->lock);
	pthread_mutex_unlock(&w->lock);
}

static void worker_resume(struct virtio_pci *vp)
{
	struct vpci_worker *w = &vp->w;

	if (!w->running)
		return;
	pthread_mutex_lock(&w->lock);
	w->active = true;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

static int epoll_tag(int epfd, int op, int fd, uint32_t events, uint32_t tag)
{
	struct epoll_event e = { .events = events, .data.u32 = tag };

	return epoll_ctl(epfd, op, fd, &e) < 0 ? -errno : 0;
}

int virtio_pci_watch(struct virtio_pci *vp, int fd, uint32_t events)
{
	struct vpci_worker *w = &vp->w;
	int err = epoll_tag(w->epfd, w->dev_fd_added ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, events, TAG_DEV);

	if (!err)
		w->dev_fd_added = true;
	return err;
}

int virtio_pci_unwatch(struct virtio_pci *vp, int fd)
{
	struct vpci_worker *w = &vp->w;
	int err = w->dev_fd_added ? epoll_tag(w->epfd, EPOLL_CTL_DEL, fd, 0, TAG_DEV) : 0;

	w->dev_fd_added = false;
	return err;
}

void virtio_pci_kick(struct virtio_pci *vp, unsigned q)
{
	if (q < vp->cfg.nr_queues)
		signal_fd(vp->q[q].kick_fd);
}

static int worker_init(struct virtio_pci *vp)
{
	struct vpci_worker *w = &vp->w;
	unsigned q;
	int err;

	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	w->ctl_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->epfd < 0 || w->ctl_fd < 0)
		return -errno;
	err = epoll_tag(w->epfd, EPOLL_CTL_ADD, w->ctl_fd, EPOLLIN, TAG_CTL);
	for (q = 0; !err && q < vp->cfg.nr_queues; q++)
		err = epoll_tag(w->epfd, EPOLL_CTL_ADD, vp->q[q].kick_fd, EPOLLIN, q);
	if (err)
		return err;
	err = -pthread_create(&w->thread, NULL, worker_main, vp);
	if (err)
		return err;
	w->running = true;
	return 0;
}

static void worker_exit(struct virtio_pci *vp)
{
	struct vpci_worker *w = &vp->w;

	if (w->running) {
		pthread_mutex_lock(&w->lock);
		w->stop = true;
		signal_fd(w->ctl_fd);
		pthread_cond_broadcast(&w->cond);
		pthread_mutex_unlock(&w->lock);
		pthread_join(w->thread, NULL);
	}
	w->running = false;
	if (w->ctl_fd >= 0)
		close(w->ctl_fd);
	if (w->epfd >= 0)
		close(w->epfd);
	w->ctl_fd = w->epfd = -1;
}

/* ---- The status state machine's side effects (vp->lock held) ---- */

static void queue_enable(struct virtio_pci *vp, unsigned q)
{
	struct vpci_queue_regs *r = &vp->regs.q[q];
	struct vpci_queue *vq = &vp->q[q];
	struct virtq_addr a = { .size = r->size, .desc = r->desc, .avail = r->driver, .used = r->device };
	int err;

	/* Before DRIVER_OK (the model refuses it after): the worker is parked. */
	err = a.size > vp->cfg.queue_size ? -EINVAL :
	      virtq_enable(&vq->vq, &vp->vm->mem, &a, vpci_features(&vp->regs));
	if (err) {
		pr_err_rl("%s (%s): %s: cannot enable: %s", vp->cfg.name, vp->pci.bdf, vq->vq.name,
		       a.size > vp->cfg.queue_size ? "queue size above the maximum" :
		       virtq_strerror(vq->vq.err));
		vpci_queue_refuse(&vp->regs, q);
		virtio_pci_needs_reset(vp);
		return;
	}
	doorbell_on(vp, q);
}

static void device_start(struct virtio_pci *vp)
{
	int err = vp->cfg.ops->start ? vp->cfg.ops->start(vp->cfg.dev, vpci_features(&vp->regs)) : 0;

	if (err) {
		pr_err_rl("%s (%s): cannot start: %s; the device needs a reset", vp->cfg.name,
		       vp->pci.bdf, strerror(-err));
		virtio_pci_needs_reset(vp);
		return;
	}
	vp->started = true;
	worker_resume(vp);
}

/*
 * §2.4: after a reset the device processes nothing and interrupts nothing
 * until the driver sets it up again. The model is reset already.
 */
static void device_reset(struct virtio_pci *vp)
{
	unsigned q;

	worker_park(vp);
	if (vp->started && vp->cfg.ops->reset)
		vp->cfg.ops->reset(vp->cfg.dev);
	vp->started = false;
	for (q = 0; q < vp->cfg.nr_queues; q++) {
		doorbell_off(vp, q);
		virtq_reset(&vp->q[q].vq);
		irq_set_vector(vp, &vp->q[q].call, VPCI_NO_VECTOR);
		drain_fd(vp->q[q].kick_fd);
		drain_fd(vp->q[q].call.efd);
	}
	irq_set_vector(vp, &vp->config_irq, VPCI_NO_VECTOR);
	drain_fd(vp->config_irq.efd);
	atomic_store(&vp->needs_reset, false);
	atomic_store(&vp->isr, 0);
}

static void common_access(struct virtio_pci *vp, uint32_t off, uint8_t *data, uint32_t len,
			  bool is_write)
{
	unsigned q;

	pthread_mutex_lock(&vp->lock);
	if (atomic_load(&vp->needs_reset))
		vp->regs.status |= VIRTIO_CONFIG_S_NEEDS_RESET;
	if (!is_write) {
		vpci_common_read(&vp->regs, off, data, len);
		pthread_mutex_unlock(&vp->lock);
		return;
	}
	switch (vpci_common_write(&vp->regs, off, data, len, &q)) {
	case VPCI_EV_RESET:
		device_reset(vp);
		break;
	case VPCI_EV_DRIVER_OK:
		device_start(vp);
		break;
	case VPCI_EV_QUEUE_ENABLE:
		queue_enable(vp, q);
		break;
	case VPCI_EV_QUEUE_VECTOR:
		irq_set_vector(vp, &vp->q[q].call, vp->regs.q[q].msix_vector);
		break;
	case VPCI_EV_CONFIG_VECTOR:
		irq_set_vector(vp, &vp->config_irq, vp->regs.msix_config);
		break;
	default:
		break;
	}
	pthread_mutex_unlock(&vp->lock);
}

/* ---- BARs ---- */

static void regs_access(struct virtio_pci *vp, uint64_t off, uint8_t *data, uint32_t len,
			bool is_write)
{
	uint64_t rel;

	if (!is_write)
		memset(data, 0, len);
	if (off < VPCI_COMMON_OFF + VPCI_REGION_SIZE) {
		common_access(vp, (uint32_t)off, data, len, is_write);
	} else if (off < VPCI_ISR_OFF + VPCI_REGION_SIZE) {
		/* §4.1.4.5.1: reading ISR clears it (and so lowers INTx at the next EOI). */
		if (!is_write && off == VPCI_ISR_OFF)
			data[0] = (uint8_t)atomic_exchange(&vp->isr, 0);
	} else if (off < VPCI_DEVICE_OFF + VPCI_REGION_SIZE) {
		rel = off - VPCI_DEVICE_OFF;
		if (!is_write && rel < vp->cfg.config_size)
			vp->cfg.ops->config_read(vp->cfg.dev, (uint32_t)rel, data,
						 (uint32_t)(rel + len <= vp->cfg.config_size ? len :
							    vp->cfg.config_size - rel));
	} else if (is_write) {
		/* A doorbell the ioeventfd did not catch (another width, the PCI_CFG window). */
		rel = (off - VPCI_NOTIFY_OFF) / VPCI_NOTIFY_MULT;
		if (rel < vp->cfg.nr_queues)
			signal_fd(vp->q[rel].kick_fd);
	}
}

static void regs_io(void *opaque, uint64_t off, uint8_t *data, uint32_t len, bool is_write)
{
	regs_access(opaque, off, data, len, is_write);
}

static void msix_io(void *opaque, uint64_t off, uint8_t *data, uint32_t len, bool is_write)
{
	struct virtio_pci *vp = opaque;

	if (!msix_bar_access(&vp->msix, VPCI_MSIX_BAR, off, data, len, is_write) && !is_write)
		memset(data, 0, len);
}

static int bar_map(struct pci_dev *pci, int bar, uint64_t addr)
{
	struct virtio_pci *vp = to_vp(pci);
	struct pci_bar *b = &pci->bar[bar];
	unsigned q;
	int err;

	err = bus_register(pci_dev_bar_bus(pci, bar), addr, b->size,
			   bar == VPCI_BAR ? regs_io : msix_io, vp, b->name);
	if (err || bar != VPCI_BAR)
		return err;
	pthread_mutex_lock(&vp->lock);
	vp->bar_addr = addr;
	vp->bar_mapped = true;
	for (q = 0; q < vp->cfg.nr_queues; q++)
		doorbell_on(vp, q);
	pthread_mutex_unlock(&vp->lock);
	return 0;
}

/* A BAR that moves takes its doorbells along: off here, on at the new address. */
static void bar_unmap(struct pci_dev *pci, int bar, uint64_t addr)
{
	struct virtio_pci *vp = to_vp(pci);
	unsigned q;

	if (bar == VPCI_BAR) {
		pthread_mutex_lock(&vp->lock);
		for (q = 0; q < vp->cfg.nr_queues; q++)
			doorbell_off(vp, q);
		vp->bar_mapped = false;
		pthread_mutex_unlock(&vp->lock);
	}
	bus_unregister(pci_dev_bar_bus(pci, bar), addr);
}

/* ---- Config space: MSI-X and the PCI configuration access capability ---- */

/* §4.1.4.9: an access to a BAR through the window in config space. */
static void pci_cfg_window(struct virtio_pci *vp, bool is_write)
{
	uint8_t *c = &vp->pci.cfg[vp->pci_cfg_cap];
	uint8_t *data = c + offsetof(struct virtio_pci_cfg_cap, pci_cfg_data);
	uint32_t off = pci_cfg_get32(&vp->pci, (uint32_t)vp->pci_cfg_cap + VIRTIO_PCI_CAP_OFFSET);
	uint32_t len = pci_cfg_get32(&vp->pci, (uint32_t)vp->pci_cfg_cap + VIRTIO_PCI_CAP_LENGTH);
	uint8_t bar = c[VIRTIO_PCI_CAP_BAR];

	/* §4.1.4.9.1: 1, 2 or 4 bytes, aligned to that size. */
	if ((len != 1 && len != 2 && len != 4) || off % len)
		return;
	if (!is_write)
		memset(data, 0, 4);
	if (bar == VPCI_BAR && off < VPCI_BAR_SIZE)
		regs_access(vp, off, data, len, is_write);
	else if (bar == VPCI_MSIX_BAR && off < VPCI_MSIX_BAR_SIZE)
		msix_io(vp, off, data, len, is_write);
}

static bool window_touched(struct virtio_pci *vp, uint32_t off, uint32_t len)
{
	uint32_t d = (uint32_t)vp->pci_cfg_cap + offsetof(struct virtio_pci_cfg_cap, pci_cfg_data);

	return pci_cfg_touches(off, len, d, d + 4);
}

static void cfg_read(struct pci_dev *pci, uint32_t off, uint32_t len)
{
	struct virtio_pci *vp = to_vp(pci);

	if (window_touched(vp, off, len))
		pci_cfg_window(vp, false);
}

static void cfg_write(struct pci_dev *pci, uint32_t off, const uint8_t *data, uint32_t len)
{
	struct virtio_pci *vp = to_vp(pci);

	(void)data;
	msix_cfg_written(&vp->msix, off, len);
	if (pci_cfg_touches(off, len, PCI_COMMAND, PCI_COMMAND + 2))
		intx_command(vp);
	if (window_touched(vp, off, len))
		pci_cfg_window(vp, true);
}

static const struct pci_dev_ops vpci_ops = {
	.cfg_read = cfg_read,
	.cfg_write = cfg_write,
	.bar_map = bar_map,
	.bar_unmap = bar_unmap,
};

/* ---- Setup and teardown ---- */

/* The configuration, and the register model (which owns the queue-count limit). */
static int check_config(struct virtio_pci *vp)
{
	const struct virtio_pci_config *c = &vp->cfg;

	if (!c->queue_size || (c->queue_size & (c->queue_size - 1)) ||
	    c->queue_size > VIRTQ_MAX_SIZE || c->config_size > VPCI_REGION_SIZE || !c->ops ||
	    !c->ops->config_read || !(c->features & (1ull << VIRTIO_F_VERSION_1)) ||
	    vpci_regs_init(&vp->regs, c->features, c->nr_queues, c->queue_size, nr_vectors(vp))) {
		pr_err("%s: bad virtio-pci configuration", c->name);
		return -EINVAL;
	}
	vp->regs.features_ok = c->features_ok;
	return 0;
}

static int irq_init(struct virtio_pci *vp, struct vpci_irq *s, uint8_t isr_bit)
{
	int err;

	*s = (struct vpci_irq){ .vp = vp, .isr_bit = isr_bit };
	s->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->efd < 0)
		return -errno;
	err = msix_route_follower_init(&vp->vecs, &s->follow, s->efd, call_pending, s);
	if (err) {
		close(s->efd);
		s->efd = -1;
	}
	return err;
}

static void irq_exit(struct virtio_pci *vp, struct vpci_irq *s)
{
	if (s->efd < 0)
		return;
	msix_route_unfollow(&vp->vecs, &s->follow);
	close(s->efd);
	s->efd = -1;
}

/* Per queue: the doorbell and call eventfds; and the configuration's call. */
static int fds_init(struct virtio_pci *vp)
{
	unsigned q;
	int err;

	err = irq_init(vp, &vp->config_irq, VPCI_ISR_CONFIG);
	if (err)
		return err;
	for (q = 0; q < vp->cfg.nr_queues; q++) {
		struct vpci_queue *vq = &vp->q[q];

		virtq_init(&vq->vq, vp->cfg.queue_names ? vp->cfg.queue_names[q] : "queue");
		vq->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (vq->kick_fd < 0)
			return -errno;
		err = irq_init(vp, &vq->call, VPCI_ISR_QUEUE);
		if (err) {
			close(vq->kick_fd);
			return err;
		}
		vp->nr_fds++;
	}
	return 0;
}

static void fds_exit(struct virtio_pci *vp)
{
	while (vp->nr_fds) {
		struct vpci_queue *vq = &vp->q[--vp->nr_fds];

		irq_exit(vp, &vq->call);
		close(vq->kick_fd);
	}
	irq_exit(vp, &vp->config_irq);
}

static int pci_init(struct virtio_pci *vp)
{
	const struct virtio_pci_config *c = &vp->cfg;
	struct msix_layout l = {
		.nr_vectors = nr_vectors(vp), .table_bar = VPCI_MSIX_BAR, .pba_bar = VPCI_MSIX_BAR,
		.table_offset = 0, .pba_offset = VPCI_MSIX_PBA_OFF,
	};
	struct pci_dev *pci = &vp->pci;
	int err;

	pci_dev_init(pci, c->name, &vpci_ops, VIRTIO_PCI_VENDOR,
		     (uint16_t)(VIRTIO_PCI_DEVICE_BASE + c->device_type), c->class_code);
	pci->cfg[PCI_REVISION_ID] = 1;	/* §4.1.2.1: modern-only devices have revision 1 or more */
	pci_put16(&pci->cfg[PCI_SUBSYSTEM_VENDOR_ID], VIRTIO_PCI_VENDOR);
	pci_put16(&pci->cfg[PCI_SUBSYSTEM_ID], 0x40);	/* §4.1.2.1: >= 0x40 */
	pci->cfg[PCI_INTERRUPT_PIN] = 1;		/* INTA#, when MSI-X is off */
	pci->bar[VPCI_BAR] = (struct pci_bar){ .type = PCI_BAR_MEM64, .prefetchable = true,
					       .size = VPCI_BAR_SIZE };
	pci->bar[VPCI_MSIX_BAR] = (struct pci_bar){ .type = PCI_BAR_MEM32, .size = VPCI_MSIX_BAR_SIZE };
	vp->pci_cfg_cap = vpci_add_caps(pci, c->nr_queues, c->config_size);
	if (vp->pci_cfg_cap < 0)
		return vp->pci_cfg_cap;
	err = msix_init(&vp->msix, pci, &l, &msix_route_msi_ops, &vp->vecs);
	if (err)
		return err;
	vp->msix_ready = true;
	return 0;
}

static int intx_init(struct virtio_pci *vp)
{
	int err;

	vp->intx_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	vp->intx_resample = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vp->intx_efd < 0 || vp->intx_resample < 0)
		return -errno;
	vp->resample = (struct ev_watch){ .fd = vp->intx_resample, .fn = on_resample, .opaque = vp };
	err = ev_add(&vp->vm->ev, &vp->resample, EPOLLIN);
	if (err)
		return err;
	err = irqfd_assign(vp->vm->vm_fd, pci_intx_gsi((unsigned)vp->pci.slot, 0), vp->intx_efd,
			   vp->intx_resample);
	if (err) {
		ev_del(&vp->vm->ev, &vp->resample);
		return err;
	}
	vp->intx_gsi = (int)pci_intx_gsi((unsigned)vp->pci.slot, 0);
	return 0;
}

static void intx_exit(struct virtio_pci *vp)
{
	if (vp->intx_gsi >= 0) {
		irqfd_deassign(vp->vm->vm_fd, (unsigned)vp->intx_gsi, vp->intx_efd);
		ev_del(&vp->vm->ev, &vp->resample);
	}
	if (vp->intx_efd >= 0)
		close(vp->intx_efd);
	if (vp->intx_resample >= 0)
		close(vp->intx_resample);
	vp->intx_efd = vp->intx_resample = vp->intx_gsi = -1;
}

int virtio_pci_create(struct virtio_pci **vpp, struct vm *vm, const struct virtio_pci_config *cfg)
{
	struct virtio_pci *vp;
	int err;

	*vpp = NULL;
	vp = calloc(1, sizeof(*vp));
	if (!vp)
		return -ENOMEM;
	vp->vm = vm;
	vp->cfg = *cfg;
	vp->intx_efd = vp->intx_resample = vp->intx_gsi = -1;
	vp->w.epfd = vp->w.ctl_fd = -1;
	vp->config_irq.efd = -1;
	pthread_mutex_init(&vp->lock, NULL);
	pthread_mutex_init(&vp->w.lock, NULL);
	pthread_cond_init(&vp->w.cond, NULL);
	if ((err = check_config(vp)) || (err = pci_init(vp)))
		goto err_destroy;
	err = msix_route_init(&vp->vecs, vm, vp->pci.bdf, nr_vectors(vp), NULL, vp);
	if (err)
		goto err_destroy;
	vp->vecs_ready = true;
	if ((err = fds_init(vp)) || (cfg->ops->queue_notify && (err = worker_init(vp))))
		goto err_destroy;
	err = pci_host_add(&vm->pci, &vp->pci);
	if (err)
		goto err_destroy;
	vp->on_host = true;
	err = intx_init(vp);
	if (err)
		goto err_destroy;
	*vpp = vp;
	return 0;

err_destroy:
	pr_err("%s: cannot create the virtio-pci device: %s", cfg->name, strerror(-err));
	virtio_pci_destroy(vp);
	return err;
}

void virtio_pci_destroy(struct virtio_pci *vp)
{
	if (!vp)
		return;
	intx_exit(vp);
	if (vp->on_host)
		pci_host_remove(&vp->vm->pci, &vp->pci);	/* doorbells off with the BAR */
	vp->on_host = false;
	pthread_mutex_lock(&vp->lock);
	worker_park(vp);
	if (vp->started && vp->cfg.ops->reset)
		vp->cfg.ops->reset(vp->cfg.dev);
	vp->started = false;
	pthread_mutex_unlock(&vp->lock);
	worker_exit(vp);
	fds_exit(vp);
	if (vp->vecs_ready)
		msix_route_exit(&vp->vecs);
	if (vp->msix_ready)
		msix_exit(&vp->msix);
	pthread_cond_destroy(&vp->w.cond);
	pthread_mutex_destroy(&vp->w.lock);
	pthread_mutex_destroy(&vp->lock);
	free(vp);
}
