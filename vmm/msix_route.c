/*
 * sluice: MSI/MSI-X vectors -> GSI -> irqfd (vmm/msix_route.h). A message
 * that does not target the guest's own local APICs (irqremap/msi_check.c) is
 * never routed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "vmm/log.h"
#include "vmm/msix_route.h"
#include "vmm/vm.h"

static int kvm_commit(void *ctx)
{
	struct vm *vm = ctx;

	return route_commit(&vm->routes, vm->vm_fd);
}

static int kvm_irqfd_assign(void *ctx, unsigned gsi, int efd)
{
	struct vm *vm = ctx;

	return irqfd_assign(vm->vm_fd, gsi, efd, -1);
}

static int kvm_irqfd_deassign(void *ctx, unsigned gsi, int efd)
{
	struct vm *vm = ctx;

	return irqfd_deassign(vm->vm_fd, gsi, efd);
}

const struct msix_route_kvm msix_route_kvm_vm = {
	.commit = kvm_commit,
	.irqfd_assign = kvm_irqfd_assign,
	.irqfd_deassign = kvm_irqfd_deassign,
};

static bool msg_eq(const struct msi_msg *a, const struct msi_msg *b)
{
	return a->addr_lo == b->addr_lo && a->addr_hi == b->addr_hi && a->data == b->data;
}

/* mask_efd fired: the source wrote while the vector was not routed. */
static void vec_watch(struct ev_watch *w, uint32_t events)
{
	struct msix_route_vec *v = w->opaque;
	uint64_t cnt;

	(void)events;
	if (read(v->mask_efd, &cnt, sizeof(cnt)) != sizeof(cnt))
		return;
	/*
	 * Even if the vector was routed since the read: hand it on, so the
	 * message we consumed is delivered (msix_signal fires an effective
	 * vector) or kept (Pending), never lost. At worst one is spurious.
	 */
	v->r->ops->pending(v->r->opaque, v->n);
}

/* The same rule for a follower, with the vector it follows after the read. */
static void follower_watch(struct ev_watch *w, uint32_t events)
{
	struct msix_route_follower *f = w->opaque;
	struct msix_route *r = f->r;
	uint64_t cnt;
	unsigned n;

	(void)events;
	if (read(f->efd, &cnt, sizeof(cnt)) != sizeof(cnt))
		return;
	pthread_mutex_lock(&r->lock);
	n = f->n;
	pthread_mutex_unlock(&r->lock);
	f->pending(f, n);
}

/* r->lock held: give @f an irqfd on its vector's GSI while that is routed, else watch it. */
static void follower_sync(struct msix_route *r, struct msix_route_follower *f)
{
	struct vm *vm = r->vm;
	int want = f->n < r->nr && r->vec[f->n].routed ? r->vec[f->n].gsi : -1;
	int err;

	if (f->gsi == want)
		return;
	if (f->gsi >= 0) {
		r->kvm->irqfd_deassign(r->kvm_ctx, (unsigned)f->gsi, f->efd);
		f->gsi = -1;
		ev_mod(&vm->ev, &f->watch, EPOLLIN);
	}
	if (want < 0)
		return;
	/* Watch off first: KVM injects what is already counted when the irqfd attaches. */
	ev_mod(&vm->ev, &f->watch, 0);
	err = r->kvm->irqfd_assign(r->kvm_ctx, (unsigned)want, f->efd);
	if (err) {
		pr_warn_rl("%s: vector %u: irqfd on GSI %d: %s; its interrupts go through sluice",
			   r->label, f->n, want, strerror(-err));
		ev_mod(&vm->ev, &f->watch, EPOLLIN);
		return;
	}
	f->gsi = want;
}

static void followers_sync(struct msix_route *r, struct msix_route_vec *v)
{
	struct msix_route_follower *f;

	for (f = v->followers; f; f = f->next)
		follower_sync(r, f);
}

/* r->lock held. The irqfd stays: only the source moves (mask_efd) and the followers. */
static void unroute(struct msix_route *r, struct msix_route_vec *v)
{
	if (!v->routed)
		return;
	v->routed = false;
	followers_sync(r, v);
}

/* A refused message is reported once per vector until the guest writes another. */
static bool refused(struct msix_route *r, struct msix_route_vec *v, const struct msi_msg *msg)
{
	char why[200];

	if (msi_check_explain(why, sizeof(why), r->label, v->n, msg, r->vm->topo_cpus) == MSI_OK)
		return false;
	if (!v->refused_logged || !msg_eq(&v->refused, msg))
		pr_warn_rl("%s", why);
	v->refused = *msg;
	v->refused_logged = true;
	return true;
}

/* r->lock held: put @msg in the VM's table for the commit in flush, unless KVM has it. */
static int stage(struct msix_route *r, struct msix_route_vec *v, const struct msi_msg *msg)
{
	struct vm *vm = r->vm;
	int err;

	if (v->gsi < 0) {
		v->gsi = gsi_alloc(&vm->routes);
		if (v->gsi < 0)
			return v->gsi;
	}
	if (v->committed && msg_eq(&v->msg, msg))
		return 0;
	err = route_set_msi(&vm->routes, (unsigned)v->gsi, msg->addr_lo, msg->addr_hi, msg->data);
	if (err)
		return err;
	v->msg = *msg;
	v->committed = false;
	r->dirty = true;
	return 0;
}

void msix_route_update(struct msix_route *r, unsigned n, uint64_t addr, uint32_t data,
		       bool enabled)
{
	struct msi_msg msg = { .addr_lo = (uint32_t)addr, .addr_hi = (uint32_t)(addr >> 32), .data = data };
	struct msix_route_vec *v;
	int err;

	if (n >= r->nr)
		return;
	v = &r->vec[n];
	pthread_mutex_lock(&r->lock);
	v->effective = enabled;
	v->accepted = enabled && !refused(r, v, &msg);
	if (v->accepted && (err = stage(r, v, &msg))) {
		pr_err_rl("%s: vector %u: no GSI for it: %s; the vector stays off", r->label, n,
			  strerror(-err));
		v->accepted = false;
	}
	/*
	 * A new message for a routed vector keeps it routed until the commit:
	 * an interrupt meanwhile goes out with the old (checked) message.
	 */
	if (!v->accepted)
		unroute(r, v);
	pthread_mutex_unlock(&r->lock);
}

void msix_route_fire(struct msix_route *r, unsigned n)
{
	uint64_t one = 1;
	struct msix_route_vec *v;

	if (n >= r->nr)
		return;
	v = &r->vec[n];
	pthread_mutex_lock(&r->lock);
	if (v->routed) {
		if (write(v->efd, &one, sizeof(one)) < 0)
			pr_warn_rl("%s: vector %u: %s", r->label, n, strerror(errno));
	} else if (v->accepted) {
		v->fire = true;		/* staged in this access: flush delivers it */
	}
	pthread_mutex_unlock(&r->lock);
}

/* r->lock held: one commit for everything staged; the staged ones are then KVM's or off. */
static void commit(struct msix_route *r)
{
	unsigned i;
	int err;

	if (!r->dirty)
		return;
	r->dirty = false;
	err = r->kvm->commit(r->kvm_ctx);
	for (i = 0; i < r->nr; i++) {
		struct msix_route_vec *v = &r->vec[i];

		if (!v->accepted || v->committed)
			continue;
		if (!err) {
			v->committed = true;
			continue;
		}
		pr_err_rl("%s: vector %u: routing GSI %d: %s; the vector stays off", r->label, i,
			  v->gsi, strerror(-err));
		v->accepted = false;
		unroute(r, v);
	}
}

/* r->lock held: route an accepted, committed vector (irqfd once, for good). */
static void route(struct msix_route *r, struct msix_route_vec *v)
{
	uint64_t one = 1;
	int err;

	if (v->accepted && v->committed && !v->irqfd) {
		err = r->kvm->irqfd_assign(r->kvm_ctx, (unsigned)v->gsi, v->efd);
		if (err) {
			/* Off until the guest changes the vector: no retry per access. */
			pr_err_rl("%s: vector %u: irqfd on GSI %d: %s; the vector stays off",
				  r->label, v->n, v->gsi, strerror(-err));
			v->accepted = false;
		}
		v->irqfd = !err;
	}
	if (v->accepted && v->committed && v->irqfd && !v->routed) {
		v->routed = true;
		followers_sync(r, v);
	}
	if (v->fire && v->routed && write(v->efd, &one, sizeof(one)) < 0)
		pr_warn_rl("%s: vector %u: %s", r->label, v->n, strerror(errno));
	v->fire = false;
}

void msix_route_flush(struct msix_route *r)
{
	unsigned i;
	int fd;

	pthread_mutex_lock(&r->lock);
	commit(r);
	for (i = 0; i < r->nr; i++)
		route(r, &r->vec[i]);
	pthread_mutex_unlock(&r->lock);
	if (!r->ops || !r->ops->retarget)
		return;
	/* Outside r->lock: the device's retarget may ask msix_route_source_fd. */
	for (i = 0; i < r->nr; i++) {
		struct msix_route_vec *v = &r->vec[i];

		fd = msix_route_source_fd(r, i);
		if (fd == v->told_fd && v->effective == v->told_on)
			continue;
		v->told_fd = fd;
		v->told_on = v->effective;
		r->ops->retarget(r->opaque, i, fd, v->told_on);
	}
}

int msix_route_source_fd(struct msix_route *r, unsigned n)
{
	int fd;

	if (n >= r->nr)
		return -1;
	pthread_mutex_lock(&r->lock);
	fd = r->vec[n].routed ? r->vec[n].efd : r->vec[n].mask_efd;
	pthread_mutex_unlock(&r->lock);
	return fd;
}

bool msix_route_effective(struct msix_route *r, unsigned n)
{
	bool on;

	if (n >= r->nr)
		return false;
	pthread_mutex_lock(&r->lock);
	on = r->vec[n].effective;
	pthread_mutex_unlock(&r->lock);
	return on;
}

static void msi_update(void *opaque, unsigned n, uint64_t addr, uint32_t data, bool enabled)
{
	msix_route_update(opaque, n, addr, data, enabled);
}

static void msi_fire(void *opaque, unsigned n)
{
	msix_route_fire(opaque, n);
}

static void msi_flush(void *opaque)
{
	msix_route_flush(opaque);
}

const struct msi_ops msix_route_msi_ops = {
	.update = msi_update,
	.fire = msi_fire,
	.flush = msi_flush,
};

/* ---- Followers ---- */

/* r->lock held */
static void unlink_follower(struct msix_route *r, struct msix_route_follower *f)
{
	struct msix_route_follower **p;

	if (f->n >= r->nr)
		return;
	for (p = &r->vec[f->n].followers; *p; p = &(*p)->next)
		if (*p == f) {
			*p = f->next;
			break;
		}
	f->next = NULL;
}

int msix_route_follower_init(struct msix_route *r, struct msix_route_follower *f, int efd,
			     void (*pending)(struct msix_route_follower *f, unsigned n),
			     void *opaque)
{
	*f = (struct msix_route_follower){
		.efd = efd, .pending = pending, .opaque = opaque, .r = r, .n = MSIX_ROUTE_NONE, .gsi = -1,
	};
	f->watch = (struct ev_watch){ .fd = efd, .fn = follower_watch, .opaque = f };
	return ev_add(&r->vm->ev, &f->watch, EPOLLIN);
}

void msix_route_follow(struct msix_route *r, struct msix_route_follower *f, unsigned n)
{
	if (n >= r->nr)
		n = MSIX_ROUTE_NONE;
	pthread_mutex_lock(&r->lock);
	if (f->n != n) {
		unlink_follower(r, f);
		f->n = n;
		if (n < r->nr) {
			f->next = r->vec[n].followers;
			r->vec[n].followers = f;
		}
	}
	follower_sync(r, f);
	pthread_mutex_unlock(&r->lock);
}

void msix_route_unfollow(struct msix_route *r, struct msix_route_follower *f)
{
	if (!f->r)
		return;
	pthread_mutex_lock(&r->lock);
	unlink_follower(r, f);
	f->n = MSIX_ROUTE_NONE;
	if (f->gsi >= 0)
		r->kvm->irqfd_deassign(r->kvm_ctx, (unsigned)f->gsi, f->efd);
	f->gsi = -1;
	pthread_mutex_unlock(&r->lock);
	ev_del(&r->vm->ev, &f->watch);
	f->r = NULL;
}

/* ---- Setup and teardown ---- */

static int vec_init(struct msix_route *r, struct msix_route_vec *v, unsigned n)
{
	int err;

	*v = (struct msix_route_vec){ .r = r, .n = n, .efd = -1, .mask_efd = -1, .gsi = -1 };
	v->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (v->efd < 0)
		return -errno;
	v->told_fd = -1;
	if (!r->ops || !r->ops->retarget)
		return 0;	/* only sluice writes efd: nothing to watch */
	v->mask_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (v->mask_efd < 0) {
		err = -errno;
		goto err_close;
	}
	v->told_fd = v->mask_efd;
	v->watch = (struct ev_watch){ .fd = v->mask_efd, .fn = vec_watch, .opaque = v };
	err = ev_add(&r->vm->ev, &v->watch, EPOLLIN);
	if (err)
		goto err_close_mask;
	return 0;

err_close_mask:
	close(v->mask_efd);
err_close:
	close(v->efd);
	return err;
}

static void vec_exit(struct msix_route *r, struct msix_route_vec *v)
{
	if (v->irqfd)
		r->kvm->irqfd_deassign(r->kvm_ctx, (unsigned)v->gsi, v->efd);
	if (v->gsi >= 0)
		gsi_free(&r->vm->routes, (unsigned)v->gsi);
	if (v->mask_efd >= 0) {
		ev_del(&r->vm->ev, &v->watch);
		close(v->mask_efd);
	}
	close(v->efd);
}

int msix_route_init(struct msix_route *r, struct vm *vm, const char *label, unsigned nr,
		    const struct msix_route_ops *ops, void *opaque)
{
	unsigned i;
	int err;

	memset(r, 0, sizeof(*r));
	r->vm = vm;
	r->kvm = &msix_route_kvm_vm;
	r->kvm_ctx = vm;
	r->label = label;
	r->ops = ops;
	r->opaque = opaque;
	r->vec = calloc(nr, sizeof(*r->vec));
	if (!r->vec)
		return -ENOMEM;
	pthread_mutex_init(&r->lock, NULL);
	for (i = 0; i < nr; i++) {
		err = vec_init(r, &r->vec[i], i);
		if (err)
			goto err_exit;
		r->nr++;
	}
	return 0;

err_exit:
	msix_route_exit(r);
	return err;
}

void msix_route_exit(struct msix_route *r)
{
	unsigned i;

	if (!r->vec)
		return;		/* never initialised, or gone already */
	for (i = r->nr; i-- > 0;)
		vec_exit(r, &r->vec[i]);
	pthread_mutex_destroy(&r->lock);
	free(r->vec);
	r->vec = NULL;
	r->nr = 0;
}
