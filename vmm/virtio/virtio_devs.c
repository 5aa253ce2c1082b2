/* sluice: --disk and --net devices of a machine (vmm/virtio/virtio_devs.h). */
#include <string.h>

#include "vmm/virtio/virtio_devs.h"

int virtio_devs_open(struct virtio_devs *d, const struct virtio_devs_config *cfg)
{
	int err;

	memset(d, 0, sizeof(*d));
	for (; d->nr_disks < cfg->nr_disks; d->nr_disks++) {
		err = virtio_blk_dev_open(&d->disk[d->nr_disks], &cfg->disk[d->nr_disks], d->nr_disks);
		if (err)
			goto err_close;
	}
	for (; d->nr_nets < cfg->nr_nets; d->nr_nets++) {
		err = virtio_net_dev_open(&d->net[d->nr_nets], &cfg->net[d->nr_nets], d->nr_nets);
		if (err)
			goto err_close;
	}
	return 0;

err_close:
	virtio_devs_close(d);
	return err;
}

int virtio_devs_take(struct virtio_devs *d)
{
	int err;

	for (; d->nets_taken < d->nr_nets; d->nets_taken++) {
		err = virtio_net_dev_take(&d->net[d->nets_taken]);
		if (err) {
			while (d->nets_taken)
				tap_close(&d->net[--d->nets_taken].tap);
			return err;
		}
	}
	return 0;
}

unsigned virtio_devs_fds(const struct virtio_devs *d, int *fds)
{
	unsigned i, n = 0;

	for (i = 0; i < d->nr_disks; i++)
		fds[n++] = d->disk[i].blk.fd;
	for (i = 0; i < d->nets_taken; i++)
		n += virtio_net_dev_fds(&d->net[i], fds + n);
	return n;
}

void virtio_devs_drop_vmm_fds(struct virtio_devs *d)
{
	unsigned i;

	for (i = 0; i < d->nr_nets; i++)
		virtio_net_dev_drop_vmm_fds(&d->net[i]);
	while (d->nr_disks)
		virtio_blk_dev_close(&d->disk[--d->nr_disks]);
}

int virtio_devs_reopen(struct virtio_devs *d)
{
	unsigned i;
	int err;

	for (i = 0; i < d->nets_taken; i++)
		if ((err = virtio_net_dev_reopen_vmm_fds(&d->net[i])))
			return err;
	return 0;
}

void virtio_devs_close(struct virtio_devs *d)
{
	while (d->nr_nets)
		virtio_net_dev_close(&d->net[--d->nr_nets]);
	d->nets_taken = 0;
	while (d->nr_disks)
		virtio_blk_dev_close(&d->disk[--d->nr_disks]);
}

int virtio_devs_attach(struct virtio_devs *d, struct vm *vm)
{
	int err;

	for (; d->disks_attached < d->nr_disks; d->disks_attached++) {
		err = virtio_blk_dev_attach(&d->disk[d->disks_attached], vm);
		if (err)
			goto err_detach;
	}
	for (; d->nets_attached < d->nr_nets; d->nets_attached++) {
		err = virtio_net_dev_attach(&d->net[d->nets_attached], vm);
		if (err)
			goto err_detach;
	}
	return 0;

err_detach:
	virtio_devs_detach(d);
	return err;
}

void virtio_devs_detach(struct virtio_devs *d)
{
	while (d->nets_attached)
		virtio_net_dev_detach(&d->net[--d->nets_attached]);
	while (d->disks_attached)
		virtio_blk_dev_detach(&d->disk[--d->disks_attached]);
}
