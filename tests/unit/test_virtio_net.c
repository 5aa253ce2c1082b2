/*
 * cmocka: virtio-net's pure parts (features, TAP offloads, header checks),
 * `--net`/`--disk` parsing, and telling a TAP or a bridge from other
 * interfaces in a sysfs-like tree.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <linux/if_tun.h>

#include "vmm/cli/run.h"
#include "vmm/virtio/tap.h"
#include "vmm/virtio/virtio_net.h"

#define F(b) (1ull << (b))
#define ALL_OFFLOADS (F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_GUEST_CSUM) | F(VIRTIO_NET_F_HOST_TSO4) | \
		      F(VIRTIO_NET_F_HOST_TSO6) | F(VIRTIO_NET_F_GUEST_TSO4) | F(VIRTIO_NET_F_GUEST_TSO6))

/* ---- features ---- */

static void offered_userspace(void **state)
{
	uint64_t f = virtio_net_offered(false, 0);

	(void)state;
	assert_true(f & F(VIRTIO_F_VERSION_1));
	assert_true(f & F(VIRTIO_RING_F_EVENT_IDX));
	assert_true(f & F(VIRTIO_RING_F_INDIRECT_DESC));
	assert_true(f & F(VIRTIO_NET_F_MAC));
	assert_true(f & F(VIRTIO_NET_F_MRG_RXBUF));
	assert_int_equal(f & ALL_OFFLOADS, ALL_OFFLOADS);
	/* Not implemented: no control queue, no multiqueue, no IOMMU platform. */
	assert_false(f & F(VIRTIO_NET_F_CTRL_VQ));
	assert_false(f & F(VIRTIO_NET_F_MQ));
	assert_false(f & F(VIRTIO_F_ACCESS_PLATFORM));
	assert_false(f & F(VIRTIO_NET_F_GUEST_UFO));
	assert_false(f & F(VIRTIO_NET_F_HOST_ECN));
}

static void offered_vhost_follows_kernel(void **state)
{
	uint64_t all = F(VIRTIO_F_VERSION_1) | F(VIRTIO_RING_F_EVENT_IDX) |
		       F(VIRTIO_RING_F_INDIRECT_DESC) | F(VIRTIO_NET_F_MRG_RXBUF);
	uint64_t f;

	(void)state;
	assert_int_equal(virtio_net_offered(true, all), virtio_net_offered(false, 0));
	f = virtio_net_offered(true, F(VIRTIO_F_VERSION_1));
	assert_false(f & F(VIRTIO_RING_F_EVENT_IDX));
	assert_false(f & F(VIRTIO_NET_F_MRG_RXBUF));
	/* The offloads are the TAP's business, not vhost's. */
	assert_int_equal(f & ALL_OFFLOADS, ALL_OFFLOADS);
}

static void tap_offloads_follow_guest_features(void **state)
{
	(void)state;
	assert_int_equal(virtio_net_tap_offloads(0), 0);
	/* Host (transmit) offloads need nothing from the TAP: it takes any header on write. */
	assert_int_equal(virtio_net_tap_offloads(F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_HOST_TSO4)), 0);
	assert_int_equal(virtio_net_tap_offloads(F(VIRTIO_NET_F_GUEST_CSUM)), TUN_F_CSUM);
	assert_int_equal(virtio_net_tap_offloads(ALL_OFFLOADS), TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6);
	assert_int_equal(virtio_net_tap_offloads(F(VIRTIO_NET_F_GUEST_ECN) | F(VIRTIO_NET_F_GUEST_UFO)),
			 TUN_F_TSO_ECN | TUN_F_UFO);
}

/* §5.1.3.1: what the TAP would refuse at DRIVER_OK is refused at FEATURES_OK. */
static void feature_dependencies(void **state)
{
	static const uint64_t bad[] = {
		F(VIRTIO_NET_F_GUEST_TSO4), F(VIRTIO_NET_F_GUEST_TSO6), F(VIRTIO_NET_F_GUEST_UFO),
		F(VIRTIO_NET_F_GUEST_CSUM) | F(VIRTIO_NET_F_GUEST_ECN),
		F(VIRTIO_NET_F_HOST_TSO4), F(VIRTIO_NET_F_HOST_TSO6) | F(VIRTIO_NET_F_GUEST_CSUM),
		F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_HOST_ECN),
	};
	uint64_t base = F(VIRTIO_F_VERSION_1) | F(VIRTIO_NET_F_MAC) | F(VIRTIO_NET_F_MRG_RXBUF);
	unsigned i;

	(void)state;
	assert_true(virtio_net_features_ok(base));
	assert_true(virtio_net_features_ok(base | ALL_OFFLOADS));
	assert_true(virtio_net_features_ok(virtio_net_offered(false, 0)));
	assert_true(virtio_net_features_ok(F(VIRTIO_NET_F_GUEST_CSUM) | F(VIRTIO_NET_F_GUEST_TSO6) |
					   F(VIRTIO_NET_F_GUEST_ECN)));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		print_message("features 0x%llx\n", (unsigned long long)bad[i]);
		assert_false(virtio_net_features_ok(base | bad[i]));
	}
}

/* Through the register model: FEATURES_OK does not stick, so DRIVER_OK never comes. */
static void feature_dependencies_refuse_features_ok(void **state)
{
	uint64_t offer = virtio_net_offered(false, 0), take = offer & ~F(VIRTIO_NET_F_GUEST_CSUM);
	struct vpci_regs r;
	unsigned q;
	uint8_t b;
	uint32_t w;

	(void)state;
	assert_int_equal(vpci_regs_init(&r, offer, 2, 256, 3), 0);
	r.features_ok = virtio_net_features_ok;
	b = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER;
	vpci_common_write(&r, VIRTIO_PCI_COMMON_STATUS, &b, 1, &q);
	for (w = 0; w < 2; w++) {
		uint32_t half = (uint32_t)(take >> (32 * w));
		uint8_t v[4] = { (uint8_t)half, (uint8_t)(half >> 8), (uint8_t)(half >> 16), (uint8_t)(half >> 24) };
		uint8_t sel[4] = { (uint8_t)w, 0, 0, 0 };

		vpci_common_write(&r, VIRTIO_PCI_COMMON_GFSELECT, sel, 4, &q);
		vpci_common_write(&r, VIRTIO_PCI_COMMON_GF, v, 4, &q);
	}
	b |= VIRTIO_CONFIG_S_FEATURES_OK;
	assert_int_equal(vpci_common_write(&r, VIRTIO_PCI_COMMON_STATUS, &b, 1, &q), VPCI_EV_NONE);
	vpci_common_read(&r, VIRTIO_PCI_COMMON_STATUS, &b, 1);
	assert_false(b & VIRTIO_CONFIG_S_FEATURES_OK);
}

/* ---- headers ---- */

static struct virtio_net_hdr_v1 hdr(uint8_t flags, uint8_t gso)
{
	return (struct virtio_net_hdr_v1){ .flags = flags, .gso_type = gso, .num_buffers = 0x7777 };
}

static void tx_headers(void **state)
{
	struct virtio_net_hdr_v1 h;

	(void)state;
	h = hdr(0, VIRTIO_NET_HDR_GSO_NONE);
	assert_true(virtio_net_tx_hdr_ok(&h, 0));
	h = hdr(VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_NONE);
	assert_false(virtio_net_tx_hdr_ok(&h, 0));
	assert_true(virtio_net_tx_hdr_ok(&h, F(VIRTIO_NET_F_CSUM)));
	h = hdr(VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4);
	assert_false(virtio_net_tx_hdr_ok(&h, F(VIRTIO_NET_F_CSUM)));
	assert_false(virtio_net_tx_hdr_ok(&h, F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_GUEST_TSO4)));
	assert_true(virtio_net_tx_hdr_ok(&h, F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_HOST_TSO4)));
	h = hdr(VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV6);
	assert_false(virtio_net_tx_hdr_ok(&h, F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_HOST_TSO4)));
	assert_true(virtio_net_tx_hdr_ok(&h, ALL_OFFLOADS));
	/* ECN and UFO were never offered; unknown GSO types never exist. */
	h = hdr(VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN);
	assert_false(virtio_net_tx_hdr_ok(&h, ALL_OFFLOADS));
	h = hdr(VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_UDP);
	assert_false(virtio_net_tx_hdr_ok(&h, ALL_OFFLOADS));
	h = hdr(0, 0x42);
	assert_false(virtio_net_tx_hdr_ok(&h, ALL_OFFLOADS));
	h = hdr(0, VIRTIO_NET_HDR_GSO_ECN);
	assert_false(virtio_net_tx_hdr_ok(&h, ALL_OFFLOADS | F(VIRTIO_NET_F_HOST_ECN)));
	/* §5.1.6.2.1: the driver never sets DATA_VALID or RSC_INFO. */
	h = hdr(VIRTIO_NET_HDR_F_DATA_VALID, VIRTIO_NET_HDR_GSO_NONE);
	assert_false(virtio_net_tx_hdr_ok(&h, ALL_OFFLOADS));
	h = hdr(VIRTIO_NET_HDR_F_RSC_INFO, VIRTIO_NET_HDR_GSO_NONE);
	assert_false(virtio_net_tx_hdr_ok(&h, ALL_OFFLOADS));
}

static void rx_headers(void **state)
{
	struct virtio_net_hdr_v1 h;

	(void)state;
	/* num_buffers is always written (little-endian). */
	h = hdr(0, VIRTIO_NET_HDR_GSO_NONE);
	assert_true(virtio_net_rx_hdr(&h, 0, 1));
	assert_int_equal(le16toh(h.num_buffers), 1);
	h = hdr(0, VIRTIO_NET_HDR_GSO_NONE);
	assert_true(virtio_net_rx_hdr(&h, F(VIRTIO_NET_F_MRG_RXBUF), 5));
	assert_int_equal(le16toh(h.num_buffers), 5);
	/* Without GUEST_CSUM: flags 0 (§5.1.6.4.1), and a partial checksum cannot go. */
	h = hdr(VIRTIO_NET_HDR_F_DATA_VALID, VIRTIO_NET_HDR_GSO_NONE);
	assert_true(virtio_net_rx_hdr(&h, 0, 1));
	assert_int_equal(h.flags, 0);
	h = hdr(VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_NONE);
	assert_false(virtio_net_rx_hdr(&h, 0, 1));
	h = hdr(VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID, VIRTIO_NET_HDR_GSO_NONE);
	assert_true(virtio_net_rx_hdr(&h, F(VIRTIO_NET_F_GUEST_CSUM), 1));
	assert_int_equal(h.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID);
	/* GSO only as negotiated. */
	h = hdr(VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4);
	assert_false(virtio_net_rx_hdr(&h, F(VIRTIO_NET_F_GUEST_CSUM) | F(VIRTIO_NET_F_HOST_TSO4), 1));
	assert_true(virtio_net_rx_hdr(&h, ALL_OFFLOADS, 1));
	h = hdr(VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV6 | VIRTIO_NET_HDR_GSO_ECN);
	assert_false(virtio_net_rx_hdr(&h, ALL_OFFLOADS, 1));
	assert_true(virtio_net_rx_hdr(&h, ALL_OFFLOADS | F(VIRTIO_NET_F_GUEST_ECN), 1));
	h = hdr(VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_UDP);
	assert_false(virtio_net_rx_hdr(&h, ALL_OFFLOADS, 1));
}

/* ---- --net and --disk ---- */

static struct run_opts O;

static int setup_opts(void **state)
{
	(void)state;
	memset(&O, 0, sizeof(O));
	return 0;
}

static void parse_mac(void **state)
{
	uint8_t m[6];

	(void)state;
	assert_int_equal(run_parse_mac("52:54:00:Ab:cD:ef", m), 0);
	assert_memory_equal(m, ((uint8_t[]){ 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef }), 6);
	assert_int_equal(run_parse_mac("01:00:5e:00:00:01", m), -EINVAL);	/* multicast */
	assert_int_equal(run_parse_mac("00:00:00:00:00:00", m), -EINVAL);
	assert_int_equal(run_parse_mac("52:54:00:12:34", m), -EINVAL);
	assert_int_equal(run_parse_mac("52:54:00:12:34:56:78", m), -EINVAL);
	assert_int_equal(run_parse_mac("52-54-00-12-34-56", m), -EINVAL);
	assert_int_equal(run_parse_mac("5:54:00:12:34:56", m), -EINVAL);
	assert_int_equal(run_parse_mac("52:54:00:12:34:5g", m), -EINVAL);
	assert_int_equal(run_parse_mac("", m), -EINVAL);
}

/* @n as parsed: its names, the last octet of its MAC (-1: none given), vhost. */
static void check_net(const struct virtio_net_dev_config *n, const char *ifname, const char *bridge,
		      int mac5, bool vhost)
{
	assert_string_equal(n->ifname, ifname);
	assert_string_equal(n->bridge, bridge);
	assert_int_equal(n->has_mac, mac5 >= 0);
	if (mac5 >= 0)
		assert_int_equal(n->mac[5], mac5);
	assert_int_equal(n->vhost, vhost);
}

static void parse_net(void **state)
{
	(void)state;
	assert_int_equal(run_opt_net(&O, "tap"), 0);
	check_net(&O.net[0], "", "", -1, false);
	assert_int_equal(run_opt_net(&O, "tap:tap7,mac=52:54:00:00:00:07,vhost=on"), 0);
	check_net(&O.net[1], "tap7", "", 7, true);
	assert_int_equal(run_opt_net(&O, "tap,vhost=on,vhost=off"), 0);
	assert_false(O.net[2].vhost);
	assert_int_equal(O.nr_nets, 3);
}

static void parse_net_refusals(void **state)
{
	static const char *const bad[] = {
		"", "user", "tapx", "tap:", "tap:a/b", "tap:a b", "tap:sluice%d", "tap:..",
		"tap:0123456789abcdef", "tap,mac=01:00:5e:00:00:01", "tap,mac=52:54", "tap,vhost=yes",
		"tap,queues=2", "tap,", "tap:x,mac=52:54:00:00:00:01,",
		/* bridge: needs a bridge name; takes mac= and vhost= only */
		"bridge", "bridge:", "bridge:,vhost=on", "bridgex:br0", "bridge:0123456789abcdef",
		"bridge:a/b", "bridge:a b", "bridge:br%d", "bridge:..", "bridge:br0:1",
		"bridge:br0,queues=2", "bridge:br0,", "bridge:br0,mac=01:00:5e:00:00:01",
		"bridge:br0,vhost=yes", "bridge:br0,tap=t0",
	};
	unsigned i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		print_message("--net '%s'\n", bad[i]);
		assert_int_equal(run_opt_net(&O, bad[i]), -EINVAL);
	}
	assert_int_equal(O.nr_nets, 0);
	/* One TAP, one device. */
	assert_int_equal(run_opt_net(&O, "tap:t0"), 0);
	assert_int_equal(run_opt_net(&O, "tap:t0,vhost=on"), -EINVAL);
	for (i = 1; i < RUN_MAX_NETS; i++)
		assert_int_equal(run_opt_net(&O, "tap"), 0);
	assert_int_equal(run_opt_net(&O, "tap"), -EINVAL);
}

static void parse_net_bridge(void **state)
{
	(void)state;
	assert_int_equal(run_opt_net(&O, "bridge:br0"), 0);
	check_net(&O.net[0], "", "br0", -1, false);	/* "": sluice names the TAP */
	assert_int_equal(run_opt_net(&O, "bridge:0123456789abcde,mac=52:54:00:00:00:08,vhost=on"), 0);
	check_net(&O.net[1], "", "0123456789abcde", 8, true);
	/* Two NICs on one bridge are fine; one address twice is not. */
	assert_int_equal(run_opt_net(&O, "bridge:br0"), 0);
	assert_int_equal(run_opt_net(&O, "bridge:br0,mac=52:54:00:00:00:08"), -EINVAL);
	/* A plain TAP has no bridge. */
	assert_int_equal(run_opt_net(&O, "tap:t0"), 0);
	check_net(&O.net[3], "t0", "", -1, false);
	assert_int_equal(O.nr_nets, 4);
}

/* One explicit MAC, one device; random ones are not compared. */
static void parse_net_mac_twice(void **state)
{
	(void)state;
	assert_int_equal(run_opt_net(&O, "tap,mac=52:54:00:00:00:01"), 0);
	assert_int_equal(run_opt_net(&O, "tap,mac=52:54:00:00:00:02"), 0);
	assert_int_equal(run_opt_net(&O, "tap:t9,mac=52:54:00:00:00:01"), -EINVAL);
	assert_int_equal(run_opt_net(&O, "tap"), 0);
	assert_int_equal(O.nr_nets, 3);
}

static void parse_disk(void **state)
{
	char longp[PATH_MAX + 8];
	unsigned i;

	(void)state;
	assert_int_equal(run_opt_disk(&O, "/img/a.raw"), 0);
	assert_string_equal(O.disk[0].path, "/img/a.raw");
	assert_false(O.disk[0].ro);
	assert_int_equal(run_opt_disk(&O, "/img/b.raw,ro"), 0);
	assert_string_equal(O.disk[1].path, "/img/b.raw");
	assert_true(O.disk[1].ro);
	/* A comma is part of the path unless it starts the trailing ",ro". */
	assert_int_equal(run_opt_disk(&O, "/img/c,d.raw"), 0);
	assert_string_equal(O.disk[2].path, "/img/c,d.raw");
	assert_int_equal(run_opt_disk(&O, ",ro"), -EINVAL);
	assert_int_equal(run_opt_disk(&O, ""), -EINVAL);
	memset(longp, 'a', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	assert_int_equal(run_opt_disk(&O, longp), -EINVAL);
	for (i = 3; i < RUN_MAX_DISKS; i++)
		assert_int_equal(run_opt_disk(&O, "/x"), 0);
	assert_int_equal(run_opt_disk(&O, "/x"), -EINVAL);
	assert_int_equal(O.nr_disks, RUN_MAX_DISKS);
}

/*
 * Issue 13 item 4: the header a frame is sent with is the checked copy. The
 * "guest" changes its header after the check (as a second vCPU can): what
 * the TAP receives must still be the copy, and no sent byte may alias the
 * guest's header bytes. Header split over two buffers, frame in a third.
 */
static void tx_sends_checked_copy(void **state)
{
	uint8_t guest[64];
	struct virtio_net_hdr_v1 h;
	struct iovec in[3] = {
		{ guest, 5 }, { guest + 5, VIRTIO_NET_HDR_LEN - 5 + 3 }, { guest + 40, 10 },
	};
	struct iovec out[4];
	uint8_t sent[64];
	unsigned n, i;
	int p[2];
	ssize_t r;

	(void)state;
	memset(guest, 0, sizeof(guest));
	for (i = 0; i < 3; i++)		/* frame bytes after the header */
		guest[VIRTIO_NET_HDR_LEN + i] = (uint8_t)(0xa0 + i);
	for (i = 0; i < 10; i++)
		guest[40 + i] = (uint8_t)(0xb0 + i);
	memcpy(&h, guest, sizeof(h));
	assert_true(virtio_net_tx_hdr_ok(&h, 0));
	n = virtio_net_tx_iov(in, 3, &h, out);
	/* The other vCPU: a header the check would have refused. */
	guest[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	guest[1] = VIRTIO_NET_HDR_GSO_TCPV4;
	for (i = 0; i < n; i++)
		assert_false((uint8_t *)out[i].iov_base < guest + VIRTIO_NET_HDR_LEN &&
			     (uint8_t *)out[i].iov_base + out[i].iov_len > guest);
	assert_int_equal(pipe(p), 0);
	r = writev(p[1], out, (int)n);
	assert_int_equal(r, VIRTIO_NET_HDR_LEN + 3 + 10);
	assert_int_equal(read(p[0], sent, sizeof(sent)), r);
	assert_memory_equal(sent, &h, VIRTIO_NET_HDR_LEN);
	assert_memory_equal(sent + VIRTIO_NET_HDR_LEN, guest + VIRTIO_NET_HDR_LEN, 3);
	assert_memory_equal(sent + VIRTIO_NET_HDR_LEN + 3, guest + 40, 10);
	close(p[0]);
	close(p[1]);
}

/* ---- tap_kind on a sysfs-like tree ---- */

static void put(const char *dir, const char *name, const char *text)
{
	char p[256];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* mkdir ROOT/REL, into @d (256 bytes) for put(). */
static void dir_at(char *d, const char *root, const char *rel)
{
	snprintf(d, 256, "%s/%s", root, rel);
	assert_int_equal(mkdir(d, 0700), 0);
}

static void tap_kinds(void **state)
{
	char root[] = "/tmp/sluice-test-sysfs-XXXXXX", d[256];

	(void)state;
	assert_non_null(mkdtemp(root));
	dir_at(d, root, "class");
	dir_at(d, root, "class/net");
	dir_at(d, root, "class/net/tap0");
	put(d, "tun_flags", "0x1002\n");
	dir_at(d, root, "class/net/tun0");
	put(d, "tun_flags", "0x1001\n");
	dir_at(d, root, "class/net/eth0");

	assert_int_equal(tap_kind(root, "tap0"), TAP_IS_TAP);
	assert_int_equal(tap_kind(root, "tun0"), TAP_IS_TUN);
	assert_int_equal(tap_kind(root, "eth0"), TAP_NOT_TUN);
	assert_int_equal(tap_kind(root, "nosuch"), TAP_ABSENT);

	/* A bridge has a "bridge" attribute directory; its port a "brport" one. */
	dir_at(d, root, "class/net/br0");
	dir_at(d, root, "class/net/br0/bridge");
	put(d, "stp_state", "0\n");
	dir_at(d, root, "class/net/tap0/brport");
	assert_int_equal(tap_bridge_kind(root, "br0"), BRIDGE_IS_BRIDGE);
	assert_int_equal(tap_bridge_kind(root, "tap0"), BRIDGE_NOT_BRIDGE);
	assert_int_equal(tap_bridge_kind(root, "eth0"), BRIDGE_NOT_BRIDGE);
	assert_int_equal(tap_bridge_kind(root, "nosuch"), BRIDGE_ABSENT);
	assert_int_equal(tap_kind(root, "br0"), TAP_NOT_TUN);

	assert_int_equal(system(((void)snprintf(d, sizeof(d), "rm -rf %s", root), d)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(offered_userspace),
		cmocka_unit_test(offered_vhost_follows_kernel),
		cmocka_unit_test(tap_offloads_follow_guest_features),
		cmocka_unit_test(feature_dependencies),
		cmocka_unit_test(feature_dependencies_refuse_features_ok),
		cmocka_unit_test(tx_headers),
		cmocka_unit_test(tx_sends_checked_copy),
		cmocka_unit_test(rx_headers),
		cmocka_unit_test_setup(parse_mac, setup_opts),
		cmocka_unit_test_setup(parse_net, setup_opts),
		cmocka_unit_test_setup(parse_net_refusals, setup_opts),
		cmocka_unit_test_setup(parse_net_bridge, setup_opts),
		cmocka_unit_test_setup(parse_net_mac_twice, setup_opts),
		cmocka_unit_test_setup(parse_disk, setup_opts),
		cmocka_unit_test(tap_kinds),
	};
	return cmocka_run_group_tests_name("virtio_net", tests, NULL, NULL);
}
