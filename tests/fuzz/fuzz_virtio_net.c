/*
 * Fuzz target: virtio-net's userspace data path (vmm/virtio/virtio_net.c,
 * compiled in so the worker's entry points net_ops.queue_notify and
 * net_ops.fd_ready are reachable): transmit chains from fuzzed guest RAM,
 * and frames with fuzzed headers from the "TAP" into fuzzed receive rings,
 * merged or not.
 *
 * The TAP is one end of an AF_UNIX SOCK_SEQPACKET pair, which like a TAP
 * keeps frame boundaries (one read, one frame); the harness writes frames
 * into the other end and drains what the device transmits. The transport
 * is the part of struct virtio_pci the data path uses: the two virtqueues
 * (enabled over guest RAM as the driver programmed them) and the worker's
 * epoll fd (virtio_pci_watch); the doorbell and call eventfds are -1, so
 * notifications go nowhere. The negotiated features are set directly, as
 * net_start would after FEATURES_OK accepted them (TUNSETOFFLOAD needs a
 * real TAP).
 */
#include <sys/socket.h>

#include "tests/fuzz/fz.h"
#include "vmm/virtio/virtio_net.c"

#define RAM_SIZE	(64 * 1024)
#define MAX_OPS		32

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct rig {
	struct virtio_net_dev d;
	struct virtio_pci vp;
	struct guest_mem mem;
	struct virtq_addr q[2];
	int peer;		/* the TAP's other end: the host network */
};

static void queues_enable(struct rig *r)
{
	unsigned i;

	for (i = 0; i < 2; i++) {
		virtq_init(&r->vp.q[i].vq, queue_names[i]);
		virtq_enable(&r->vp.q[i].vq, &r->mem, &r->q[i], r->d.acked);
	}
}

static void rig_init(struct rig *r, struct fz *f, uint8_t *ram)
{
	uint64_t offered = virtio_net_offered(false, 0);
	int sv[2];
	unsigned i;

	fz_assert(!socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), "socketpair");
	r->d.tap.fd = sv[0];
	r->peer = sv[1];
	snprintf(r->d.name, sizeof(r->d.name), "net0 (tap fuzz0)");
	r->d.frame = malloc(VIRTIO_NET_FRAME_MAX);
	fz_assert(r->d.frame, "frame buffer");
	r->d.vp = &r->vp;
	r->d.features = offered;
	/* What FEATURES_OK lets through: a subset of the offer that satisfies §5.1.3.1. */
	r->d.acked = fz_u64(f) & offered;
	if (!virtio_net_features_ok(r->d.acked))
		r->d.acked = offered;
	r->vp.cfg.nr_queues = 2;
	r->vp.config_irq.efd = -1;
	r->vp.w.ctl_fd = -1;
	r->vp.w.epfd = epoll_create1(EPOLL_CLOEXEC);
	fz_assert(r->vp.w.epfd >= 0, "epoll");
	for (i = 0; i < 2; i++) {
		r->vp.q[i].kick_fd = r->vp.q[i].call.efd = -1;
		r->q[i].size = (uint16_t)(1u << (fz_u8(f) % 9));
		r->q[i].desc = fz_u16(f) % RAM_SIZE;
		r->q[i].avail = fz_u16(f) % RAM_SIZE;
		r->q[i].used = fz_u16(f) % RAM_SIZE;
	}
	guest_mem_layout(&r->mem, ram, RAM_SIZE);
	r->mem.fd = -1;
	queues_enable(r);
}

static void rig_exit(struct rig *r)
{
	close(r->vp.w.epfd);
	close(r->d.tap.fd);
	close(r->peer);
	free(r->d.frame);
}

/* A frame from the host side: a virtio 1.x header with fuzzed fields, then @len bytes. */
static void inject(struct rig *r, const uint8_t *o)
{
	static uint8_t frame[VIRTIO_NET_HDR_LEN + 4096];
	size_t len = VIRTIO_NET_HDR_LEN + (o[3] | o[4] << 8) % 4096;
	struct virtio_net_hdr_v1 h = { .flags = o[1], .gso_type = o[2], .hdr_len = o[5],
				       .gso_size = o[6], .csum_start = o[7] };

	memset(frame, o[5], sizeof(frame));
	memcpy(frame, &h, sizeof(h));
	if (send(r->peer, frame, len, MSG_DONTWAIT) < 0)
		return;		/* the socket is full: the TAP's queue would drop too */
}

static void drain(struct rig *r)
{
	static uint8_t buf[VIRTIO_NET_FRAME_MAX];

	while (recv(r->peer, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	uint8_t ops[MAX_OPS][8], *ram;
	struct rig *r = calloc(1, sizeof(*r));
	unsigned nops, i;

	fz_assert(r, "calloc");
	ram = malloc(RAM_SIZE);
	fz_assert(ram, "ram");
	rig_init(r, &f, ram);
	nops = fz_u8(&f) % (MAX_OPS + 1);
	for (i = 0; i < nops; i++)
		fz_bytes(&f, ops[i], sizeof(ops[i]));
	fz_bytes(&f, ram, RAM_SIZE);
	for (i = 0; i < nops; i++) {
		const uint8_t *o = ops[i];

		switch (o[0] % 7) {
		case 0:
			net_ops.queue_notify(&r->d, VIRTIO_NET_TXQ);
			break;
		case 1:
			net_ops.queue_notify(&r->d, VIRTIO_NET_RXQ);
			break;
		case 2:
			inject(r, o);
			net_ops.fd_ready(&r->d, EPOLLIN);
			break;
		case 3:	/* the driver writes RAM behind the device's back */
			ram[(o[1] | o[2] << 8) % RAM_SIZE] = o[3];
			break;
		case 4:	/* an avail index moves on */
			if (r->vp.q[o[1] & 1].vq.enabled)
				r->vp.q[o[1] & 1].vq.avail[2] = (uint8_t)(r->vp.q[o[1] & 1].vq.avail[2] + o[2]);
			break;
		case 5:	/* the device is reset and the driver sets the same rings up again */
			r->d.frame_len = 0;
			queues_enable(r);
			break;
		default:
			inject(r, o);
			break;
		}
		drain(r);
	}
	rig_exit(r);
	free(ram);
	free(r);
	return 0;
}
