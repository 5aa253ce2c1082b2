/* sluice: vhost-net backend for virtio-net (vmm/vhost_net.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/vhost.h>

#include "vmm/log.h"
#include "vmm/virtio/vhost_net.h"

int vhost_net_open(struct vhost_net *v, const char *label)
{
	int err;

	memset(v, 0, sizeof(*v));
	v->err_fd = -1;
	v->fd = open("/dev/vhost-net", O_RDWR | O_CLOEXEC);
	if (v->fd < 0) {
		err = -errno;
		if (err == -ENOENT || err == -ENODEV)
			pr_err("%s: vhost=on but there is no /dev/vhost-net: load the vhost_net module "
			       "(modprobe vhost_net) or drop vhost=on", label);
		else
			pr_err("%s: /dev/vhost-net: %s", label, strerror(-err));
		return err;
	}
	if (ioctl(v->fd, VHOST_GET_FEATURES, &v->features) < 0) {
		err = -errno;
		pr_err("%s: vhost-net: %s", label, strerror(-err));
		goto err_close;
	}
	v->err_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (v->err_fd < 0) {
		err = -errno;
		goto err_close;
	}
	return 0;

err_close:
	close(v->fd);
	v->fd = -1;
	return err;
}

int vhost_net_set_owner(struct vhost_net *v, const char *label)
{
	if (ioctl(v->fd, VHOST_SET_OWNER) == 0)
		return 0;
	pr_err("%s: vhost-net: VHOST_SET_OWNER: %s", label, strerror(errno));
	return -errno;
}

void vhost_net_close(struct vhost_net *v)
{
	if (v->err_fd >= 0)
		close(v->err_fd);
	if (v->fd >= 0)
		close(v->fd);
	v->fd = v->err_fd = -1;
}

int vhost_net_set_mem(struct vhost_net *v, const struct guest_mem *mem)
{
	struct vhost_memory *m;
	unsigned i;
	int err = 0;

	m = calloc(1, sizeof(*m) + mem->nr_regions * sizeof(m->regions[0]));
	if (!m)
		return -ENOMEM;
	m->nregions = mem->nr_regions;
	for (i = 0; i < mem->nr_regions; i++)
		m->regions[i] = (struct vhost_memory_region){
			.guest_phys_addr = mem->region[i].gpa,
			.memory_size = mem->region[i].size,
			.userspace_addr = (uintptr_t)mem->region[i].hva,
		};
	if (ioctl(v->fd, VHOST_SET_MEM_TABLE, m) < 0)
		err = -errno;
	free(m);
	return err;
}

static int vring_file(int fd, unsigned long req, unsigned index, int file)
{
	struct vhost_vring_file f = { .index = index, .fd = file };

	return ioctl(fd, req, &f) < 0 ? -errno : 0;
}

/* The ring's host addresses are those virtq_enable() checked against guest RAM. */
static int ring_start(struct vhost_net *v, unsigned i, const struct vhost_net_ring *r)
{
	struct vhost_vring_state num = { .index = i, .num = r->vq->addr.size };
	struct vhost_vring_state base = { .index = i, .num = 0 };
	struct vhost_vring_addr addr = {
		.index = i,
		.desc_user_addr = (uintptr_t)r->vq->desc,
		.avail_user_addr = (uintptr_t)r->vq->avail,
		.used_user_addr = (uintptr_t)r->vq->used,
	};
	int err;

	if (ioctl(v->fd, VHOST_SET_VRING_NUM, &num) < 0 || ioctl(v->fd, VHOST_SET_VRING_BASE, &base) < 0 ||
	    ioctl(v->fd, VHOST_SET_VRING_ADDR, &addr) < 0)
		return -errno;
	if ((err = vring_file(v->fd, VHOST_SET_VRING_KICK, i, r->kick_fd)) ||
	    (err = vring_file(v->fd, VHOST_SET_VRING_CALL, i, r->call_fd)) ||
	    (err = vring_file(v->fd, VHOST_SET_VRING_ERR, i, v->err_fd)))
		return err;
	return 0;
}

int vhost_net_start(struct vhost_net *v, uint64_t features,
		    const struct vhost_net_ring ring[VHOST_NET_QUEUES], int tap_fd, const char *label)
{
	/*
	 * Only what vhost knows; never VHOST_NET_F_VIRTIO_NET_HDR (bit 27, the
	 * legacy ANY_LAYOUT bit we do not offer): the TAP makes the header.
	 */
	uint64_t f = features & v->features & ~(1ull << VHOST_NET_F_VIRTIO_NET_HDR);
	unsigned i;
	int err = 0;

	if (ioctl(v->fd, VHOST_SET_FEATURES, &f) < 0) {
		err = -errno;
		pr_err("%s: vhost-net: VHOST_SET_FEATURES 0x%llx: %s", label, (unsigned long long)f,
		       strerror(-err));
		return err;
	}
	v->running = true;
	for (i = 0; i < VHOST_NET_QUEUES; i++) {
		if (!ring[i].vq->enabled)
			continue;
		if ((err = ring_start(v, i, &ring[i])) ||
		    (err = vring_file(v->fd, VHOST_NET_SET_BACKEND, i, tap_fd))) {
			pr_err("%s: vhost-net: starting %s: %s", label, ring[i].vq->name, strerror(-err));
			vhost_net_stop(v);
			return err;
		}
	}
	return 0;
}

void vhost_net_stop(struct vhost_net *v)
{
	struct vhost_vring_state st;
	unsigned i;

	if (!v->running)
		return;
	for (i = 0; i < VHOST_NET_QUEUES; i++) {
		/* No backend: vhost stops touching the ring; GET_VRING_BASE waits for it to. */
		vring_file(v->fd, VHOST_NET_SET_BACKEND, i, -1);
		st = (struct vhost_vring_state){ .index = i };
		ioctl(v->fd, VHOST_GET_VRING_BASE, &st);
		vring_file(v->fd, VHOST_SET_VRING_KICK, i, -1);
		vring_file(v->fd, VHOST_SET_VRING_CALL, i, -1);
		vring_file(v->fd, VHOST_SET_VRING_ERR, i, -1);
	}
	v->running = false;
}
