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

#include "irqremap/irqremap.h"
#include "vmm/log.h"
#include "vmm/msix_route.h"
#include "vmm/vm.h"

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

static void changed(struct msix_route *r, struct msix_route_vec *v)
{
	if (r->ops->changed)
		r->ops->changed(r->opaque, v->n, v->routed ? v->gsi : -1);
}

static void route_off(struct msix_route *r, struct msix_route_vec *v)
{
	struct vm *vm = r->vm;
	bool was = v->routed;

	if (v->irqfd)
		irqfd_deassign(vm->vm_fd, (unsigned)v->gsi, v->efd);
	v->irqfd = false;
	v->routed = false;
	ev_mod(&vm->ev, &v->watch, EPOLLIN);
	if (was)
		changed(r, v);
}

static int route_on(struct msix_route *r, struct msix_route_vec *v, const struct msi_msg *msg)
{
	struct vm *vm = r->vm;
	int err;

	if (v->gsi < 0) {
		v->gsi = gsi_alloc(&vm->routes);
		if (v->gsi < 0)
			return v->gsi;
	}
	if ((err = route_set_msi(&vm->routes, (unsigned)v->gsi, msg->addr_lo, msg->addr_hi, msg->data)) ||
	    (err = route_commit(&vm->routes, vm->vm_fd)))
		return err;
	ev_mod(&vm->ev, &v->watch, 0);
	if (!v->irqfd) {
		err = irqfd_assign(vm->vm_fd, (unsigned)v->gsi, v->efd, -1);
		v->irqfd = !err;
	}
	if (!err) {
		v->routed = true;
		changed(r, v);
	}
	return err;
}

void msix_route_update(struct msix_route *r, unsigned n, uint64_t addr, uint32_t data,
		       bool enabled)
{
	struct msi_msg msg = { .addr_lo = (uint32_t)addr, .addr_hi = (uint32_t)(addr >> 32), .data = data };
	struct msix_route_vec *v;
	char why[200];
	int err;

	if (n >= r->nr)
		return;
	v = &r->vec[n];
	if (enabled && msi_check_explain(why, sizeof(why), r->label, n, &msg, r->vm->topo_cpus) != MSI_OK) {
		pr_warn("%s", why);
		enabled = false;
	}
	if (!enabled) {
		route_off(r, v);
		return;
	}
	err = route_on(r, v, &msg);
	if (err) {
		pr_err("%s: vector %u: routing GSI %d: %s; the vector stays off", r->label, n, v->gsi,
		       strerror(-err));
		route_off(r, v);
	}
}

void msix_route_fire(struct msix_route *r, unsigned n)
{
	uint64_t one = 1;

	if (n < r->nr && r->vec[n].irqfd && write(r->vec[n].efd, &one, sizeof(one)) < 0)
		pr_warn("%s: vector %u: %s", r->label, n, strerror(errno));
}

int msix_route_gsi(const struct msix_route *r, unsigned n)
{
	return n < r->nr && r->vec[n].routed ? r->vec[n].gsi : -1;
}

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

	for (i = r->nr; i-- > 0;) {
		struct msix_route_vec *v = &r->vec[i];

		if (v->irqfd)
			irqfd_deassign(vm->vm_fd, (unsigned)v->gsi, v->efd);
		if (v->gsi >= 0)
			gsi_free(&vm->routes, (unsigned)v->gsi);
		ev_del(&vm->ev, &v->watch);
		close(v->efd);
	}
	free(r->vec);
	r->vec = NULL;
	r->nr = 0;
}
