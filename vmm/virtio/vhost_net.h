/*
 * sluice: vhost-net (drivers/vhost/net.c, Documentation of the ioctls in
 * include/uapi/linux/vhost.h): the kernel moves virtio-net buffers between
 * the guest's rings and a TAP, kicked by the queues' ioeventfds and raising
 * the queues' call eventfds (irqfds), so no packet passes through sluice.
 *
 * open() in the monitor (the fd, the features vhost knows); set_owner() in
 * the VMM, whose memory vhost will read; set_mem() once guest RAM exists; start()/stop() at the driver's DRIVER_OK
 * and reset.
 */
#ifndef SLUICE_VHOST_NET_H
#define SLUICE_VHOST_NET_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/memory.h"
#include "vmm/virtio/virtqueue.h"

#define VHOST_NET_QUEUES	2	/* rx, tx */

struct vhost_net {
	int fd;
	uint64_t features;	/* VHOST_GET_FEATURES */
	int err_fd;		/* eventfd vhost signals on a ring error */
	bool running;
};

/* One ring as vhost gets it: checked and mapped by the transport. */
struct vhost_net_ring {
	const struct virtq *vq;
	int kick_fd, call_fd;
};

/* 0 or -errno with a message starting with @label. */
int vhost_net_open(struct vhost_net *v, const char *label);
void vhost_net_close(struct vhost_net *v);
/* VHOST_SET_OWNER: the calling process's memory is what the rings point into. */
int vhost_net_set_owner(struct vhost_net *v, const char *label);

/* VHOST_SET_MEM_TABLE: guest RAM, GPA -> sluice's mapping. */
int vhost_net_set_mem(struct vhost_net *v, const struct guest_mem *mem);

/*
 * Features (those vhost knows among @features), rings, then the backend
 * @tap_fd on each. 0 or -errno (a message naming @label); stopped on error.
 */
int vhost_net_start(struct vhost_net *v, uint64_t features,
		    const struct vhost_net_ring ring[VHOST_NET_QUEUES], int tap_fd, const char *label);
/* Detach the backend and the eventfds; the rings stop where they are. */
void vhost_net_stop(struct vhost_net *v);

#endif
