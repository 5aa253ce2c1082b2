/*
 * sluice: a virtio-net device (virtio 1.2 §5.1) on the virtio-pci
 * transport, one receive and one transmit queue, backed by a TAP.
 *
 * Two data paths, chosen per device:
 *   - userspace: the transport's worker thread moves frames between the
 *     rings and the TAP (writev from guest buffers on transmit; on receive
 *     a read into a bounce buffer, then copied into one buffer or, with
 *     VIRTIO_NET_F_MRG_RXBUF, spread over as many as it takes);
 *   - vhost=on: the kernel's vhost-net does it (vmm/vhost_net.c), kicked by
 *     the queues' ioeventfds and raising their irqfds.
 * Either way the TAP carries the 12-byte virtio 1.x header, and the
 * offloads the driver accepted for its receive side (GUEST_CSUM,
 * GUEST_TSO4/6) are given to the TAP with TUNSETOFFLOAD at DRIVER_OK.
 */
#ifndef SLUICE_VIRTIO_NET_H
#define SLUICE_VIRTIO_NET_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>
#include <linux/virtio_net.h>

#include <net/if.h>

#include "vmm/evloop.h"
#include "vmm/virtio/tap.h"
#include "vmm/virtio/vhost_net.h"
#include "vmm/virtio/virtio_pci.h"

#define VIRTIO_NET_QUEUE_SIZE	256
#define VIRTIO_NET_RXQ		0
#define VIRTIO_NET_TXQ		1
#define VIRTIO_NET_HDR_LEN	sizeof(struct virtio_net_hdr_v1)	/* 12 */
/* A frame from the TAP: the header and up to 64 KiB of GSO frame, with room to spare. */
#define VIRTIO_NET_FRAME_MAX	(VIRTIO_NET_HDR_LEN + 65536 + 4096)
#define VIRTIO_NET_IOV_MAX	1024

/* One NIC as the user configured it (--net tap[:NAME]|bridge:BR[,mac=MAC][,vhost=on]). */
struct virtio_net_dev_config {
	char ifname[IFNAMSIZ];		/* "" when sluice picks the name (sluiceN) */
	char bridge[IFNAMSIZ];		/* "" or the host bridge sluice's own TAP joins */
	bool has_mac;
	uint8_t mac[6];
	bool vhost;
};

struct virtio_net_dev {
	char name[64];			/* "net0 (tap sluice0)", "net0 (tap sluice0 in br0)" */
	char label[16];			/* "net0" */
	char ifname[IFNAMSIZ];		/* as configured: "" = sluice picks */
	char bridge[IFNAMSIZ];		/* "" or the bridge the TAP joins */
	struct tap tap;
	bool use_vhost;
	struct vhost_net vhost;
	struct ev_watch vhost_err;	/* a ring error vhost reports */
	bool vhost_err_watched;
	uint8_t mac[6];
	uint64_t features;		/* offered */
	uint64_t acked;			/* negotiated, from start to reset */
	struct virtio_pci *vp;
	struct vm *vm;

	/* Userspace receive path (worker thread) */
	uint8_t *frame;			/* bounce buffer: header + frame from the TAP */
	size_t frame_len;		/* > 0: a frame waits for receive buffers */
	uint32_t tap_events;		/* what the worker waits for on the TAP */
	struct iovec iov[VIRTIO_NET_IOV_MAX];
	struct iovec tx_iov[VIRTIO_NET_IOV_MAX + 1];	/* the checked header + the frame */
	bool tap_err_logged;
	bool tap_gone;			/* the TAP reported ERR/HUP: deleted under us */
};

/*
 * The host side, in the privileged monitor, in two steps:
 *   open():  no host change: check the TAP name (or that the bridge exists and
 *            is one), open /dev/vhost-net and read its features
 *            (VHOST_SET_OWNER is the VMM's, in attach()), pick the MAC;
 *   take():  create the TAP, or attach to the existing one (its header size is
 *            saved and given back by close()); with a bridge, bring the new
 *            TAP up and enslave it (rtnetlink). The TAP is not persistent: its
 *            bridge port goes with it when its last fd closes, SIGKILL included.
 * 0 or -errno with a message naming "net@index"; on error nothing stays open.
 */
int virtio_net_dev_open(struct virtio_net_dev *d, const struct virtio_net_dev_config *cfg,
			unsigned index);
int virtio_net_dev_take(struct virtio_net_dev *d);
/* Close what the VMM alone needs once it has its copies (vhost); the TAP stays. */
void virtio_net_dev_drop_vmm_fds(struct virtio_net_dev *d);
/* For a new VMM on the same TAP: open vhost-net again (with vhost=on). 0 or -errno with a message. */
int virtio_net_dev_reopen_vmm_fds(struct virtio_net_dev *d);
void virtio_net_dev_close(struct virtio_net_dev *d);
/* The fds the VMM inherits: up to 3 into @fds; returns how many. */
unsigned virtio_net_dev_fds(const struct virtio_net_dev *d, int *fds);

int virtio_net_dev_attach(struct virtio_net_dev *d, struct vm *vm);
void virtio_net_dev_detach(struct virtio_net_dev *d);

/* ---- Pure parts (unit-tested) ---- */

/* The features offered: with vhost, the ring features it lacks are left out. */
uint64_t virtio_net_offered(bool vhost, uint64_t vhost_features);
/* §5.1.3.1: do the features the driver took satisfy their dependencies (FEATURES_OK)? */
bool virtio_net_features_ok(uint64_t features);
/* TUN_F_* for TUNSETOFFLOAD: what the driver accepted to receive (§5.1.6.4). */
unsigned virtio_net_tap_offloads(uint64_t features);
/* §5.1.6.2: may a transmitted frame with this header go to the TAP? */
bool virtio_net_tx_hdr_ok(const struct virtio_net_hdr_v1 *h, uint64_t features);
/*
 * What goes to the TAP for a TX chain of @cnt buffers whose header was
 * checked on the copy @h: @h itself, then the chain's bytes after the
 * header. The guest's own header bytes are never read again, so a vCPU
 * cannot change them between the check and the send (a double fetch).
 * Fills @out (room for @cnt + 1) and returns how many it used.
 */
unsigned virtio_net_tx_iov(const struct iovec *in, unsigned cnt,
			   const struct virtio_net_hdr_v1 *h, struct iovec *out);
/*
 * §5.1.6.4: make the TAP's header fit what the driver negotiated, with
 * @num_buffers; false when the frame cannot be given to it (drop it).
 */
bool virtio_net_rx_hdr(struct virtio_net_hdr_v1 *h, uint64_t features, uint16_t num_buffers);

#endif
