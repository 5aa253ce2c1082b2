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

static bool msg_eq(const struct msi_msg *a, const struct msi_msg *b)
{
	return a->addr_lo == b->addr_lo && a->addr_hi == b->addr_hi && a->data == b->data;
}

static void vec_watch(struct ev_watch *w, uint32_t events)
{
	struct msix_route_vec *v = w->opaque;
	uint64_t cnt;

	(void)events;
	if (read(v->efd, &cnt, sizeof(cnt)) != sizeof(cnt))
		return;
	/*
	 * Even if a vCPU attached the irqfd since the read: hand it on, so the
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
		irqfd_deassign(vm->vm_fd, (unsigned)f->gsi, f->efd);
		f->gsi = -1;
		ev_mod(&vm->ev, &f->watch, EPOLLIN);
	}
	if (want < 0)
		return;
	/* Watch off first: KVM injects what is already counted when the irqfd attaches. */
	ev_mod(&vm->ev, &f->watch, 0);
	err = irqfd_assign(vm->vm_fd, (unsigned)want, f->efd, -1);
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

/* r->lock held */
static void route_off(struct msix_route *r, struct msix_route_vec *v)
{
	struct vm *vm = r->vm;

	if (v->irqfd)
		irqfd_deassign(vm->vm_fd, (unsigned)v->gsi, v->efd);
	v->irqfd = false;
	v->routed = false;
	ev_mod(&vm->ev, &v->watch, EPOLLIN);
	followers_sync(r, v);
}

/*
 * r->lock held. msix/msi report every unmask as an update: a message KVM
 * already has on the GSI (route_off leaves the route in place) needs no new
 * routing table.
 */
static int route_on(struct msix_route *r, struct msix_route_vec *v, const struct msi_msg *msg)
{
	struct vm *vm = r->vm;
	int err = 0;

	if (v->gsi < 0) {
		v->gsi = gsi_alloc(&vm->routes);
		if (v->gsi < 0)
			return v->gsi;
	}
	if (!v->committed || !msg_eq(&v->msg, msg)) {
		v->committed = false;
		if ((err = route_set_msi(&vm->routes, (unsigned)v->gsi, msg->addr_lo, msg->addr_hi,
					 msg->data)) ||
		    (err = route_commit(&vm->routes, vm->vm_fd)))
			return err;
		v->msg = *msg;
		v->committed = true;
	}
	ev_mod(&vm->ev, &v->watch, 0);
	if (!v->irqfd) {
		err = irqfd_assign(vm->vm_fd, (unsigned)v->gsi, v->efd, -1);
		v->irqfd = !err;
	}
	if (!err) {
		v->routed = true;
		followers_sync(r, v);
	}
	return err;
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
	if (enabled && refused(r, v, &msg))
		enabled = false;
	if (!enabled) {
		route_off(r, v);
		pthread_mutex_unlock(&r->lock);
		return;
	}
	err = route_on(r, v, &msg);
	if (err) {
		pr_err_rl("%s: vector %u: routing GSI %d: %s; the vector stays off", r->label, n, v->gsi,
		       strerror(-err));
		route_off(r, v);
	}
	pthread_mutex_unlock(&r->lock);
}

void msix_route_fire(struct msix_route *r, unsigned n)
{
	uint64_t one = 1;

	if (n < r->nr && r->vec[n].irqfd && write(r->vec[n].efd, &one, sizeof(one)) < 0)
		pr_warn_rl("%s: vector %u: %s", r->label, n, strerror(errno));
}

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
		irqfd_deassign(r->vm->vm_fd, (unsigned)f->gsi, f->efd);
	f->gsi = -1;
	pthread_mutex_unlock(&r->lock);
	ev_del(&r->vm->ev, &f->watch);
	f->r = NULL;
}

/* ---- Setup and teardown ---- */

int msix_route_init(struct msix_route *r, struct vm *vm, const char *label, unsigned nr,
		    const struct msix_route_ops *ops, void *opaque)
{
	unsigned i;
	int err;

	memset(r, 0, sizeof(*r));
	r->vm = vm;
	r->label = label;
	r->ops = ops;
	r->opaque = opaque;
	r->vec = calloc(nr, sizeof(*r->vec));
	if (!r->vec)
		return -ENOMEM;
	pthread_mutex_init(&r->lock, NULL);
	for (i = 0; i < nr; i++) {
		struct msix_route_vec *v = &r->vec[i];

		*v = (struct msix_route_vec){ .r = r, .n = i, .gsi = -1 };
		v->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (v->efd < 0) {
			err = -errno;
			goto err_exit;
		}
		r->nr++;
		v->watch = (struct ev_watch){ .fd = v->efd, .fn = vec_watch, .opaque = v };
		err = ev_add(&vm->ev, &v->watch, EPOLLIN);
		if (err) {
			close(v->efd);
			r->nr--;
			goto err_exit;
		}
	}
	return 0;

err_exit:
	msix_route_exit(r);
	return err;
}

void msix_route_exit(struct msix_route *r)
{
	struct vm *vm = r->vm;
	unsigned i;

	if (!r->vec)
		return;		/* never initialised, or gone already */
	for (i = r->nr; i-- > 0;) {
		struct msix_route_vec *v = &r->vec[i];

		if (v->irqfd)
			irqfd_deassign(vm->vm_fd, (unsigned)v->gsi, v->efd);
		if (v->gsi >= 0)
			gsi_free(&vm->routes, (unsigned)v->gsi);
		ev_del(&vm->ev, &v->watch);
		close(v->efd);
	}
	pthread_mutex_destroy(&r->lock);
	free(r->vec);
	r->vec = NULL;
	r->nr = 0;
}
