/*
 * sluice: the paravirtual devices of a machine (--disk, --net). The host
 * side lives in the privileged monitor: open() checks and opens what changes
 * nothing on the host (images, locked; /dev/vhost-net), take() makes the host
 * changes (TAPs), close() gives them back. The VMM attaches the devices to its
 * VM and detaches them; the fds it inherited die with it.
 */
#ifndef SLUICE_VIRTIO_DEVS_H
#define SLUICE_VIRTIO_DEVS_H

#include "vmm/virtio/virtio_blk_dev.h"
#include "vmm/virtio/virtio_net.h"

struct vm;

#define VIRTIO_DEVS_MAX_DISKS	8
#define VIRTIO_DEVS_MAX_NETS	8
#define VIRTIO_DEVS_MAX_FDS	(VIRTIO_DEVS_MAX_DISKS + 3 * VIRTIO_DEVS_MAX_NETS)

struct virtio_devs_config {
	struct virtio_blk_dev_config disk[VIRTIO_DEVS_MAX_DISKS];	/* disk0, disk1, ... */
	unsigned nr_disks;
	struct virtio_net_dev_config net[VIRTIO_DEVS_MAX_NETS];		/* net0, net1, ... */
	unsigned nr_nets;
};

struct virtio_devs {
	unsigned nr_disks, nr_nets;		/* opened */
	unsigned nets_taken;
	unsigned disks_attached, nets_attached;
	struct virtio_blk_dev disk[VIRTIO_DEVS_MAX_DISKS];
	struct virtio_net_dev net[VIRTIO_DEVS_MAX_NETS];
};

/* Phase 2: open everything @cfg names that changes nothing on the host. 0, or -errno with a message. */
int virtio_devs_open(struct virtio_devs *d, const struct virtio_devs_config *cfg);
/* Phase 3: the host changes (TAPs). 0, or -errno with a message and none taken. */
int virtio_devs_take(struct virtio_devs *d);
/* The fds the VMM must inherit, into @fds (room for VIRTIO_DEVS_MAX_FDS); returns how many. */
unsigned virtio_devs_fds(const struct virtio_devs *d, int *fds);
/* Monitor, once the VMM has its copies: close all but the TAPs (kept to give back). */
void virtio_devs_drop_vmm_fds(struct virtio_devs *d);
/* Monitor, after the VMM ended: open again what drop_vmm_fds closed (vhost; not disks). 0 or -errno. */
int virtio_devs_reopen(struct virtio_devs *d);
/* Phase 6: give back what take() changed, close what open() opened. */
void virtio_devs_close(struct virtio_devs *d);

/* VMM: put the devices on @vm's PCI host: disks, then NICs. 0 or -errno; on error none stays. */
int virtio_devs_attach(struct virtio_devs *d, struct vm *vm);
/* The vCPUs must be stopped. */
void virtio_devs_detach(struct virtio_devs *d);

#endif
