/* sluice: virtio-net on virtio-pci (vmm/virtio_net.h). */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <unistd.h>
#include <linux/if_tun.h>
#include <linux/virtio_ids.h>

#include "sriov/vf_netlink.h"
#include "vmm/virtio/iov.h"
#include "vmm/log.h"
#include "vmm/virtio/virtio_net.h"
#include "vmm/vm.h"

#define F(bit)		(1ull << (bit))
#define TX_BUDGET	256	/* frames per pass before the worker looks at the other queue */
#define RX_BUDGET	256
#define RX_MAX_CHAINS	128	/* merged buffers per frame: 64 KiB in >= 512-byte buffers */

static const char *const queue_names[] = { "receiveq", "transmitq" };

/* ---- Pure parts ---- */

uint64_t virtio_net_offered(bool vhost, uint64_t vhost_features)
{
	uint64_t f = VIRTIO_PCI_FEATURES | F(VIRTIO_NET_F_MAC) | F(VIRTIO_NET_F_STATUS) |
		     F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_GUEST_CSUM) |
		     F(VIRTIO_NET_F_HOST_TSO4) | F(VIRTIO_NET_F_HOST_TSO6) |
		     F(VIRTIO_NET_F_GUEST_TSO4) | F(VIRTIO_NET_F_GUEST_TSO6) |
		     F(VIRTIO_NET_F_MRG_RXBUF);

	/* vhost walks the rings and merges buffers itself: what it lacks is not offered. */
	if (vhost)
		f &= ~((VIRTQ_FEATURES | F(VIRTIO_NET_F_MRG_RXBUF)) & ~vhost_features);
	return f;
}

/* §5.1.3.1: a feature and the features it requires (any one of them). */
static const struct {
	unsigned bit;
	uint64_t needs;
} deps[] = {
	{ VIRTIO_NET_F_GUEST_TSO4, F(VIRTIO_NET_F_GUEST_CSUM) },
	{ VIRTIO_NET_F_GUEST_TSO6, F(VIRTIO_NET_F_GUEST_CSUM) },
	{ VIRTIO_NET_F_GUEST_UFO, F(VIRTIO_NET_F_GUEST_CSUM) },
	{ VIRTIO_NET_F_GUEST_ECN, F(VIRTIO_NET_F_GUEST_TSO4) | F(VIRTIO_NET_F_GUEST_TSO6) },
	{ VIRTIO_NET_F_HOST_TSO4, F(VIRTIO_NET_F_CSUM) },
	{ VIRTIO_NET_F_HOST_TSO6, F(VIRTIO_NET_F_CSUM) },
	{ VIRTIO_NET_F_HOST_UFO, F(VIRTIO_NET_F_CSUM) },
	{ VIRTIO_NET_F_HOST_ECN, F(VIRTIO_NET_F_HOST_TSO4) | F(VIRTIO_NET_F_HOST_TSO6) },
};

bool virtio_net_features_ok(uint64_t features)
{
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(deps); i++)
		if ((features & F(deps[i].bit)) && !(features & deps[i].needs))
			return false;
	return true;
}

unsigned virtio_net_tap_offloads(uint64_t features)
{
	unsigned t = 0;

	if (features & F(VIRTIO_NET_F_GUEST_CSUM))
		t |= TUN_F_CSUM;
	if (features & F(VIRTIO_NET_F_GUEST_TSO4))
		t |= TUN_F_TSO4;
	if (features & F(VIRTIO_NET_F_GUEST_TSO6))
		t |= TUN_F_TSO6;
	if (features & F(VIRTIO_NET_F_GUEST_ECN))
		t |= TUN_F_TSO_ECN;
	if (features & F(VIRTIO_NET_F_GUEST_UFO))
		t |= TUN_F_UFO;
	return t;
}

/* Is a GSO type allowed by the TSO/UFO/ECN features @tso4 @tso6 @ufo @ecn? */
static bool gso_ok(uint8_t gso, uint64_t features, unsigned tso4, unsigned tso6, unsigned ufo,
		   unsigned ecn)
{
	if ((gso & VIRTIO_NET_HDR_GSO_ECN) && !(features & F(ecn)))
		return false;
	switch (gso & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN) {
	case VIRTIO_NET_HDR_GSO_NONE:
		return !(gso & VIRTIO_NET_HDR_GSO_ECN);
	case VIRTIO_NET_HDR_GSO_TCPV4:
		return features & F(tso4);
	case VIRTIO_NET_HDR_GSO_TCPV6:
		return features & F(tso6);
	case VIRTIO_NET_HDR_GSO_UDP:
		return features & F(ufo);
	default:
		return false;
	}
}

bool virtio_net_tx_hdr_ok(const struct virtio_net_hdr_v1 *h, uint64_t features)
{
	/* §5.1.6.2.1: NEEDS_CSUM only with CSUM; DATA_VALID and RSC_INFO never. */
	if (h->flags & ~VIRTIO_NET_HDR_F_NEEDS_CSUM)
		return false;
	if ((h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) && !(features & F(VIRTIO_NET_F_CSUM)))
		return false;
	return gso_ok(h->gso_type, features, VIRTIO_NET_F_HOST_TSO4, VIRTIO_NET_F_HOST_TSO6,
		      VIRTIO_NET_F_HOST_UFO, VIRTIO_NET_F_HOST_ECN);
}

bool virtio_net_rx_hdr(struct virtio_net_hdr_v1 *h, uint64_t features, uint16_t num_buffers)
{
	/* §5.1.6.4.1: without GUEST_CSUM, flags are 0 and the frame is fully checksummed. */
	if (!(features & F(VIRTIO_NET_F_GUEST_CSUM))) {
		if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
			return false;
		h->flags = 0;
	}
	h->flags &= VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID;
	if (!gso_ok(h->gso_type, features, VIRTIO_NET_F_GUEST_TSO4, VIRTIO_NET_F_GUEST_TSO6,
		    VIRTIO_NET_F_GUEST_UFO, VIRTIO_NET_F_GUEST_ECN))
		return false;
	/* §5.1.6.4: virtio 1.x always has num_buffers; 1 without MRG_RXBUF. */
	h->num_buffers = htole16(num_buffers);
	return true;
}

/* ---- Device configuration (§5.1.4) ---- */

static void net_config_read(void *opaque, uint32_t off, uint8_t *data, uint32_t len)
{
	struct virtio_net_dev *d = opaque;
	struct virtio_net_config c;
	uint32_t i;

	memset(&c, 0, sizeof(c));
	memcpy(c.mac, d->mac, sizeof(c.mac));
	c.status = htole16(VIRTIO_NET_S_LINK_UP);
	for (i = 0; i < len; i++)
		data[i] = (uint64_t)off + i < sizeof(c) ? ((const uint8_t *)&c)[off + i] : 0;
}

/* ---- Userspace data path (the transport's worker thread) ---- */

static int tap_watch(struct virtio_net_dev *d, uint32_t events)
{
	int err;

	if (d->tap_events == events || d->tap_gone)
		return 0;
	err = virtio_pci_watch(d->vp, d->tap.fd, events);
	if (!err)
		d->tap_events = events;
	return err;
}

unsigned virtio_net_tx_iov(const struct iovec *in, unsigned cnt,
			   const struct virtio_net_hdr_v1 *h, struct iovec *out)
{
	size_t skip = VIRTIO_NET_HDR_LEN;
	unsigned n = 0;

	/* The header's iovec points at sluice's copy: its bytes are never re-read. */
	out[n++] = (struct iovec){ .iov_base = (void *)(uintptr_t)h, .iov_len = VIRTIO_NET_HDR_LEN };
	for (; cnt; in++, cnt--) {
		size_t k = in->iov_len < skip ? in->iov_len : skip;

		skip -= k;
		if (in->iov_len > k)
			out[n++] = (struct iovec){ .iov_base = (uint8_t *)in->iov_base + k,
						   .iov_len = in->iov_len - k };
	}
	return n;
}

static void tx_one(struct virtio_net_dev *d, const struct virtq_chain *c)
{
	struct virtio_net_hdr_v1 h;
	unsigned n;

	if (c->out_len < VIRTIO_NET_HDR_LEN)
		return;		/* no header: nothing to send (§5.1.6.2) */
	iov_to_buf(c->iov, c->nr_out, &h, sizeof(h));
	if (!virtio_net_tx_hdr_ok(&h, d->acked))
		return;
	n = virtio_net_tx_iov(c->iov, c->nr_out, &h, d->tx_iov);
	if (writev(d->tap.fd, d->tx_iov, (int)n) < 0 && errno != EAGAIN && !d->tap_err_logged) {
		pr_err("%s: writing to the TAP: %s (further errors not reported)", d->name, strerror(errno));
		d->tap_err_logged = true;
	}
}

static void tx_run(struct virtio_net_dev *d)
{
	struct virtq *vq = virtio_pci_vq(d->vp, VIRTIO_NET_TXQ);
	struct virtq_chain c = { .iov = d->iov, .iov_max = VIRTIO_NET_IOV_MAX };
	enum virtq_err why;
	unsigned done = 0;
	int r;

	for (;;) {
		virtq_disable_notify(vq);
		r = -EAGAIN;
		while (done < TX_BUDGET && !(r = virtq_pop(vq, &c, &why))) {
			tx_one(d, &c);
			virtq_push(vq, c.head, 0);
			done++;
		}
		if (r == -EINVAL) {
			pr_err_rl("%s: %s: %s; queue stopped until the driver resets the device", d->name,
			       vq->name, virtq_strerror(why));
			virtio_pci_needs_reset(d->vp);
		}
		if (r != -EAGAIN)
			break;
		if (done == TX_BUDGET) {
			virtio_pci_kick(d->vp, VIRTIO_NET_TXQ);	/* more later: let rx have a turn */
			break;
		}
		if (!virtq_enable_notify(vq))
			break;
	}
	if (done && virtq_need_notify(vq))
		virtio_pci_notify(d->vp, VIRTIO_NET_TXQ);
}

/* Read the next frame from the TAP into the bounce buffer; false when there is none. */
static bool rx_read(struct virtio_net_dev *d)
{
	ssize_t n;

	for (;;) {
		n = read(d->tap.fd, d->frame, VIRTIO_NET_FRAME_MAX);
		if (n >= (ssize_t)VIRTIO_NET_HDR_LEN) {
			d->frame_len = (size_t)n;
			return true;
		}
		if (n > 0 || (n < 0 && errno == EINTR))
			continue;
		if (n < 0 && errno != EAGAIN && !d->tap_err_logged) {
			pr_err("%s: reading the TAP: %s (further errors not reported)", d->name,
			       strerror(errno));
			d->tap_err_logged = true;
		}
		return false;
	}
}

struct rx_chain {
	uint16_t head;
	uint32_t cap;
	unsigned iov0, niov;
};

/*
 * Pop receive buffers for the pending frame into @ch. Chains; -EIO; or 0:
 * too few buffers, given back, and the driver asked to kick us when it adds
 * the next one (with EVENT_IDX, avail_event is the first entry we lack, so
 * the chains we gave back do not count as new).
 */
static int rx_pop(struct virtio_net_dev *d, struct virtq *vq, struct rx_chain *ch, size_t *have)
{
	bool mrg = d->acked & F(VIRTIO_NET_F_MRG_RXBUF);
	unsigned nch = 0, used = 0;
	struct virtq_chain c;
	enum virtq_err why;
	int r;

	for (*have = 0; *have < d->frame_len && nch < RX_MAX_CHAINS; ) {
		/* Room for any chain the queue allows, or virtq_pop would call it too long. */
		if (VIRTIO_NET_IOV_MAX - used < vq->addr.size)
			break;
		c = (struct virtq_chain){ .iov = d->iov + used, .iov_max = VIRTIO_NET_IOV_MAX - used };
		r = virtq_pop(vq, &c, &why);
		if (r == -EAGAIN) {
			/* Enable before giving back, so avail_event lies past what we hold. */
			if (virtq_enable_notify(vq)) {
				virtq_disable_notify(vq);
				continue;	/* more arrived meanwhile */
			}
			virtq_unpop(vq, nch);
			return 0;
		}
		if (r == -EINVAL)
			pr_err_rl("%s: %s: %s; queue stopped until the driver resets the device", d->name,
			       vq->name, virtq_strerror(why));
		if (r)
			return -EIO;
		/* §5.1.6.3: receive buffers are device-writable and hold at least the header. */
		if (c.nr_out || !c.in_len || (!nch && c.in_len < VIRTIO_NET_HDR_LEN)) {
			pr_err_rl("%s: %s: a receive buffer with %u readable and %u writable bytes "
			       "(virtio 1.2 §5.1.6.3); queue stopped until the driver resets the device",
			       d->name, vq->name, c.out_len, c.in_len);
			virtq_set_broken(vq, VIRTQ_E_REQUEST);
			return -EIO;
		}
		ch[nch++] = (struct rx_chain){ .head = c.head, .cap = c.in_len, .iov0 = used, .niov = c.nr_in };
		used += c.nr_in;
		*have += c.in_len;
		if (!mrg)
			break;
	}
	return (int)nch;
}

/* Deliver the pending frame: 1 done (or dropped), 0 no receive buffers, -EIO broken. */
static int rx_deliver(struct virtio_net_dev *d)
{
	struct virtq *vq = virtio_pci_vq(d->vp, VIRTIO_NET_RXQ);
	struct rx_chain ch[RX_MAX_CHAINS];
	struct virtio_net_hdr_v1 h;
	size_t have, off = 0, k;
	int i, n;

	n = rx_pop(d, vq, ch, &have);
	if (n <= 0)
		return n;
	memcpy(&h, d->frame, sizeof(h));
	/* Too big for the buffers, or offloads the driver did not take: drop it. */
	if (have < d->frame_len || !virtio_net_rx_hdr(&h, d->acked, (uint16_t)n)) {
		virtq_unpop(vq, (unsigned)n);
		d->frame_len = 0;
		return 1;
	}
	memcpy(d->frame, &h, sizeof(h));
	for (i = 0; i < n; i++) {
		k = d->frame_len - off < ch[i].cap ? d->frame_len - off : ch[i].cap;
		iov_from_buf(d->iov + ch[i].iov0, ch[i].niov, d->frame + off, k);
		virtq_push(vq, ch[i].head, (uint32_t)k);
		off += k;
	}
	d->frame_len = 0;
	return 1;
}

static void rx_run(struct virtio_net_dev *d)
{
	struct virtq *vq = virtio_pci_vq(d->vp, VIRTIO_NET_RXQ);
	unsigned n, delivered = 0;
	uint32_t want = EPOLLIN;	/* budget used up: the TAP may hold more */
	int r;

	if (!vq->enabled)
		return;
	virtq_disable_notify(vq);
	for (n = 0; n < RX_BUDGET; n++) {
		if (!d->frame_len && !rx_read(d))
			break;		/* TAP drained: wait for it */
		r = rx_deliver(d);
		if (r > 0) {
			delivered++;
			continue;
		}
		if (r < 0) {
			virtio_pci_needs_reset(d->vp);
			want = 0;
			break;
		}
		/* Too few receive buffers: sleep until the driver adds some (its kick), not on the TAP. */
		want = 0;
		break;
	}
	tap_watch(d, want);
	if (delivered && virtq_need_notify(vq))
		virtio_pci_notify(d->vp, VIRTIO_NET_RXQ);
}

static void net_queue_notify(void *opaque, unsigned q)
{
	struct virtio_net_dev *d = opaque;

	if (q == VIRTIO_NET_TXQ)
		tx_run(d);
	else
		rx_run(d);
}

/* The TAP went away (ip link delete): it reports ERR/HUP for ever, so stop watching it. */
static void tap_lost(struct virtio_net_dev *d)
{
	virtio_pci_unwatch(d->vp, d->tap.fd);
	d->tap_events = 0;
	if (!d->tap_gone)
		pr_err("%s: the TAP is gone (deleted?); the device needs a reset and will not "
		       "start again: restart the VM", d->name);
	d->tap_gone = true;
	virtio_pci_needs_reset(d->vp);
}

static void net_fd_ready(void *opaque, uint32_t events)
{
	struct virtio_net_dev *d = opaque;

	if (events & (EPOLLERR | EPOLLHUP))
		tap_lost(d);
	else
		rx_run(d);
}

/* ---- Start and reset (vCPU thread, worker parked) ---- */

static int vhost_start(struct virtio_net_dev *d, uint64_t features)
{
	struct vhost_net_ring ring[VHOST_NET_QUEUES];
	unsigned q;

	for (q = 0; q < VHOST_NET_QUEUES; q++)
		ring[q] = (struct vhost_net_ring){
			.vq = virtio_pci_vq(d->vp, q),
			.kick_fd = virtio_pci_kick_fd(d->vp, q),
			.call_fd = virtio_pci_call_fd(d->vp, q),
		};
	return vhost_net_start(&d->vhost, features, ring, d->tap.fd, d->name);
}

static int net_start(void *opaque, uint64_t features)
{
	struct virtio_net_dev *d = opaque;
	unsigned offloads = virtio_net_tap_offloads(features);
	int err;

	if (d->tap_gone)
		return -ENODEV;
	err = tap_set_offload(&d->tap, offloads);
	if (err) {
		pr_err("%s: TUNSETOFFLOAD 0x%x: %s", d->name, offloads, strerror(-err));
		return err;
	}
	d->acked = features;
	d->frame_len = 0;
	err = d->use_vhost ? vhost_start(d, features) : tap_watch(d, EPOLLIN);
	if (err)
		goto err_offload;
	return 0;

err_offload:
	d->acked = 0;
	tap_set_offload(&d->tap, 0);
	return err;
}

/* Main thread: vhost found a ring it cannot use (a bad descriptor, an address outside RAM). */
static void on_vhost_err(struct ev_watch *w, uint32_t events)
{
	struct virtio_net_dev *d = w->opaque;
	uint64_t cnt;

	(void)events;
	if (read(w->fd, &cnt, sizeof(cnt)) != sizeof(cnt))
		return;
	pr_err_rl("%s: vhost-net stopped a queue on a malformed ring; the device needs a reset", d->name);
	virtio_pci_needs_reset(d->vp);
}

static void net_reset(void *opaque)
{
	struct virtio_net_dev *d = opaque;
	uint64_t cnt;

	if (d->use_vhost) {
		vhost_net_stop(&d->vhost);
		/* An error of the old rings must not flag the device the driver sets up next. */
		if (read(d->vhost.err_fd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
			pr_warn_rl("%s: vhost-net error eventfd: %s", d->name, strerror(errno));
	} else {
		tap_watch(d, 0);
	}
	d->frame_len = 0;
	tap_set_offload(&d->tap, 0);
	d->acked = 0;
}

static const struct virtio_pci_ops net_ops = {
	.config_read = net_config_read,
	.start = net_start,
	.reset = net_reset,
	.queue_notify = net_queue_notify,
	.fd_ready = net_fd_ready,
};

/* With vhost the kernel owns the queues: no worker. */
static const struct virtio_pci_ops net_vhost_ops = {
	.config_read = net_config_read,
	.start = net_start,
	.reset = net_reset,
};

/* ---- Setup and teardown ---- */

int virtio_net_dev_open(struct virtio_net_dev *d, const struct virtio_net_dev_config *cfg,
			unsigned index)
{
	char *label = d->label;
	int err;

	memset(d, 0, sizeof(*d));
	d->tap.fd = d->vhost.fd = d->vhost.err_fd = -1;
	snprintf(label, sizeof(d->label), "net%u", index);
	snprintf(d->name, sizeof(d->name), "%s", label);
	snprintf(d->ifname, sizeof(d->ifname), "%s", cfg->ifname);
	snprintf(d->bridge, sizeof(d->bridge), "%s", cfg->bridge);
	err = cfg->bridge[0] ? tap_check_bridge(cfg->bridge, label) : tap_check(cfg->ifname, label);
	if (err)
		return err;
	if (cfg->vhost) {
		err = vhost_net_open(&d->vhost, label);
		if (err)
			return err;
		if (!(d->vhost.features & F(VIRTIO_F_VERSION_1))) {
			pr_err("%s: this kernel's vhost-net has no virtio 1.0 support: drop vhost=on", label);
			err = -ENOTSUP;
			goto err_close;
		}
		d->use_vhost = true;
	} else {
		d->frame = malloc(VIRTIO_NET_FRAME_MAX);
		if (!d->frame)
			return -ENOMEM;
	}
	if (cfg->has_mac) {
		memcpy(d->mac, cfg->mac, sizeof(d->mac));
	} else {
		/* A random unicast, locally administered address (IEEE 802 U/L bit). */
		if (getrandom(d->mac, sizeof(d->mac), 0) != sizeof(d->mac))
			memcpy(d->mac, (const uint8_t[]){ 0x52, 0x54, 0, 0x12, 0x34, (uint8_t)(0x56 + index) }, 6);
		d->mac[0] = (uint8_t)((d->mac[0] & ~1u) | 2u);
	}
	d->features = virtio_net_offered(d->use_vhost, d->vhost.features);
	return 0;

err_close:
	virtio_net_dev_close(d);
	return err;
}

/* Bring sluice's new TAP up as a port of d->bridge. 0 or -errno with a message. */
static int join_bridge(struct virtio_net_dev *d)
{
	int tap = (int)if_nametoindex(d->tap.ifname), br = (int)if_nametoindex(d->bridge), err;
	struct sriov_nl nl;

	if (!br || !tap) {
		pr_err("%s: %s went away since sluice checked it%s", d->name, br ? "the TAP" : d->bridge,
		       br ? "" : ": create the bridge again");
		return -ENODEV;
	}
	if ((err = sriov_nl_open(&nl))) {
		pr_err("%s: rtnetlink: %s", d->name, strerror(-err));
		return err;
	}
	if ((err = sriov_nl_set_up(&nl, tap, true)))
		pr_err("%s: bringing the TAP up: %s", d->name, strerror(-err));
	else if ((err = sriov_nl_set_master(&nl, tap, br)))
		pr_err("%s: adding the TAP to bridge %s: %s%s", d->name, d->bridge, strerror(-err),
		       err == -EOPNOTSUPP ? ": it is no longer a bridge" : "");
	sriov_nl_close(&nl);
	return err;
}

int virtio_net_dev_take(struct virtio_net_dev *d)
{
	int err = tap_open(&d->tap, d->ifname, d->label);

	if (err)
		return err;
	snprintf(d->name, sizeof(d->name), "%s (tap %s%s%s)", d->label, d->tap.ifname,
		 d->bridge[0] ? " in " : "", d->bridge);
	/* tap_open() created it (the name is ours): closing it removes the port too. */
	if (d->bridge[0] && (err = join_bridge(d))) {
		tap_close(&d->tap);
		return err;
	}
	pr_info("%s: mac %02x:%02x:%02x:%02x:%02x:%02x, %s%s", d->name, d->mac[0], d->mac[1],
		d->mac[2], d->mac[3], d->mac[4], d->mac[5], d->tap.created ? "created" : "existing",
		d->use_vhost ? ", vhost-net" : "");
	return 0;
}

unsigned virtio_net_dev_fds(const struct virtio_net_dev *d, int *fds)
{
	unsigned n = 0;

	fds[n++] = d->tap.fd;
	if (d->use_vhost) {
		fds[n++] = d->vhost.fd;
		fds[n++] = d->vhost.err_fd;
	}
	return n;
}

void virtio_net_dev_drop_vmm_fds(struct virtio_net_dev *d)
{
	vhost_net_close(&d->vhost);
}

int virtio_net_dev_reopen_vmm_fds(struct virtio_net_dev *d)
{
	return d->use_vhost && d->vhost.fd < 0 ? vhost_net_open(&d->vhost, d->label) : 0;
}

void virtio_net_dev_close(struct virtio_net_dev *d)
{
	vhost_net_close(&d->vhost);	/* drops vhost's reference to the TAP first */
	tap_close(&d->tap);
	free(d->frame);
	d->frame = NULL;
}

int virtio_net_dev_attach(struct virtio_net_dev *d, struct vm *vm)
{
	const struct virtio_pci_config cfg = {
		.name = d->name,
		.device_type = VIRTIO_ID_NET,
		.class_code = 0x020000,		/* network controller, Ethernet */
		.features = d->features,
		.nr_queues = 2,
		.queue_size = VIRTIO_NET_QUEUE_SIZE,
		.queue_names = queue_names,
		.config_size = offsetof(struct virtio_net_config, max_virtqueue_pairs),
		.features_ok = virtio_net_features_ok,
		.ops = d->use_vhost ? &net_vhost_ops : &net_ops,
		.dev = d,
	};
	int err;

	d->vm = vm;
	if (d->use_vhost) {
		/* The owner is the process whose memory vhost reads: the VMM, not the monitor. */
		err = vhost_net_set_owner(&d->vhost, d->label);
		if (err)
			return err;
		err = vhost_net_set_mem(&d->vhost, &vm->mem);
		if (err) {
			pr_err("%s: vhost-net: VHOST_SET_MEM_TABLE: %s", d->name, strerror(-err));
			return err;
		}
		d->vhost_err = (struct ev_watch){ .fd = d->vhost.err_fd, .fn = on_vhost_err, .opaque = d };
		err = ev_add(&vm->ev, &d->vhost_err, EPOLLIN);
		if (err)
			return err;
		d->vhost_err_watched = true;
	}
	err = virtio_pci_create(&d->vp, vm, &cfg);
	if (err)
		virtio_net_dev_detach(d);
	return err;
}

void virtio_net_dev_detach(struct virtio_net_dev *d)
{
	virtio_pci_destroy(d->vp);
	d->vp = NULL;
	d->tap_events = 0;
	if (d->vhost_err_watched)
		ev_del(&d->vm->ev, &d->vhost_err);
	d->vhost_err_watched = false;
}
